package lockout

import "time"

// Policy is what the engine counts against.
type Policy struct {
	// Threshold is the failures from one unfamiliar source that lock it (10).
	Threshold int
	// FamiliarThreshold is the failures from one familiar source that lock
	// it (20).
	FamiliarThreshold int
	// AccountThreshold is the failures from all unfamiliar sources of an
	// account together that lock every unfamiliar source of it (30).
	// Familiar sources are never locked by it.
	AccountThreshold int
	// LockBase is the first lock (60 s); each further lock doubles it up to
	// LockMax (1 h).
	LockBase, LockMax time.Duration
	// FamiliarFor: a success this recent makes a source familiar (30 days).
	FamiliarFor time.Duration
	// Remember is how many wrong-password fingerprints are kept per
	// (account, source) (5; Entra keeps 3).
	Remember int
	// Forget drops a counter with no failure for this long and no lock
	// running (24 h): lock growth starts again at LockBase.
	Forget time.Duration
	// Grace: failures within this long after the store failed or was slow
	// are not counted (30 s).
	Grace time.Duration
	// Poll is how often the store is read for unlocks and incident mode and
	// written with counters (1 s).
	Poll time.Duration
	// MaxEntries bounds the counters held in memory (2,000,000, about
	// 400 MB): beyond it, the oldest counters that never locked are dropped
	// at the next poll, so a spray of made-up names cannot exhaust memory.
	MaxEntries int
	// NetworkThreshold caps a password spray: when one network's counted
	// failures against accounts it is unfamiliar to reach this many in
	// NetworkWindow (300 in 1 h), and outnumber its successful sign-ins in
	// that time, password sign-ins from it to accounts it is unfamiliar to
	// are refused (not counted, not verified) until its window has passed.
	// Familiar accounts and app passwords are never refused by it, so a
	// hospital's shared address keeps working for its own staff.
	NetworkThreshold int
	NetworkWindow    time.Duration
}

// DefaultPolicy returns the policy described in docs/configuration.md.
func DefaultPolicy() Policy {
	return Policy{Threshold: 10, FamiliarThreshold: 20, AccountThreshold: 30,
		LockBase: time.Minute, LockMax: time.Hour, FamiliarFor: 30 * 24 * time.Hour,
		Remember: 5, Forget: 24 * time.Hour, Grace: 30 * time.Second, Poll: time.Second, MaxEntries: 2_000_000,
		NetworkThreshold: 300, NetworkWindow: time.Hour}
}

func (p *Policy) fill() {
	d := DefaultPolicy()
	setI := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setI(&p.Threshold, d.Threshold)
	setI(&p.FamiliarThreshold, d.FamiliarThreshold)
	setI(&p.AccountThreshold, d.AccountThreshold)
	setI(&p.Remember, d.Remember)
	setI(&p.MaxEntries, d.MaxEntries)
	setD(&p.LockBase, d.LockBase)
	setD(&p.LockMax, d.LockMax)
	setD(&p.FamiliarFor, d.FamiliarFor)
	setD(&p.Forget, d.Forget)
	setD(&p.Grace, d.Grace)
	setD(&p.Poll, d.Poll)
	setI(&p.NetworkThreshold, d.NetworkThreshold)
	setD(&p.NetworkWindow, d.NetworkWindow)
	p.Remember = min(p.Remember, 16)
}

// lockFor is the length of the n-th lock (n >= 1).
func (p *Policy) lockFor(n int) time.Duration {
	d := p.LockBase
	for i := 1; i < n && d < p.LockMax; i++ {
		d *= 2
	}
	return min(d, p.LockMax)
}
