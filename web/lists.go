package web

import (
	"net/http"
	"strconv"
	"strings"

	"wardmail/listsvc"
	"wardmail/privilege"
	"wardmail/submit"
)

// Audience preview and list administration. Every action here is also a
// CLI command (wardmail list ..., wardmail admin purge|trace); both call the
// same services (listsvc, admin) and land in the same audit trail.

// audienceRequest is POST /api/v1/audience.
type audienceRequest struct {
	To  []string `json:"to"`
	Cc  []string `json:"cc"`
	Bcc []string `json:"bcc"`
}

// handleAudience: POST /api/v1/audience answers, before anything is sent,
// how many distinct people a message would reach, in which organisations,
// and the warnings or block that would apply.
func (a *API) handleAudience(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req audienceRequest
	if err := readJSON(w, r, 256<<10, &req); err != nil {
		return err
	}
	var addrs []string
	for _, list := range [][]string{req.To, req.Cc, req.Bcc} {
		for _, s := range list {
			if s = strings.TrimSpace(s); s != "" {
				addrs = append(addrs, s)
			}
		}
	}
	if len(addrs) == 0 {
		return problem(http.StatusBadRequest, "bad-request", "Name at least one recipient in to, cc or bcc.")
	}
	sender := &submit.Sender{Door: "web", Person: who.Person, RemoteAddr: r.RemoteAddr, TLS: r.TLS != nil || a.cfg.TLS}
	aud, err := a.pipeline.PreviewAudience(r.Context(), sender, addrs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, aud)
	return nil
}

// listFor finds the list named in the path and checks the administrator may
// manage it (listsvc.Service.Managed).
func (a *API) listFor(r *http.Request, actor *privilege.Principal) (*listsvc.List, error) {
	return a.lists.Managed(r.Context(), actor, r.PathValue("list"))
}

// createListRequest is POST /api/v1/admin/lists.
type createListRequest struct {
	Address string   `json:"address"`
	Name    string   `json:"name"`
	Owners  []string `json:"owners"`
	Members []string `json:"members"` // people or lists (static)
	Rule    string   `json:"rule"`    // dynamic
	Scope   string   `json:"scope"`   // dynamic
	Policy  string   `json:"policy"`
}

func (req createListRequest) newList() listsvc.NewList {
	return listsvc.NewList{Address: req.Address, Name: req.Name, Policy: req.Policy, Owners: req.Owners, Members: req.Members,
		Rule: req.Rule, Scope: req.Scope}
}

// handleCreateList: POST /api/v1/admin/lists.
func (a *API) handleCreateList(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req createListRequest
	if err := readJSON(w, r, 1<<20, &req); err != nil {
		return err
	}
	if req.Rule != "" {
		req.Members = nil // a rule wins, as it always has here
	}
	if len(req.Owners) == 0 {
		req.Owners = []string{who.Person.Email}
	}
	l, err := a.lists.Create(r.Context(), actor, who.Person.Email, who.Person.ID, req.newList())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.lists.View(l))
	return nil
}

// handleHeld: GET /api/v1/admin/held, the moderation queue of the lists the
// administrator manages.
func (a *API) handleHeld(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	held, err := a.lists.HeldManaged(r.Context(), actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"held": held})
	return nil
}

// handleModerate: POST /api/v1/admin/held/{id} with {"approve": bool,
// "reason": "..."}. The sender is told either way.
func (a *API) handleModerate(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	return a.moderate(w, r, who, func(h *listsvc.Held, l *listsvc.List) error {
		return a.lists.MayModerate(r.Context(), actor, l, true)
	})
}

// moderate decides the held post named in the path, once allowed says the
// person may, and tells its sender.
func (a *API) moderate(w http.ResponseWriter, r *http.Request, who *Session, allowed func(h *listsvc.Held, l *listsvc.List) error) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return problem(http.StatusBadRequest, "bad-request", "%q is not a held post's id.", r.PathValue("id"))
	}
	var req struct {
		Approve bool   `json:"approve"`
		Reason  string `json:"reason"`
	}
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		return err
	}
	h, l, err := a.lists.HeldPost(r.Context(), id)
	if err != nil {
		return err
	}
	if err := allowed(h, l); err != nil {
		return err
	}
	if h, err = a.lists.Decide(r.Context(), who.Person.Email, id, req.Approve, req.Reason, who.Person.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// handlePurge: POST /api/v1/admin/purge with {"message_id": "..."} or
// {"thread": "..."}, and "dry_run": true to count first; national
// administrators only, since a purge reaches every mailbox.
func (a *API) handlePurge(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req struct {
		MessageID string `json:"message_id"`
		Thread    string `json:"thread"`
		DryRun    bool   `json:"dry_run"` // count what it would remove, remove nothing
	}
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		return err
	}
	if (req.MessageID == "") == (req.Thread == "") {
		return problem(http.StatusBadRequest, "bad-request", "Give exactly one of message_id or thread.")
	}
	id, thread := req.MessageID, false
	if req.Thread != "" {
		id, thread = req.Thread, true
	}
	res, err := a.cfg.Admin.Purge(r.Context(), *actor, id, thread, req.DryRun)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// handleTrace: GET /api/v1/admin/trace?message_id=ID.
func (a *API) handleTrace(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	traces, err := a.cfg.Admin.Trace(r.Context(), *actor, r.URL.Query().Get("message_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": traces})
	return nil
}

// Owners manage their own lists: the moderation queue and, for static
// lists, the members. Administrators who manage the list may do the same.

// ownedList finds the list in the path and checks the signed-in person owns
// it or administers it.
func (a *API) ownedList(r *http.Request, who *Session) (*listsvc.List, error) {
	actor, err := a.principal(r.Context(), who.Person)
	if err != nil {
		return nil, err
	}
	return a.lists.Owned(r.Context(), actor, r.PathValue("list"))
}

// handleMyLists: GET /api/v1/lists, the lists the person owns.
func (a *API) handleMyLists(w http.ResponseWriter, r *http.Request, who *Session) error {
	out, err := a.lists.OwnedBy(r.Context(), who.Person.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"lists": out})
	return nil
}

// handleOwnerHeld: GET /api/v1/lists/{list}/held.
func (a *API) handleOwnerHeld(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.ownedList(r, who)
	if err != nil {
		return err
	}
	held, err := a.lists.Held(r.Context(), l.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"held": held})
	return nil
}

// handleOwnerModerate: POST /api/v1/lists/{list}/held/{id} with
// {"approve": bool, "reason": "..."}.
func (a *API) handleOwnerModerate(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.ownedList(r, who)
	if err != nil {
		return err
	}
	return a.moderate(w, r, who, func(h *listsvc.Held, _ *listsvc.List) error {
		if h.ListID != l.ID {
			return problem(http.StatusNotFound, "not-found", "There is no held post %d for %s.", h.ID, l.Address)
		}
		return nil
	})
}

// handleOwnerMembers: POST (add) or DELETE (remove)
// /api/v1/lists/{list}/members on a static list the person owns.
func (a *API) handleOwnerMembers(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.ownedList(r, who)
	if err != nil {
		return err
	}
	return a.changeMembers(w, r, who, l)
}

// changeMembers adds or removes the members named in the body.
func (a *API) changeMembers(w http.ResponseWriter, r *http.Request, who *Session, l *listsvc.List) error {
	var req struct {
		Members []string `json:"members"` // people, or lists to nest
	}
	if err := readJSON(w, r, 1<<20, &req); err != nil {
		return err
	}
	if err := a.lists.ChangeMembers(r.Context(), who.Person.Email, l, req.Members, r.Method == http.MethodDelete); err != nil {
		return err
	}
	return a.writeList(w, r, l.ID)
}
