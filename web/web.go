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
	"wardmail/submit"
)

// Config is what the HTTP door needs.
type Config struct {
	// Mail is the mail service the webmail's folder, message, search and
	// compose handlers call.
	Mail     *mail.Service
	Pipeline *submit.Pipeline
	// Login is the sign-in service: credentials, smart lockout, two-step
	// sign-in and the person's own sign-in settings.
	Login *auth.Login
	// Sessions are the webmail's sessions (idle and shift ends,
	// revocation); the door keeps only the cookie and the CSRF check.
	Sessions *auth.WebSessions
	// Directory is the address book, the organisations and the import.
	Directory *directory.Service
	// Lists is the lists service.
	Lists *listsvc.Service
	// Admin is the administration service the administrators' API calls.
	Admin *admin.Service
	// Health is what readiness (/healthz) asks of this node's storage; nil
	// asks nothing (a door tested without a database of its own).
	Health   Health
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// TLS says whether browsers reach this door over HTTPS (directly or
	// through a TLS-terminating proxy): cookies are Secure and HSTS is sent.
	TLS bool
	// ReplyAll, when set, says whether reply-all is allowed on a message's
	// thread (the storm breaker fills it in).
	ReplyAll ReplyAllPolicy
	// Scanners, when set, report the scanning engines' state on /healthz.
	Scanners ScanHealth
	// MTASTS, when set, serves /.well-known/mta-sts.txt for the hosts
	// mta-sts.DOMAIN of local domains (RFC 8461 3.3).
	MTASTS http.Handler
	// Queue is the outbound queue (nil: outbound is off).
	Queue *outbound.Queue
	// Now returns the current time (tests replace it).
	Now func() time.Time
}

// Health is this node's storage as readiness sees it.
type Health interface {
	// Database reports whether the database answers.
	Database(ctx context.Context) error
	// ObjectStore reports whether the object store holding the bodies
	// answers; asked is false for one that cannot be asked (a folder).
	ObjectStore(ctx context.Context) (asked bool, err error)
}

// ReplyAllPolicy is the storm breaker as the webmail sees it: whether a
// reply to everyone on a thread would be refused, why, and until when.
type ReplyAllPolicy interface {
	ReplyAllBlocked(ctx context.Context, threadID string) (blocked bool, reason string, until time.Time, err error)
}

// New returns the HTTP handler. Every service in cfg is required but Queue,
// ReplyAll, Scanners, MTASTS, Health and Registry.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for what, missing := range map[string]bool{"Mail": cfg.Mail == nil, "Pipeline": cfg.Pipeline == nil, "Login": cfg.Login == nil,
		"Sessions": cfg.Sessions == nil, "Directory": cfg.Directory == nil, "Lists": cfg.Lists == nil, "Admin": cfg.Admin == nil} {
		if missing {
			panic("web.New: Config." + what + " is required")
		}
	}
	a := &API{cfg: cfg, lists: cfg.Lists, dir: cfg.Directory, auth: cfg.Login, sessions: cfg.Sessions, mail: cfg.Mail, pipeline: cfg.Pipeline,
		log: cfg.Logger, now: cfg.Now, metrics: newMetrics(), inlineKey: newInlineKey()}
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
