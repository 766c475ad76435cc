package lockout

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/store"
)

// Why a failure was or was not counted.
const (
	Counted  = "counted"  // counted against the (account, source)
	Repeat   = "repeat"   // the same wrong password again from the source
	Incident = "incident" // incident mode is on
	Backend  = "backend"  // the store failed or was slow recently
)

type key struct{ account, source string }

// entry is the state of one (account, source).
type entry struct {
	familiar    bool
	failures    int
	locks       int
	lockedAt    time.Time
	lockedUntil time.Time
	lastFailure time.Time
	fps         []uint32  // the last wrong-password fingerprints, oldest first
	refusedLog  time.Time // last time a refusal while locked was reported
	excused     int       // failures not counted because the store was failing
}

func (en *entry) row(k key) store.LockoutRow {
	return store.LockoutRow{Account: k.account, Source: k.source, Familiar: en.familiar, Failures: en.failures,
		Locks: en.locks, LockedAt: en.lockedAt, LockedUntil: en.lockedUntil, LastFailure: en.lastFailure,
		Fingerprints: slices.Clone(en.fps)}
}

// Engine decides and remembers. It is safe for concurrent use.
//
// On a store of its own (SQLite) it decides from memory and saves in
// batches. On a shared store (PostgreSQL, several servers) the database
// decides: Locked and NetworkThrottled read the rows, Failure changes them
// in one write under their row locks, and the memory is a cache (shared.go).
type Engine struct {
	st     Storage
	shared bool
	pol    Policy
	log    *slog.Logger
	now    func() time.Time
	key    []byte // HMAC key for fingerprints (Config.Key)

	mu       sync.Mutex
	entries  map[key]*entry
	dirty    map[key]struct{}    // to save (or delete, when not in entries)
	familiar map[key]int64       // cache: last success (unix), 0 = none
	networks map[string]*network // the network budget (network.go)

	netsForgotten time.Time

	famPending map[key]int64 // successes to persist

	// On a shared store: successes that forgive a source's failures, and
	// successful sign-ins per network with failures, to save in a batch.
	forgiven map[key]int64
	netOKs   map[string]int
	cleaned  time.Time

	incident     atomic.Bool
	suspectUntil atomic.Int64 // unix nanoseconds
	lastUnlock   int64

	metrics *metrics
	stop    chan struct{}
	done    chan struct{}
	closed  sync.Once
}

// Config sets up an Engine.
type Config struct {
	Store  Storage
	Policy Policy
	Logger *slog.Logger
	Now    func() time.Time // tests replace it
	// Key is the secret that wrong-password fingerprints are keyed with
	// (32 random bytes, kept in a file beside the database, not in it).
	// With none, a random key is made for this process: fingerprints saved
	// by an earlier one are then not recognised. Servers sharing a database
	// must be given the same key: one started with another key than the
	// one the database has seen refuses to start (keycheck.go).
	Key []byte
}

// New loads the persisted state and returns a running Engine; Close stops
// it and saves what is pending.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg.Policy.fill()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Engine{st: cfg.Store, shared: cfg.Store.Shared(), pol: cfg.Policy, log: cfg.Logger, now: cfg.Now, key: cfg.Key,
		entries: map[key]*entry{}, dirty: map[key]struct{}{}, familiar: map[key]int64{}, famPending: map[key]int64{},
		forgiven: map[key]int64{}, netOKs: map[string]int{},
		networks: map[string]*network{}, stop: make(chan struct{}), done: make(chan struct{})}
	if len(e.key) == 0 {
		e.key = make([]byte, 32)
		_, _ = rand.Read(e.key) // never fails (crypto/rand panics instead)
		if e.shared {
			e.log.Warn("lockout: no sign-in key given on a shared database: a stale password arriving through several servers counts once per server (set signin_key_file)")
		}
	} else if err := e.checkKey(ctx); err != nil {
		return nil, err
	}
	e.metrics = newMetrics(e)
	rows, err := e.st.LockoutState(ctx, e.now().Add(-e.pol.Forget))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		fps := r.Fingerprints
		if len(fps) > e.pol.Remember {
			fps = fps[len(fps)-e.pol.Remember:]
		}
		e.entries[key{r.Account, r.Source}] = &entry{familiar: r.Familiar, failures: r.Failures, locks: r.Locks,
			lockedAt: r.LockedAt, lockedUntil: r.LockedUntil, lastFailure: r.LastFailure, fps: fps}
	}
	if e.lastUnlock, err = e.st.LastUnlockID(ctx); err != nil {
		return nil, err
	}
	if err := e.pollControl(ctx); err != nil {
		return nil, err
	}
	go e.run()
	return e, nil
}

// Policy returns the policy in force.
func (e *Engine) Policy() Policy { return e.pol }

// Close saves pending state and stops the engine's background work.
func (e *Engine) Close() error {
	e.closed.Do(func() { close(e.stop) })
	<-e.done
	return e.flush(context.Background())
}

// Incident reports whether incident mode is on (as last read from the store).
func (e *Engine) Incident() bool { return e.incident.Load() }

// BackendFailed tells the engine the store failed or was slow: failures in
// the next Grace are not counted.
func (e *Engine) BackendFailed() {
	e.suspectUntil.Store(e.now().Add(e.pol.Grace).UnixNano())
	e.metrics.backendFaults.Inc()
}

// Locked reports whether sign-in to account from source is refused now, and
// until when. It is the fast path: no password is verified for a locked
// (account, source).
func (e *Engine) Locked(ctx context.Context, account, source string) (time.Time, bool) {
	now := e.now()
	if e.shared {
		e.refreshEntries(ctx, account, source)
	}
	e.mu.Lock()
	en := e.entries[key{account, source}]
	agg := e.entries[key{account, AccountWide}]
	var until time.Time
	if en != nil && en.lockedUntil.After(now) {
		until = en.lockedUntil
	}
	aggUntil := time.Time{}
	if agg != nil && agg.lockedUntil.After(now) {
		aggUntil = agg.lockedUntil
	}
	e.mu.Unlock()
	if aggUntil.After(until) && !e.isFamiliar(ctx, account, source) {
		until = aggUntil
	}
	if until.IsZero() {
		return time.Time{}, false
	}
	e.metrics.refused.Inc()
	return until, true
}

// Fingerprint is the keyed hash by which a wrong secret is recognised when
// it comes again. It is saved with the counter; it is truncated to 32 bits
// so that, even with the key, it confirms no single guess of the wrong
// password (each fingerprint matches billions of strings), while two
// different wrong passwords from one source collide only once in about
// 800 million.
func (e *Engine) Fingerprint(account, secret string) uint32 {
	m := hmac.New(sha256.New, e.key)
	m.Write([]byte(account))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	return binary.BigEndian.Uint32(m.Sum(nil))
}

// Result is what Failure decided.
type Result struct {
	// Outcome is Counted, Repeat, Incident or Backend.
	Outcome string
	// Familiar says whether the source was familiar.
	Familiar bool
	// Failures is the source's count after this failure.
	Failures int
	// LockedUntil is set when this failure started a lock (of the source,
	// or of the account's unfamiliar sources when Source is AccountWide).
	LockedUntil time.Time
	LockSource  string
}

// Failure records a wrong secret from (account, source).
func (e *Engine) Failure(ctx context.Context, account, source, secret string) Result {
	if e.incident.Load() {
		e.metrics.failures.WithLabelValues(Incident).Inc()
		return Result{Outcome: Incident}
	}
	now := e.now()
	suspect := now.UnixNano() < e.suspectUntil.Load()
	fp := e.Fingerprint(account, secret)
	familiar := e.isFamiliar(ctx, account, source)

	if e.shared {
		return e.failureShared(ctx, account, source, fp, familiar, suspect, now)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	k, ak := key{account, source}, key{account, AccountWide}
	en := e.entries[k]
	if en == nil {
		en = &entry{}
		e.entries[k] = en
	}
	var agg *entry
	if !familiar {
		if agg = e.entries[ak]; agg == nil {
			agg = &entry{}
			e.entries[ak] = agg
		}
	}
	res, locks := e.apply(source, en, agg, fp, familiar, suspect, now)
	if res.Outcome != Repeat {
		e.dirty[k] = struct{}{} // the fingerprint is saved even when not counted
		if agg != nil {
			e.dirty[ak] = struct{}{}
		}
	}
	e.metrics.failures.WithLabelValues(res.Outcome).Inc()
	e.metrics.locks.Add(float64(locks))
	if res.Outcome == Counted && !familiar {
		e.networkFailure(source, now)
	}
	return res
}

// apply is the failure's rule, on the source's entry and (for an
// unfamiliar source) the account-wide one: it says what happened and how
// many locks began. It only computes (on a shared store it runs inside the
// write that holds the rows).
func (e *Engine) apply(source string, en, agg *entry, fp uint32, familiar, suspect bool, now time.Time) (res Result, locks int) {
	en.familiar = familiar
	if slices.Contains(en.fps, fp) {
		return Result{Outcome: Repeat, Familiar: familiar, Failures: en.failures}, 0
	}
	if len(en.fps) >= e.pol.Remember {
		en.fps = slices.Delete(en.fps, 0, len(en.fps)-e.pol.Remember+1)
	}
	en.fps = append(en.fps, fp)
	threshold := e.pol.Threshold
	if familiar {
		threshold = e.pol.FamiliarThreshold
	}
	res = Result{Outcome: Counted, Familiar: familiar}
	if suspect && en.excused < threshold {
		// The store failed or was slow moments ago: a right password may
		// have looked wrong. Excused, up to one threshold's worth per
		// source, so that an attacker who can make the store slow does not
		// switch lockout off. The account-wide budget still counts.
		en.excused++
		en.lastFailure = now // kept (with its fingerprints) until Forget
		res.Outcome = Backend
	} else if e.count(en, threshold, now) {
		locks++
		res.LockedUntil, res.LockSource = en.lockedUntil, source
	}
	res.Failures = en.failures
	if agg != nil && e.count(agg, e.pol.AccountThreshold, now) {
		locks++
		if res.LockedUntil.IsZero() {
			res.LockedUntil, res.LockSource = agg.lockedUntil, AccountWide
		}
	}
	return res, locks
}

// count adds a failure to en and locks it when it reaches threshold. After a
// lock the count stays one below the threshold, so the next failure once the
// lock expires locks again, for twice as long.
func (e *Engine) count(en *entry, threshold int, now time.Time) (locked bool) {
	en.failures++
	en.lastFailure = now
	if en.failures < threshold || en.lockedUntil.After(now) {
		return false
	}
	en.locks++
	en.lockedAt = now
	en.lockedUntil = now.Add(e.pol.lockFor(en.locks))
	en.failures = threshold - 1
	return true
}

// Success records a successful sign-in: the source becomes (or stays)
// familiar, and its failures are forgiven if it was never locked.
func (e *Engine) Success(account, source string) {
	now := e.now()
	k := key{account, source}
	forgive := false
	e.mu.Lock()
	e.networkSuccess(source, now)
	// Failures before a success are forgiven (typos), unless the source was
	// ever locked: then only expiry (Forget) or an administrator clears it,
	// or someone guessing on a shared network would get a fresh budget each
	// time the person's phone reconnects.
	if en, ok := e.entries[k]; ok && en.locks == 0 {
		delete(e.entries, k)
		if !e.shared {
			e.dirty[k] = struct{}{}
		} else if en.failures > 0 || en.excused > 0 {
			forgive = true
		}
	}
	// Persist familiarity at most once a day per (account, source).
	if last := e.familiar[k]; now.Unix()-last > 86400 {
		if len(e.familiar) > 2_000_000 {
			clear(e.familiar) // a cache: bounded, re-read from the store
		}
		e.familiar[k] = now.Unix()
		e.famPending[k] = now.Unix()
	}
	e.mu.Unlock()
	if forgive {
		e.forgive(k, now)
	}
}

// forgive deletes a shared store's counter of a source that signed in
// successfully, unless a server counted a failure since or it was ever
// locked. It is written at once, so that the next failure, through any
// server, starts from nothing; successes after failures are rare (a
// typo), so this write is too. When it fails, the next batch tries again.
func (e *Engine) forgive(k key, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := store.LockoutRow{Account: k.account, Source: k.source, LastFailure: now}
	if err := e.st.SaveLockoutBatch(ctx, store.LockoutBatch{Forgive: []store.LockoutRow{r}}); err != nil {
		e.log.Warn("lockout: forgiving failures after a success", "err", err)
		e.mu.Lock()
		e.forgiven[k] = max(e.forgiven[k], now.Unix())
		e.mu.Unlock()
	}
}

// isFamiliar reports whether account signed in from source successfully
// within FamiliarFor, from the cache or the store.
func (e *Engine) isFamiliar(ctx context.Context, account, source string) bool {
	k := key{account, source}
	e.mu.Lock()
	last, ok := e.familiar[k]
	e.mu.Unlock()
	if !ok {
		t, err := e.st.LastSuccess(ctx, account, source)
		if err != nil {
			// Unknown: treat as unfamiliar (the stricter budget), and do
			// not cache.
			e.log.Warn("lockout: reading familiarity", "err", err)
			return false
		}
		if !t.IsZero() {
			last = t.Unix()
		}
		e.mu.Lock()
		if cur, ok := e.familiar[k]; !ok || cur < last {
			e.familiar[k] = last
		}
		e.mu.Unlock()
	}
	return last > 0 && e.now().Sub(time.Unix(last, 0)) < e.pol.FamiliarFor
}

// ShouldReportRefusal says whether a refusal while locked should be written
// to the audit trail: at most once a minute per (account, source), so that
// hammering a locked account cannot flood the trail.
func (e *Engine) ShouldReportRefusal(account, source string) bool {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	en := e.entries[key{account, source}]
	if en == nil {
		en = e.entries[key{account, AccountWide}]
	}
	if en == nil || now.Sub(en.refusedLog) < time.Minute {
		return en == nil
	}
	en.refusedLog = now
	return true
}

// Lock is one running lock as Locks reports it.
type Lock = store.LockoutRow

// Unlock forgets the state of the named accounts and of every account
// locked since lockedSince (when not zero), in the store and here at once.
func (e *Engine) Unlock(ctx context.Context, actor string, accounts []string, lockedSince time.Time) ([]Lock, error) {
	rows, err := e.st.Unlock(ctx, actor, accounts, lockedSince)
	if err != nil {
		return nil, err
	}
	if err := e.pollUnlocks(ctx); err != nil {
		return rows, err
	}
	return rows, nil
}

// SetIncident turns incident mode on or off, in the store and here at once.
func (e *Engine) SetIncident(ctx context.Context, actor string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	if err := e.st.SetSignInControl(ctx, actor, "incident", v); err != nil {
		return err
	}
	e.incident.Store(on)
	return nil
}

// Familiar reports whether account signed in successfully from source in
// the last FamiliarFor.
func (e *Engine) Familiar(ctx context.Context, account, source string) bool {
	return e.isFamiliar(ctx, account, source)
}

// Locks returns the locks running now: as this engine holds them on a
// store of its own (the store has them within one Poll), from the store
// when servers share it.
func (e *Engine) Locks() []Lock {
	if e.shared {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if rows, err := e.st.Lockouts(ctx); err == nil {
			return rows
		} else {
			e.log.Warn("lockout: reading locks", "err", err)
		}
	}
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Lock
	for k, en := range e.entries {
		if en.lockedUntil.After(now) {
			out = append(out, en.row(k))
		}
	}
	return out
}
