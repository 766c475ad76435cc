package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"wardmail/admin"
	"wardmail/auth"
	"wardmail/listsvc"
	"wardmail/mail"
	"wardmail/privilege"

	"wardmail/submit"
)

// Problem is an RFC 9457 problem detail. Detail is always a sentence a
// person can act on; the webmail shows it as it is.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// SMTP carries the pipeline's reply ("550 5.1.1") when the refusal came
	// from the submission pipeline, so support staff can match logs.
	SMTP string `json:"smtp,omitempty"`
	// RetryAfter is set for temporary failures and locks (seconds).
	RetryAfter int `json:"retryAfter,omitempty"`
	// Until is when a lock or a block lifts (RFC 3339).
	Until string `json:"until,omitempty"`
	// Field names the request field that is wrong, when one is.
	Field string `json:"field,omitempty"`
}

func (p *Problem) Error() string { return p.Detail }

func problem(status int, kind, detail string, args ...any) *Problem {
	return &Problem{Type: "https://wardmail.nhs.test/problems/" + kind, Title: http.StatusText(status), Status: status,
		Detail: fmt.Sprintf(detail, args...)}
}

// Common problems.
var (
	errNotSignedIn = func() *Problem {
		return problem(http.StatusUnauthorized, "not-signed-in", "You are not signed in, or your session has ended. Please sign in again.")
	}
	errCSRF = func() *Problem {
		return problem(http.StatusForbidden, "csrf", "This request did not carry the page's security token. Reload the page and try again.")
	}
	errNotFound = func(what string) *Problem {
		return problem(http.StatusNotFound, "not-found", "%s was not found. It may have been moved or deleted.", what)
	}
	errInternal = func() *Problem {
		return problem(http.StatusInternalServerError, "internal", "Something went wrong on the server. Please try again; if it keeps happening, tell your IT service desk.")
	}
	errUnavailable = func() *Problem {
		p := problem(http.StatusServiceUnavailable, "unavailable", "The mail service is temporarily unavailable. Please try again in a minute.")
		p.RetryAfter = 30
		return p
	}
)

// writeProblem sends err as problem+json. A *Problem goes as it is; a
// submission refusal keeps its sentence; anything else is logged with its
// cause and becomes a generic internal error (CONVENTIONS: errors are mapped
// in one place per door).
func (a *API) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	var se *submit.Error
	var denied *privilege.Denied
	var ae *admin.Error
	var le *listsvc.Error
	var sete *auth.SettingError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &denied):
		p = deniedProblem(denied)
	case errors.As(err, &ae):
		p = adminProblem(ae)
	case errors.As(err, &le):
		p = listsProblem(le)
	case errors.As(err, &sete):
		p = settingProblem(sete)
	case errors.As(err, &se):
		status := http.StatusUnprocessableEntity
		if se.Temporary() {
			status = http.StatusServiceUnavailable
		}
		p = problem(status, "refused", "%s", se.Message)
		p.SMTP = fmt.Sprintf("%d %d.%d.%d", se.Code, se.Enhanced[0], se.Enhanced[1], se.Enhanced[2])
		if se.Temporary() {
			p.RetryAfter = 60
		}
	case errors.Is(err, mail.ErrNotFound):
		p = errNotFound("That item")
	case errors.Is(err, mail.ErrTooManyWrites), errors.Is(err, context.DeadlineExceeded):
		p = errUnavailable()
	case errors.Is(err, mail.ErrBodyUnavailable):
		a.log.Warn("a message body is out of reach", "method", r.Method, "path", r.URL.Path, "err", err)
		p = problem(http.StatusServiceUnavailable, "body-unavailable",
			"This message's text cannot be read just now: the store that holds it is not answering. Your folders and message list still work; please try again in a minute.")
		p.RetryAfter = 30
	case errors.Is(err, context.Canceled):
		return // the client went away
	default:
		a.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = errInternal()
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// adminProblem is a refusal of the administration service as the API
// answers it.
func adminProblem(e *admin.Error) *Problem {
	var p *Problem
	switch e.Kind {
	case admin.NotFound:
		p = problem(http.StatusNotFound, "not-found", "%s", e.Sentence)
	case admin.Conflict:
		p = problem(http.StatusConflict, "conflict", "%s", e.Sentence)
	case admin.Busy:
		p = problem(http.StatusServiceUnavailable, "unavailable", "%s", e.Sentence)
		p.RetryAfter = 30
	default:
		p = problem(http.StatusUnprocessableEntity, "invalid", "%s", e.Sentence)
	}
	p.Field = e.Field
	return p
}

// listsProblem is a refusal of the lists service as the API answers it.
func listsProblem(e *listsvc.Error) *Problem {
	status := http.StatusUnprocessableEntity
	switch e.Kind {
	case listsvc.BadRequest:
		status = http.StatusBadRequest
	case listsvc.Forbidden:
		status = http.StatusForbidden
	case listsvc.NotFound:
		status = http.StatusNotFound
	case listsvc.Conflict:
		status = http.StatusConflict
	}
	p := problem(status, e.Type, "%s", e.Sentence)
	p.Field = e.Field
	return p
}
