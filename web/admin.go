package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"wardmail/admin"
	"wardmail/directory"
	"wardmail/privilege"
)

// adminHandler is the shape of an administrator's handler: the actor is
// the signed-in person with their grants, for the privilege model to decide
// on each person, list or message the handler touches.
type adminHandler func(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error

// admin wraps a handler behind an action of the privilege model: a person
// whose rank does not reach the action gets 403 with a sentence before the
// handler runs. Decisions on a subject (a person, a list, a message) are
// the handler's, again through privilege.
func (a *API) admin(action privilege.Action, h adminHandler) http.Handler {
	return a.authed(func(w http.ResponseWriter, r *http.Request, who *Session) error {
		actor, err := a.principal(r.Context(), who.Person)
		if err != nil {
			return err
		}
		if err := actor.May(action); err != nil {
			return err
		}
		return h(w, r, who, actor)
	})
}

// principal is a person with their administrator grants.
func (a *API) principal(ctx context.Context, p *directory.Person) (*privilege.Principal, error) {
	return a.cfg.Admin.Actor(ctx, p)
}

// deniedProblem is a refusal of the privilege model as the API answers it.
func deniedProblem(d *privilege.Denied) *Problem {
	if d.NotFound {
		return problem(http.StatusNotFound, "not-found", "%s", d.Sentence)
	}
	p := problem(http.StatusForbidden, "forbidden", "%s", d.Sentence)
	p.Type += "#" + string(d.Action)
	return p
}

// handleAdminScope: GET /api/v1/admin/scope.
func (a *API) handleAdminScope(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	orgs, err := a.dir.AdministeredOrgs(r.Context(), actor)
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
		out = append(out, org{ID: o.ID, Name: o.Name, People: o.People})
	}
	writeJSON(w, http.StatusOK, map[string]any{"national": actor.IsNational(), "orgs": out})
	return nil
}

// handleAdminAudit: GET /api/v1/admin/audit?limit=N&actor=A&action=P&target=T&since=S&until=U&before=ID.
// Who reads which entries is admin.Service.Audit's to decide. since and until are RFC 3339 times or dates (2026-11-14:
// until a date includes that day); before pages back by id, and
// next_before is the value for the next page when there may be one.
func (a *API) handleAdminAudit(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := admin.AuditQuery{Limit: limit, ActionPrefix: strings.TrimSpace(v.Get("action")),
		Actor: strings.ToLower(strings.TrimSpace(v.Get("actor"))), Target: auditTarget(v.Get("target"))}
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
	entries, err := a.cfg.Admin.Audit(r.Context(), *actor, q)
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
