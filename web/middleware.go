package web

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
)

// statusWriter remembers the status a handler sent, for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// recoverPanics answers 500 for a handler that panics, logs the stack and
// counts it (CONVENTIONS: tests fail when that metric is not zero).
func (a *API) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.metrics.panics.Inc()
				a.log.Error("panic in an HTTP handler", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					a.writeProblem(sw, r, errInternal())
				}
			}
			if strings.HasPrefix(r.URL.Path, "/api/") {
				route := r.Pattern
				if route == "" {
					route = "unmatched"
				}
				a.metrics.requests.WithLabelValues(route, fmt.Sprintf("%dxx", max(sw.status, 200)/100)).Inc()
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// securityHeaders applies to every response; the UI and the message-body
// frame set a Content-Security-Policy of their own.
func (a *API) securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		if a.cfg.TLS {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}
