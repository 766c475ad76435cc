// Package privilege is Wardmail's one privilege model: who may do what to
// whom. Every door asks it — the HTTP API and the console through web's
// admin routes, the command line through cmd/wardmail — so a reviewer who
// wants to know "who may reset this person's password" reads one table
// (Rules) and one function (Principal.MayActOn).
//
// There are three ranks: staff (everyone, list owners included), local
// administrators (of some organisations) and national administrators. The
// rule for acting on a person is the one DESIGN.md states: nobody may reset,
// disable, enable, unlock or change a person whose rights are equal to or
// above their own, except a national administrator; and a local
// administrator reaches only the people of the organisations they
// administer.
package privilege

import (
	"fmt"
	"slices"
	"strings"
)

// Rank orders the kinds of rights a person can hold.
type Rank int

const (
	// Staff: every person, including list owners (an owner's rights are over
	// their lists, not over people).
	Staff Rank = iota
	// Local: an administrator of one or more organisations.
	Local
	// National: an administrator of the whole service.
	National
)

func (r Rank) String() string {
	switch r {
	case Local:
		return "local administrator"
	case National:
		return "national administrator"
	}
	return "staff"
}

// Principal is a person with their rights: the one asking (the actor) or
// the one acted on (the subject). The server's own command line is an
// Operator: whoever can run it on the machine already holds the data
// folder, so it has national rights.
type Principal struct {
	PersonID int64
	Email    string
	// OrgID is the person's own organisation (0 for the operator).
	OrgID int64
	// National: holds a national administrator grant.
	National bool
	// Orgs are the organisations administered by a local grant.
	Orgs []int64
	// Operator: the command line on the server, not a person.
	Operator bool
}

// Operator is the principal of the command line, named for the audit trail
// ("cli:root").
func Operator(name string) Principal {
	return Principal{Email: name, National: true, Operator: true}
}

// Rank is the highest rank the principal's grants give.
func (p Principal) Rank() Rank {
	switch {
	case p.National || p.Operator:
		return National
	case len(p.Orgs) > 0:
		return Local
	}
	return Staff
}

// IsNational reports whether the principal has national rights.
func (p Principal) IsNational() bool { return p.Rank() == National }

// IsAdmin reports whether the principal administers anything.
func (p Principal) IsAdmin() bool { return p.Rank() > Staff }

// Administers reports whether the principal's grants cover an organisation.
func (p Principal) Administers(orgID int64) bool {
	return p.Rank() == National || slices.Contains(p.Orgs, orgID)
}

// AdministersAll reports whether the grants cover every organisation named.
func (p Principal) AdministersAll(orgIDs []int64) bool {
	for _, o := range orgIDs {
		if !p.Administers(o) {
			return false
		}
	}
	return true
}

// Same reports whether two principals are one person.
func (p Principal) Same(q Principal) bool {
	return p.PersonID != 0 && p.PersonID == q.PersonID
}

// Denied is a refusal. NotFound means the subject lies outside what the
// actor may see at all, so doors answer as if it did not exist (a local
// administrator learns nothing of other organisations).
type Denied struct {
	Action   Action
	NotFound bool
	Sentence string
}

func (d *Denied) Error() string { return d.Sentence }

// May decides an action that names no person: the actor's rank must reach
// the action's minimum. Actions on people also need MayActOn; actions on
// organisations MayReach.
func (p Principal) May(a Action) error {
	r, ok := Rules[a]
	if !ok {
		return &Denied{Action: a, Sentence: fmt.Sprintf("%q is not an action anyone may take.", string(a))}
	}
	if p.Rank() < r.Min {
		return &Denied{Action: a, Sentence: r.needs()}
	}
	return nil
}

// MayActOn decides an action on a person: the rank the action needs, the
// subject inside the actor's organisations, and (for changes) the subject
// outranked unless the actor is national.
func (p Principal) MayActOn(a Action, subject Principal) error {
	if err := p.May(a); err != nil {
		return err
	}
	r := Rules[a]
	if r.NotSelf && p.Same(subject) {
		return &Denied{Action: a, Sentence: r.Self}
	}
	if r.InScope && !p.Administers(subject.OrgID) {
		return &Denied{Action: a, NotFound: true,
			Sentence: fmt.Sprintf("There is nobody called %s in the organisations you administer.", subject.Email)}
	}
	if r.Outrank && p.Rank() != National && subject.Rank() >= p.Rank() {
		return &Denied{Action: a, Sentence: fmt.Sprintf(
			"%s is a %s: only a national administrator may %s them.", subject.Email, subject.Rank(), r.Verb)}
	}
	return nil
}

// MayReach decides an action over organisations (a list's scope, a new
// person's organisation): each must be administered by the actor.
func (p Principal) MayReach(a Action, orgIDs []int64, names func(int64) string) error {
	if err := p.May(a); err != nil {
		return err
	}
	for _, o := range orgIDs {
		if !p.Administers(o) {
			name := fmt.Sprint(o)
			if names != nil {
				name = names(o)
			}
			return &Denied{Action: a, Sentence: fmt.Sprintf("%s is outside the organisations you administer.", name)}
		}
	}
	return nil
}

// List is a distribution list as the privilege model sees it.
type List struct {
	Address string
	// Dynamic lists are bounded by their scope: NationalScope, or the
	// organisations in ScopeOrgs. Static lists belong to their owners'
	// organisations (OwnerOrgs).
	Dynamic       bool
	NationalScope bool
	ScopeOrgs     []int64
	OwnerOrgs     []int64
	// Owners are the addresses of the people who own the list.
	Owners []string
}

// MayManageList decides whether an administrator manages a list: national
// administrators every list; local ones a dynamic list whose whole scope is
// theirs, or a static list owned by someone in their organisations.
func (p Principal) MayManageList(l List) error {
	if err := p.May(ManageList); err != nil {
		return err
	}
	deny := &Denied{Action: ManageList, Sentence: l.Address + " is outside the organisations you administer."}
	switch {
	case p.IsNational():
		return nil
	case l.Dynamic:
		if l.NationalScope || len(l.ScopeOrgs) == 0 || !p.AdministersAll(l.ScopeOrgs) {
			return deny
		}
		return nil
	}
	for _, o := range l.OwnerOrgs {
		if p.Administers(o) {
			return nil
		}
	}
	return deny
}

// MayOwn decides an owner's action on a list (held posts, members): its
// owners, and the administrators who manage it.
func (p Principal) MayOwn(l List) error {
	for _, o := range l.Owners {
		if p.Email != "" && strings.EqualFold(o, p.Email) {
			return nil
		}
	}
	if p.MayManageList(l) == nil {
		return nil
	}
	return &Denied{Action: OwnList, Sentence: "Only the owners of " + l.Address + " (and its administrators) may do that."}
}
