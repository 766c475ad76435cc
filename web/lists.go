package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"wardmail/privilege"

	"wardmail/directory"
	"wardmail/lists"
	"wardmail/store"
	"wardmail/submit"
)

// Audience preview and list administration. Every action here is
// also a CLI command (wardmail list ..., wardmail admin purge|trace); both go
// through the same store calls and land in the same audit trail.

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

// listView is a list as the API shows it.
type listView struct {
	*store.List
	EffectivePolicy string `json:"effective_policy"`
	NeedsApprovals  int    `json:"needs_approvals"`
	// Drifted: the live size is past DriftPercent of the approved size
	// (posting stops at the next post, and the console alerts until
	// administrators approve again).
	Drifted bool `json:"drifted"`
	// ApprovalsMissing is how many more national administrators must
	// approve the list at its live size before anyone may post (0: none).
	ApprovalsMissing int `json:"approvals_missing"`
}

func (a *API) listView(l *store.List) listView {
	g := a.pipeline.Governance()
	facts := lists.ListFacts{Address: l.Address, Size: l.Size, ApprovedSize: l.ApprovedSize, Policy: l.PostPolicy,
		PolicyByAdm: l.PolicySetBy != 0, Suspended: l.Suspended}
	need := 1
	if l.Size > g.ApprovalAbove {
		need = g.Approvals
	}
	v := listView{List: l, EffectivePolicy: g.EffectivePolicy(facts), NeedsApprovals: need,
		Drifted: l.ApprovedSize > 0 && l.Size*100 > l.ApprovedSize*g.DriftPercent}
	if v.Drifted || l.Suspended || (l.ApprovedSize == 0 && l.Size > g.ApprovalAbove) {
		// Approvals count at the size they recorded: an older size's are
		// replaced by the next approval.
		current := 0
		for _, ap := range l.Approvals {
			if ap.Size == l.Size {
				current++
			}
		}
		v.ApprovalsMissing = max(need-current, 1)
	}
	return v
}

// listFor finds the list named in the path and checks the administrator may
// manage it: national administrators manage every list; local ones the lists
// scoped to their organisations or owned by someone in them.
func (a *API) listFor(r *http.Request, actor *privilege.Principal) (*store.List, error) {
	l, err := a.store.ListByAddress(r.Context(), r.PathValue("list"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem(http.StatusNotFound, "not-found", "There is no list %s.", r.PathValue("list"))
	}
	if err != nil {
		return nil, err
	}
	ok, err := a.mayManage(r.Context(), actor, l)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, problem(http.StatusForbidden, "not-your-list", "%s is outside the organisations you administer.", l.Address)
	}
	return l, nil
}

func (a *API) mayManage(ctx context.Context, actor *privilege.Principal, l *store.List) (bool, error) {
	if actor.IsNational() {
		return true, nil
	}
	if l.Owners == nil { // a row from Store.Lists, without details
		full, err := a.store.ListByID(ctx, l.ID)
		if err != nil {
			return false, err
		}
		l = full
	}
	var orgs map[int64]string
	if l.Kind == store.ListDynamic {
		var err error
		if orgs, err = a.store.OrgNames(ctx); err != nil {
			return false, err
		}
	}
	return mayManageWith(actor, l, orgs), nil
}

// mayManageWith decides for a list with its owners' organisations (and, for
// dynamic lists, every organisation's name): no query, so the list table
// decides for thousands of lists at once.
func mayManageWith(actor *privilege.Principal, l *store.List, orgs map[int64]string) bool {
	return actor.MayManageList(store.PrivilegeList(l, orgs)) == nil
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

// handleCreateList: POST /api/v1/admin/lists.
func (a *API) handleCreateList(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req createListRequest
	if err := readJSON(w, r, 1<<20, &req); err != nil {
		return err
	}
	ctx := r.Context()
	if err := checkText("name", directory.FieldListName, &req.Name); err != nil {
		return err
	}
	spec := store.ListSpec{Address: req.Address, Name: req.Name, PostPolicy: req.Policy, CreatedBy: who.Person.ID}
	if len(req.Owners) == 0 {
		req.Owners = []string{who.Person.Email}
	}
	owners, err := a.peopleIDs(r, req.Owners)
	if err != nil {
		return err
	}
	spec.Owners = owners
	if req.Rule != "" {
		spec.Kind, spec.Rule, spec.Scope = store.ListDynamic, req.Rule, req.Scope
		if err := a.checkListScope(ctx, actor, req.Scope); err != nil {
			return err
		}
	} else {
		spec.Kind = store.ListStatic
		for _, m := range req.Members {
			if p, err := a.store.PersonByEmail(ctx, m); err == nil {
				spec.Members = append(spec.Members, p.ID)
			} else if l, err := a.store.ListByAddress(ctx, m); err == nil {
				spec.Sublists = append(spec.Sublists, l.ID)
			} else {
				return problem(http.StatusUnprocessableEntity, "unknown-member", "%s is neither a person nor a list.", m)
			}
		}
	}
	l, err := a.store.CreateList(ctx, who.Person.Email, spec)
	if err != nil {
		return listProblem(err)
	}
	writeJSON(w, http.StatusCreated, a.listView(l))
	return nil
}

// listProblem turns the store's refusals into 4xx answers; anything else
// stays a 500.
func listProblem(err error) error {
	var re *lists.RuleError
	switch {
	case errors.As(err, &re):
		return problem(http.StatusUnprocessableEntity, "bad-rule", "%s", err)
	case errors.Is(err, store.ErrExists):
		return problem(http.StatusConflict, "exists", "%s", err)
	case errors.Is(err, store.ErrListCycle), errors.Is(err, store.ErrListDepth):
		return problem(http.StatusUnprocessableEntity, "bad-nesting", "%s", err)
	case errors.Is(err, store.ErrNestingRefused):
		p := problem(http.StatusUnprocessableEntity, "nesting-refused", "%s.", err)
		p.Field = "members"
		return p
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "%s", err)
	case strings.Contains(err.Error(), "organisation"), strings.Contains(err.Error(), "scope"),
		strings.Contains(err.Error(), "policy"), strings.Contains(err.Error(), "address"), strings.Contains(err.Error(), "owner"),
		strings.Contains(err.Error(), "name"), strings.Contains(err.Error(), "nested"):
		return problem(http.StatusUnprocessableEntity, "invalid", "%s", err)
	}
	return err
}

// handleHeld: GET /api/v1/admin/held, the moderation queue of the lists the
// administrator manages.
func (a *API) handleHeld(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	held, err := a.store.HeldPosts(r.Context(), 0)
	if err != nil {
		return err
	}
	out := []store.Held{}
	for _, h := range held {
		l, err := a.store.ListByID(r.Context(), h.ListID)
		if err != nil {
			return err
		}
		if ok, err := a.mayManage(r.Context(), actor, l); err != nil {
			return err
		} else if ok {
			out = append(out, h)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"held": out})
	return nil
}

// handleModerate: POST /api/v1/admin/held/{id} with {"approve": bool,
// "reason": "..."}. The sender is told either way.
func (a *API) handleModerate(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	return a.moderate(w, r, who, func(h *store.Held, id int64) error {
		l, err := a.store.ListByID(r.Context(), h.ListID)
		if err != nil {
			return err
		}
		if ok, err := a.mayManage(r.Context(), actor, l); err != nil {
			return err
		} else if !ok {
			return problem(http.StatusForbidden, "not-your-list", "%s is outside the organisations you administer.", l.Address)
		}
		return nil
	})
}

// moderate decides the held post named in the path, once allowed says the
// person may, and tells its sender.
func (a *API) moderate(w http.ResponseWriter, r *http.Request, who *Session, allowed func(h *store.Held, id int64) error) error {
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
	h, err := a.store.HeldByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return problem(http.StatusNotFound, "not-found", "There is no held post %d.", id)
	} else if err != nil {
		return err
	}
	if err := allowed(h, id); err != nil {
		return err
	}
	if h, err = a.store.DecideHeld(r.Context(), who.Person.Email, id, req.Approve, req.Reason, who.Person.ID); err != nil {
		return problem(http.StatusConflict, "decided", "%s", err)
	}
	a.pipeline.NotifyHeld(r.Context(), h)
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
func (a *API) ownedList(r *http.Request, who *Session) (*store.List, error) {
	l, err := a.store.ListByAddress(r.Context(), r.PathValue("list"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem(http.StatusNotFound, "not-found", "There is no list %s.", r.PathValue("list"))
	} else if err != nil {
		return nil, err
	}
	actor, err := a.principal(r.Context(), who.Person)
	if err != nil {
		return nil, err
	}
	var orgs map[int64]string
	if l.Kind == store.ListDynamic && actor.IsAdmin() {
		if orgs, err = a.store.OrgNames(r.Context()); err != nil {
			return nil, err
		}
	}
	if err := actor.MayOwn(store.PrivilegeList(l, orgs)); err != nil {
		return nil, err
	}
	return l, nil
}

// handleMyLists: GET /api/v1/lists, the lists the person owns.
func (a *API) handleMyLists(w http.ResponseWriter, r *http.Request, who *Session) error {
	all, err := a.store.Lists(r.Context())
	if err != nil {
		return err
	}
	out := []listView{}
	for i := range all {
		owner, err := a.store.IsListOwner(r.Context(), all[i].ID, who.Person.ID)
		if err != nil {
			return err
		}
		if owner {
			l, err := a.store.ListByID(r.Context(), all[i].ID)
			if err != nil {
				return err
			}
			out = append(out, a.listView(l))
		}
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
	held, err := a.store.HeldPosts(r.Context(), l.ID)
	if err != nil {
		return err
	}
	if held == nil {
		held = []store.Held{}
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
	return a.moderate(w, r, who, func(h *store.Held, id int64) error {
		if h.ListID != l.ID {
			return problem(http.StatusNotFound, "not-found", "There is no held post %d for %s.", id, l.Address)
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
	if l.Kind != store.ListStatic {
		return problem(http.StatusUnprocessableEntity, "dynamic", "%s is dynamic: its members follow its rule (%s).", l.Address, l.Rule)
	}
	var req struct {
		Members []string `json:"members"` // people, or lists to nest
	}
	if err := readJSON(w, r, 1<<20, &req); err != nil {
		return err
	}
	var people, subs []int64
	for _, m := range req.Members {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if p, err := a.store.PersonByEmail(r.Context(), m); err == nil {
			people = append(people, p.ID)
		} else if sl, err := a.store.ListByAddress(r.Context(), m); err == nil {
			subs = append(subs, sl.ID)
		} else {
			p := problem(http.StatusUnprocessableEntity, "unknown-person", "Nobody in the directory has the address %s, and no list has it.", m)
			p.Field = "members"
			return p
		}
	}
	if r.Method == http.MethodDelete {
		err = a.store.RemoveListMembers(r.Context(), who.Person.Email, l.ID, people, subs)
	} else {
		// A list goes inside only if its owners (the outer list's) may
		// post to it: the store checks (store/list_rights.go).
		err = a.store.AddListMembers(r.Context(), who.Person.Email, l.ID, people, subs)
	}
	if err != nil {
		return listProblem(err)
	}
	return a.writeList(w, r, l.ID)
}
