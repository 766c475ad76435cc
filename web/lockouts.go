package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"wardmail/privilege"

	"wardmail/store"
)

// Smart lockout for administrators: the locks running now, unlocking one
// account, several, or everyone locked since a time, and incident mode.
// The same calls as `wardmail admin lockouts|unlock|incident`; the running
// server's lockout engine is told at once.

type lockRow struct {
	store.LockoutRow
	// Name and Org are the person's, when the account is someone's (a spray
	// of made-up names locks accounts that do not exist).
	Name string `json:"name,omitempty"`
	Org  string `json:"org,omitempty"`
}

// locksNow returns the running locks, live from the engine when there is
// one (the store has them within a second).
func (a *API) locksNow(ctx context.Context) ([]store.LockoutRow, error) {
	if l, err := a.login(); err == nil && l.Lockout() != nil {
		locks := l.Lockout().Locks()
		slices.SortFunc(locks, func(x, y store.LockoutRow) int {
			if c := y.LockedAt.Compare(x.LockedAt); c != 0 {
				return c
			}
			return strings.Compare(x.Account+x.Source, y.Account+y.Source)
		})
		return locks, nil
	}
	return a.store.Lockouts(ctx)
}

// scopedLocks keeps the locks of people the administrator manages (a
// national administrator also sees accounts nobody has).
func (a *API) scopedLocks(ctx context.Context, actor *privilege.Principal, locks []store.LockoutRow) ([]lockRow, error) {
	out := []lockRow{}
	people := map[string]*store.Person{}
	for _, l := range locks {
		p, ok := people[l.Account]
		if !ok {
			var err error
			p, err = a.store.PersonByEmail(ctx, l.Account)
			if errors.Is(err, store.ErrNotFound) {
				p = nil
			} else if err != nil {
				return nil, err
			}
			people[l.Account] = p
		}
		switch {
		case p != nil && actor.Administers(p.OrgID):
			out = append(out, lockRow{LockoutRow: l, Name: p.Name, Org: p.Org})
		case p == nil && actor.IsNational():
			out = append(out, lockRow{LockoutRow: l})
		}
	}
	return out, nil
}

func (a *API) incident(ctx context.Context) (bool, error) {
	if l, err := a.login(); err == nil && l.Lockout() != nil {
		return l.Lockout().Incident(), nil
	}
	v, err := a.store.SignInControl(ctx, "incident")
	return v == "on", err
}

// handleLockouts: GET /api/v1/admin/lockouts.
func (a *API) handleLockouts(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	locks, err := a.locksNow(r.Context())
	if err != nil {
		return err
	}
	rows, err := a.scopedLocks(r.Context(), actor, locks)
	if err != nil {
		return err
	}
	incident, err := a.incident(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": incident, "locks": rows, "at": a.now().UTC()})
	return nil
}

// parseLockedSince takes a duration back from now ("6h") or an RFC 3339
// time, as `wardmail admin unlock --all-locked-since` does.
func parseLockedSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	p := problem(http.StatusBadRequest, "bad-request", "all_locked_since must be a duration back from now (6h) or an RFC 3339 time (2018-12-01T09:00:00Z), not %q.", s)
	p.Field = "all_locked_since"
	return time.Time{}, p
}

// handleUnlock: POST /api/v1/admin/unlock with {"accounts": [...]} and/or
// {"all_locked_since": "6h"}. A local administrator's bulk unlock covers
// the people of their organisations only.
func (a *API) handleUnlock(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req struct {
		Accounts       []string `json:"accounts"`
		AllLockedSince string   `json:"all_locked_since"`
	}
	if err := readJSON(w, r, 1<<20, &req); err != nil {
		return err
	}
	if len(req.Accounts) == 0 && req.AllLockedSince == "" {
		return problem(http.StatusBadRequest, "bad-request", "Name the accounts to unlock, or give all_locked_since.")
	}
	if len(req.Accounts) > 10000 {
		return problem(http.StatusBadRequest, "bad-request", "Unlock at most 10,000 named accounts at once; use all_locked_since for more.")
	}
	ctx := r.Context()
	accounts := make([]string, 0, len(req.Accounts))
	for _, acc := range req.Accounts {
		acc = strings.ToLower(strings.TrimSpace(acc))
		if acc == "" {
			continue
		}
		denied, err := a.mayUnlock(ctx, actor, acc)
		if err != nil {
			return err
		}
		if denied != nil {
			return denied
		}
		accounts = append(accounts, acc)
	}
	var since time.Time
	if req.AllLockedSince != "" {
		var err error
		if since, err = parseLockedSince(req.AllLockedSince, a.now()); err != nil {
			return err
		}
		// Name the live locks' accounts: the engine holds a lock up to a
		// second before the store (which lockedSince is matched against)
		// has it. A local administrator's bulk unlock is only these.
		{
			locks, err := a.locksNow(ctx)
			if err != nil {
				return err
			}
			rows, err := a.scopedLocks(ctx, actor, locks)
			if err != nil {
				return err
			}
			for _, l := range rows {
				if l.LockedAt.Before(since) || slices.Contains(accounts, l.Account) {
					continue
				}
				// A local administrator's bulk unlock leaves out the
				// administrators they may not act on.
				if denied, err := a.mayUnlock(ctx, actor, l.Account); err != nil {
					return err
				} else if denied == nil {
					accounts = append(accounts, l.Account)
				}
			}
		}
		if !actor.IsNational() {
			since = time.Time{}
			if len(accounts) == 0 {
				writeJSON(w, http.StatusOK, map[string]any{"unlocked": []string{}, "locks_ended": 0})
				return nil
			}
		}
	}
	// The engine holds locks a second before the store does: count the
	// live ones this unlock ends.
	before, err := a.locksNow(ctx)
	if err != nil {
		return err
	}
	var ended []store.LockoutRow
	if l, lerr := a.login(); lerr == nil && l.Lockout() != nil {
		ended, err = l.Lockout().Unlock(ctx, who.Person.Email, accounts, since)
	} else {
		ended, err = a.store.Unlock(ctx, who.Person.Email, accounts, since)
	}
	if err != nil {
		return err
	}
	unlocked := append([]string{}, accounts...)
	for _, l := range ended {
		if !slices.Contains(unlocked, l.Account) {
			unlocked = append(unlocked, l.Account)
		}
	}
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
	writeJSON(w, http.StatusOK, map[string]any{"unlocked": unlocked, "locks_ended": max(n, len(ended))})
	return nil
}

// handleIncident: PUT /api/v1/admin/incident with {"on": true}. National
// administrators only: it stops lockout counting for everyone.
func (a *API) handleIncident(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req struct {
		On bool `json:"on"`
	}
	if err := readJSON(w, r, 1<<10, &req); err != nil {
		return err
	}
	var err error
	if l, lerr := a.login(); lerr == nil && l.Lockout() != nil {
		err = l.Lockout().SetIncident(r.Context(), who.Person.Email, req.On)
	} else {
		v := "off"
		if req.On {
			v = "on"
		}
		err = a.store.SetSignInControl(r.Context(), who.Person.Email, "incident", v)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"incident": req.On})
	return nil
}

// mayUnlock asks the privilege model whether the actor may unlock an
// account: a refusal (*privilege.Denied) or nil, and an error when the
// question could not be answered. Locks on addresses outside the directory
// (guesses at people who do not exist) are national administrators' to end.
func (a *API) mayUnlock(ctx context.Context, actor *privilege.Principal, account string) (*privilege.Denied, error) {
	p, err := a.store.PersonByEmail(ctx, account)
	if errors.Is(err, store.ErrNotFound) {
		if actor.IsNational() {
			return nil, nil
		}
		return &privilege.Denied{Action: privilege.UnlockPerson, NotFound: true,
			Sentence: "There is nobody called " + account + " in the organisations you administer."}, nil
	} else if err != nil {
		return nil, err
	}
	subject, err := a.principal(ctx, p)
	if err != nil {
		return nil, err
	}
	var d *privilege.Denied
	if err := actor.MayActOn(privilege.UnlockPerson, *subject); errors.As(err, &d) {
		return d, nil
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}
