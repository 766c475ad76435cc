package store

import (
	"context"
	"time"
)

// inflightFor is how long a reservation counts when nobody releases it: a
// process that died between the limits and the store leaves its rows, and
// they stop counting after this.
const inflightFor = 10 * time.Minute

// ReserveSending counts what a person sent since minuteStart (messages) and
// dayStart (recipients, the audience after list expansion), together with
// what they have in flight on every process sharing the database, and asks
// decide whether one more message reaching recipients people may go. If it
// may, the message is in flight until release is called (after it is
// stored, or refused later): a person's concurrent sessions on several
// nodes cannot all pass at the edge. decide's error is returned as it is;
// decide runs in a write and must only compute.
func (s *Store) ReserveSending(ctx context.Context, senderID, recipients int64, minuteStart, dayStart time.Time,
	decide func(messages, recipients int64) error) (release func(), err error) {
	var id int64
	err = s.Write(ctx, func(tx *Tx) error {
		// The sender's lock row: whoever holds it counts and reserves. The
		// lock and the two counts go out together (pipeline.go); each
		// count runs after the lock is held.
		tx.Later(`INSERT INTO sender_locks (sender_id) VALUES (?)
			ON CONFLICT (sender_id) DO UPDATE SET sender_id = excluded.sender_id`, nil, senderID)
		var msgs, sent, flying, flyingTo int64
		tx.Later(`SELECT COUNT(CASE WHEN created_at > ? THEN 1 END), COALESCE(SUM(audience), 0)
			FROM submissions WHERE sender_id = ? AND sender_id <> 0 AND created_at > ?`, []any{&msgs, &sent}, minuteStart.Unix(), senderID, dayStart.Unix())
		now := tx.s.now()
		if err := tx.ScanRow([]any{&flying, &flyingTo}, `SELECT COUNT(*), COALESCE(SUM(recipients), 0) FROM sender_inflight WHERE sender_id = ? AND created_at > ?`,
			senderID, now.Add(-inflightFor).Unix()); err != nil {
			return err
		}
		if err := decide(msgs+flying, sent+flyingTo); err != nil {
			return err
		}
		return tx.ScanRow([]any{&id}, `INSERT INTO sender_inflight (sender_id, recipients, created_at) VALUES (?, ?, ?) RETURNING id`,
			senderID, recipients, now.Unix())
	})
	if err != nil {
		return nil, err
	}
	return func() {
		// Also once the caller's context has ended: a reservation left
		// behind would count against the person for minutes.
		if err := s.Write(context.WithoutCancel(ctx), func(tx *Tx) error {
			tx.Later(`DELETE FROM sender_inflight WHERE id = ? OR created_at <= ?`, nil, id, tx.s.now().Add(-inflightFor).Unix())
			return nil
		}); err != nil {
			s.log.Warn("releasing a sender's in-flight message", "sender", senderID, "err", err)
		}
	}, nil
}
