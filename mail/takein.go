package mail

import (
	"context"
)

// Taking in list posts ahead of the read that needs them (DESIGN section 3).
//
// A member's INBOX takes in its waiting list posts when it is read; after a
// flood on a large list that is a write of hundreds of rows, durable before
// any of their UIDs is shown. A client that signs in almost always opens the
// INBOX next, so a door starts the take-in as soon as the person is known
// (IMAP LOGIN) and the SELECT that follows waits for what is left of it
// instead of starting it: the write overlaps the sign-in's answer and the
// client's next command rather than following them.

// TakeIn is a take-in of a person's waiting list posts started ahead of the
// read that needs it (TakeInAhead).
type TakeIn struct {
	done chan struct{}
	err  error
}

// TakeInAhead starts taking the person's waiting list posts into their INBOX
// and returns at once. It stops early, having written nothing, if ctx ends
// before its write is queued (the session closed); once queued, the write
// completes and is durable like any other.
func (s *Service) TakeInAhead(ctx context.Context, personID int64) *TakeIn {
	t := &TakeIn{done: make(chan struct{})}
	go func() {
		defer close(t.done)
		t.err = s.Materialise(ctx, personID)
		if t.err != nil && ctx.Err() == nil {
			s.log.Warn("taking in list posts ahead", "person", personID, "err", t.err)
		}
	}()
	return t
}

// TakeInAfter is Materialise for a read that follows a take-in started
// ahead (t, nil if none). When t was still running as the read arrived,
// the read waits for it and writes nothing more: what t read is as recent
// as the read itself, and posts arriving meanwhile reach the open mailbox
// at its next poll or IDLE, like posts arriving just after a SELECT. A
// second write right behind the first would wait a whole group commit
// again, during a flood for a handful of posts. When t had ended before
// the read (or failed), the read takes in for itself: a cheap read when
// nothing arrived since.
func (s *Service) TakeInAfter(ctx context.Context, personID int64, t *TakeIn) error {
	if t != nil {
		select {
		case <-t.done:
		default:
			select {
			case <-t.done:
				if t.err == nil {
					return nil
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return s.Materialise(ctx, personID)
}
