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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"wardmail/admin"
	"wardmail/auth"
	"wardmail/directory"
	"wardmail/listsvc"
	"wardmail/mail"
	"wardmail/outbound"
	"wardmail/store"
	"wardmail/submit"
)

// Config is what the HTTP door needs.
type Config struct {
	Store *store.Store
	// Mail is the mail service the webmail's folder, message, search and
	// compose handlers call; nil makes one over Store.
	Mail     *mail.Service
	Pipeline *submit.Pipeline
	// Login is the sign-in service: credentials, smart lockout, two-step
	// sign-in and the person's own sign-in settings.
	Login    *auth.Login
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
	// Scanners, when set, report the scanning engines' state on /healthz.
	Scanners ScanHealth
	// MTASTS, when set, serves /.well-known/mta-sts.txt for the hosts
	// mta-sts.DOMAIN of local domains (RFC 8461 3.3).
	MTASTS http.Handler
	// Lists is the lists service (nil: one over Store, with the
	// pipeline's governance, telling senders through the pipeline).
	Lists *listsvc.Service
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
	if cfg.Mail == nil {
		cfg.Mail = mail.New(cfg.Store, cfg.Logger)
	}
	if cfg.Lists == nil {
		cfg.Lists = listsvc.New(listsvc.Config{Store: cfg.Store, Governance: cfg.Pipeline.Governance(), Notify: cfg.Pipeline})
	}
	sessions := auth.NewWebSessions(auth.WebSessionsConfig{Store: cfg.Store, Idle: cfg.SessionIdle, Max: cfg.SessionMax, Now: cfg.Now,
		Logger: cfg.Logger})
	a := &API{cfg: cfg, lists: cfg.Lists, dir: directory.NewService(cfg.Store), auth: cfg.Login, sessions: sessions, store: cfg.Store, mail: cfg.Mail, pipeline: cfg.Pipeline, log: cfg.Logger, now: cfg.Now, metrics: newMetrics(),
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
	mail     *mail.Service
	pipeline *submit.Pipeline
	lists    *listsvc.Service
	dir      *directory.Service
	auth     *auth.Login
	sessions *auth.WebSessions
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics
	// inlineKey signs the URLs of inline images (inline.go).
	inlineKey []byte
}
