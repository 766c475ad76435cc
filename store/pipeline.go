package store

import (
	"context"
	"database/sql"
	"errors"
)

// Pipelining: on a database in another process every statement is a round
// trip, and the group commit's one writer runs its batch's statements one
// after the other, so the round trips of a delivery, not the commit, bound
// how many deliveries a second it can store. A write function queues the
// statements whose results it does not need at once (Tx.Later) and the
// queue goes out with the next statement it waits for (Tx.ScanRow, or any
// Exec, Query or QueryRow), in one round trip when the dialect can
// pipeline. On SQLite, in process, a queued statement simply runs at once.

// Pipeliner is implemented by a Dialect whose driver can send several
// statements in one round trip. Pipeline runs qs in order on conn, inside
// the transaction open on it, and scans the first row of each query that
// has a Dest (sql.ErrNoRows when it has none). It returns the first error
// and the index of the statement that gave it, after which the rest did not
// run (and on PostgreSQL the transaction is aborted until the writer rolls
// back to its savepoint).
type Pipeliner interface {
	Pipeline(ctx context.Context, conn *sql.Conn, qs []Queued) (failed int, err error)
}

// Queued is one statement of a pipeline: its SQL in the database's own
// placeholders, its arguments, and where its first row goes (nil: no row).
type Queued struct {
	Query string
	Args  []any
	Dest  []any
	// Affected, when set, receives the rows a statement without Dest
	// changed.
	Affected *int64
}

// Later queues a statement written with ? placeholders. It runs before the
// next statement the write function waits for, or when the function
// returns; dest, if given, is filled with its first row by then. Its error
// fails the write function's request (Err) even when the function itself
// returns nil, so a function need not check it.
func (t *Tx) Later(query string, dest []any, args ...any) {
	if t.err != nil {
		return
	}
	if t.s.pipe == nil || t.conn == nil {
		// In process: nothing to save by waiting.
		var err error
		if dest == nil {
			_, err = t.tx.ExecContext(t.ctx, t.s.q(query), args...)
		} else {
			err = t.tx.QueryRowContext(t.ctx, t.s.q(query), args...).Scan(dest...)
		}
		t.err = err
		return
	}
	t.queue = append(t.queue, Queued{Query: t.s.q(query), Args: args, Dest: dest})
}

// ScanRow runs a query written with ? placeholders together with whatever
// Later queued, in one round trip, and scans its first row into dest
// (sql.ErrNoRows when there is none).
func (t *Tx) ScanRow(dest []any, query string, args ...any) error {
	if t.s.pipe == nil || t.conn == nil {
		if err := t.Flush(); err != nil {
			return err
		}
		return t.tx.QueryRowContext(t.ctx, t.s.q(query), args...).Scan(dest...)
	}
	if t.err != nil {
		return t.err
	}
	t.queue = append(t.queue, Queued{Query: t.s.q(query), Args: args, Dest: dest})
	n := len(t.queue)
	if err := t.Flush(); err != nil {
		if t.failed < n-1 {
			// A queued statement before this one failed: that is the
			// request's error, and this query did not run.
			return err
		}
		// This query's own outcome (sql.ErrNoRows included) is the
		// caller's to judge, not a failure of the request.
		t.err = nil
		return err
	}
	return nil
}

// execNow is Exec on a pipelining dialect: the statement goes out with
// what is queued (the request's savepoint at least), one round trip.
func (t *Tx) execNow(query string, args []any) (sql.Result, error) {
	if t.err != nil {
		return nil, t.err
	}
	var n int64
	t.queue = append(t.queue, Queued{Query: t.s.q(query), Args: args, Affected: &n})
	at := len(t.queue) - 1
	if err := t.Flush(); err != nil {
		if t.failed < at {
			return nil, err
		}
		// The statement's own failure: the caller's to return.
		t.err = nil
		return nil, err
	}
	return affected(n), nil
}

// affected is the sql.Result of a pipelined statement.
type affected int64

func (a affected) RowsAffected() (int64, error) { return int64(a), nil }
func (affected) LastInsertId() (int64, error) {
	return 0, errors.New("store: no LastInsertId: use RETURNING")
}

// Flush runs what Later queued and returns the first error of the
// request's queued statements, now or earlier.
func (t *Tx) Flush() error {
	if t.err != nil || len(t.queue) == 0 {
		return t.err
	}
	q := t.queue
	t.queue = t.queue[:0]
	t.sent = true
	if failed, err := t.s.pipe.Pipeline(t.ctx, t.conn, q); err != nil {
		t.failed, t.err = failed, err
	}
	return t.err
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
