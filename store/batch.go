package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Running the writes of a batch of more than one, each under a savepoint
// of its own so that a failing write undoes itself and nothing of the
// others. The error these return fails the whole batch; a write's own
// failure goes into errs.

// runInProcess runs the writes one after the other: each releases the
// previous write's savepoint and opens its own in one statement, and
// COMMIT releases the last.
func (s *Store) runInProcess(ctx context.Context, tx *sql.Tx, batch []*writeReq, errs []error) error {
	savepoint := "SAVEPOINT w"
	for i, r := range batch {
		if _, err := tx.ExecContext(ctx, savepoint); err != nil {
			return fmt.Errorf("store: savepoint: %w", err)
		}
		savepoint = "RELEASE SAVEPOINT w; SAVEPOINT w"
		t := &Tx{s: s, tx: tx, ctx: ctx}
		if errs[i] = t.run(r.fn); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT w"); err != nil {
				return fmt.Errorf("store: rollback to savepoint: %w", err)
			}
			errs[i] = s.orLater(r, errs[i])
			continue
		}
		r.changed = t.changed
	}
	return nil
}

// runPipelined runs the writes on a pipelining dialect so that the batch
// costs as few round trips as its writes allow. Write i opens savepoint
// "wi", kept until COMMIT: the savepoints nest, so rolling back to one
// undoes that write and every write after it. Each write's function runs
// in turn and leaves its statements queued (pipeline.go); a statement a
// function waits for takes everything queued before it along, and what is
// left goes in one round trip at the end, after which the After functions
// run in write order. When write j fails after later writes ran (one of
// its statements in a round trip that carried theirs, or its After
// function), the batch rolls back to "wj" and runs the writes after j
// again: a write function may run more than once, as after a deadlock.
func (s *Store) runPipelined(ctx context.Context, tx *sql.Tx, conn *sql.Conn, batch []*writeReq, errs []error) error {
	b := &pipeBatch{sent: make([]bool, len(batch))}
	txs := make([]*Tx, len(batch))
	// undo rolls back write j and all after it, and records j's error.
	undo := func(j int, err error) error {
		b.q, b.owner = nil, nil
		if _, rerr := tx.ExecContext(ctx, fmt.Sprintf("ROLLBACK TO SAVEPOINT w%d", j)); rerr != nil {
			return fmt.Errorf("store: rollback to savepoint: %w", rerr)
		}
		errs[j] = s.orLater(batch[j], err)
		txs[j] = nil
		return nil
	}
	// Each pass runs the writes from `from` on, sends what is left and
	// runs the After functions still to run; a failure ends the pass and
	// the next starts after the write that failed.
	for from := 0; ; {
		redo := -1 // the write after which the others run again
		for i := from; i < len(batch) && redo < 0; i++ {
			t := &Tx{s: s, tx: tx, ctx: ctx, conn: conn, b: b, idx: i}
			txs[i], errs[i], b.sent[i] = t, nil, false
			t.Later(fmt.Sprintf("SAVEPOINT w%d", i), nil)
			err := safeRun(batch[i].fn, t)
			if t.err != nil {
				err = t.err
			}
			switch {
			case err == errEarlierWrite:
				txs[i] = nil
				if err := undo(b.earlier, b.earlierErr); err != nil {
					return err
				}
				redo = b.earlier
			case err != nil && b.sent[i]:
				if err := undo(i, err); err != nil {
					return err
				}
			case err != nil:
				// Nothing of it went out, its savepoint included.
				b.dropQueued(i)
				errs[i], txs[i] = s.orLater(batch[i], err), nil
			}
		}
		if redo >= 0 {
			from = redo + 1
			continue
		}
		// The rest of the queue, then the After functions in write order.
		end := &Tx{s: s, tx: tx, ctx: ctx, conn: conn, b: b, idx: -1}
		if _, err := end.send(); err != nil {
			if err := undo(b.earlier, b.earlierErr); err != nil {
				return err
			}
			from = b.earlier + 1
			continue
		}
		failed := -1
		for j, t := range txs {
			if t == nil || len(t.afters) == 0 {
				continue
			}
			if err := t.finish(); err != nil {
				if err := undo(j, err); err != nil {
					return err
				}
				failed = j
				break
			}
		}
		if failed < 0 {
			break
		}
		from = failed + 1
	}
	for i, t := range txs {
		if t != nil && errs[i] == nil {
			batch[i].changed = t.changed
		}
	}
	return nil
}

// orLater is a failed write's answer: errLater when it lost a deadlock
// with another process and may run again after this batch. The rollback
// gave up the locks it took, but the batch's earlier writes keep theirs
// until the commit, so running it again at once could meet the same cycle.
func (s *Store) orLater(r *writeReq, err error) error {
	if r.tries < maxRetries && retryable(err) {
		return errLater
	}
	return err
}
