package mail

import (
	"context"
	"time"
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
	done  chan struct{}
	err   error
	ended time.Time
}

// aheadFresh is how long a take-in begun ahead stands for the reads that
// follow it: a client's SELECT right after sign-in shows what the sign-in
// took in, and posts that came in between reach the open INBOX at its next
// poll or IDLE, as posts arriving just after a SELECT always did. During a
// flood a second take-in right behind the first would wait a whole group
// commit again for the handful of posts that came meanwhile.
const aheadFresh = time.Second

// TakeInAhead starts taking the person's waiting list posts into their INBOX
// and returns at once. It stops early, having written nothing, if ctx ends
// before its write is queued (the session closed); once queued, the write
// completes and is durable like any other.
func (s *Service) TakeInAhead(ctx context.Context, personID int64) *TakeIn {
	t := &TakeIn{done: make(chan struct{})}
	go func() {
		defer close(t.done)
		t.err = s.Materialise(ctx, personID)
		t.ended = time.Now()
		if t.err != nil && ctx.Err() == nil {
			s.log.Warn("taking in list posts ahead", "person", personID, "err", t.err)
		}
	}()
	return t
}

// TakeInAfter is Materialise for a read that follows a take-in begun ahead
// (t, nil if none): it waits for t, and writes nothing more when t
// succeeded less than aheadFresh ago; otherwise (t failed, or ended long
// before this read) it takes in for itself, a cheap read when nothing is
// pending.
func (s *Service) TakeInAfter(ctx context.Context, personID int64, t *TakeIn) error {
	if t != nil {
		select {
		case <-t.done:
			if t.err == nil && time.Since(t.ended) < aheadFresh {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Materialise(ctx, personID)
}
