// Package web is the HTTP door: the JSON API (docs/openapi.yaml) that the
// webmail, the CLI and tests use, the webmail itself (a Preact application
// built by Vite from web/ui and embedded in the binary), health and metrics.
//
// Every route is listed in routes.go; handlers live in one file per area
// (mail.go, read.go, compose.go, search.go, directory.go, settings.go,
// admin.go). A handler that needs a signed-in person has the signature
// func(w, r, *Session) and is wrapped by API.authed, which accepts a session
// cookie (with a CSRF token on unsafe methods) or HTTP Basic with the
// person's password. Errors are RFC 9457 problem+json with a sentence a
// person can act on (problem.go).
package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"wardmail/admin"
	"wardmail/outbound"
	"wardmail/store"
	"wardmail/submit"
)

// Config is what the HTTP door needs.
type Config struct {
	Store    *store.Store
	Pipeline *submit.Pipeline
	// SignIn checks credentials; NewLoginSignIn adapts auth.Login.
	SignIn   SignIn
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// TLS says whether browsers reach this door over HTTPS (directly or
	// through a TLS-terminating proxy): cookies are Secure and HSTS is sent.
	TLS bool
	// SessionIdle ends a session after this long without a request
	// (default 30 minutes: ward PCs are shared). SessionMax ends it this long
	// after sign-in whatever its activity (default 12 hours: one shift).
	SessionIdle, SessionMax time.Duration
	// ReplyAll, when set, says whether reply-all is allowed on a message's
	// thread (the storm breaker fills it in).
	ReplyAll ReplyAllPolicy
	// Admin is the administration service the administrators' API calls.
	Admin *admin.Service
	// Queue is the outbound queue (nil: outbound is off).
	Queue *outbound.Queue
	// Now returns the current time (tests replace it).
	Now func() time.Time
}

// ReplyAllPolicy is the storm breaker as the webmail sees it: whether a
// reply to everyone on a thread would be refused, why, and until when.
type ReplyAllPolicy interface {
	ReplyAllBlocked(ctx context.Context, threadID string) (blocked bool, reason string, until time.Time, err error)
}

// New returns the HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	a := &API{cfg: cfg, store: cfg.Store, pipeline: cfg.Pipeline, log: cfg.Logger, now: cfg.Now, metrics: newMetrics(),
		inlineKey: newInlineKey()}
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(a.metrics); err != nil {
			cfg.Logger.Error("registering web metrics", "err", err)
		}
	}
	mux := http.NewServeMux()
	a.routes(mux)
	return a.recoverPanics(a.securityHeaders(mux))
}

// API holds what every handler needs. Handler files add methods to it.
type API struct {
	cfg      Config
	store    *store.Store
	pipeline *submit.Pipeline
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics
	// lastPrune is when expired sessions were last removed (Unix seconds).
	lastPrune atomic.Int64
	// inlineKey signs the URLs of inline images (inline.go).
	inlineKey []byte
}
