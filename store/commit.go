package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Group commit: every write is a function run by the single writer goroutine
// inside a transaction shared with whatever other writes are queued at that
// moment. Each function runs under its own SAVEPOINT, so one failing request
// does not undo the others; the batch commits once (one fsync), and only then
// is each caller answered. Under load, batches grow by themselves: while one
// commit syncs, the next requests queue up behind it.

type writeReq struct {
	fn      func(*Tx) error
	done    chan error
	changed []int64
	queued  time.Time
	tries   int // runs that lost a conflict with another process (retryable)
}

// Tx is a write transaction as a write function sees it.
type Tx struct {
	s       *Store
	tx      execer
	ctx     context.Context
	changed []int64

	// On a pipelining dialect (pipeline.go): conn is the writer's
	// connection, b what the batch's writes queued, idx this write's place
	// in the batch, afters the functions to run once its queued statements
	// have run.
	conn   *sql.Conn
	b      *pipeBatch
	idx    int
	afters []func(*Tx) error
	err    error // the first error of a queued statement or After function
}

// run runs a write function, what it left queued and its After functions,
// for a write that has its transaction, or its savepoint, to itself. A
// statement it queued that failed is the write's error, whatever the
// function made of what followed.
func (t *Tx) run(fn func(*Tx) error) error {
	err := safeRun(fn, t)
	if err == nil {
		err = t.finish()
	}
	if t.err != nil {
		err = t.err
	}
	return err
}

// finish sends what the write queued and runs its After functions (which
// may queue more), until nothing is left.
func (t *Tx) finish() error {
	for {
		if err := t.Flush(); err != nil {
			return err
		}
		if len(t.afters) == 0 {
			return nil
		}
		fn := t.afters[0]
		t.afters = t.afters[1:]
		if err := safeRun(fn, t); err != nil {
			if t.err == nil {
				t.err = err
			}
			return t.err
		}
	}
}

// Exec runs a statement written with ? placeholders, after what Later
// queued.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if t.pipelined() {
		return t.execNow(query, args)
	}
	if err := t.Flush(); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(t.ctx, t.s.q(query), args...)
}

// QueryRow runs a query written with ? placeholders, after what Later
// queued. When a queued statement failed, the query fails too and the
// request's error is the queued statement's (Err).
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	_ = t.Flush()
	return t.tx.QueryRowContext(t.ctx, t.s.q(query), args...)
}

// Query runs a query written with ? placeholders, after what Later queued.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if err := t.Flush(); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(t.ctx, t.s.q(query), args...)
}

// prepare prepares a statement written with ? placeholders for repeated
// use in this transaction, after what Later queued.
func (t *Tx) prepare(query string) (*sql.Stmt, error) {
	if err := t.Flush(); err != nil {
		return nil, err
	}
	return t.tx.PrepareContext(t.ctx, t.s.q(query))
}

// Touch records that a mailbox changed, so the hub announces it after commit.
func (t *Tx) Touch(mailboxID int64) { t.changed = append(t.changed, mailboxID) }

// TouchList records that a list's post log grew, so the hub wakes the
// sessions of its members after commit. Lists share the hub's key space
// with mailboxes as negative ids.
func (t *Tx) TouchList(listID int64) { t.changed = append(t.changed, -listID) }

// TouchPerson records that a person's mailbox names or subscriptions
// changed (a mailbox created, deleted or renamed; SUBSCRIBE, UNSUBSCRIBE),
// so IMAP NOTIFY sessions are told after commit (RFC 5465 5.4, 5.5).
func (t *Tx) TouchPerson(personID int64) { t.changed = append(t.changed, PersonKey(personID)) }

// Write runs fn in the next group commit and returns once that commit is
// durable (or failed). fn must not block on anything but the database, and
// may run more than once (after a deadlock with another process, or when
// an earlier write of its batch failed after fn's statements went out with
// it): it sets, rather than adds to, what it leaves outside.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{fn: fn, done: make(chan error, 1), queued: time.Now()}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stop:
		return errors.New("store: closed")
	}
	// Once queued, the write happens whatever the caller's context says:
	// waiting for the answer keeps "accepted" and "durable" the same thing.
	return <-req.done
}

func (s *Store) writer() {
	defer s.stopped.Done()
	batch := make([]*writeReq, 0, s.maxB)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.stop:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-s.writes:
					s.commit([]*writeReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < s.maxB {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
		if s.between != nil {
			if err := s.between(context.Background()); err != nil {
				s.log.Warn("store: between batches", "err", err)
			}
		}
	}
}

// maxRetries bounds how often a write that lost a deadlock or a
// serialisation conflict to another process runs again before its error
// reaches the caller.
const maxRetries = 3

// retryable reports whether err is a conflict with another writer that a
// second attempt resolves: PostgreSQL's deadlock_detected (40P01) and
// serialization_failure (40001). The drivers' errors carry the SQLSTATE.
func retryable(err error) bool {
	var coded interface{ SQLState() string }
	if !errors.As(err, &coded) {
		return false
	}
	switch coded.SQLState() {
	case "40P01", "40001":
		return true
	}
	return false
}

// errLater marks a request of a batch that lost a conflict with another
// process and runs again in a batch of its own once this one commits.
var errLater = errors.New("store: run again after this batch")

// commit runs a batch, and again the requests of it that must run again.
func (s *Store) commit(batch []*writeReq) {
	for len(batch) > 0 {
		batch = s.commitOnce(batch)
	}
}

// commitOnce runs a batch in one transaction and answers its requests,
// except those it returns: they lost a conflict with another process and
// run again once this transaction has ended (and given the connection
// back).
func (s *Store) commitOnce(batch []*writeReq) (again []*writeReq) {
	start := time.Now()
	ctx := context.Background()
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
		s.metrics.commitErrors.Inc()
	}
	if s.pipe != nil {
		if again, ok := s.commitPipelined(ctx, batch, errs, fail); !ok {
			return again
		}
	} else {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			fail(fmt.Errorf("store: begin: %w", err))
			return
		}
		if len(batch) == 1 {
			t := &Tx{s: s, tx: tx, ctx: ctx}
			if errs[0] = t.run(batch[0].fn); errs[0] == nil {
				batch[0].changed = t.changed
			}
		} else if err := s.runInProcess(ctx, tx, batch, errs); err != nil {
			_ = tx.Rollback()
			fail(err)
			return
		}
		if len(batch) == 1 && errs[0] != nil {
			_ = tx.Rollback()
			return s.again(batch[0], errs[0])
		}
		if err := s.announce(ctx, tx, batch, errs); err != nil {
			_ = tx.Rollback()
			s.metrics.notifyErrors.Inc()
			fail(fmt.Errorf("store: announcing the changes: %w", err))
			return
		}
		if err := tx.Commit(); err != nil {
			fail(fmt.Errorf("store: commit: %w", err))
			return
		}
	}
	s.metrics.commits.Inc()
	s.metrics.batchSize.Observe(float64(len(batch)))
	s.metrics.commitSeconds.Observe(time.Since(start).Seconds())
	var later []*writeReq
	for i, r := range batch {
		if errs[i] == errLater {
			r.tries++
			s.metrics.retries.Inc()
			later = append(later, r)
			continue
		}
		if errs[i] == nil {
			s.hub.Publish(r.changed...)
		}
		s.metrics.writeWait.Observe(time.Since(r.queued).Seconds())
		r.done <- errs[i]
	}
	return later
}

// again answers a batch of one whose write failed, or returns it to run
// again when it lost a conflict with another process.
func (s *Store) again(r *writeReq, err error) []*writeReq {
	if r.tries < maxRetries && retryable(err) {
		r.tries++
		s.metrics.retries.Inc()
		return []*writeReq{r}
	}
	r.done <- err
	return nil
}

// safeRun turns a panic in a write function into an error, so one bad request
// cannot take the writer (and every other caller) down.
func safeRun(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in write: %v", p)
		}
	}()
	return fn(t)
}

// WriteQueueLen is how many writes wait for the writer: background work
// runs only when it is zero.
func (s *Store) WriteQueueLen() int { return len(s.writes) }
