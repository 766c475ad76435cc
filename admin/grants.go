package admin

import (
	"context"
	"errors"

	"wardmail/privilege"
	"wardmail/store"
)

// Administrator grants: who administers what. Only national administrators
// (and the operator) change them (privilege.GrantAdmin).

// Grant makes the person with this address an administrator: national, or
// local to org (their own organisation when org is empty).
func (s *Service) Grant(ctx context.Context, actor privilege.Principal, email, role, org string) (*store.Person, error) {
	if err := actor.May(privilege.GrantAdmin); err != nil {
		return nil, err
	}
	p, err := s.person(ctx, email)
	if err != nil {
		return nil, err
	}
	var orgID int64
	if role == store.RoleLocal {
		if org == "" {
			org = p.Org
		}
		o, err := s.st.OrgByName(ctx, org)
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid("org", "There is no organisation called %q.", org)
		} else if err != nil {
			return nil, err
		}
		orgID = o.ID
	}
	if err := s.st.GrantAdmin(ctx, actor.Email, p.ID, role, orgID); err != nil {
		return nil, err
	}
	return p, nil
}

// Revoke takes every administrator grant from the person with this address.
func (s *Service) Revoke(ctx context.Context, actor privilege.Principal, email string) (*store.Person, error) {
	if err := actor.May(privilege.GrantAdmin); err != nil {
		return nil, err
	}
	p, err := s.person(ctx, email)
	if err != nil {
		return nil, err
	}
	return p, s.st.RevokeAdmin(ctx, actor.Email, p.ID)
}

// Admins lists the administrators with their grants.
func (s *Service) Admins(ctx context.Context, actor privilege.Principal) ([]store.Admin, error) {
	if err := actor.May(privilege.ViewScope); err != nil {
		return nil, err
	}
	return s.st.Admins(ctx)
}

func (s *Service) person(ctx context.Context, email string) (*store.Person, error) {
	p, err := s.st.PersonByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: NotFound, Field: "email", Sentence: "There is nobody called " + email + "."}
	}
	return p, err
}
