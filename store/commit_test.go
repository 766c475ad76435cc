package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"wardmail/store"
	"wardmail/store/storetest"
)

// Writes that fail in a batch leave nothing behind and take nothing of
// the others with them: every delivery that was answered OK is there, and
// no part of a failed one is.
func TestFailedWritesInABatchLeaveTheOthers(t *testing.T) {
	ctx := context.Background()
	s, ids, inbox, before := oneMessage(t)
	refused := errors.New("refused on purpose")
	const n = 120
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range n {
		wg.Go(func() {
			c, err := s.PrepareContent(ctx, []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i)), []byte(`{}`))
			if err != nil {
				t.Error(err)
				return
			}
			err = s.Write(ctx, func(tx *store.Tx) error {
				if _, err := tx.Exec(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1000 WHERE id = ?`, inbox.ID); err != nil {
					return err
				}
				if i%3 == 0 {
					return refused
				}
				return nil
			})
			switch {
			case err == nil:
				mu.Lock()
				ok++
				mu.Unlock()
			case !errors.Is(err, refused):
				t.Error(err)
			}
			if i%3 != 0 {
				if _, err := s.Deliver(ctx, c, ids, time.Now()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	refs, mb, err := s.Snapshot(ctx, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok != n-n/3 || len(refs) != ok+1 {
		t.Fatalf("%d writes answered OK, %d messages; want %d and %d", ok, len(refs), n-n/3, n-n/3+1)
	}
	// Each OK write added 1000, each delivery 1; a refused write added nothing.
	if want := before.HighestModSeq + uint64(ok*1000+ok); mb.HighestModSeq != want {
		t.Errorf("HIGHESTMODSEQ %d, want %d: a refused write left something, or an accepted one lost it", mb.HighestModSeq, want)
	}
}

// A statement queued with Later that the database refuses fails its own
// request, even when the write function returned nil, and nothing else: the
// requests around it in the batch keep their changes, and a request that
// fails before any of its statements went out takes nothing of the one
// before it with it.
func TestQueuedStatementsThatFailLeaveTheOthers(t *testing.T) {
	ctx := context.Background()
	s, ids, inbox, before := oneMessage(t)
	refused := errors.New("refused on purpose")
	const n = 150
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, delivered := 0, 0
	for i := range n {
		wg.Go(func() {
			err := s.Write(ctx, func(tx *store.Tx) error {
				if i%3 == 1 {
					return refused // before anything went out
				}
				tx.Later(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1000 WHERE id = ?`, nil, inbox.ID)
				if i%3 == 0 {
					// The first message's row again: the primary key refuses it.
					tx.Later(`INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date)
						SELECT mailbox_id, uid, content_id, 0, '', modseq, internal_date, saved_date FROM mail WHERE mailbox_id = ? AND uid = 1`, nil, inbox.ID)
				}
				return nil
			})
			switch {
			case i%3 == 2 && err != nil:
				t.Errorf("write %d: %v", i, err)
			case i%3 == 2:
				mu.Lock()
				ok++
				mu.Unlock()
			case err == nil:
				t.Errorf("write %d: no error", i)
			}
			c, err := s.PrepareContent(ctx, []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i)), []byte(`{}`))
			if err == nil {
				_, err = s.Deliver(ctx, c, ids, time.Now())
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			delivered++
			mu.Unlock()
		})
	}
	wg.Wait()
	refs, mb, err := s.Snapshot(ctx, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok != n/3 || len(refs) != delivered+1 {
		t.Fatalf("%d writes answered OK, %d messages; want %d and %d", ok, len(refs), n/3, delivered+1)
	}
	if want := before.HighestModSeq + uint64(ok*1000+delivered); mb.HighestModSeq != want {
		t.Errorf("HIGHESTMODSEQ %d, want %d: a refused write left something, or an accepted one lost it", mb.HighestModSeq, want)
	}
}

// A write refused before any of its statements went out, first in its
// batch, leaves the next write of the batch to succeed: the savepoint the
// refused one never opened is not released or rolled back to.
func TestAWriteRefusedFirstInItsBatchLeavesTheNext(t *testing.T) {
	s, _, inbox, _ := oneMessage(t)
	refused := errors.New("refused on purpose")
	errs := queueWrites(t, s,
		func(*store.Tx) error { return refused },
		func(tx *store.Tx) error {
			tx.Later(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1000 WHERE id = ?`, nil, inbox.ID)
			return nil
		})
	if !errors.Is(errs[0], refused) {
		t.Errorf("the refused write: %v, want its own error", errs[0])
	}
	if errs[1] != nil {
		t.Fatalf("the good write after it: %v", errs[1])
	}
}

// holdWriter queues a write that holds the writer until release is
// called, and returns once the writer is held: writes queued meanwhile are
// taken together as the next batch.
func holdWriter(t *testing.T, s *store.Store) (release func()) {
	t.Helper()
	hold, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.Write(context.Background(), func(*store.Tx) error {
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	return func() { close(hold) }
}

// queueWrites queues the writes in order behind a held writer, as one
// batch, and returns their answers in the same order.
func queueWrites(t *testing.T, s *store.Store, fns ...func(*store.Tx) error) []error {
	t.Helper()
	release := holdWriter(t, s)
	answers := make([]chan error, len(fns))
	for i, fn := range fns {
		answers[i] = make(chan error, 1)
		go func() { answers[i] <- s.Write(context.Background(), fn) }()
		for s.WriteQueueLen() < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	release()
	errs := make([]error, len(fns))
	for i := range answers {
		errs[i] = <-answers[i]
	}
	return errs
}

// In a batch whose writes' statements go out together, a write whose
// statement fails (here a second row under an existing UID), or whose
// After function fails, fails alone: the writes before and after it in the
// batch are stored, each once.
func TestAFailedWriteInAPipelinedBatchLeavesTheOthers(t *testing.T) {
	ctx := context.Background()
	s, _, inbox, before := oneMessage(t)
	bump := func(tx *store.Tx) error {
		tx.Later(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1000 WHERE id = ?`, nil, inbox.ID)
		return nil
	}
	duplicate := func(tx *store.Tx) error {
		tx.Later(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ?`, nil, inbox.ID)
		tx.Later(`INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date)
			SELECT mailbox_id, uid, content_id, 0, '', modseq, internal_date, saved_date FROM mail WHERE mailbox_id = ? AND uid = 1`, nil, inbox.ID)
		return nil
	}
	refused := errors.New("refused after its statements ran")
	failsAfter := func(tx *store.Tx) error {
		tx.Later(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ?`, nil, inbox.ID)
		tx.After(func(*store.Tx) error { return refused })
		return nil
	}
	errs := queueWrites(t, s, bump, duplicate, bump, failsAfter, bump)
	for i, err := range errs {
		switch i {
		case 1:
			if err == nil {
				t.Errorf("write %d: the duplicate row was accepted", i)
			}
		case 3:
			if !errors.Is(err, refused) {
				t.Errorf("write %d: %v, want its After function's error", i, err)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	refs, mb, err := s.Snapshot(ctx, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 {
		t.Errorf("%d messages, want the 1 delivered", len(refs))
	}
	if want := before.HighestModSeq + 3000; mb.HighestModSeq != want {
		t.Errorf("HIGHESTMODSEQ %d, want %d: a failed write left something, or a good one was lost", mb.HighestModSeq, want)
	}
}

// oneMessage opens a store with one person whose INBOX holds one message,
// and returns the INBOX as it is then.
func oneMessage(t *testing.T) (s *store.Store, ids []int64, inbox *store.Mailbox, before *store.Mailbox) {
	t.Helper()
	ctx := context.Background()
	s = open(t, storetest.Options{IndexEvery: -1})
	ids = addPeople(t, s, "a@nhs.test")
	deliver(t, s, "Subject: first\r\n\r\nx\r\n", ids...)
	inbox, err := s.MailboxByName(ctx, ids[0], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, before, err = s.Snapshot(ctx, inbox.ID); err != nil {
		t.Fatal(err)
	}
	return s, ids, inbox, before
}
