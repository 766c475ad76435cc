package admin

import (
	"context"
	"errors"
	"fmt"

	"wardmail/privilege"
	"wardmail/store"
)

// quarantineScope is whose recipients the actor sees and decides for: a
// national administrator everyone's, a local one those in their
// organisations (people, and lists owned there).
func quarantineScope(actor privilege.Principal) store.QuarantineScope {
	if actor.IsNational() {
		return store.QuarantineScope{All: true}
	}
	return store.QuarantineScope{Orgs: actor.Orgs}
}

// notQuarantined is the answer for a message that does not exist and for
// one with no recipient in the actor's organisations: the same, so that the
// quarantine does not tell a local administrator about other organisations'
// mail.
func notQuarantined(action privilege.Action, id int64) error {
	return &privilege.Denied{Action: action, NotFound: true,
		Sentence: fmt.Sprintf("No quarantined message %d has a recipient in the organisations you administer.", id)}
}

// Quarantine lists the messages the scanner kept from their recipients,
// with the recipients the actor may see; heldOnly leaves out those already
// released or deleted for all of them.
func (s *Service) Quarantine(ctx context.Context, actor privilege.Principal, heldOnly bool, limit int) ([]store.Quarantined, error) {
	if err := actor.May(privilege.ViewQuarantine); err != nil {
		return nil, err
	}
	return s.st.Quarantine(ctx, quarantineScope(actor), heldOnly, limit)
}

// QuarantinedMessage is one quarantined message, as Quarantine shows it.
func (s *Service) QuarantinedMessage(ctx context.Context, actor privilege.Principal, id int64) (*store.Quarantined, error) {
	if err := actor.May(privilege.ViewQuarantine); err != nil {
		return nil, err
	}
	q, err := s.st.QuarantinedMessage(ctx, id, quarantineScope(actor))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notQuarantined(privilege.ViewQuarantine, id)
	}
	return q, err
}

// ReleaseQuarantined delivers a quarantined message to its recipients in
// the actor's organisations that are still waiting: the people's INBOX, the
// lists' members. Malware is released only by a national administrator.
// The release is in the audit trail.
func (s *Service) ReleaseQuarantined(ctx context.Context, actor privilege.Principal, id int64) (*store.QuarantineDecision, error) {
	if err := actor.May(privilege.ReleaseQuarantine); err != nil {
		return nil, err
	}
	scope := quarantineScope(actor)
	q, err := s.st.QuarantinedMessage(ctx, id, scope)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notQuarantined(privilege.ReleaseQuarantine, id)
	} else if err != nil {
		return nil, err
	}
	if q.Kind == "malware" {
		if err := actor.May(privilege.ReleaseMalware); err != nil {
			return nil, &privilege.Denied{Action: privilege.ReleaseMalware,
				Sentence: "This message carries malware (" + q.Reason + "); only a national administrator may release it."}
		}
	}
	res, err := s.st.ReleaseQuarantined(ctx, actor.Email, id, scope)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: Conflict, Sentence: fmt.Sprintf("Quarantined message %d has already been released or deleted for every recipient you administer.", id)}
	}
	return res, err
}

// DeleteQuarantined drops a quarantined message for its recipients in the
// actor's organisations that are still waiting. The body stays as long as
// another recipient's copy or decision needs it. The deletion is in the
// audit trail.
func (s *Service) DeleteQuarantined(ctx context.Context, actor privilege.Principal, id int64) (*store.QuarantineDecision, error) {
	if err := actor.May(privilege.DeleteQuarantine); err != nil {
		return nil, err
	}
	scope := quarantineScope(actor)
	if _, err := s.st.QuarantinedMessage(ctx, id, scope); errors.Is(err, store.ErrNotFound) {
		return nil, notQuarantined(privilege.DeleteQuarantine, id)
	} else if err != nil {
		return nil, err
	}
	res, err := s.st.DeleteQuarantined(ctx, actor.Email, id, scope)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: Conflict, Sentence: fmt.Sprintf("Quarantined message %d has already been released or deleted for every recipient you administer.", id)}
	}
	return res, err
}
