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

// flush saves changed counters and new familiar sources in batched writes.
func (e *Engine) flush(ctx context.Context) error {
	type save struct {
		k   key
		row *store.LockoutRow
	}
	e.mu.Lock()
	saves := make([]save, 0, len(e.dirty))
	for k := range e.dirty {
		s := save{k: k}
		if en, ok := e.entries[k]; ok {
			r := en.row(k)
			s.row = &r
		}
		saves = append(saves, s)
	}
	clear(e.dirty)
	fam := e.famPending
	e.famPending = map[key]int64{}
	e.mu.Unlock()

	const chunk = 5000
	var err error
	for len(saves) > 0 || len(fam) > 0 {
		n := min(len(saves), chunk)
		part := saves[:n]
		saves = saves[n:]
		var famPart []key
		for k := range fam {
			if len(famPart)+len(part) >= chunk {
				break
			}
			famPart = append(famPart, k)
		}
		famAt := make([]int64, len(famPart))
		for i, k := range famPart {
			famAt[i] = fam[k]
			delete(fam, k)
		}
		err = e.st.Write(ctx, func(tx *store.Tx) error {
			for _, s := range part {
				var err error
				if s.row != nil {
					err = tx.SaveLockout(*s.row)
				} else {
					err = tx.DeleteLockout(s.k.account, s.k.source)
				}
				if err != nil {
					return err
				}
			}
			for i, k := range famPart {
				if err := tx.SetFamiliar(k.account, k.source, time.Unix(famAt[i], 0)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// Keep what failed for the next flush.
			e.mu.Lock()
			for _, s := range part {
				e.dirty[s.k] = struct{}{}
			}
			for i, k := range famPart {
				e.famPending[k] = famAt[i]
			}
			for k, at := range fam {
				e.famPending[k] = at
			}
			for _, s := range saves {
				e.dirty[s.k] = struct{}{}
			}
			e.mu.Unlock()
			e.metrics.flushErrors.Inc()
			return err
		}
	}
	return nil
}
