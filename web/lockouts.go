package web

import (
	"net/http"
	"time"

	"wardmail/admin"
	"wardmail/privilege"
)

// Smart lockout for administrators: the locks running now, unlocking one
// account, several, or everyone locked since a time, and incident mode,
// through the administration service (the same calls as `wardmail admin
// lockouts|unlock|incident`); the running server's lockout engine is told
// at once.

// handleLockouts: GET /api/v1/admin/lockouts.
func (a *API) handleLockouts(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	locks, incident, err := a.cfg.Admin.Lockouts(r.Context(), *actor)
	if err != nil {
		return err
	}
	if locks == nil {
		locks = []admin.Lock{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": incident, "locks": locks, "at": a.now().UTC()})
	return nil
}

// parseLockedSince reads all_locked_since: a duration back from now, or an
// RFC 3339 time.
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
// the people of their organisations they may act on.
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
	var since time.Time
	if req.AllLockedSince != "" {
		var err error
		if since, err = parseLockedSince(req.AllLockedSince, a.now()); err != nil {
			return err
		}
	}
	res, err := a.cfg.Admin.Unlock(r.Context(), *actor, req.Accounts, since)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// handleIncident: PUT /api/v1/admin/incident with {"on": bool}.
func (a *API) handleIncident(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req struct {
		On bool `json:"on"`
	}
	if err := readJSON(w, r, 1<<10, &req); err != nil {
		return err
	}
	if err := a.cfg.Admin.SetIncident(r.Context(), *actor, req.On); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"incident": req.On})
	return nil
}
