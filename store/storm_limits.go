package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// SenderUsage is what a person sent recently: messages since minuteStart
// and recipients (the audience after list expansion) since dayStart, from
// the submissions record (so the limits survive a restart).
func (s *Store) SenderUsage(ctx context.Context, senderID int64, minuteStart, dayStart time.Time) (messages, recipients int64, err error) {
	err = s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(CASE WHEN created_at > ? THEN 1 END), COALESCE(SUM(audience), 0)
		FROM submissions WHERE sender_id = ? AND sender_id <> 0 AND created_at > ?`), minuteStart.Unix(), senderID, dayStart.Unix()).Scan(&messages, &recipients)
	return messages, recipients, err
}

// BroadcastSender is a person authorised to reach more people a day than
// the default sender limit.
type BroadcastSender struct {
	PersonID         int64     `json:"-"`
	Email            string    `json:"email"`
	RecipientsPerDay int64     `json:"recipients_per_day"`
	GrantedBy        string    `json:"granted_by"`
	GrantedAt        time.Time `json:"granted_at"`
}

// BroadcastQuota returns a broadcast sender's daily recipients; ok is false
// for everyone else.
func (s *Store) BroadcastQuota(ctx context.Context, personID int64) (perDay int64, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, s.q(`SELECT recipients_per_day FROM broadcast_senders WHERE person_id = ?`), personID).Scan(&perDay)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return perDay, err == nil, err
}

// SetBroadcastSender authorises a person to reach perDay people a day, or
// withdraws the authorisation when perDay is 0. It is audited.
func (s *Store) SetBroadcastSender(ctx context.Context, actor string, personID, perDay int64) error {
	return s.Write(ctx, func(tx *Tx) error {
		if perDay <= 0 {
			if _, err := tx.Exec(`DELETE FROM broadcast_senders WHERE person_id = ?`, personID); err != nil {
				return err
			}
			return tx.Audit(actor, "sender.broadcast.revoke", "", map[string]any{"person": personID})
		}
		if _, err := tx.Exec(`INSERT INTO broadcast_senders (person_id, recipients_per_day, granted_by, granted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (person_id) DO UPDATE SET recipients_per_day = excluded.recipients_per_day, granted_by = excluded.granted_by, granted_at = excluded.granted_at`,
			personID, perDay, actor, tx.s.now().Unix()); err != nil {
			return err
		}
		return tx.Audit(actor, "sender.broadcast.grant", "", map[string]any{"person": personID, "recipients_per_day": perDay})
	})
}

// BroadcastSenders lists the authorised broadcast senders.
func (s *Store) BroadcastSenders(ctx context.Context) ([]BroadcastSender, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT b.person_id, p.email, b.recipients_per_day, b.granted_by, b.granted_at
		FROM broadcast_senders b JOIN people p ON p.id = b.person_id ORDER BY p.email`))
	if err != nil {
		return nil, err
	}
	out := []BroadcastSender{}
	for rows.Next() {
		var b BroadcastSender
		var at int64
		if err := rows.Scan(&b.PersonID, &b.Email, &b.RecipientsPerDay, &b.GrantedBy, &at); err != nil {
			rows.Close()
			return nil, err
		}
		b.GrantedAt = time.Unix(at, 0).UTC()
		out = append(out, b)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}
