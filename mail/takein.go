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
// and returns at once; Wait reports when it ended. It stops early, having
// written nothing, if ctx ends before its write is queued (the session
// closed); once queued, the write completes and is durable like any other.
// The read that follows still calls Materialise (Watch does) after Wait, for
// posts that arrived meanwhile: that is a cheap read when nothing waits.
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

// Wait waits until the take-in has ended or ctx is done. Its error is only
// informative: the read that waited takes in for itself next, and reports
// the failure if it persists.
func (t *TakeIn) Wait(ctx context.Context) error {
	if t == nil {
		return nil
	}
	select {
	case <-t.done:
		return t.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
