package listsvc

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"wardmail/directory"
	"wardmail/lists"
	"wardmail/privilege"
	"wardmail/store"
)

// Find returns the list with this address.
func (s *Service) Find(ctx context.Context, address string) (*store.List, error) {
	l, err := s.st.ListByAddress(ctx, address)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse(NotFound, "not-found", "", "There is no list %s.", address)
	}
	return l, err
}

// ByID returns the list with this id, with its details.
func (s *Service) ByID(ctx context.Context, id int64) (*store.List, error) {
	return s.st.ListByID(ctx, id)
}

// Managed returns the list with this address when actor manages it:
// national administrators manage every list; local ones the lists scoped to
// their organisations or owned by someone in them.
func (s *Service) Managed(ctx context.Context, actor *privilege.Principal, address string) (*store.List, error) {
	l, err := s.Find(ctx, address)
	if err != nil {
		return nil, err
	}
	ok, err := s.MayManage(ctx, actor, l)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(Forbidden, "not-your-list", "", "%s is outside the organisations you administer.", l.Address)
	}
	return l, nil
}

// MayManage reports whether actor manages l (privilege.MayManageList).
func (s *Service) MayManage(ctx context.Context, actor *privilege.Principal, l *store.List) (bool, error) {
	if actor.IsNational() {
		return true, nil
	}
	if l.Owners == nil { // a row from Store.Lists, without details
		full, err := s.st.ListByID(ctx, l.ID)
		if err != nil {
			return false, err
		}
		l = full
	}
	var orgs map[int64]string
	if l.Kind == store.ListDynamic {
		var err error
		if orgs, err = s.st.OrgNames(ctx); err != nil {
			return false, err
		}
	}
	return actor.MayManageList(store.PrivilegeList(l, orgs)) == nil, nil
}

// Owned returns the list with this address when actor owns it or
// administers it (privilege.MayOwn): what an owner may do on their own
// list, an administrator who manages it may do too.
func (s *Service) Owned(ctx context.Context, actor *privilege.Principal, address string) (*store.List, error) {
	l, err := s.Find(ctx, address)
	if err != nil {
		return nil, err
	}
	var orgs map[int64]string
	if l.Kind == store.ListDynamic && actor.IsAdmin() {
		if orgs, err = s.st.OrgNames(ctx); err != nil {
			return nil, err
		}
	}
	if err := actor.MayOwn(store.PrivilegeList(l, orgs)); err != nil {
		return nil, err
	}
	return l, nil
}

// OwnedBy lists the lists a person owns.
func (s *Service) OwnedBy(ctx context.Context, personID int64) ([]View, error) {
	all, err := s.st.Lists(ctx)
	if err != nil {
		return nil, err
	}
	out := []View{}
	for i := range all {
		owner, err := s.st.IsListOwner(ctx, all[i].ID, personID)
		if err != nil {
			return nil, err
		}
		if owner {
			l, err := s.st.ListByID(ctx, all[i].ID)
			if err != nil {
				return nil, err
			}
			out = append(out, s.View(l))
		}
	}
	return out, nil
}

// All lists every list, without details, by address.
func (s *Service) All(ctx context.Context) ([]store.List, error) { return s.st.Lists(ctx) }

// Members pages through a list's effective members by address.
func (s *Service) Members(ctx context.Context, listID int64, after string, limit int) ([]store.Person, error) {
	return s.st.ListMembers(ctx, listID, after, limit)
}

// Table is a page of the lists actor manages whose address or name
// contains q; alert keeps those that need administrators now. Total says
// how many match.
func (s *Service) Table(ctx context.Context, actor *privilege.Principal, q string, alert bool, offset, limit int) (page []View, total int, err error) {
	lq := store.ListQuery{Contains: q}
	page = []View{}
	if actor.IsNational() && !alert {
		// Every list counts: the database pages.
		if total, err = s.st.CountLists(ctx, lq); err != nil {
			return nil, 0, err
		}
		lq.Offset, lq.Limit = offset, limit
		found, err := s.st.ListsWithDetails(ctx, lq)
		if err != nil {
			return nil, 0, err
		}
		for _, l := range found {
			page = append(page, s.View(l))
		}
		return page, total, nil
	}
	// The scope or the alert decides which lists count: page after.
	all, err := s.st.ListsWithDetails(ctx, lq)
	if err != nil {
		return nil, 0, err
	}
	var orgs map[int64]string
	if !actor.IsNational() {
		if orgs, err = s.st.OrgNames(ctx); err != nil {
			return nil, 0, err
		}
	}
	for _, l := range all {
		// Owners and organisations came with the rows, so the scope is
		// decided without a query per list.
		if actor.MayManageList(store.PrivilegeList(l, orgs)) != nil {
			continue
		}
		v := s.View(l)
		if alert && !v.NeedsAttention() {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, v)
		}
		total++
	}
	return page, total, nil
}

// Detail is a list with its declared members (static lists) and the posts
// held for its moderators.
type Detail struct {
	View
	Members  []string     `json:"members"`  // people named (static lists)
	Sublists []string     `json:"sublists"` // lists nested (static lists)
	Held     []store.Held `json:"held"`
}

// Detail returns the list as it is now.
func (s *Service) Detail(ctx context.Context, id int64) (*Detail, error) {
	l, err := s.st.ListByID(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &Detail{View: s.View(l), Members: []string{}, Sublists: []string{}}
	if l.Kind == store.ListStatic {
		if d.Members, d.Sublists, err = s.st.DeclaredMembers(ctx, id); err != nil {
			return nil, err
		}
	}
	if d.Held, err = s.st.HeldPosts(ctx, id); err != nil {
		return nil, err
	}
	if d.Held == nil {
		d.Held = []store.Held{}
	}
	return d, nil
}

// ResolveMembers turns addresses into people and lists; blank ones are
// skipped and an unknown one is refused by name.
func (s *Service) ResolveMembers(ctx context.Context, addrs []string) (people, subs []int64, err error) {
	for _, a := range addrs {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if p, err := s.st.PersonByEmail(ctx, a); err == nil {
			people = append(people, p.ID)
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		l, err := s.st.ListByAddress(ctx, a)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, refuse(Invalid, "unknown-member", "members", "%s is neither a person nor a list.", a)
		} else if err != nil {
			return nil, nil, err
		}
		subs = append(subs, l.ID)
	}
	return people, subs, nil
}

// PeopleIDs resolves addresses to people; an unknown one is refused by name.
func (s *Service) PeopleIDs(ctx context.Context, field string, addrs []string) ([]int64, error) {
	ids, unknown, err := s.st.PersonIDs(ctx, addrs)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, refuse(Invalid, "unknown-person", field, "Nobody in the directory has the address %s.", strings.Join(unknown, ", "))
	}
	return ids, nil
}

// CheckScope refuses a scope actor may not use: national for a local
// administrator, or one reaching outside their organisations. A nil actor
// is the operator at the server's command line.
func (s *Service) CheckScope(ctx context.Context, actor *privilege.Principal, scope string) error {
	_, err := s.scopeOrgs(ctx, actor, scope, false)
	return err
}

// scopeOrgs checks the scope as CheckScope does and returns the ids of the
// organisations it names (nil for national). When known is set, a scope
// naming no organisation is refused.
func (s *Service) scopeOrgs(ctx context.Context, actor *privilege.Principal, scope string, known bool) ([]int64, error) {
	sc, err := lists.ParseScope(scope)
	if err != nil {
		return nil, refuse(Invalid, "bad-scope", "scope", "%s", err)
	}
	if sc.Kind == lists.ScopeNational {
		if actor != nil && !actor.IsNational() {
			if err := actor.May(privilege.NationalList); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	orgs, err := s.st.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	ids := []int64{}
	for _, o := range orgs {
		if !sc.Contains(o.Name) {
			continue
		}
		if actor != nil && !actor.IsNational() && !actor.Administers(o.ID) {
			return nil, refuse(Forbidden, "not-your-org", "", "%s is outside the organisations you administer.", o.Name)
		}
		ids = append(ids, o.ID)
	}
	if known && len(ids) == 0 {
		return nil, refuse(Invalid, "bad-scope", "scope", "No organisation is called %s.", strings.Join(sc.Orgs, " or "))
	}
	return ids, nil
}

// NewList is a list to create: Members (people or lists) for a static
// list, or Rule and Scope for a dynamic one.
type NewList struct {
	Address, Name, Policy string
	Owners, Members       []string
	Rule, Scope           string
}

// Create makes a list. actor is nil for the operator at the server's
// command line; createdBy is the person recorded as its creator (0: none),
// and actorName names whoever acts in the audit trail.
func (s *Service) Create(ctx context.Context, actor *privilege.Principal, actorName string, createdBy int64, req NewList) (*store.List, error) {
	name, err := directory.CheckText(directory.FieldListName, req.Name)
	var te *directory.TextError
	if errors.As(err, &te) {
		return nil, refuse(Invalid, "invalid", "name", "%s", te.Sentence())
	} else if err != nil {
		return nil, err
	}
	spec := store.ListSpec{Address: req.Address, Name: name, PostPolicy: req.Policy, CreatedBy: createdBy}
	if spec.Owners, err = s.PeopleIDs(ctx, "owners", req.Owners); err != nil {
		return nil, err
	}
	switch {
	case req.Rule != "" && len(req.Members) > 0:
		return nil, refuse(Invalid, "invalid", "members", "A list has members or a rule, not both (nest a static list in it instead).")
	case req.Rule != "":
		spec.Kind, spec.Rule, spec.Scope = store.ListDynamic, req.Rule, req.Scope
		if err := s.CheckScope(ctx, actor, req.Scope); err != nil {
			return nil, err
		}
	default:
		spec.Kind = store.ListStatic
		if spec.Members, spec.Sublists, err = s.ResolveMembers(ctx, req.Members); err != nil {
			return nil, err
		}
	}
	l, err := s.st.CreateList(ctx, actorName, spec)
	if err != nil {
		return nil, refusal(err)
	}
	return l, nil
}

// ChangeMembers adds (or, with remove, takes out) people and nested lists
// on a static list. A list goes inside only if the outer list's owners may
// post to it: the store checks (store/list_rights.go).
func (s *Service) ChangeMembers(ctx context.Context, actorName string, l *store.List, addrs []string, remove bool) error {
	if l.Kind != store.ListStatic {
		return refuse(Invalid, "dynamic", "", "%s is dynamic: its members follow its rule (%s within %s); change the rule instead.", l.Address, l.Rule, l.Scope)
	}
	people, subs, err := s.ResolveMembers(ctx, addrs)
	if err != nil {
		return err
	}
	if len(people)+len(subs) == 0 {
		return refuse(BadRequest, "bad-request", "members", "Name the people or lists to add or remove.")
	}
	if remove {
		err = s.st.RemoveListMembers(ctx, actorName, l.ID, people, subs)
	} else {
		err = s.st.AddListMembers(ctx, actorName, l.ID, people, subs)
	}
	if err != nil {
		return refusal(err)
	}
	return nil
}

// SetRule changes a dynamic list's rule and scope; the members follow at
// once (pending posts are materialised for leavers). actor is nil for the
// operator.
func (s *Service) SetRule(ctx context.Context, actor *privilege.Principal, actorName string, l *store.List, rule, scope string) error {
	if l.Kind != store.ListDynamic {
		return refuse(Invalid, "static", "", "%s is static: it has named members, not a rule.", l.Address)
	}
	if err := s.CheckScope(ctx, actor, scope); err != nil {
		return err
	}
	if err := s.st.SetListRule(ctx, actorName, l.ID, rule, scope); err != nil {
		return refusal(err)
	}
	return nil
}

// openPolicies may be chosen for a list of any size by any administrator
// who manages it: they keep who may post to named people or moderators.
var openPolicies = []string{lists.PolicySenders, lists.PolicyAnnounce, lists.PolicyModerated}

// SetPolicy records an administrator's choice of posting policy, which sets
// aside the named-senders default for large lists; senders, when not nil,
// replaces the named senders. Opening a list above that size to members or
// its organisation is for national administrators only (the 2016 setting:
// docs/storms.md). actor is nil for the operator; byID is the deciding
// administrator (-1: the operator).
func (s *Service) SetPolicy(ctx context.Context, actor *privilege.Principal, actorName string, byID int64, l *store.List, policy string, senders []string) error {
	if actor != nil && lists.ValidPolicy(policy) && !slices.Contains(openPolicies, policy) && l.Size > s.gov.SendersOnlyAbove &&
		actor.May(privilege.OpenLargeList) != nil {
		return refuse(Forbidden, "needs-national", "policy",
			"%s has %s members: lists over %s take posts from named senders only, and only a national administrator may let %s post to it.",
			l.Address, strconv.FormatInt(l.Size, 10), strconv.FormatInt(s.gov.SendersOnlyAbove, 10), policyWho(policy))
	}
	var named []int64
	if senders != nil {
		var err error
		if named, err = s.PeopleIDs(ctx, "senders", senders); err != nil {
			return err
		}
		if named == nil {
			named = []int64{}
		}
	}
	if err := s.st.SetPostPolicy(ctx, actorName, l.ID, policy, named, byID); err != nil {
		return refusal(err)
	}
	return nil
}

func policyWho(policy string) string {
	if policy == lists.PolicyOrg {
		return "everyone in its organisations"
	}
	return "all its members"
}

// Approve records admin's approval of the list at its live size. It returns
// the list as it is now and how many approvals its size needs.
func (s *Service) Approve(ctx context.Context, actorName string, l *store.List, adminID int64) (*store.List, int, error) {
	needed := s.NeedsApprovals(l.Size)
	l, err := s.st.ApproveList(ctx, actorName, l.ID, adminID, needed)
	return l, needed, err
}

// SetOwners replaces the list's owners. A local administrator names owners
// from their own organisations, so the list stays theirs to manage. actor
// is nil for the operator.
func (s *Service) SetOwners(ctx context.Context, actor *privilege.Principal, actorName string, l *store.List, owners []string) error {
	ids, err := s.PeopleIDs(ctx, "owners", owners)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return refuse(Invalid, "invalid", "owners", "A list needs at least one owner.")
	}
	if actor != nil && !actor.IsNational() {
		for _, o := range owners {
			if p, err := s.st.PersonByEmail(ctx, o); err == nil && !actor.Administers(p.OrgID) {
				return refuse(Forbidden, "not-your-org", "", "%s is outside the organisations you administer: name owners from your own.", p.Email)
			}
		}
	}
	if err := s.st.SetListOwners(ctx, actorName, l.ID, ids); err != nil {
		return refusal(err)
	}
	return nil
}

// Delete removes a list. Members keep what they were sent (pending posts
// are materialised first); held posts are withdrawn. A list nested in
// another is refused until taken out of it.
func (s *Service) Delete(ctx context.Context, actorName string, l *store.List) error {
	err := s.st.DeleteList(ctx, actorName, l.ID)
	if err != nil && strings.Contains(err.Error(), "nested") {
		return &Error{Kind: Conflict, Type: "nested", Sentence: err.Error(), Err: err}
	} else if err != nil {
		return refusal(err)
	}
	return nil
}
