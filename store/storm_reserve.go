package store

import (
	"context"
	"errors"
	"time"
)

// The breaker's check-and-count is one step that the database decides, so
// that servers sharing one database let through no more replies between
// them than one would (DESIGN section 6). A reply let through is a
// storm_inflight row until its message is stored, counted with the
// thread's window under the thread's storm_locks row lock; recording it
// takes the same lock and turns the in-flight row into a storm_replies row
// in one commit, so no check sees it in neither or in both.

// lockStorm takes the thread's lock row for the rest of the write (a row
// lock on PostgreSQL; SQLite has one writer).
func lockStorm(tx *Tx, thread string) error {
	_, err := tx.Exec(`INSERT INTO storm_locks (thread_id) VALUES (?)
		ON CONFLICT (thread_id) DO UPDATE SET thread_id = excluded.thread_id`, thread)
	return err
}

// stormThreadTx is StormThread inside a write.
func stormThreadTx(tx *Tx, thread string, windowStart time.Time) (*StormThread, error) {
	w := windowStart.Unix()
	t, err := scanStorm(tx.QueryRow(`SELECT `+stormCols+`, `+windowCount+` FROM storm_threads t WHERE t.thread_id = ?`, w, w, thread), true)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// ReserveStormReply asks decide whether one more large-audience reply may
// go on a thread, given the thread (nil when it has no record yet) with its
// replies since windowStart, and how many replies let through on any server
// are still being stored. If decide returns nil the reply is in flight
// under the returned id until FinishStormReply. decide's error is returned
// as it is; decide runs in a write and must only compute.
func (s *Store) ReserveStormReply(ctx context.Context, thread string, windowStart time.Time,
	decide func(t *StormThread, inflight int64) error) (id int64, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		if err := lockStorm(tx, thread); err != nil {
			return err
		}
		t, err := stormThreadTx(tx, thread, windowStart)
		if err != nil {
			return err
		}
		now := tx.s.now()
		var flying int64
		if err := tx.QueryRow(`SELECT COUNT(*) FROM storm_inflight WHERE thread_id = ? AND created_at > ?`,
			thread, now.Add(-inflightFor).Unix()).Scan(&flying); err != nil {
			return err
		}
		if err := decide(t, flying); err != nil {
			return err
		}
		return tx.QueryRow(`INSERT INTO storm_inflight (thread_id, created_at) VALUES (?, ?) RETURNING id`, thread, now.Unix()).Scan(&id)
	})
	return id, err
}

// FinishStormReply ends a reservation (id 0: one the caller kept itself,
// in a process that owns the database). With r nil the reply was not
// stored and stops counting. Otherwise it is recorded, and when the thread's
// replies since windowStart (this one included) reach threshold and no
// block is in force, the thread is blocked until blockUntil, recorded in
// the audit trail as the breaker's; blocked says so.
func (s *Store) FinishStormReply(ctx context.Context, thread string, id int64, r *StormReply, windowStart time.Time,
	threshold int, blockUntil time.Time) (blocked bool, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		blocked = false
		if id != 0 {
			if err := lockStorm(tx, thread); err != nil {
				return err
			}
			if _, err := tx.Exec(`DELETE FROM storm_inflight WHERE id = ? OR (thread_id = ? AND created_at <= ?)`,
				id, thread, tx.s.now().Add(-inflightFor).Unix()); err != nil {
				return err
			}
		}
		if r == nil {
			return nil
		}
		if err := recordStormReply(tx, *r); err != nil {
			return err
		}
		t, err := stormThreadTx(tx, thread, windowStart)
		if err != nil || t == nil || t.Blocked(r.At) || t.InWindow < int64(threshold) {
			return err
		}
		blocked = true
		return blockStorm(tx, *r, blockUntil)
	})
	return blocked, err
}
