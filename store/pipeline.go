package store

import (
	"context"
	"database/sql"
	"errors"
)

// Pipelining: on a database in another process every statement is a round
// trip, and the group commit's one writer runs its batch's writes one after
// the other, so round trips, not the commit, bound how many deliveries a
// second it can store. A write function queues the statements whose
// results it does not need at once (Tx.Later, Tx.LaterRow) and reads their
// results in a function run after them (Tx.After). The writer sends what
// every write of a batch queued together, in one round trip, and runs the
// After functions once the results are back; a statement a write waits for
// (Tx.ScanRow, or any Exec, Query or QueryRow) takes everything queued
// before it along. On SQLite, in process, a queued statement simply runs at
// once, and so does an After function.

// Pipeliner is implemented by a Dialect whose driver can send several
// statements in one round trip. Pipeline runs qs in order on conn, inside
// the transaction open on it, and scans the first row of each query that
// has a Dest. It returns the first error and the index of the statement
// that gave it, after which the rest did not run (and on PostgreSQL the
// transaction is aborted until the writer rolls back to a savepoint).
type Pipeliner interface {
	Pipeline(ctx context.Context, conn *sql.Conn, qs []Queued) (failed int, err error)
}

// Queued is one statement of a pipeline: its SQL in the database's own
// placeholders, its arguments, and where its first row goes (nil: no row).
type Queued struct {
	Query string
	Args  []any
	Dest  []any
	// Found, when set with Dest, makes a query that returns no row a
	// success: *Found says whether a row came (otherwise no row is
	// sql.ErrNoRows).
	Found *bool
	// Affected, when set, receives the rows a statement without Dest
	// changed.
	Affected *int64
}

// pipeBatch is what the writes of one batch queued and has not been sent,
// with the write (its index in the batch) each statement belongs to, and
// what a write learnt of another's failure.
type pipeBatch struct {
	q     []Queued
	owner []int
	sent  []bool // a statement of the write went out
	began bool   // a round trip went out: the first carries BEGIN
	// The write, before the one flushing, whose statement failed, and the
	// error: the flushing write stops with errEarlierWrite.
	earlier    int
	earlierErr error
}

// errEarlierWrite stops a write whose round trip failed on a statement of
// an earlier write of the batch: the statements after it did not run, and
// the writer runs this write again once it has rolled the earlier one back.
var errEarlierWrite = errors.New("store: an earlier write of the batch failed")

// pipelined reports whether statements are queued and sent together.
func (t *Tx) pipelined() bool { return t.b != nil }

// Later queues a statement written with ? placeholders. It runs before the
// next statement the write function waits for, or with the batch; dest, if
// given, is filled with its first row before any After function runs and
// before the write is answered. Its error fails the write (Err) even when
// the function itself returns nil, so a function need not check it.
func (t *Tx) Later(query string, dest []any, args ...any) {
	t.later(Queued{Query: t.s.q(query), Args: args, Dest: dest})
}

// LaterRow queues a query whose row may be missing: *found says, once it
// has run (in an After function), whether dest was filled.
func (t *Tx) LaterRow(query string, found *bool, dest []any, args ...any) {
	t.later(Queued{Query: t.s.q(query), Args: args, Dest: dest, Found: found})
}

func (t *Tx) later(q Queued) {
	if t.err != nil {
		return
	}
	if !t.pipelined() {
		// In process: nothing to save by waiting.
		t.err = t.runNow(q)
		return
	}
	t.b.add(q, t.idx)
}

// runNow runs one queued statement on the transaction.
func (t *Tx) runNow(q Queued) error {
	if q.Dest == nil {
		res, err := t.tx.ExecContext(t.ctx, q.Query, q.Args...)
		if err == nil && q.Affected != nil {
			*q.Affected, err = res.RowsAffected()
		}
		return err
	}
	err := t.tx.QueryRowContext(t.ctx, q.Query, q.Args...).Scan(q.Dest...)
	if q.Found != nil {
		*q.Found = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
	}
	return err
}

// After runs fn once the statements queued so far have run and filled
// their destinations: at once in process; on a pipelining database after
// the batch's statements came back, possibly after other writes' ones. fn
// runs in the write's transaction and may queue more; its error, like a
// queued statement's, fails the write.
func (t *Tx) After(fn func(*Tx) error) {
	if t.err != nil {
		return
	}
	if !t.pipelined() {
		if err := fn(t); err != nil && t.err == nil {
			t.err = err
		}
		return
	}
	t.afters = append(t.afters, fn)
}

// ScanRow runs a query written with ? placeholders together with whatever
// was queued, in one round trip, and scans its first row into dest
// (sql.ErrNoRows when there is none).
func (t *Tx) ScanRow(dest []any, query string, args ...any) error {
	if !t.pipelined() {
		if err := t.Flush(); err != nil {
			return err
		}
		return t.tx.QueryRowContext(t.ctx, t.s.q(query), args...).Scan(dest...)
	}
	if t.err != nil {
		return t.err
	}
	t.b.add(Queued{Query: t.s.q(query), Args: args, Dest: dest}, t.idx)
	return t.flushOwn()
}

// execNow is Exec on a pipelining dialect: the statement goes out with
// what is queued (the write's savepoint at least), one round trip.
func (t *Tx) execNow(query string, args []any) (sql.Result, error) {
	if t.err != nil {
		return nil, t.err
	}
	var n int64
	t.b.add(Queued{Query: t.s.q(query), Args: args, Affected: &n}, t.idx)
	if err := t.flushOwn(); err != nil {
		return nil, err
	}
	return affected(n), nil
}

// flushOwn sends what is queued, of which the last statement is the
// caller's: that statement's own failure (sql.ErrNoRows included) is the
// caller's to judge and does not fail the write by itself, an earlier
// one's does.
func (t *Tx) flushOwn() error {
	last := len(t.b.q) - 1
	failed, err := t.send()
	if err == nil {
		return nil
	}
	if failed == last && !errors.Is(err, errEarlierWrite) {
		t.err = nil
	}
	return err
}

// affected is the sql.Result of a pipelined statement.
type affected int64

func (a affected) RowsAffected() (int64, error) { return int64(a), nil }
func (affected) LastInsertId() (int64, error) {
	return 0, errors.New("store: no LastInsertId: use RETURNING")
}

// Flush runs what was queued and returns the first error of the write's
// queued statements, now or earlier.
func (t *Tx) Flush() error {
	if t.err != nil || !t.pipelined() {
		return t.err
	}
	_, err := t.send()
	return err
}

// send sends the batch's queued statements in one round trip. A failure
// of one of this write's statements becomes its error (t.err); a failure
// of an earlier write's is recorded for the writer, and this write stops
// with errEarlierWrite. It returns the failed statement's index.
func (t *Tx) send() (int, error) {
	b := t.b
	if len(b.q) == 0 {
		return 0, t.err
	}
	q, owner := b.q, b.owner
	b.q, b.owner = nil, nil
	b.began = true
	for _, o := range owner {
		if o >= 0 {
			b.sent[o] = true
		}
	}
	failed, err := t.s.pipe.Pipeline(t.ctx, t.conn, q)
	if err == nil {
		return 0, nil
	}
	if o := owner[failed]; o != t.idx || o < 0 {
		// Another write's statement, or the batch's own (BEGIN, the
		// announcement, COMMIT: owner -1).
		b.earlier, b.earlierErr = o, err
		err = errEarlierWrite
	}
	t.err = err
	return failed, err
}

// add queues a statement of the write at index owner (-1: the batch's
// own, BEGIN, the announcement, COMMIT).
func (b *pipeBatch) add(q Queued, owner int) {
	b.q, b.owner = append(b.q, q), append(b.owner, owner)
}

// dropQueued forgets what this write queued and did not send: it failed
// before they went out.
func (b *pipeBatch) dropQueued(idx int) {
	n := len(b.owner)
	for n > 0 && b.owner[n-1] == idx {
		n--
	}
	b.q, b.owner = b.q[:n], b.owner[:n]
}

// Err is the first error of a statement queued by Later (nil when every
// one that ran so far succeeded).
func (t *Tx) Err() error { return t.err }

// CustomPlanner is implemented by a Dialect whose prepared statements may
// run with a plan made once for any arguments (PostgreSQL's generic plans,
// chosen when they look no dearer on average). CustomPlans is a statement
// that makes the rest of a transaction plan each statement for its own
// arguments, for reads whose cost depends on them.
type CustomPlanner interface {
	CustomPlans() string
}
