package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Held is a post waiting for (or decided by) a list's moderators.
type Held struct {
	ID           int64     `json:"id"`
	ListID       int64     `json:"list_id"`
	List         string    `json:"list"`
	SubmissionID int64     `json:"submission_id"`
	ContentID    int64     `json:"-"`
	Sender       string    `json:"sender"`
	Subject      string    `json:"subject"`
	Reason       string    `json:"reason"`
	State        string    `json:"state"` // held, approved, rejected, expired, purged, deleted
	Decision     string    `json:"decision,omitempty"`
	At           time.Time `json:"at"`
	Expires      time.Time `json:"expires"`
}

const heldCols = `h.id, h.list_id, l.address, h.submission_id, h.content_id, h.sender, s.subject, h.reason, h.state, h.decision, h.created_at, h.expires_at`

func scanHeld(row interface{ Scan(...any) error }) (*Held, error) {
	var h Held
	var at, exp int64
	err := row.Scan(&h.ID, &h.ListID, &h.List, &h.SubmissionID, &h.ContentID, &h.Sender, &h.Subject, &h.Reason, &h.State, &h.Decision, &at, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	h.At, h.Expires = time.Unix(at, 0).UTC(), time.Unix(exp, 0).UTC()
	return &h, err
}

// HeldPosts returns the posts waiting for a list's moderators (listID 0:
// every list's), oldest first.
func (s *Store) HeldPosts(ctx context.Context, listID int64) ([]Held, error) {
	q := `SELECT ` + heldCols + ` FROM held h JOIN lists l ON l.id = h.list_id JOIN submissions s ON s.id = h.submission_id WHERE h.state = 'held'`
	var args []any
	if listID != 0 {
		q += ` AND h.list_id = ?`
		args = append(args, listID)
	}
	rows, err := s.r.QueryContext(ctx, s.q(q+` ORDER BY h.id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Held
	for rows.Next() {
		h, err := scanHeld(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *h)
	}
	return out, rows.Err()
}

// HeldByID returns one held post.
func (s *Store) HeldByID(ctx context.Context, id int64) (*Held, error) {
	return scanHeld(s.r.QueryRowContext(ctx, s.q(`SELECT `+heldCols+` FROM held h JOIN lists l ON l.id = h.list_id
		JOIN submissions s ON s.id = h.submission_id WHERE h.id = ?`), id))
}

// DecideHeld approves (the post joins the list's log now) or rejects a held
// post, recording who decided and why.
func (s *Store) DecideHeld(ctx context.Context, actor string, id int64, approve bool, reason string, byPerson int64) (*Held, error) {
	err := s.Write(ctx, func(tx *Tx) error {
		h, err := scanHeld(tx.QueryRow(`SELECT `+heldCols+` FROM held h JOIN lists l ON l.id = h.list_id
			JOIN submissions s ON s.id = h.submission_id WHERE h.id = ?`, id))
		if err != nil {
			return err
		}
		if h.State != "held" {
			return fmt.Errorf("the post was already %s", h.State)
		}
		state := "rejected"
		if approve {
			state = "approved"
			if _, err := tx.Exec(`INSERT INTO posts (list_id, submission_id, content_id, created_at) VALUES (?, ?, ?, ?)`,
				h.ListID, h.SubmissionID, h.ContentID, tx.s.now().Unix()); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE submissions SET state = 'delivered' WHERE id = ?`, h.SubmissionID); err != nil {
				return err
			}
			tx.TouchList(h.ListID)
		}
		if _, err := tx.Exec(`UPDATE held SET state = ?, decision = ?, decided_by = ?, decided_at = ? WHERE id = ?`,
			state, reason, byPerson, tx.s.now().Unix(), id); err != nil {
			return err
		}
		return tx.Audit(actor, "list.moderate", h.List, map[string]any{"held": id, "decision": state, "reason": reason, "sender": h.Sender})
	})
	if err != nil {
		return nil, err
	}
	return s.HeldByID(ctx, id)
}

// ExpireHeld marks posts held past their expiry as expired and returns them,
// so their senders can be told.
func (s *Store) ExpireHeld(ctx context.Context) ([]Held, error) {
	var ids []int64
	err := s.Write(ctx, func(tx *Tx) error {
		ids = ids[:0]
		rows, err := tx.Query(`SELECT id FROM held WHERE state = 'held' AND expires_at <= ?`, tx.s.now().Unix())
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Exec(`UPDATE held SET state = 'expired', decided_at = ? WHERE id = ?`, tx.s.now().Unix(), id); err != nil {
				return err
			}
			if err := tx.Audit("system", "list.moderate", fmt.Sprint(id), map[string]any{"held": id, "decision": "expired"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Held
	for _, id := range ids {
		h, err := s.HeldByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *h)
	}
	return out, nil
}
