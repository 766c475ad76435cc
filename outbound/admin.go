package outbound

import (
	"context"
	"errors"
	"fmt"

	"wardmail/privilege"
	"wardmail/store"
)

// Operators' view and actions on the queue. Every action is decided by the
// privilege model and written to the audit trail.

// List returns queued messages (queued and held, or one state), oldest
// first.
func (q *Queue) List(ctx context.Context, actor privilege.Principal, f store.QueueFilter) ([]*store.QueuedMessage, error) {
	if err := actor.May(privilege.ViewQueue); err != nil {
		return nil, err
	}
	return q.cfg.Store.QueueList(ctx, f)
}

// Show returns one queued message with every recipient.
func (q *Queue) Show(ctx context.Context, actor privilege.Principal, queueID string) (*store.QueuedMessage, error) {
	if err := actor.May(privilege.ViewQueue); err != nil {
		return nil, err
	}
	return q.cfg.Store.QueueMessage(ctx, queueID)
}

// Domains returns the state of each destination with mail waiting.
func (q *Queue) Domains(ctx context.Context, actor privilege.Principal) ([]store.QueueDomain, error) {
	if err := actor.May(privilege.ViewQueue); err != nil {
		return nil, err
	}
	return q.cfg.Store.QueueDomains(ctx)
}

// ErrInvalid is a request the queue cannot act on.
var ErrInvalid = errors.New("invalid request")

// Actions an operator takes on queued recipients.
const (
	ActRetry   = "retry"   // attempt now
	ActHold    = "hold"    // stop attempting until released
	ActRelease = "release" // attempt again
	ActDelete  = "delete"  // withdraw without a notice
)

// Change applies an action to one queued message (queueID) or to every
// message for a destination (domain), and records it in the audit trail.
func (q *Queue) Change(ctx context.Context, actor privilege.Principal, action, queueID, domain string) (int64, error) {
	if err := actor.May(privilege.ManageQueue); err != nil {
		return 0, err
	}
	if queueID == "" && domain == "" {
		return 0, fmt.Errorf("%w: name a queue id or a domain", ErrInvalid)
	}
	var from []string
	var to string
	switch action {
	case ActRetry:
		from, to = []string{store.QueueQueued, store.QueueHeld}, store.QueueQueued
	case ActHold:
		from, to = []string{store.QueueQueued}, store.QueueHeld
	case ActRelease:
		from, to = []string{store.QueueHeld}, store.QueueQueued
	case ActDelete:
		from, to = []string{store.QueueQueued, store.QueueHeld}, store.QueueDeleted
	default:
		return 0, fmt.Errorf("%w: unknown action %q (retry, hold, release, delete)", ErrInvalid, action)
	}
	n, err := q.cfg.Store.QueueChange(ctx, queueID, domain, from, to)
	if err != nil {
		return 0, err
	}
	target := "queue " + queueID
	if queueID == "" {
		target = "domain " + domain
	}
	if err := q.cfg.Store.Audit(ctx, actor.Email, "queue."+action, target, map[string]any{"recipients": n}); err != nil {
		return n, err
	}
	if to == store.QueueQueued {
		q.Wake()
	}
	return n, nil
}
