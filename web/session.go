package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"wardmail/auth"
	"wardmail/directory"
)

// Session is the signed-in person a handler acts for.
type Session struct {
	Person *directory.Person
	// TokenHash names the web session; empty for HTTP Basic.
	TokenHash string
	CSRF      string
	Basic     bool
	Expires   time.Time
	// TOTPSetupNeeded: the person must use a security code (administrators)
	// and has not set one up. A web session like this reaches only TOTP
	// enrolment (enrolmentOnly); it is worked out on each request, so
	// enrolling frees the session at once and a grant of administrator
	// rights restricts it at once.
	TOTPSetupNeeded bool
}

// signInAllowed says whether a sign-in outcome lets the person in: an
// administrator whose password was right but who has no authenticator app
// yet comes with the person, to enrol and nothing else (enrolmentOnly).
func signInAllowed(p *directory.Person, err error) (ok, totpSetup bool) {
	if err == nil {
		return true, false
	}
	if p != nil && errors.Is(err, auth.ErrSecondFactorNotSetUp) {
		return true, true
	}
	return false, false
}

// authedHandler is the shape of every handler that needs a signed-in person.
// A returned error is sent as problem+json.
type authedHandler func(w http.ResponseWriter, r *http.Request, who *Session) error

func (a *API) cookieName() string {
	if a.cfg.TLS {
		return "__Host-wardmail" // RFC 6265bis 4.1.3.2: Secure, Path=/, no Domain
	}
	return "wardmail"
}

// authed checks who is asking and hands the handler a Session: a session
// cookie (with the CSRF token in X-CSRF-Token on unsafe methods) or HTTP
// Basic. The server never answers with a WWW-Authenticate challenge, so a
// browser never caches Basic credentials that another site could ride on.
func (a *API) authed(h authedHandler) http.Handler { return a.authedAs(h, false) }

// enrolmentOnly wraps the handlers a session that must set up TOTP first may
// reach: who am I, sign out, and TOTP enrolment. Every other authed handler
// answers such a session 403 totp-setup-required.
func (a *API) enrolmentOnly(h authedHandler) http.Handler { return a.authedAs(h, true) }

func (a *API) authedAs(h authedHandler, duringEnrolment bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, err := a.identify(w, r)
		// HTTP Basic carries no second factor, so it is held to the same
		// rule: an administrator's password alone reaches only enrolment.
		if err == nil && who.TOTPSetupNeeded && !duringEnrolment {
			p := problem(http.StatusForbidden, "totp-setup-required", "Your account needs two-step sign-in. Set up an authenticator app first; nothing else is available until then.")
			p.Field = "totp"
			err = p
		}
		if err == nil {
			err = h(w, r, who)
		}
		if err != nil {
			a.writeProblem(w, r, err)
		}
	})
}

// open wraps a handler that needs no sign-in.
func (a *API) open(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeProblem(w, r, err)
		}
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func (a *API) identify(w http.ResponseWriter, r *http.Request) (*Session, error) {
	if user, pass, ok := r.BasicAuth(); ok {
		p, err := a.signIn(r.Context(), r, user, pass, "", "")
		ok, totpSetup := signInAllowed(p, err)
		if ok {
			return &Session{Person: p, Basic: true, TOTPSetupNeeded: totpSetup}, nil
		}
		if err != nil {
			a.metrics.signins.WithLabelValues("basic-refused").Inc()
			if sp := signinProblem(err, a.now()); sp != nil {
				return nil, sp
			}
			return nil, err
		}
		return &Session{Person: p, Basic: true}, nil
	}
	c, err := r.Cookie(a.cookieName())
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, errNotSignedIn()
	}
	ws, p, err := a.sessions.Resume(r.Context(), c.Value, func(ws *auth.WebSession) error {
		if !unsafeMethod(r.Method) {
			return nil
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return errCSRF()
		}
		got := r.Header.Get("X-CSRF-Token")
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ws.CSRF)) != 1 {
			return errCSRF()
		}
		return nil
	})
	if errors.Is(err, auth.ErrSessionEnded) {
		a.clearCookie(w)
		return nil, errNotSignedIn()
	} else if err != nil {
		return nil, err
	}
	// Two index reads; only sessions pay them, not HTTP Basic.
	setup, err := a.auth.MustEnrol(r.Context(), p)
	if err != nil {
		return nil, err
	}
	return &Session{Person: p, TokenHash: ws.TokenHash, CSRF: ws.CSRF, Expires: ws.Expires, TOTPSetupNeeded: setup}, nil
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *API) setCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName(), Value: token, Path: "/", Expires: expires,
		Secure: a.cfg.TLS, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func (a *API) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: a.cfg.TLS, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// sessionInfo is what GET and POST /api/v1/session answer.
type sessionInfo struct {
	Person      personInfo `json:"person"`
	CSRF        string     `json:"csrf,omitempty"`
	Expires     time.Time  `json:"expires,omitzero"`
	IdleSeconds int        `json:"idleSeconds"`
	Admin       bool       `json:"admin"`
	// TOTPSetupNeeded: the person must set up an authenticator app.
	TOTPSetupNeeded bool `json:"totpSetupNeeded,omitempty"`
}

type personInfo struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Org   string `json:"org"`
	Role  string `json:"role,omitempty"`
}

func toPersonInfo(p *directory.Person) personInfo {
	return personInfo{Email: p.Email, Name: p.Name, Org: p.Org, Role: p.Role}
}

type signinRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty"`
}

// handleSignIn: POST /api/v1/session.
func (a *API) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	var req signinRequest
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		return err
	}
	if req.Email == "" || req.Password == "" {
		p := problem(http.StatusBadRequest, "bad-request", "Enter your email address and your password.")
		p.Field = "email"
		if req.Email != "" {
			p.Field = "password"
		}
		return p
	}
	p, err := a.signIn(r.Context(), r, req.Email, req.Password, req.TOTP, a.device(w, r))
	ok, totpSetup := signInAllowed(p, err)
	if !ok {
		if sp := signinProblem(err, a.now()); sp != nil {
			a.metrics.signins.WithLabelValues(sp.Type[len("https://wardmail.nhs.test/problems/"):]).Inc()
			return sp
		}
		return err
	}
	token, ws, err := a.sessions.Open(r.Context(), p, r.RemoteAddr, r.UserAgent())
	if err != nil {
		return err
	}
	a.metrics.signins.WithLabelValues("ok").Inc()
	a.setCookie(w, token, ws.Expires)
	admin, err := a.sessions.IsAdmin(r.Context(), p.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionInfo{Person: toPersonInfo(p), CSRF: ws.CSRF, Expires: ws.Expires,
		IdleSeconds: int(a.sessions.Idle() / time.Second), Admin: admin, TOTPSetupNeeded: totpSetup})
	return nil
}

// handleWhoAmI: GET /api/v1/session.
func (a *API) handleWhoAmI(w http.ResponseWriter, r *http.Request, who *Session) error {
	admin, err := a.sessions.IsAdmin(r.Context(), who.Person.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionInfo{Person: toPersonInfo(who.Person), CSRF: who.CSRF, Expires: who.Expires,
		IdleSeconds: int(a.sessions.Idle() / time.Second), Admin: admin, TOTPSetupNeeded: who.TOTPSetupNeeded})
	return nil
}

// handleSignOut: DELETE /api/v1/session.
func (a *API) handleSignOut(w http.ResponseWriter, r *http.Request, who *Session) error {
	if who.TokenHash != "" {
		if err := a.sessions.End(r.Context(), who.TokenHash); err != nil {
			return err
		}
	}
	a.clearCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleSignOutEverywhere: POST /api/v1/sessions/revoke-all ends every
// session of the person: web, IMAP and SMTP.
func (a *API) handleSignOutEverywhere(w http.ResponseWriter, r *http.Request, who *Session) error {
	n, err := a.sessions.EndEverywhere(r.Context(), who.Person)
	if err != nil {
		return err
	}
	a.clearCookie(w)
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
	return nil
}

type sessionRow struct {
	Current  bool      `json:"current"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"lastSeen"`
	Remote   string    `json:"remote"`
	Agent    string    `json:"agent"`
}

// handleSessions: GET /api/v1/sessions.
func (a *API) handleSessions(w http.ResponseWriter, r *http.Request, who *Session) error {
	list, err := a.sessions.List(r.Context(), who.Person.ID)
	if err != nil {
		return err
	}
	out := make([]sessionRow, 0, len(list))
	for _, s := range list {
		out = append(out, sessionRow{Current: s.TokenHash == who.TokenHash, Created: s.Created, LastSeen: s.LastSeen, Remote: s.Remote, Agent: s.Agent})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
