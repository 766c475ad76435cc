package web

import (
	"context"

	"wardmail/scan"
)

// ScanHealth is the scanner as /healthz sees it: whether each configured
// engine answers now (scan.Scanner).
type ScanHealth interface {
	Health(ctx context.Context) []scan.EngineHealth
}

// scannerHealth is the "scanners" part of /healthz, and whether every
// engine answers. An engine that is down does not make the server
// unhealthy (mail still flows, by the configured fallback), it makes it
// "degraded".
func (a *API) scannerHealth(ctx context.Context) ([]scan.EngineHealth, bool) {
	if a.cfg.Scanners == nil {
		return nil, true
	}
	engines := a.cfg.Scanners.Health(ctx)
	for _, e := range engines {
		if !e.Up {
			return engines, false
		}
	}
	return engines, true
}
