package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"wardmail/store"
)

// Sign-in outcomes every door maps to its own reply.
var (
	// ErrBadCredentials: unknown person, wrong password, no password set or
	// account disabled. Doors never say which (IMAP NO [AUTHENTICATIONFAILED],
	// SMTP 535 5.7.8, HTTP 401).
	ErrBadCredentials = errors.New("invalid credentials")
	// ErrUnavailable: the server could not decide (the store failed, or the
	// hashing pool was busy: errors.Is(err, ErrBusy) holds then too). It is a
	// temporary failure and never counts against the person (IMAP NO
	// [UNAVAILABLE], SMTP 454 4.7.0, HTTP 503).
	ErrUnavailable = errors.New("sign-in is temporarily unavailable")
)

// Login checks credentials against the directory.
type Login struct {
	store  *store.Store
	hasher *Hasher

	dummyOnce sync.Once
	dummy     string
}

// NewLogin returns a Login over the store, hashing on the given pool.
func NewLogin(s *store.Store, h *Hasher) *Login { return &Login{store: s, hasher: h} }

// Hasher returns the pool passwords are hashed and verified on.
func (l *Login) Hasher() *Hasher { return l.hasher }

// Authenticate returns the person whose address and password these are.
func (l *Login) Authenticate(ctx context.Context, username, password string) (*store.Person, error) {
	username = strings.TrimSpace(username)
	if username == "" || password == "" || len(username) > 320 || len(password) > 1024 {
		return nil, ErrBadCredentials
	}
	p, err := l.store.PersonByEmail(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same effort as for a real person, so response time does
		// not tell which addresses exist.
		_, _ = l.hasher.Verify(ctx, l.dummyHash(), password)
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if p.PasswordHash == "" || p.Disabled {
		_, _ = l.hasher.Verify(ctx, l.dummyHash(), password)
		return nil, ErrBadCredentials
	}
	ok, err := l.hasher.Verify(ctx, p.PasswordHash, password)
	if err != nil {
		// ErrBusy or a damaged hash: the server's fault, not the person's.
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	return p, nil
}

// dummyHash is a real hash of nothing anyone knows, with the current
// parameters. If making it ever failed (no randomness), a fixed salt still
// gives a hash that costs the same to verify: an empty one would fail fast
// and tell an attacker which addresses exist.
func (l *Login) dummyHash() string {
	l.dummyOnce.Do(func() {
		h, err := HashPassword(l.hasher.Params(), "wardmail-timing-equaliser")
		if err != nil {
			p := l.hasher.Params()
			h = fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
				p.Memory, p.Time, p.Threads)
		}
		l.dummy = h
	})
	return l.dummy
}
