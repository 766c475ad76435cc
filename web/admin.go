package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"wardmail/store"
)

// AdminScope is what an administrator may manage: everything (national) or
// some organisations (local).
type AdminScope struct {
	National bool
	Orgs     []int64
}

// Allows reports whether the scope covers an organisation.
func (s *AdminScope) Allows(orgID int64) bool {
	if s.National {
		return true
	}
	for _, o := range s.Orgs {
		if o == orgID {
			return true
		}
	}
	return false
}

// adminHandler is the shape of an administrator's handler.
type adminHandler func(w http.ResponseWriter, r *http.Request, who *Session, scope *AdminScope) error

// admin wraps a handler that only administrators may call. Others get 403
// with a sentence; the scope limits what the handler may touch.
func (a *API) admin(h adminHandler) http.Handler {
	return a.authed(func(w http.ResponseWriter, r *http.Request, who *Session) error {
		scope, err := a.adminScope(r.Context(), who)
		if err != nil {
			return err
		}
		if scope == nil {
			return problem(http.StatusForbidden, "not-admin", "This needs an administrator of your organisation. Ask your local administrator if you need it done.")
		}
		return h(w, r, who, scope)
	})
}

func (a *API) adminScope(ctx context.Context, who *Session) (*AdminScope, error) {
	grants, err := a.store.AdminGrants(ctx, who.Person.ID)
	if err != nil {
		return nil, err
	}
	if len(grants) == 0 {
		return nil, nil
	}
	s := &AdminScope{}
	for _, g := range grants {
		if g.Role == store.RoleNational {
			s.National = true
		} else {
			s.Orgs = append(s.Orgs, g.OrgID)
		}
	}
	return s, nil
}

// handleAdminScope: GET /api/v1/admin/scope.
func (a *API) handleAdminScope(w http.ResponseWriter, r *http.Request, who *Session, scope *AdminScope) error {
	orgs, err := a.store.Orgs(r.Context())
	if err != nil {
		return err
	}
	type org struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		People int64  `json:"people"`
	}
	out := []org{}
	for _, o := range orgs {
		if scope.Allows(o.ID) {
			out = append(out, org{ID: o.ID, Name: o.Name, People: o.People})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"national": scope.National, "orgs": out})
	return nil
}

// handleAdminAudit: GET /api/v1/admin/audit?limit=N&actor=A&action=P&target=T&since=S&until=U&before=ID.
// National administrators read every entry, local ones the entries about a
// person or list of their organisations (store/audit_orgs.go). since and until are RFC 3339 times or dates (2026-11-14:
// until a date includes that day); before pages back by id, and
// next_before is the value for the next page when there may be one.
func (a *API) handleAdminAudit(w http.ResponseWriter, r *http.Request, who *Session, scope *AdminScope) error {
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := store.AuditQuery{Limit: limit, ActionPrefix: strings.TrimSpace(v.Get("action")),
		Actor: strings.ToLower(strings.TrimSpace(v.Get("actor"))), Target: auditTarget(v.Get("target"))}
	if !scope.National {
		// A local administrator reads the entries that concern their
		// organisations: about one of their people or lists. Entries that
		// concern no single organisation (purges, storms, settings) and those
		// written before entries recorded their organisations stay national.
		q.Orgs = append([]int64{}, scope.Orgs...)
	}
	if b := v.Get("before"); b != "" {
		if q.Before, err = strconv.ParseInt(b, 10, 64); err != nil || q.Before <= 0 {
			return problem(http.StatusBadRequest, "bad-request", "before must be an entry's id, not %q.", b)
		}
	}
	if q.Since, err = auditTime(v.Get("since"), "since", false); err != nil {
		return err
	}
	if q.Until, err = auditTime(v.Get("until"), "until", true); err != nil {
		return err
	}
	entries, err := a.store.AuditLog(r.Context(), q)
	if err != nil {
		return err
	}
	type entry struct {
		ID     int64     `json:"id"`
		At     time.Time `json:"at"`
		Actor  string    `json:"actor"`
		Action string    `json:"action"`
		Target string    `json:"target"`
		Detail string    `json:"detail"`
	}
	out := []entry{}
	for _, e := range entries {
		out = append(out, entry{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail})
	}
	resp := map[string]any{"entries": out}
	if len(out) == limit {
		resp["next_before"] = out[len(out)-1].ID
	}
	w.Header().Set("X-Total-Shown", strconv.Itoa(len(out)))
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// auditTime reads a time filter: RFC 3339, or a date (UTC). A date as the
// end of a range means the end of that day.
func auditTime(s, field string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	p := problem(http.StatusBadRequest, "bad-request", "%s must be a date (2026-11-14) or an RFC 3339 time (2026-11-14T09:00:00Z), not %q.", field, s)
	p.Field = field
	return time.Time{}, p
}

// auditTarget: addresses and lists are stored in lower case; message
// targets ("message <id>") keep theirs.
func auditTarget(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "<") {
		return s
	}
	return strings.ToLower(s)
}
