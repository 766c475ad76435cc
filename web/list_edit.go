package web

import (
	"net/http"

	"wardmail/privilege"
)

// Editing an existing list from the console: its detail, posting policy,
// members (static), rule and scope (dynamic), owners, approvals and
// deletion, through the lists service (package listsvc), which the CLI's
// `wardmail list ...` calls too; each change is audited with the
// administrator's address, and every handler checks first that the
// administrator manages the list (listFor).

// handleAdminList: GET /api/v1/admin/lists/{list}.
func (a *API) handleAdminList(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	return a.writeList(w, r, l.ID)
}

// writeList answers with the list's detail as it is now: the list, its
// declared members when static, and the posts held for its moderators.
func (a *API) writeList(w http.ResponseWriter, r *http.Request, id int64) error {
	d, err := a.lists.Detail(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// handleListPolicy: PUT /api/v1/admin/lists/{list}/policy with
// {"policy": "...", "senders": [...]}: listsvc.Service.SetPolicy.
func (a *API) handleListPolicy(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	var req struct {
		Policy  string   `json:"policy"`
		Senders []string `json:"senders"`
	}
	if err := readJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	if err := a.lists.SetPolicy(r.Context(), actor, who.Person.Email, who.Person.ID, l, req.Policy, req.Senders); err != nil {
		return err
	}
	return a.writeList(w, r, l.ID)
}

// handleListApprove: POST /api/v1/admin/lists/{list}/approve. National
// administrators approve large lists, each by name, at the live size.
func (a *API) handleListApprove(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	if _, _, err := a.lists.Approve(r.Context(), who.Person.Email, l, who.Person.ID); err != nil {
		return err
	}
	return a.writeList(w, r, l.ID)
}

// handleListMembers: POST (add) or DELETE (remove)
// /api/v1/admin/lists/{list}/members with {"members": [...]}.
func (a *API) handleListMembers(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	return a.changeMembers(w, r, who, l)
}

// handleListRule: PUT /api/v1/admin/lists/{list}/rule with {"rule": "...",
// "scope": "..."} on a dynamic list. Same scope rules as creation; the
// members follow at once.
func (a *API) handleListRule(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	var req struct {
		Rule  string `json:"rule"`
		Scope string `json:"scope"`
	}
	if err := readJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	if err := a.lists.SetRule(r.Context(), actor, who.Person.Email, l, req.Rule, req.Scope); err != nil {
		return err
	}
	return a.writeList(w, r, l.ID)
}

// handleListOwners: PUT /api/v1/admin/lists/{list}/owners with
// {"owners": [...]}, the whole set.
func (a *API) handleListOwners(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	var req struct {
		Owners []string `json:"owners"`
	}
	if err := readJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	if err := a.lists.SetOwners(r.Context(), actor, who.Person.Email, l, req.Owners); err != nil {
		return err
	}
	return a.writeList(w, r, l.ID)
}

// handleDeleteList: DELETE /api/v1/admin/lists/{list}.
func (a *API) handleDeleteList(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	if err := a.lists.Delete(r.Context(), who.Person.Email, l); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
