package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"wardmail/store"
)

// Web sessions: after a sign-in the browser holds a random token (a
// cookie) and the database its SHA-256, with a CSRF token, the person's
// credential generation and the times that end it. A session ends after
// Idle without a request (ward PCs are shared), Max after sign-in whatever
// its activity (one shift), when the person's credentials are revoked (a
// password reset) and when the person is disabled.

// WebSessionStore is what web sessions need from the database;
// *store.Store implements it.
type WebSessionStore interface {
	WebSession(ctx context.Context, tokenHash string) (*store.WebSession, error)
	CreateWebSession(ctx context.Context, w *store.WebSession) error
	DeleteWebSession(ctx context.Context, tokenHash string) error
	DeleteWebSessions(ctx context.Context, personID int64) (int, error)
	TouchWebSession(ctx context.Context, tokenHash string, at time.Time) error
	WebSessions(ctx context.Context, personID int64) ([]store.WebSession, error)
	PruneWebSessions(ctx context.Context, idleBefore, now, uploadsBefore time.Time) error
	PersonByID(ctx context.Context, id int64) (*store.Person, error)
	RevokeSessions(ctx context.Context, personID int64) (int, error)
	Audit(ctx context.Context, actor, action, target string, detail any) error
	Revocations() *store.Revocations
	EnsureMailboxes(ctx context.Context, personID int64) error
	IsAdmin(ctx context.Context, personID int64) (bool, error)
}

// WebSessionsConfig is what web sessions need.
type WebSessionsConfig struct {
	Store WebSessionStore
	// Idle and Max end a session (defaults 30 minutes and 12 hours).
	Idle, Max time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// WebSessions opens, resumes and ends the webmail's sessions. It is safe
// for concurrent use.
type WebSessions struct {
	cfg WebSessionsConfig
	st  WebSessionStore
	// lastPrune is when expired sessions were last removed (Unix seconds).
	lastPrune atomic.Int64
}

// NewWebSessions returns the web sessions over cfg.Store.
func NewWebSessions(cfg WebSessionsConfig) *WebSessions {
	if cfg.Idle <= 0 {
		cfg.Idle = 30 * time.Minute
	}
	if cfg.Max <= 0 {
		cfg.Max = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &WebSessions{cfg: cfg, st: cfg.Store}
}

// Idle is how long a session lasts without a request.
func (w *WebSessions) Idle() time.Duration { return w.cfg.Idle }

// ErrSessionEnded: no such session, or it has ended (idle, too old,
// revoked, or its person disabled or removed).
var ErrSessionEnded = errors.New("the web session has ended")

// touchEvery bounds how often a session's last-seen time is written.
const touchEvery = time.Minute

// pruneEvery is how often a sign-in also removes expired sessions and stale
// uploads (so no timer goroutine is needed).
const pruneEvery = 10 * time.Minute

// SessionHash is how a session token is named in the database.
func SessionHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func newSessionToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Open starts a session for p, who has just signed in from remote with
// the browser agent, and returns the token for the browser (shown once)
// with the session. The person's mailboxes are made on their first sign-in.
func (w *WebSessions) Open(ctx context.Context, p *store.Person, remote, agent string) (string, *store.WebSession, error) {
	if err := w.st.EnsureMailboxes(ctx, p.ID); err != nil {
		return "", nil, err
	}
	now := w.cfg.Now()
	token := newSessionToken()
	if len(agent) > 200 {
		agent = agent[:200]
	}
	ws := &store.WebSession{TokenHash: SessionHash(token), PersonID: p.ID, CSRF: newSessionToken(), Created: now, LastSeen: now,
		Expires: now.Add(w.cfg.Max), Remote: remote, Agent: agent, CredGen: p.CredGen}
	if err := w.st.CreateWebSession(ctx, ws); err != nil {
		return "", nil, err
	}
	w.prune(now)
	return token, ws, nil
}

// Resume finds the session a browser's token names and its person, or
// ErrSessionEnded (and removes what ended). check, when set, runs on the
// session before the person is read (the door's CSRF check); its error is
// returned as it is.
func (w *WebSessions) Resume(ctx context.Context, token string, check func(*store.WebSession) error) (*store.WebSession, *store.Person, error) {
	hash := SessionHash(token)
	ws, err := w.st.WebSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrSessionEnded
	} else if err != nil {
		return nil, nil, err
	}
	now := w.cfg.Now()
	if now.Sub(ws.LastSeen) > w.cfg.Idle || !now.Before(ws.Expires) {
		if err := w.st.DeleteWebSession(ctx, hash); err != nil {
			w.cfg.Logger.Warn("ending an expired session", "err", err)
		}
		return nil, nil, ErrSessionEnded
	}
	if check != nil {
		if err := check(ws); err != nil {
			return nil, nil, err
		}
	}
	p, err := w.st.PersonByID(ctx, ws.PersonID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Disabled) {
		if _, err := w.st.DeleteWebSessions(ctx, ws.PersonID); err != nil {
			w.cfg.Logger.Warn("ending a disabled person's sessions", "err", err)
		}
		return nil, nil, ErrSessionEnded
	} else if err != nil {
		return nil, nil, err
	}
	if p.CredGen != ws.CredGen {
		// The person's credentials were revoked since this session began
		// (a password reset by the CLI, say): it ends like the others.
		if err := w.st.DeleteWebSession(ctx, hash); err != nil {
			w.cfg.Logger.Warn("ending a revoked session", "err", err)
		}
		w.st.Revocations().CountEnded("web")
		return nil, nil, ErrSessionEnded
	}
	if now.Sub(ws.LastSeen) > touchEvery {
		if err := w.st.TouchWebSession(ctx, hash, now); err != nil {
			w.cfg.Logger.Warn("recording session activity", "err", err)
		}
	}
	return ws, p, nil
}

// End ends one session (signing out).
func (w *WebSessions) End(ctx context.Context, tokenHash string) error {
	return w.st.DeleteWebSession(ctx, tokenHash)
}

// EndEverywhere ends every session of p: web, IMAP and SMTP, and says how
// many.
func (w *WebSessions) EndEverywhere(ctx context.Context, p *store.Person) (int, error) {
	n, err := w.st.RevokeSessions(ctx, p.ID)
	if err != nil {
		return 0, err
	}
	if err := w.st.Audit(ctx, p.Email, "web.signout-everywhere", p.Email, map[string]int{"sessions": n}); err != nil {
		return 0, err
	}
	return n, nil
}

// List lists a person's web sessions.
func (w *WebSessions) List(ctx context.Context, personID int64) ([]store.WebSession, error) {
	return w.st.WebSessions(ctx, personID)
}

// IsAdmin reports whether the person holds an administrator grant (the
// webmail then offers the console).
func (w *WebSessions) IsAdmin(ctx context.Context, personID int64) (bool, error) {
	return w.st.IsAdmin(ctx, personID)
}

func (w *WebSessions) prune(now time.Time) {
	last := w.lastPrune.Load()
	if now.Unix()-last < int64(pruneEvery/time.Second) || !w.lastPrune.CompareAndSwap(last, now.Unix()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := w.st.PruneWebSessions(ctx, now.Add(-w.cfg.Idle), now, now.Add(-24*time.Hour)); err != nil {
			w.cfg.Logger.Warn("pruning web sessions", "err", err)
		}
	}()
}

// WebSession is one signed-in browser (a row the storage defines).
type WebSession = store.WebSession
