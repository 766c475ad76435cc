package admin

import (
	"context"
	"errors"
	"strings"
	"time"

	"wardmail/auth"
	"wardmail/directory"
	"wardmail/privilege"
	"wardmail/store"
)

// Person returns a person the actor may see (privilege.ViewPerson).
func (s *Service) Person(ctx context.Context, actor privilege.Principal, email string) (*store.Person, error) {
	return s.subject(ctx, actor, privilege.ViewPerson, email)
}

// NewPerson is a person an administrator adds.
type NewPerson struct {
	Email, Name, Org, Role, Site string
	// Password is optional: without one the person cannot sign in until an
	// administrator sets it.
	Password string
}

// AddPerson adds a person to an organisation the actor administers.
func (s *Service) AddPerson(ctx context.Context, actor privilege.Principal, n NewPerson) (*store.Person, error) {
	if err := actor.May(privilege.AddPerson); err != nil {
		return nil, err
	}
	email, err := directory.ValidateAddress(strings.TrimSpace(n.Email))
	if err != nil {
		return nil, invalid("email", "The address %s cannot be used: %s.", n.Email, err)
	}
	email = strings.ToLower(email)
	for _, f := range []struct {
		json  string
		field directory.Field
		value *string
	}{{"name", directory.FieldName, &n.Name}, {"role", directory.FieldRole, &n.Role}, {"site", directory.FieldSite, &n.Site}} {
		// The directory's rule for text shown to people (the CSV import's
		// and the CLI's): no control or direction characters.
		v, err := directory.CheckText(f.field, *f.value)
		var te *directory.TextError
		if errors.As(err, &te) {
			return nil, invalid(f.json, "%s", te.Sentence())
		} else if err != nil {
			return nil, err
		}
		*f.value = v
	}
	org, err := s.st.OrgByName(ctx, n.Org)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !actor.Administers(org.ID)) {
		return nil, invalid("org", "Choose one of the organisations you administer.")
	} else if err != nil {
		return nil, err
	}
	rec := store.PersonRecord{Email: email, Name: n.Name, Org: org.Name, Role: n.Role, Site: n.Site}
	if n.Password != "" {
		if rec.PasswordHash, err = s.hashNew(ctx, n.Password); err != nil {
			return nil, err
		}
	}
	p, err := s.st.AddPerson(ctx, actor.Email, rec)
	if errors.Is(err, store.ErrExists) {
		return nil, invalid("email", "Someone already has the address %s.", email)
	}
	return p, err
}

// SetDisabled disables or enables a person. Disabling ends their web
// sessions at once and stops their app passwords; mail to them is refused
// while disabled.
func (s *Service) SetDisabled(ctx context.Context, actor privilege.Principal, email string, disable bool) (*store.Person, error) {
	action := privilege.EnablePerson
	if disable {
		action = privilege.DisablePerson
	}
	p, err := s.subject(ctx, actor, action, email)
	if err != nil {
		return nil, err
	}
	if err := s.st.SetDisabled(ctx, p.ID, disable); err != nil {
		return nil, err
	}
	if disable {
		if _, err := s.st.DeleteWebSessions(ctx, p.ID); err != nil {
			return nil, err
		}
	}
	if err := s.st.Audit(ctx, actor.Email, string(action), p.Email, nil); err != nil {
		return nil, err
	}
	p.Disabled = disable
	return p, nil
}

// ResetPassword gives a person a new password and ends their web sessions,
// so whoever knew the old one is signed out. It returns how many sessions
// ended.
func (s *Service) ResetPassword(ctx context.Context, actor privilege.Principal, email, password string) (*store.Person, int, error) {
	p, err := s.subject(ctx, actor, privilege.ResetPassword, email)
	if err != nil {
		return nil, 0, err
	}
	h, err := s.hashNew(ctx, password)
	if err != nil {
		return nil, 0, err
	}
	if err := s.st.SetPassword(ctx, p.ID, h); err != nil {
		return nil, 0, err
	}
	n, err := s.st.DeleteWebSessions(ctx, p.ID)
	if err != nil {
		return nil, 0, err
	}
	if err := s.st.Audit(ctx, actor.Email, string(privilege.ResetPassword), p.Email, map[string]int{"sessions_ended": n}); err != nil {
		return nil, 0, err
	}
	p.PasswordHash = h
	return p, n, nil
}

// hashNew checks the password policy and hashes on the server's pool (a
// busy pool is a temporary refusal, never a weak fallback).
func (s *Service) hashNew(ctx context.Context, pw string) (string, error) {
	if s.cfg.CheckPassword != nil {
		if err := s.cfg.CheckPassword(pw); err != nil {
			return "", invalid("password", "That password cannot be used: %s.", err)
		}
	}
	h, err := s.cfg.Hasher.Hash(ctx, pw)
	if errors.Is(err, auth.ErrBusy) {
		return "", &Error{Kind: Busy, Sentence: "The server is busy checking passwords. Please try again in a minute."}
	}
	return h, err
}

// SearchPeople finds people by address or name prefix, within the actor's
// organisations.
func (s *Service) SearchPeople(ctx context.Context, actor privilege.Principal, prefix, after string, limit int) ([]store.Person, error) {
	if err := actor.May(privilege.SearchPeople); err != nil {
		return nil, err
	}
	q := store.PeopleQuery{Prefix: prefix, After: after, Limit: limit}
	if !actor.IsNational() {
		q.Orgs = append([]int64{}, actor.Orgs...)
	}
	return s.st.SearchPeople(ctx, q)
}

// Detail is what an administrator sees of one person: who they are, the
// lists they are on or own, their sign-in locks with where they came from,
// and their last sign-in.
type Detail struct {
	Person        *store.Person
	Lists         []store.PersonList
	Locks         []Lock
	LastSignIn    time.Time // zero: never
	LastSignInNet string
}

// PersonDetail returns a person the actor may see, with their lists,
// locks and last sign-in.
func (s *Service) PersonDetail(ctx context.Context, actor privilege.Principal, email string) (*Detail, error) {
	p, err := s.subject(ctx, actor, privilege.ViewPerson, email)
	if err != nil {
		return nil, err
	}
	d := &Detail{Person: p}
	if d.Lists, err = s.st.ListsOfPerson(ctx, p.ID); err != nil {
		return nil, err
	}
	if d.Locks, err = s.LocksOf(ctx, actor, p.Email); err != nil {
		return nil, err
	}
	if d.LastSignIn, d.LastSignInNet, err = s.st.LastSignIn(ctx, p.Email); err != nil {
		return nil, err
	}
	return d, nil
}
