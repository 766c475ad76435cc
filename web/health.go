package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handleLive answers as long as the process serves HTTP: a load balancer's
// or supervisor's liveness check, which asks nothing of the database (a
// node whose database is away is alive, and restarting it would not help).
func (a *API) handleLive(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "alive"})
}

// handleHealth is readiness: 200 while this node can serve (its database
// answers), 503 otherwise, so a load balancer sends clients elsewhere. An
// object store or a scanner that does not answer makes it "degraded" but
// still 200: every node shares them, and taking them all out of rotation
// would stop the reads that still work.
func (a *API) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.database(ctx); err != nil {
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
	if asked, err := a.objectStore(ctx); asked {
		if err != nil {
			a.log.Warn("health check: the object store does not answer", "err", err)
			out["status"], out["object_store"] = "degraded", "unavailable: new mail waits (451) until it answers"
		} else {
			out["object_store"] = "ok"
		}
	}
	if engines != nil {
		out["scanners"] = engines
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (a *API) database(ctx context.Context) error {
	if a.cfg.Health == nil {
		return nil
	}
	return a.cfg.Health.Database(ctx)
}

func (a *API) objectStore(ctx context.Context) (bool, error) {
	if a.cfg.Health == nil {
		return false, nil
	}
	return a.cfg.Health.ObjectStore(ctx)
}

func (a *API) metricsHandler() http.Handler {
	reg := a.cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
