package lockout

import (
	"context"
	"slices"
	"time"

	"wardmail/store"
)

// Several servers on one database (DESIGN section 6): every decision is
// read from the database and every counted failure is written to it at
// once, so that failures through any server count against one budget, a
// lock set through one refuses the very next attempt through another, an
// unlock (rows deleted) reaches all of them, the same stale password
// through two counts once (the fingerprints are in the row) and a network's
// spray budget is one. Failures are rare next to successes, so each is one
// write; successes (familiar sources, forgiven typos, a network's
// successful sign-ins) are saved in batches every Poll.

// entryOf turns a stored row into the engine's entry; a counter idle for
// Forget with no lock running starts again, as forget does in memory.
func (e *Engine) entryOf(r store.LockoutRow, now time.Time) *entry {
	en := &entry{familiar: r.Familiar, failures: r.Failures, locks: r.Locks, lockedAt: r.LockedAt,
		lockedUntil: r.LockedUntil, lastFailure: r.LastFailure, fps: r.Fingerprints}
	if len(en.fps) > e.pol.Remember {
		en.fps = en.fps[len(en.fps)-e.pol.Remember:]
	}
	if !r.LastFailure.IsZero() && now.Sub(r.LastFailure) > e.pol.Forget && !r.LockedUntil.After(now) {
		return &entry{}
	}
	return en
}

// cache keeps what the database said of k, with what only this process
// knows (refusals reported, failures excused by its own store faults).
// e.mu is held.
func (e *Engine) cache(k key, en *entry) {
	if old := e.entries[k]; old != nil {
		en.refusedLog, en.excused = old.refusedLog, old.excused
	}
	e.entries[k] = en
}

// failureShared is Failure on a shared store: one write that locks the
// source's row, the account-wide one (unfamiliar sources) and the network's
// budget, and applies the rule to what they hold.
func (e *Engine) failureShared(ctx context.Context, account, source string, fp uint32, familiar, suspect bool, now time.Time) Result {
	k, ak := key{account, source}, key{account, AccountWide}
	sources := []string{source}
	netName := ""
	if !familiar {
		sources = append(sources, AccountWide)
		if isNetwork(source) {
			netName = source
		}
	}
	excused := 0
	e.mu.Lock()
	if en := e.entries[k]; en != nil {
		excused = en.excused
	}
	pending := e.netOKs[source] // successes here not yet saved
	e.mu.Unlock()

	var res Result
	var locks, netFails, netOKs int
	var en, agg *entry
	var net *network
	err := e.st.UpdateLockout(ctx, account, sources, netName, now, func(rows []store.LockoutRow, n *store.NetworkRow) error {
		en, agg, net = e.entryOf(rows[0], now), nil, nil
		en.excused = excused
		if len(rows) > 1 {
			agg = e.entryOf(rows[1], now)
		}
		res, locks = e.apply(source, en, agg, fp, familiar, suspect, now)
		rows[0] = en.row(k)
		if agg != nil {
			rows[1] = agg.row(ak)
		}
		if n != nil {
			net = &network{start: n.Start, fails: n.Fails, prevFail: n.PrevFails, oks: n.OKs, prevOK: n.PrevOKs}
			net.roll(now, e.pol.NetworkWindow)
			if res.Outcome == Counted {
				net.fails++
			}
			n.Start, n.Fails, n.PrevFails, n.OKs, n.PrevOKs = net.start, net.fails, net.prevFail, net.oks, net.prevOK
			net.oks += pending
			netFails, netOKs = net.counts(now, e.pol.NetworkWindow)
		}
		return nil
	})
	if err != nil {
		// Nothing was counted: the store is failing, so the next failures
		// are not counted either (Grace).
		e.log.Warn("lockout: counting a failure", "err", err)
		e.BackendFailed()
		e.metrics.failures.WithLabelValues(Backend).Inc()
		return Result{Outcome: Backend, Familiar: familiar}
	}
	e.mu.Lock()
	excused = en.excused
	e.cache(k, en)
	en.excused = excused
	if agg != nil {
		e.cache(ak, agg)
	}
	if net != nil {
		e.networks[netName] = net
	}
	e.mu.Unlock()
	e.metrics.failures.WithLabelValues(res.Outcome).Inc()
	e.metrics.locks.Add(float64(locks))
	if net != nil && res.Outcome == Counted && netFails == e.pol.NetworkThreshold && netFails > netOKs {
		e.metrics.networkThrottles.Inc()
		e.log.Warn("sign-in: password spray suspected; unfamiliar sign-ins from the network paused",
			"network", source, "failures", netFails, "successes", netOKs)
	}
	return res
}

// refreshEntries reads an (account, source)'s counters and the account's
// shared budget from the database into the cache, before Locked decides.
// When the read fails, the cache decides.
func (e *Engine) refreshEntries(ctx context.Context, account, source string) {
	rows, err := e.st.LockoutRowsFor(ctx, account, source, AccountWide)
	if err != nil {
		e.log.Warn("lockout: reading locks", "err", err)
		return
	}
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, src := range []string{source, AccountWide} {
		k := key{account, src}
		i := slices.IndexFunc(rows, func(r store.LockoutRow) bool { return r.Source == src })
		if i < 0 {
			delete(e.entries, k) // unlocked or forgotten, maybe by another server
			continue
		}
		e.cache(k, e.entryOf(rows[i], now))
	}
}

// refreshNetwork reads a network's budget from the database into the
// cache, before NetworkThrottled decides. When the read fails, the cache
// decides.
func (e *Engine) refreshNetwork(ctx context.Context, source string) {
	n, err := e.st.SignInNetwork(ctx, source)
	if err != nil {
		e.log.Warn("lockout: reading a network's budget", "err", err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	pending := e.netOKs[source] // successes here not yet saved
	if n == nil {
		if pending == 0 {
			delete(e.networks, source)
		}
		return
	}
	e.networks[source] = &network{start: n.Start, fails: n.Fails, prevFail: n.PrevFails, oks: n.OKs + pending, prevOK: n.PrevOKs}
}

// cleanShared deletes, at most once a minute, counters and networks no
// decision reads any more (any server may; it is idempotent).
func (e *Engine) cleanShared(ctx context.Context) {
	now := e.now()
	if now.Sub(e.cleaned) < time.Minute {
		return
	}
	e.cleaned = now
	if err := e.st.ForgetLockouts(ctx, now.Add(-e.pol.Forget), now, now.Add(-2*e.pol.NetworkWindow)); err != nil {
		e.log.Warn("lockout: forgetting old counters", "err", err)
	}
}
