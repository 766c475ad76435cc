package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (a *API) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.Ping(ctx); err != nil {
		a.log.Warn("health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "detail": "the mail store does not answer"})
		return
	}
	engines, allUp := a.scannerHealth(ctx)
	out := map[string]any{"status": "ok"}
	if !allUp {
		out["status"] = "degraded"
	}
	if engines != nil {
		out["scanners"] = engines
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (a *API) metricsHandler() http.Handler {
	reg := a.cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
