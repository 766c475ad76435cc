package web

import (
	"net/http"

	"wardmail/admin"
	"wardmail/directory"
	"wardmail/privilege"
)

// People administration for the console: search, add, disable and enable,
// reset a password, through the administration service (package admin),
// which decides each with the privilege model and audits it; the CLI's
// `wardmail user add|passwd|disable|enable` make the same calls.

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

func toPersonRow(p *directory.Person) personRow {
	return personRow{Email: p.Email, Name: p.Name, Org: p.Org, Role: p.Role, Site: p.Site, Disabled: p.Disabled, CanSignIn: p.PasswordHash != ""}
}

// handleAdminPeople: GET /api/v1/admin/people?q=&after=&limit=.
func (a *API) handleAdminPeople(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	limit, err := intParam(r, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	people, err := a.cfg.Admin.SearchPeople(r.Context(), *actor, q.Get("q"), q.Get("after"), limit)
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

// handleAddPerson: POST /api/v1/admin/people with {email, name, org, role,
// site, password}. A local administrator adds people to their own
// organisations; a national one to any existing organisation.
func (a *API) handleAddPerson(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
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
	p, err := a.cfg.Admin.AddPerson(r.Context(), *actor, admin.NewPerson{Email: req.Email, Name: req.Name, Org: req.Org,
		Role: req.Role, Site: req.Site, Password: req.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPersonRow(p))
	return nil
}

// handleDisablePerson: POST /api/v1/admin/people/{email}/disable, and
// handleEnablePerson .../enable.
func (a *API) handleDisablePerson(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	return a.setDisabled(w, r, actor, true)
}

func (a *API) handleEnablePerson(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	return a.setDisabled(w, r, actor, false)
}

func (a *API) setDisabled(w http.ResponseWriter, r *http.Request, actor *privilege.Principal, disable bool) error {
	p, err := a.cfg.Admin.SetDisabled(r.Context(), *actor, r.PathValue("email"), disable)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPersonRow(p))
	return nil
}

// handleResetPassword: POST /api/v1/admin/people/{email}/password with
// {"password": "..."}.
func (a *API) handleResetPassword(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req struct {
		Password string `json:"password"`
	}
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	p, _, err := a.cfg.Admin.ResetPassword(r.Context(), *actor, r.PathValue("email"), req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPersonRow(p))
	return nil
}
