package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"wardmail/privilege"

	"wardmail/lists"
	"wardmail/store"
)

// Editing an existing list from the console: its detail, posting policy,
// members (static), rule and scope (dynamic), owners, approvals and
// deletion. The store calls are the CLI's (`wardmail list ...`), each one
// audited with the administrator's address; every handler checks first that
// the administrator manages the list (listFor).

// listDetail is GET /api/v1/admin/lists/{list}: the list, its declared
// members when static, and the posts held for its moderators.
type listDetail struct {
	listView
	Members  []string     `json:"members"`  // people named (static lists)
	Sublists []string     `json:"sublists"` // lists nested (static lists)
	Held     []store.Held `json:"held"`
}

// handleAdminList: GET /api/v1/admin/lists/{list}.
func (a *API) handleAdminList(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	return a.writeList(w, r, l.ID)
}

// writeList answers with the list's detail as it is now.
func (a *API) writeList(w http.ResponseWriter, r *http.Request, id int64) error {
	ctx := r.Context()
	l, err := a.store.ListByID(ctx, id)
	if err != nil {
		return err
	}
	d := listDetail{listView: a.listView(l), Members: []string{}, Sublists: []string{}}
	if l.Kind == store.ListStatic {
		if d.Members, d.Sublists, err = a.store.DeclaredMembers(ctx, id); err != nil {
			return err
		}
	}
	if d.Held, err = a.store.HeldPosts(ctx, id); err != nil {
		return err
	}
	if d.Held == nil {
		d.Held = []store.Held{}
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// checkListScope refuses a scope the administrator may not use: national
// for a local administrator, or one reaching outside their organisations.
func (a *API) checkListScope(ctx context.Context, actor *privilege.Principal, s string) error {
	sc, err := lists.ParseScope(s)
	if err != nil {
		p := problem(http.StatusUnprocessableEntity, "bad-scope", "%s", err)
		p.Field = "scope"
		return p
	}
	if actor.IsNational() {
		return nil
	}
	if sc.Kind == lists.ScopeNational {
		if err := actor.May(privilege.NationalList); err != nil {
			return err
		}
	}
	orgs, err := a.store.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if sc.Contains(o.Name) && !actor.Administers(o.ID) {
			return problem(http.StatusForbidden, "not-your-org", "%s is outside the organisations you administer.", o.Name)
		}
	}
	return nil
}

// openPolicies may be chosen for a list of any size by any administrator
// who manages it: they keep who may post to named people or moderators.
var openPolicies = []string{lists.PolicySenders, lists.PolicyAnnounce, lists.PolicyModerated}

// handleListPolicy: PUT /api/v1/admin/lists/{list}/policy with
// {"policy": "...", "senders": [...]}. An administrator's choice: recorded,
// and it sets aside the named-senders default for large lists. Opening a
// list above that size to members or its organisation is for national
// administrators only (the 2016 setting: docs/storms.md).
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
	g := a.pipeline.Governance()
	if lists.ValidPolicy(req.Policy) && !slices.Contains(openPolicies, req.Policy) && l.Size > g.SendersOnlyAbove && actor.May(privilege.OpenLargeList) != nil {
		p := problem(http.StatusForbidden, "needs-national",
			"%s has %s members: lists over %s take posts from named senders only, and only a national administrator may let %s post to it.",
			l.Address, strconv.FormatInt(l.Size, 10), strconv.FormatInt(g.SendersOnlyAbove, 10), policyWho(req.Policy))
		p.Field = "policy"
		return p
	}
	var senders []int64
	if req.Senders != nil {
		if senders, err = a.peopleIDs(r, req.Senders); err != nil {
			return err
		}
		if senders == nil {
			senders = []int64{}
		}
	}
	if err := a.store.SetPostPolicy(r.Context(), who.Person.Email, l.ID, req.Policy, senders, who.Person.ID); err != nil {
		return listProblem(err)
	}
	return a.writeList(w, r, l.ID)
}

func policyWho(policy string) string {
	if policy == lists.PolicyOrg {
		return "everyone in its organisations"
	}
	return "all its members"
}

// peopleIDs resolves addresses to people; an unknown one is a 422 naming it.
func (a *API) peopleIDs(r *http.Request, addrs []string) ([]int64, error) {
	ids, unknown, err := a.store.PersonIDs(r.Context(), addrs)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, problem(http.StatusUnprocessableEntity, "unknown-person", "Nobody in the directory has the address %s.", strings.Join(unknown, ", "))
	}
	return ids, nil
}

// handleListApprove: POST /api/v1/admin/lists/{list}/approve. National
// administrators approve large lists, each by name, at the live size.
func (a *API) handleListApprove(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	if _, err := a.store.ApproveList(r.Context(), who.Person.Email, l.ID, who.Person.ID, a.listView(l).NeedsApprovals); err != nil {
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
	if l.Kind != store.ListStatic {
		return problem(http.StatusUnprocessableEntity, "dynamic", "%s is dynamic: its members follow its rule (%s within %s); change the rule instead.", l.Address, l.Rule, l.Scope)
	}
	var req struct {
		Members []string `json:"members"`
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
			p := problem(http.StatusUnprocessableEntity, "unknown-member", "%s is neither a person nor a list.", m)
			p.Field = "members"
			return p
		}
	}
	if len(people)+len(subs) == 0 {
		return problem(http.StatusBadRequest, "bad-request", "Name the people or lists to add or remove.")
	}
	if r.Method == http.MethodDelete {
		err = a.store.RemoveListMembers(r.Context(), who.Person.Email, l.ID, people, subs)
	} else {
		err = a.store.AddListMembers(r.Context(), who.Person.Email, l.ID, people, subs)
	}
	if err != nil {
		return listProblem(err)
	}
	return a.writeList(w, r, l.ID)
}

// handleListRule: PUT /api/v1/admin/lists/{list}/rule with {"rule": "...",
// "scope": "..."} on a dynamic list. Same scope rules as creation; the
// members follow at once (pending posts are materialised for leavers).
func (a *API) handleListRule(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	if l.Kind != store.ListDynamic {
		return problem(http.StatusUnprocessableEntity, "static", "%s is static: it has named members, not a rule.", l.Address)
	}
	var req struct {
		Rule  string `json:"rule"`
		Scope string `json:"scope"`
	}
	if err := readJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	if err := a.checkListScope(r.Context(), actor, req.Scope); err != nil {
		return err
	}
	if err := a.store.SetListRule(r.Context(), who.Person.Email, l.ID, req.Rule, req.Scope); err != nil {
		return listProblem(err)
	}
	return a.writeList(w, r, l.ID)
}

// handleListOwners: PUT /api/v1/admin/lists/{list}/owners with
// {"owners": [...]}, the whole set. A local administrator names owners from
// their own organisations, so the list stays theirs to manage.
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
	ids, err := a.peopleIDs(r, req.Owners)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		p := problem(http.StatusUnprocessableEntity, "invalid", "A list needs at least one owner.")
		p.Field = "owners"
		return p
	}
	if !actor.IsNational() {
		for _, o := range req.Owners {
			if p, err := a.store.PersonByEmail(r.Context(), o); err == nil && !actor.Administers(p.OrgID) {
				return problem(http.StatusForbidden, "not-your-org", "%s is outside the organisations you administer: name owners from your own.", p.Email)
			}
		}
	}
	if err := a.store.SetListOwners(r.Context(), who.Person.Email, l.ID, ids); err != nil {
		return listProblem(err)
	}
	return a.writeList(w, r, l.ID)
}

// handleDeleteList: DELETE /api/v1/admin/lists/{list}. Members keep what
// they were sent (pending posts are materialised first); held posts are
// withdrawn. A list nested in another is refused until taken out of it.
func (a *API) handleDeleteList(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	l, err := a.listFor(r, actor)
	if err != nil {
		return err
	}
	if err := a.store.DeleteList(r.Context(), who.Person.Email, l.ID); err != nil {
		if strings.Contains(err.Error(), "nested") {
			return problem(http.StatusConflict, "nested", "%s", err)
		}
		return listProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
