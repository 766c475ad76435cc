package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"wardmail/connlimit"
)

type refusedKey struct{}

// connContext marks the requests of a connection the HTTP door's limiter
// let in past its caps (connlimit.Listen with no Refuse) so that they are
// answered 503.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if reason := connlimit.Refused(c); reason != "" {
		return context.WithValue(ctx, refusedKey{}, reason)
	}
	return ctx
}

// limitHTTP answers requests on connections past the caps with 503, and
// bounds the time a request body may take: it must arrive within grace
// plus one second per rate bytes, so a body dribbled a byte at a time is
// cut (ReadTimeout would cut large uploads on slow links too).
func limitHTTP(h http.Handler, grace time.Duration, rate int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason, _ := r.Context().Value(refusedKey{}).(string); reason != "" {
			refuseHTTP(w, reason)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			b := &bodyReader{ReadCloser: r.Body, rc: rc, start: time.Now(), grace: grace, rate: rate}
			// Also for a body the handler does not read: net/http drains
			// it after the handler, under this deadline.
			_ = rc.SetReadDeadline(b.start.Add(grace))
			r.Body = b
		}
		h.ServeHTTP(w, r)
	})
}

// refuseHTTP writes the 503 (RFC 9110 15.6.4) a connection past the caps
// gets, as a problem (RFC 9457), and closes the connection after it.
func refuseHTTP(w http.ResponseWriter, reason string) {
	detail := "Too many connections from your network; please try again in a minute."
	if reason == connlimit.ReasonTotal {
		detail = "The server has too many connections; please try again in a minute."
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", "60")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, `{"type":"https://wardmail.nhs.test/problems/too-many-connections","title":"Service Unavailable","status":503,"detail":"`+detail+`"}`+"\n")
}

// bodyReader moves the read deadline on with every byte of the body.
type bodyReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  int64
	n     int64
	done  bool
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	_ = b.rc.SetReadDeadline(b.start.Add(b.grace + time.Duration(b.n*int64(time.Second)/b.rate)))
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if errors.Is(err, io.EOF) {
		// The whole body is in: no deadline while the handler works (net/http
		// reads the connection in the background from now on, and a
		// deadline there would cancel the request).
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
