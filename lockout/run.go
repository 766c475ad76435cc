package lockout

import (
	"context"
	"slices"
	"time"

	"wardmail/store"
)

// run polls the store for changes made by other processes and saves the
// engine's state, every Poll.
func (e *Engine) run() {
	defer close(e.done)
	t := time.NewTicker(e.pol.Poll)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := e.pollControl(ctx); err != nil {
			e.log.Warn("lockout: reading incident mode", "err", err)
		}
		if err := e.pollUnlocks(ctx); err != nil {
			e.log.Warn("lockout: reading unlocks", "err", err)
		}
		e.forget()
		if e.shared {
			e.cleanShared(ctx)
		}
		if err := e.flush(ctx); err != nil {
			e.log.Warn("lockout: saving counters", "err", err)
		}
		cancel()
	}
}

// Refresh reads incident mode and unlocks from the store now, rather than
// at the next poll.
func (e *Engine) Refresh(ctx context.Context) error {
	if err := e.pollControl(ctx); err != nil {
		return err
	}
	return e.pollUnlocks(ctx)
}

func (e *Engine) pollControl(ctx context.Context) error {
	v, err := e.st.SignInControl(ctx, "incident")
	if err != nil {
		return err
	}
	on := v == "on"
	if e.incident.Swap(on) != on {
		e.log.Warn("lockout: incident mode changed", "on", on)
	}
	return nil
}

func (e *Engine) pollUnlocks(ctx context.Context) error {
	e.mu.Lock()
	after := e.lastUnlock
	e.mu.Unlock()
	evs, err := e.st.UnlocksAfter(ctx, after)
	if err != nil || len(evs) == 0 {
		return err
	}
	accounts := map[string]bool{}
	for _, ev := range evs {
		accounts[ev.Account] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.entries {
		if accounts[k.account] {
			delete(e.entries, k)
			// The store has deleted the rows already; a save queued before
			// the unlock must not bring them back.
			e.dirty[k] = struct{}{}
		}
	}
	if last := evs[len(evs)-1].ID; last > e.lastUnlock {
		e.lastUnlock = last
	}
	e.metrics.unlocks.Add(float64(len(accounts)))
	return nil
}

// forget drops counters idle for Forget with no lock running and, above
// MaxEntries, the oldest counters that never locked.
func (e *Engine) forget() {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if now.Sub(e.netsForgotten) >= time.Minute {
		e.forgetNetworks(now, false)
		e.netsForgotten = now
	}
	for k, en := range e.entries {
		if now.Sub(en.lastFailure) > e.pol.Forget && !en.lockedUntil.After(now) {
			delete(e.entries, k)
			e.dirty[k] = struct{}{}
		}
	}
	if len(e.entries) <= e.pol.MaxEntries {
		return
	}
	type aged struct {
		k    key
		last time.Time
	}
	var old []aged
	for k, en := range e.entries {
		if en.locks == 0 {
			old = append(old, aged{k, en.lastFailure})
		}
	}
	slices.SortFunc(old, func(a, b aged) int { return a.last.Compare(b.last) })
	drop := len(e.entries) - e.pol.MaxEntries*9/10
	for _, a := range old[:min(drop, len(old))] {
		delete(e.entries, a.k)
		e.dirty[a.k] = struct{}{}
	}
	e.metrics.evicted.Add(float64(min(drop, len(old))))
}

// flush saves changed counters (on a store of its own), forgiven sources
// and successful sign-ins per network (on a shared store), and new
// familiar sources, in batched writes. What fails is kept for the next.
func (e *Engine) flush(ctx context.Context) error {
	e.mu.Lock()
	dirty := e.dirty
	e.dirty = map[key]struct{}{}
	var saves, deletes []store.LockoutRow
	if !e.shared {
		for k := range dirty {
			if en, ok := e.entries[k]; ok {
				saves = append(saves, en.row(k))
			} else {
				deletes = append(deletes, store.LockoutRow{Account: k.account, Source: k.source})
			}
		}
	}
	fam, forgiven, netOKs := e.famPending, e.forgiven, e.netOKs
	e.famPending, e.forgiven, e.netOKs = map[key]int64{}, map[key]int64{}, map[string]int{}
	e.mu.Unlock()

	keep := func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !e.shared {
			for k := range dirty {
				e.dirty[k] = struct{}{}
			}
		}
		for k, at := range fam {
			if at > e.famPending[k] {
				e.famPending[k] = at
			}
		}
		for k, at := range forgiven {
			if at > e.forgiven[k] {
				e.forgiven[k] = at
			}
		}
		for n, oks := range netOKs {
			e.netOKs[n] += oks
		}
	}
	row := func(k key, at int64) store.LockoutRow {
		return store.LockoutRow{Account: k.account, Source: k.source, LastFailure: time.Unix(at, 0)}
	}
	const chunk = 5000
	b := store.LockoutBatch{Networks: netOKs, Now: e.now(), Window: e.pol.NetworkWindow}
	for k, at := range forgiven {
		b.Forgive = append(b.Forgive, row(k, at))
	}
	for k, at := range fam {
		b.Familiar = append(b.Familiar, row(k, at))
	}
	b.Save, b.Delete = saves, deletes
	// Large batches (a spray of made-up names) are written in parts.
	for {
		part := store.LockoutBatch{Networks: b.Networks, Now: b.Now, Window: b.Window}
		b.Networks = nil
		room := chunk
		take := func(from *[]store.LockoutRow) []store.LockoutRow {
			n := min(room, len(*from))
			room -= n
			out := (*from)[:n]
			*from = (*from)[n:]
			return out
		}
		part.Save, part.Delete, part.Forgive, part.Familiar = take(&b.Save), take(&b.Delete), take(&b.Forgive), take(&b.Familiar)
		if room == chunk && len(part.Networks) == 0 {
			return nil
		}
		if err := e.st.SaveLockoutBatch(ctx, part); err != nil {
			// Everything not yet written is kept: the parts written
			// again are the same rows, saved as they are then.
			keep()
			e.metrics.flushErrors.Inc()
			return err
		}
		netOKs = nil // written with the first part: never added twice

	}
}
