package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
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
func (s *Store) runPipelined(ctx context.Context, conn *sql.Conn, b *pipeBatch, batch []*writeReq, errs []error) error {
	txs := make([]*Tx, len(batch))
	// undo rolls back write j and all after it, and records j's error.
	undo := func(j int, err error) error {
		if j < 0 {
			return fmt.Errorf("store: begin: %w", err)
		}
		b.q, b.owner = nil, nil
		if _, rerr := conn.ExecContext(ctx, fmt.Sprintf("ROLLBACK TO SAVEPOINT w%d", j)); rerr != nil {
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
			t := &Tx{s: s, tx: conn, ctx: ctx, conn: conn, b: b, idx: i}
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
		end := &Tx{s: s, tx: conn, ctx: ctx, conn: conn, b: b, idx: -1}
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

// commitPipelined runs a batch on a pipelining dialect, on a connection
// held for it: BEGIN goes out with the first round trip and COMMIT with the
// changes' announcement in the last, so that a batch of writes that need
// no answer before the end costs two round trips in all. ok says the batch
// committed; otherwise its writes were answered, except those returned to
// run again.
func (s *Store) commitPipelined(ctx context.Context, batch []*writeReq, errs []error, fail func(error)) (again []*writeReq, ok bool) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		return nil, false
	}
	defer conn.Close()
	b := &pipeBatch{sent: make([]bool, len(batch))}
	b.add(Queued{Query: "BEGIN"}, -1)
	// rollback ends the transaction when BEGIN went out; a connection it
	// cannot roll back is closed, not given back to the pool.
	rollback := func() {
		if b.began {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
	}
	if len(batch) == 1 {
		t := &Tx{s: s, tx: conn, ctx: ctx, conn: conn, b: b}
		errs[0] = t.run(batch[0].fn)
		if errors.Is(errs[0], errEarlierWrite) {
			errs[0] = fmt.Errorf("store: begin: %w", b.earlierErr)
		}
		if errs[0] != nil {
			rollback()
			return s.again(batch[0], errs[0]), false
		}
		batch[0].changed = t.changed
	} else if err := s.runPipelined(ctx, conn, b, batch, errs); err != nil {
		rollback()
		fail(err)
		return nil, false
	}
	if err := s.announce(ctx, queueing{b}, batch, errs); err != nil {
		rollback()
		s.metrics.notifyErrors.Inc()
		fail(fmt.Errorf("store: announcing the changes: %w", err))
		return nil, false
	}
	b.add(Queued{Query: "COMMIT"}, -1)
	end := &Tx{s: s, tx: conn, ctx: ctx, conn: conn, b: b, idx: -1}
	if _, err := end.send(); err != nil {
		// A failed COMMIT ends the transaction; a statement before it
		// that failed leaves it open, aborted.
		rollback()
		fail(fmt.Errorf("store: commit: %w", b.earlierErr))
		return nil, false
	}
	return nil, true
}

// queueing is an Execer that queues its statements in a batch, for the
// changes' announcement that goes out with COMMIT.
type queueing struct{ b *pipeBatch }

func (q queueing) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	q.b.add(Queued{Query: query, Args: args}, -1)
	return affected(0), nil
}
