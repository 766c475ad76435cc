package web

import (
	"errors"
	"net/http"
	"strings"

	"wardmail/auth"
	"wardmail/directory"
	"wardmail/store"
)

// People administration for the console: search, add, disable and enable,
// reset a password. Local administrators reach the people of their
// organisations; national administrators everyone. The store calls are the
// CLI's (`wardmail user add|passwd|disable|enable`), and each action is in
// the audit trail with the administrator's address.

type personRow struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Org      string `json:"org"`
	Role     string `json:"role,omitempty"`
	Site     string `json:"site,omitempty"`
	Disabled bool   `json:"disabled"`
	// CanSignIn is false when no password is set.
	CanSignIn bool `json:"can_sign_in"`
}

func toPersonRow(p *store.Person) personRow {
	return personRow{Email: p.Email, Name: p.Name, Org: p.Org, Role: p.Role, Site: p.Site, Disabled: p.Disabled, CanSignIn: p.PasswordHash != ""}
}

// scopeOrgs is the organisation bound of a search: nil for national.
func scopeOrgs(scope *AdminScope) []int64 {
	if scope.National {
		return nil
	}
	return append([]int64{}, scope.Orgs...)
}

// handleAdminPeople: GET /api/v1/admin/people?q=&after=&limit=.
func (a *API) handleAdminPeople(w http.ResponseWriter, r *http.Request, who *Session, scope *AdminScope) error {
	limit, err := intParam(r, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	people, err := a.store.SearchPeople(r.Context(), store.PeopleQuery{Prefix: q.Get("q"), After: q.Get("after"), Orgs: scopeOrgs(scope), Limit: limit})
	if err != nil {
		return err
	}
	out := make([]personRow, 0, len(people))
	for i := range people {
		out = append(out, toPersonRow(&people[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"people": out})
	return nil
}

// personInScope finds the person named in the path and checks the
// administrator may manage them. Someone outside the scope is "not found",
// so the console does not tell a local administrator who exists elsewhere.
func (a *API) personInScope(r *http.Request, scope *AdminScope) (*store.Person, error) {
	email := r.PathValue("email")
	p, err := a.store.PersonByEmail(r.Context(), email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !scope.Allows(p.OrgID)) {
		return nil, problem(http.StatusNotFound, "not-found", "There is nobody called %s in the organisations you administer.", email)
	}
	return p, err
}

// hashNewPassword checks the password policy and hashes on the server's
// pool (a busy pool is a 503, never a weak fallback).
func (a *API) hashNewPassword(r *http.Request, pw string) (string, error) {
	if err := auth.CheckPasswordPolicy(pw); err != nil {
		p := problem(http.StatusUnprocessableEntity, "weak-password", "That password cannot be used: %s.", err)
		p.Field = "password"
		return "", p
	}
	l, err := a.login()
	if err != nil {
		return "", err
	}
	h, err := l.Hasher().Hash(r.Context(), pw)
	if errors.Is(err, auth.ErrBusy) {
		return "", errUnavailable()
	}
	return h, err
}

// handleAddPerson: POST /api/v1/admin/people with {email, name, org, role,
// site, password}. A local administrator adds people to their own
// organisations; a national one to any existing organisation.
func (a *API) handleAddPerson(w http.ResponseWriter, r *http.Request, who *Session, scope *AdminScope) error {
	var req struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Org      string `json:"org"`
		Role     string `json:"role"`
		Site     string `json:"site"`
		Password string `json:"password"`
	}
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		return err
	}
	field := func(name, sentence string) error {
		p := problem(http.StatusUnprocessableEntity, "invalid", "%s", sentence)
		p.Field = name
		return p
	}
	email, err := directory.ValidateAddress(strings.TrimSpace(req.Email))
	if err != nil {
		return field("email", "The address "+req.Email+" cannot be used: "+err.Error()+".")
	}
	req.Email = strings.ToLower(email)
	if req.Name = strings.TrimSpace(req.Name); req.Name == "" || len(req.Name) > 200 {
		return field("name", "Give the person's name (up to 200 characters).")
	}
	if err := checkPersonText(&req.Name, &req.Role, &req.Site); err != nil {
		return err
	}
	org, err := a.store.OrgByName(r.Context(), req.Org)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !scope.Allows(org.ID)) {
		return field("org", "Choose one of the organisations you administer.")
	} else if err != nil {
		return err
	}
	rec := store.PersonRecord{Email: req.Email, Name: req.Name, Org: org.Name, Role: strings.TrimSpace(req.Role), Site: strings.TrimSpace(req.Site)}
	if req.Password != "" {
		if rec.PasswordHash, err = a.hashNewPassword(r, req.Password); err != nil {
			return err
		}
	}
	p, err := a.store.AddPerson(r.Context(), who.Person.Email, rec)
	if errors.Is(err, store.ErrExists) {
		return field("email", "Someone already has the address "+req.Email+".")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPersonRow(p))
	return nil
}

// handleDisablePerson: POST /api/v1/admin/people/{email}/disable and
// .../enable. Disabling ends the person's web sessions at once and stops
// their app passwords; mail to them is refused while disabled.
func (a *API) handleDisablePerson(w http.ResponseWriter, r *http.Request, who *Session, scope *AdminScope) error {
	p, err := a.personInScope(r, scope)
	if err != nil {
		return err
	}
	disable := strings.HasSuffix(r.URL.Path, "/disable")
	if disable && p.ID == who.Person.ID {
		return problem(http.StatusConflict, "self", "You cannot disable your own account.")
	}
	if err := a.store.SetDisabled(r.Context(), p.ID, disable); err != nil {
		return err
	}
	action := "person.enable"
	if disable {
		action = "person.disable"
		if _, err := a.store.DeleteWebSessions(r.Context(), p.ID); err != nil {
			return err
		}
	}
	if err := a.store.Audit(r.Context(), who.Person.Email, action, p.Email, nil); err != nil {
		return err
	}
	p.Disabled = disable
	writeJSON(w, http.StatusOK, toPersonRow(p))
	return nil
}

// handleResetPassword: POST /api/v1/admin/people/{email}/password with
// {"password": "..."}. The person's web sessions end, so whoever knew the
// old password is signed out.
func (a *API) handleResetPassword(w http.ResponseWriter, r *http.Request, who *Session, scope *AdminScope) error {
	p, err := a.personInScope(r, scope)
	if err != nil {
		return err
	}
	var req struct {
		Password string `json:"password"`
	}
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	h, err := a.hashNewPassword(r, req.Password)
	if err != nil {
		return err
	}
	if err := a.store.SetPassword(r.Context(), p.ID, h); err != nil {
		return err
	}
	n, err := a.store.DeleteWebSessions(r.Context(), p.ID)
	if err != nil {
		return err
	}
	if err := a.store.Audit(r.Context(), who.Person.Email, "person.password", p.Email, map[string]int{"sessions_ended": n}); err != nil {
		return err
	}
	p.PasswordHash = h
	writeJSON(w, http.StatusOK, toPersonRow(p))
	return nil
}
