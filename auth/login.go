package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/lockout"
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

// Config sets up a Login.
type Config struct {
	Store  Storage
	Hasher *Hasher
	// Lockout, when set, refuses locked (account, source) pairs and counts
	// wrong secrets. Without it nothing is counted.
	Lockout *lockout.Engine
	Logger  *slog.Logger
	// SlowLookup: a directory read slower than this is the server's fault,
	// and wrong passwords for a grace period after it are not counted (2 s).
	SlowLookup time.Duration
	// FlushEvery: audit entries and app-password last use are written in
	// batches this often (500 ms).
	FlushEvery time.Duration
	// TouchEvery: an app password's last use is written at most this often
	// (1 min).
	TouchEvery time.Duration
	Now        func() time.Time
}

// Login checks credentials: passwords, app passwords and second factors,
// under smart lockout.
type Login struct {
	store  Storage
	hasher *Hasher
	cfg    Config

	fault   atomic.Int32
	journal *journal
	metrics *signinMetrics

	dummyOnce sync.Once
	dummy     string
}

// NewLogin returns a Login over the store, hashing on the given pool, with
// no lockout.
func NewLogin(s Storage, h *Hasher) *Login { return New(Config{Store: s, Hasher: h}) }

// New returns a Login. Close it to write what is batched.
func New(cfg Config) *Login {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SlowLookup <= 0 {
		cfg.SlowLookup = 2 * time.Second
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 500 * time.Millisecond
	}
	if cfg.TouchEvery <= 0 {
		cfg.TouchEvery = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Login{store: cfg.Store, hasher: cfg.Hasher, cfg: cfg, metrics: newSigninMetrics()}
	l.journal = newJournal(cfg.Store, cfg.Logger, cfg.FlushEvery, l.metrics)
	return l
}

// Close writes the batched audit entries and last-use times.
func (l *Login) Close() error { return l.journal.close() }

// Hasher returns the pool passwords are hashed and verified on.
func (l *Login) Hasher() *Hasher { return l.hasher }

// Lockout returns the lockout engine (nil when there is none).
func (l *Login) Lockout() *lockout.Engine { return l.cfg.Lockout }

// Authenticate is SignIn for a door that knows only a user name and a
// secret; the client's address and protocol come from the context (see
// WithClient).
func (l *Login) Authenticate(ctx context.Context, username, password string) (*store.Person, error) {
	c := clientOf(ctx)
	return l.SignIn(ctx, Attempt{Username: username, Password: password, Source: c.addr, Protocol: c.protocol})
}

// Methods as audited and measured.
const (
	methodPassword = "password"
	methodApp      = "app_password"
)

// SignIn returns the person signing in, or ErrBadCredentials,
// ErrUnavailable, a *LockedError (ErrLocked), ErrSecondFactorRequired or
// ErrBadSecondFactor; or the person with ErrSecondFactorNotSetUp (HTTP: an
// administrator who must enrol TOTP first). Only ErrBadCredentials and ErrBadSecondFactor count
// towards a lock, and not even those while the store is failing or in
// incident mode.
func (l *Login) SignIn(ctx context.Context, a Attempt) (*store.Person, error) {
	start := time.Now()
	account := strings.ToLower(strings.TrimSpace(a.Username))
	method := methodPassword
	appHash, isApp := ParseAppPassword(a.Password)
	if isApp {
		method = methodApp
	}
	ev := event{account: account, attempt: &a, method: method}
	defer func() { l.metrics.observe(a.Protocol, method, ev.result, time.Since(start)) }()
	if account == "" || a.Password == "" || len(account) > 320 || len(a.Password) > 1024 {
		ev.result = resultBad
		return nil, ErrBadCredentials
	}
	lock := l.cfg.Lockout
	ev.source = lockout.NetworkSource(a.Source)
	if a.Device != "" && lock != nil {
		if dev := lockout.DeviceSource(a.Device); lock.Familiar(ctx, account, dev) {
			ev.source = dev
		}
	}
	refuse := func() error {
		until, locked := lock.Locked(ctx, account, ev.source)
		network := false
		if !locked && !isApp {
			until, network = lock.NetworkThrottled(ctx, account, ev.source)
		}
		if !locked && !network {
			return nil
		}
		ev.result = resultLocked
		if lock.ShouldReportRefusal(account, ev.source) {
			l.journal.audit(ev, "signin.refused", map[string]any{"locked_until": until.UTC().Format(time.RFC3339), "network": network})
		}
		return &LockedError{Until: until, Network: network}
	}
	// A right app password is never refused by a lock: 160 random bits are
	// not what lockout defends against, and a device holding one must be
	// able to reconnect while its account is being sprayed. A wrong one is
	// refused like any other secret below.
	if lock != nil && !isApp {
		if err := refuse(); err != nil {
			return nil, err
		}
	}

	var p *store.Person
	var err error
	if isApp {
		p, err = l.checkAppPassword(ctx, &ev, appHash)
	} else {
		p, err = l.checkPassword(ctx, account, a.Password)
	}
	if err == nil && a.Protocol == ProtoHTTP && !isApp {
		err = l.checkSecondFactor(ctx, p, a.SecondFactor)
	}
	if err == nil && a.Protocol != ProtoHTTP && !isApp {
		err = l.checkMailAppPassword(ctx, p)
	}
	switch {
	case err == nil:
		ev.result = resultOK
		if lock != nil {
			lock.Success(account, ev.source)
			if a.Device != "" {
				lock.Success(account, lockout.DeviceSource(a.Device))
			}
		}
		l.journal.audit(ev, "signin.ok", nil)
		return p, nil
	case errors.Is(err, ErrSecondFactorRequired):
		ev.result = resultSecondFactor
		return nil, err
	case errors.Is(err, ErrAppPasswordRequired):
		// The password was right, so nothing is counted against the
		// person; but it opens nothing by itself.
		ev.result = resultAppPasswordRequired
		l.journal.audit(ev, "signin.app_password_required", nil)
		return nil, err
	case errors.Is(err, ErrSecondFactorNotSetUp):
		// The password was right: the web door lets the person enrol, and
		// nothing else.
		ev.result = resultSecondFactor
		l.journal.audit(ev, "signin.enrol_required", nil)
		return p, err
	case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrBadSecondFactor):
		ev.result = resultBad
		detail := map[string]any{}
		if errors.Is(err, ErrBadSecondFactor) {
			detail["second_factor"] = true
		}
		if lock == nil {
			l.journal.audit(ev, "signin.fail", detail)
			return nil, err
		}
		if isApp {
			if lerr := refuse(); lerr != nil {
				return nil, lerr
			}
		}
		res := lock.Failure(ctx, account, ev.source, a.Password+"\x00"+a.SecondFactor)
		detail["counted"] = res.Outcome
		detail["familiar"] = res.Familiar
		if res.Outcome == lockout.Counted {
			detail["failures"] = res.Failures
		}
		l.journal.audit(ev, "signin.fail", detail)
		if !res.LockedUntil.IsZero() {
			l.journal.audit(event{account: account, attempt: &a, source: res.LockSource, method: method}, "signin.lock",
				map[string]any{"locked_until": res.LockedUntil.UTC().Format(time.RFC3339), "familiar": res.Familiar})
			l.cfg.Logger.Warn("sign-in locked", "account", account, "source", res.LockSource, "until", res.LockedUntil)
		}
		return nil, err
	default:
		ev.result = resultUnavailable
		l.journal.audit(ev, "signin.unavailable", nil)
		if !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, err
	}
}

// checkPassword verifies a person's own password on the hashing pool.
func (l *Login) checkPassword(ctx context.Context, account, password string) (*store.Person, error) {
	var p *store.Person
	err := l.backend(ctx, func() (err error) {
		p, err = l.store.PersonByEmail(ctx, account)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same effort as for a real person, so response time does
		// not tell which addresses exist.
		if _, err := l.hasher.Verify(ctx, l.dummyHash(), password); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if p.PasswordHash == "" || p.Disabled {
		if _, err := l.hasher.Verify(ctx, l.dummyHash(), password); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
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

// checkAppPassword looks an app password up by its SHA-256: microseconds,
// no hashing pool. The user name must be its owner's address and the door
// one of its scopes.
func (l *Login) checkAppPassword(ctx context.Context, ev *event, hash []byte) (*store.Person, error) {
	var ap *store.AppPassword
	var stored []byte
	var p *store.Person
	err := l.backend(ctx, func() (err error) {
		ap, stored, p, err = l.store.AppPasswordOwner(ctx, hash)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if subtle.ConstantTimeCompare(stored, hash) != 1 || p.Disabled || p.Email != ev.account ||
		!slices.Contains(ap.Scopes, ev.attempt.Protocol) {
		return nil, ErrBadCredentials
	}
	ev.appPassword = ap.Name
	p.AppPasswordID = ap.ID
	now := l.cfg.Now()
	from := ""
	if ev.attempt.Source.IsValid() {
		from = ev.attempt.Source.String()
	}
	if now.Sub(ap.LastUsedAt) >= l.cfg.TouchEvery || ap.LastUsedFrom != from {
		l.journal.touch(ap.ID, now, from, l.cfg.TouchEvery)
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
