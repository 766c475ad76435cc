package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"wardmail/lockout"
	"wardmail/privilege"
	"wardmail/store"
)

// Locks is the lockout state an administrator sees and ends.
type Locks interface {
	Locks(ctx context.Context) ([]store.LockoutRow, error)
	Unlock(ctx context.Context, actor string, accounts []string, lockedSince time.Time) ([]store.LockoutRow, error)
	Incident(ctx context.Context) (bool, error)
	SetIncident(ctx context.Context, actor string, on bool) error
}

// EngineLocks is the running server's lockout engine: its locks are live,
// and an unlock takes effect at once.
type EngineLocks struct{ Engine *lockout.Engine }

func (e EngineLocks) Locks(context.Context) ([]store.LockoutRow, error) { return e.Engine.Locks(), nil }
func (e EngineLocks) Unlock(ctx context.Context, actor string, accounts []string, since time.Time) ([]store.LockoutRow, error) {
	return e.Engine.Unlock(ctx, actor, accounts, since)
}
func (e EngineLocks) Incident(context.Context) (bool, error) { return e.Engine.Incident(), nil }
func (e EngineLocks) SetIncident(ctx context.Context, actor string, on bool) error {
	return e.Engine.SetIncident(ctx, actor, on)
}

// StoreLocks is the lockout state as stored: what the command line changes
// beside a running server, which picks it up within a second.
type StoreLocks struct{ Store LockStorage }

func (s StoreLocks) Locks(ctx context.Context) ([]store.LockoutRow, error) {
	return s.Store.Lockouts(ctx)
}
func (s StoreLocks) Unlock(ctx context.Context, actor string, accounts []string, since time.Time) ([]store.LockoutRow, error) {
	return s.Store.Unlock(ctx, actor, accounts, since)
}
func (s StoreLocks) Incident(ctx context.Context) (bool, error) {
	v, err := s.Store.SignInControl(ctx, "incident")
	return v == "on", err
}
func (s StoreLocks) SetIncident(ctx context.Context, actor string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	return s.Store.SetSignInControl(ctx, actor, "incident", v)
}

// Lock is a running lock with the person it belongs to, when the account
// is someone's (a spray of made-up names locks accounts that do not exist).
type Lock struct {
	store.LockoutRow
	Name string `json:"name,omitempty"`
	Org  string `json:"org,omitempty"`
}

// Lockouts returns the locks running now that the actor may see, newest
// first, and whether incident mode is on. A local administrator sees the
// people of their organisations; a national one also accounts nobody has.
func (s *Service) Lockouts(ctx context.Context, actor privilege.Principal) ([]Lock, bool, error) {
	if err := actor.May(privilege.ViewLockouts); err != nil {
		return nil, false, err
	}
	locks, err := s.sortedLocks(ctx)
	if err != nil {
		return nil, false, err
	}
	out, err := s.visibleLocks(ctx, actor, locks)
	if err != nil {
		return nil, false, err
	}
	incident, err := s.cfg.Locks.Incident(ctx)
	return out, incident, err
}

// LocksOf returns the locks on one person the actor may see.
func (s *Service) LocksOf(ctx context.Context, actor privilege.Principal, email string) ([]Lock, error) {
	all, _, err := s.Lockouts(ctx, actor)
	if err != nil {
		return nil, err
	}
	out := []Lock{}
	for _, l := range all {
		if l.Account == email {
			out = append(out, l)
		}
	}
	return out, nil
}

func (s *Service) sortedLocks(ctx context.Context) ([]store.LockoutRow, error) {
	locks, err := s.cfg.Locks.Locks(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(locks, func(x, y store.LockoutRow) int {
		if c := y.LockedAt.Compare(x.LockedAt); c != 0 {
			return c
		}
		return strings.Compare(x.Account+x.Source, y.Account+y.Source)
	})
	return locks, nil
}

func (s *Service) visibleLocks(ctx context.Context, actor privilege.Principal, locks []store.LockoutRow) ([]Lock, error) {
	out := []Lock{}
	people := map[string]*store.Person{}
	for _, l := range locks {
		p, ok := people[l.Account]
		if !ok {
			var err error
			p, err = s.st.PersonByEmail(ctx, l.Account)
			if errors.Is(err, store.ErrNotFound) {
				p = nil
			} else if err != nil {
				return nil, err
			}
			people[l.Account] = p
		}
		switch {
		case p != nil && actor.Administers(p.OrgID):
			out = append(out, Lock{LockoutRow: l, Name: p.Name, Org: p.Org})
		case p == nil && actor.IsNational():
			out = append(out, Lock{LockoutRow: l})
		}
	}
	return out, nil
}

// UnlockResult is what an unlock ended.
type UnlockResult struct {
	Unlocked   []string `json:"unlocked"`
	LocksEnded int      `json:"locks_ended"`
}

// Unlock ends the locks of the named accounts and, when since is set, of
// every account locked since then. Each account is the privilege model's to
// decide: a named one the actor may not unlock is refused; a bulk unlock
// leaves out the accounts the actor may not act on (for a local
// administrator: everyone outside their organisations, and administrators).
func (s *Service) Unlock(ctx context.Context, actor privilege.Principal, named []string, since time.Time) (*UnlockResult, error) {
	if err := actor.May(privilege.UnlockPerson); err != nil {
		return nil, err
	}
	if len(named) > 10000 {
		return nil, invalid("accounts", "Unlock at most 10,000 named accounts at once; use all_locked_since for more.")
	}
	accounts := make([]string, 0, len(named))
	for _, acc := range named {
		acc = strings.ToLower(strings.TrimSpace(acc))
		if acc == "" {
			continue
		}
		if denied, err := s.mayUnlock(ctx, actor, acc); err != nil {
			return nil, err
		} else if denied != nil {
			return nil, denied
		}
		accounts = append(accounts, acc)
	}
	if len(accounts) == 0 && since.IsZero() {
		return nil, invalid("accounts", "Name the accounts to unlock, or give all_locked_since.")
	}
	before, err := s.sortedLocks(ctx)
	if err != nil {
		return nil, err
	}
	if !since.IsZero() {
		// Name the live locks' accounts: the engine holds a lock up to a
		// second before the store (which lockedSince is matched against)
		// has it.
		for _, l := range before {
			if l.LockedAt.Before(since) || slices.Contains(accounts, l.Account) {
				continue
			}
			if denied, err := s.mayUnlock(ctx, actor, l.Account); err != nil {
				return nil, err
			} else if denied == nil {
				accounts = append(accounts, l.Account)
			}
		}
		if !actor.IsNational() {
			// A local administrator's bulk unlock is only the accounts
			// named above, never "everyone since".
			since = time.Time{}
			if len(accounts) == 0 {
				return &UnlockResult{Unlocked: []string{}}, nil
			}
		}
	}
	ended, err := s.cfg.Locks.Unlock(ctx, actor.Email, accounts, since)
	if err != nil {
		return nil, err
	}
	unlocked := append([]string{}, accounts...)
	for _, l := range ended {
		if !slices.Contains(unlocked, l.Account) {
			unlocked = append(unlocked, l.Account)
		}
	}
	// The engine holds locks a second before the store does: count the
	// live ones this unlock ended.
	n := 0
	for _, l := range before {
		if slices.Contains(unlocked, l.Account) || (!since.IsZero() && !l.LockedAt.Before(since)) {
			n++
			if !slices.Contains(unlocked, l.Account) {
				unlocked = append(unlocked, l.Account)
			}
		}
	}
	slices.Sort(unlocked)
	return &UnlockResult{Unlocked: unlocked, LocksEnded: max(n, len(ended))}, nil
}

// mayUnlock is the privilege model's refusal to unlock an account, or nil.
// Locks on addresses outside the directory (guesses at people who do not
// exist) are national administrators' to end.
func (s *Service) mayUnlock(ctx context.Context, actor privilege.Principal, account string) (*privilege.Denied, error) {
	if actor.IsNational() {
		if _, err := s.st.PersonByEmail(ctx, account); errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
	}
	_, err := s.subject(ctx, actor, privilege.UnlockPerson, account)
	var d *privilege.Denied
	if errors.As(err, &d) {
		return d, nil
	}
	return nil, err
}

// SetIncident switches incident mode: while it is on, no sign-in failure
// counts towards a lock.
func (s *Service) SetIncident(ctx context.Context, actor privilege.Principal, on bool) error {
	if err := actor.May(privilege.SetIncident); err != nil {
		return err
	}
	return s.cfg.Locks.SetIncident(ctx, actor.Email, on)
}
