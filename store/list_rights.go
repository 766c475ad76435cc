package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"wardmail/lists"
)

// Posting rights travel with the message. A post to a list that contains
// other lists reaches their members, so each list inside is asked, as if
// the sender had posted to it directly (submit/lists.go). The same question
// is asked when a list is nested: every owner of the outer list must be
// allowed to post to the list put inside it and to every list inside that
// (docs/lists.md, "Lists inside lists").

// ErrNestingRefused is wrapped by the error of a nesting the outer list's
// owners may not post through.
var ErrNestingRefused = errors.New("a list may only contain lists its owners may post to")

// NestingError says which owner may not post to which inner list, and why.
type NestingError struct {
	Outer, Inner string // list addresses
	Owner        string // the owner refused
	Policy       string // the inner list's effective posting policy
	Reason       string // the inner list's refusal, as a sender would read it
}

func (e *NestingError) Error() string {
	return fmt.Sprintf("%s cannot be put inside %s: its posting policy is %q and %s, an owner of %s, may not post to it (%s); posts to %s would be refused there. Ask the owners of %s to name %s as a sender first",
		e.Inner, e.Outer, e.Policy, e.Owner, e.Outer, strings.TrimSuffix(e.Reason, "."), e.Outer, e.Inner, e.Owner)
}

func (e *NestingError) Unwrap() error { return ErrNestingRefused }

// ListFacts is what the posting decision needs to know of a list.
func ListFacts(l *List) lists.ListFacts {
	return lists.ListFacts{Address: l.Address, Size: l.Size, ApprovedSize: l.ApprovedSize,
		Policy: l.PostPolicy, PolicyByAdm: l.PolicySetBy != 0, Suspended: l.Suspended}
}

// SenderFacts is what the posting decision needs to know of a person
// posting to a list (l with its details: ListByID or ListByAddress).
func (s *Store) SenderFacts(ctx context.Context, l *List, who *Person) (lists.SenderFacts, error) {
	sf := lists.SenderFacts{Local: true}
	var err error
	if sf.Member, err = s.IsMember(ctx, l.ID, who.ID); err != nil {
		return sf, err
	}
	for i, o := range l.Owners {
		if strings.EqualFold(o, who.Email) {
			sf.Owner = true
		}
		if l.Kind != ListDynamic && i < len(l.OwnerOrgs) && l.OwnerOrgs[i] == who.OrgID {
			sf.SameOrg = true
		}
	}
	for _, o := range l.Senders {
		if strings.EqualFold(o, who.Email) {
			sf.Named = true
		}
	}
	if l.Kind == ListDynamic {
		sc, err := lists.ParseScope(l.Scope)
		if err != nil {
			return sf, err
		}
		sf.SameOrg = sc.Kind != lists.ScopeNational && sc.Contains(who.Org)
	}
	return sf, nil
}

// NestedList is a list inside another, reached through Via.
type NestedList struct {
	*List
	Via string // the address of the list it is directly inside
}

// NestedLists returns every list inside a list, at any depth, each once, the
// nearest first (with its details). Nesting is acyclic and at most
// MaxListDepth deep (list_nesting.go), and each list is visited once. A list
// with no list inside costs one index seek (the primary key's prefix
// list_id, person_id = 0), which every post to a list pays.
func (s *Store) NestedLists(ctx context.Context, listID int64) ([]NestedList, error) {
	var out []NestedList
	seen := map[int64]bool{listID: true}
	addr := map[int64]string{}
	queue := []int64{listID}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		var subs []int64
		if err := s.eachRow(ctx, `SELECT sublist_id FROM list_members WHERE list_id = ? AND person_id = 0 AND sublist_id > 0`, []any{parent},
			func(scan func(...any) error) error {
				var id int64
				err := scan(&id)
				subs = append(subs, id)
				return err
			}); err != nil {
			return nil, err
		}
		if len(subs) > 0 && addr[parent] == "" {
			l, err := s.ListByID(ctx, parent)
			if err != nil {
				return nil, err
			}
			addr[parent] = l.Address
		}
		for _, c := range subs {
			if seen[c] {
				continue
			}
			seen[c] = true
			l, err := s.ListByID(ctx, c)
			if err != nil {
				return nil, err
			}
			addr[c] = l.Address
			out = append(out, NestedList{List: l, Via: addr[parent]})
			queue = append(queue, c)
		}
	}
	return out, nil
}

// checkNesting refuses to put subs inside a list whose owners may not post
// to them or to any list inside them. Only a refusal counts: a moderated
// inner list holds the owners' posts for its moderators, and a list waiting
// for approvals or suspended takes posts again once administrators act.
func (s *Store) checkNesting(ctx context.Context, outer string, owners []int64, subs []int64) error {
	if len(subs) == 0 {
		return nil
	}
	var people []*Person
	for _, id := range owners {
		p, err := s.PersonByID(ctx, id)
		if err != nil {
			return err
		}
		people = append(people, p)
	}
	for _, sub := range subs {
		l, err := s.ListByID(ctx, sub)
		if err != nil {
			return err
		}
		inside, err := s.NestedLists(ctx, sub)
		if err != nil {
			return err
		}
		for _, inner := range append([]NestedList{{List: l}}, inside...) {
			facts := ListFacts(inner.List)
			for _, p := range people {
				sf, err := s.SenderFacts(ctx, inner.List, p)
				if err != nil {
					return err
				}
				if d := s.gov.Decide(facts, sf); d.Verdict == lists.Refuse {
					return &NestingError{Outer: outer, Inner: inner.Address, Owner: p.Email, Policy: d.Policy, Reason: d.Reason}
				}
			}
		}
	}
	return nil
}
