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
	ID     int64  `json:"id"`
	ListID int64  `json:"list_id"`
	List   string `json:"list"` // the list whose moderators decide
	// PostTo is the list the post goes to once approved: List itself, or a
	// list that List is inside (the sender posted to that one).
	PostListID int64  `json:"post_list_id"`
	PostTo     string `json:"post_to"`
	// Waiting names the other lists inside PostTo whose moderators have
	// still to approve the post before it goes.
	Waiting      []string  `json:"waiting,omitempty"`
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

const heldFrom = `held h JOIN lists l ON l.id = h.list_id LEFT JOIN lists pl ON pl.id = h.post_list_id
	JOIN submissions s ON s.id = h.submission_id`

const heldCols = `h.id, h.list_id, l.address, h.post_list_id, COALESCE(pl.address, ''), h.submission_id, h.content_id, h.sender, s.subject, h.reason, h.state, h.decision, h.created_at, h.expires_at`

func scanHeld(row interface{ Scan(...any) error }) (*Held, error) {
	var h Held
	var at, exp int64
	err := row.Scan(&h.ID, &h.ListID, &h.List, &h.PostListID, &h.PostTo, &h.SubmissionID, &h.ContentID, &h.Sender, &h.Subject, &h.Reason, &h.State, &h.Decision, &at, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	h.At, h.Expires = time.Unix(at, 0).UTC(), time.Unix(exp, 0).UTC()
	return &h, err
}

// HeldPosts returns the posts waiting for a list's moderators (listID 0:
// every list's), oldest first.
func (s *Store) HeldPosts(ctx context.Context, listID int64) ([]Held, error) {
	q := `SELECT ` + heldCols + ` FROM ` + heldFrom + ` WHERE h.state = 'held'`
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.fillWaiting(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// fillWaiting sets each held post's Waiting: the other lists holding the
// same submission for the same list (a post held by several lists inside
// the one it was sent to goes once all of them approve), 500 submissions a
// query.
func (s *Store) fillWaiting(ctx context.Context, held []Held) error {
	type post struct{ submission, list int64 }
	type holder struct {
		id      int64
		address string
	}
	for start := 0; start < len(held); start += 500 {
		chunk := held[start:min(len(held), start+500)]
		args := make([]any, len(chunk))
		for i, h := range chunk {
			args[i] = h.SubmissionID
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT h.id, h.submission_id, h.post_list_id, l.address FROM held h JOIN lists l ON l.id = h.list_id
			WHERE h.state = 'held' AND h.submission_id IN (`+placeholders(len(args))+`) ORDER BY l.address`), args...)
		if err != nil {
			return err
		}
		holders := map[post][]holder{}
		for rows.Next() {
			var p post
			var h holder
			if err := rows.Scan(&h.id, &p.submission, &p.list, &h.address); err != nil {
				rows.Close()
				return err
			}
			holders[p] = append(holders[p], h)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for i := range chunk {
			for _, o := range holders[post{chunk[i].SubmissionID, chunk[i].PostListID}] {
				if o.id != chunk[i].ID {
					chunk[i].Waiting = append(chunk[i].Waiting, o.address)
				}
			}
		}
	}
	return nil
}

// HeldByID returns one held post.
func (s *Store) HeldByID(ctx context.Context, id int64) (*Held, error) {
	h, err := scanHeld(s.r.QueryRowContext(ctx, s.q(`SELECT `+heldCols+` FROM `+heldFrom+` WHERE h.id = ?`), id))
	if err != nil {
		return nil, err
	}
	h.Waiting, err = s.addresses(ctx, `SELECT l.address FROM held h JOIN lists l ON l.id = h.list_id
		WHERE h.submission_id = ? AND h.post_list_id = ? AND h.id != ? AND h.state = 'held' ORDER BY l.address`, h.SubmissionID, h.PostListID, h.ID)
	if len(h.Waiting) == 0 {
		h.Waiting = nil
	}
	return h, err
}

// DecideHeld approves or rejects a held post, recording who decided and why.
// A post held by several lists (the one it was sent to and lists inside it
// that hold it for their own moderators) goes to its list's log when the
// last of them approves; one rejection rejects it for all of them.
func (s *Store) DecideHeld(ctx context.Context, actor string, id int64, approve bool, reason string, byPerson int64) (*Held, error) {
	err := s.Write(ctx, func(tx *Tx) error {
		h, err := scanHeld(tx.QueryRow(`SELECT `+heldCols+` FROM `+heldFrom+` WHERE h.id = ?`, id))
		if err != nil {
			return err
		}
		if h.State != "held" {
			return fmt.Errorf("the post was already %s", h.State)
		}
		// The submission's row lock orders the moderators deciding its
		// held entries, on this node or another: whoever decides last
		// counts the others' decisions, so an approval by every list
		// posts it once, never twice and never not at all. The list the
		// post would go to is locked first, as every writer locks lists
		// before anything else (lockList).
		if err := lockList(tx, h.PostListID); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE submissions SET state = state WHERE id = ?`, h.SubmissionID); err != nil {
			return err
		}
		now := tx.s.now().Unix()
		state := "rejected"
		if approve {
			state = "approved"
		}
		// Decided once: a moderator who decided at the same moment
		// elsewhere changed the state first, and this changes nothing.
		res, err := tx.Exec(`UPDATE held SET state = ?, decision = ?, decided_by = ?, decided_at = ? WHERE id = ? AND state = 'held'`,
			state, reason, byPerson, now, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var now string
			if err := tx.QueryRow(`SELECT state FROM held WHERE id = ?`, id).Scan(&now); err != nil {
				return err
			}
			return fmt.Errorf("the post was already %s", now)
		}
		if !approve {
			// The post goes nowhere: the other lists' moderators need not
			// decide it any more.
			if _, err := tx.Exec(`UPDATE held SET state = 'rejected', decision = ?, decided_by = ?, decided_at = ?
				WHERE submission_id = ? AND post_list_id = ? AND state = 'held'`,
				fmt.Sprintf("rejected by the moderators of %s: %s", h.List, reason), byPerson, now, h.SubmissionID, h.PostListID); err != nil {
				return err
			}
		} else {
			var waiting int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM held WHERE submission_id = ? AND post_list_id = ? AND state = 'held'`,
				h.SubmissionID, h.PostListID).Scan(&waiting); err != nil {
				return err
			}
			if waiting == 0 {
				if _, err := tx.Exec(`INSERT INTO posts (list_id, submission_id, content_id, created_at) VALUES (?, ?, ?, ?)`,
					h.PostListID, h.SubmissionID, h.ContentID, now); err != nil {
					return err
				}
				if _, err := tx.Exec(`UPDATE submissions SET state = 'delivered' WHERE id = ?`, h.SubmissionID); err != nil {
					return err
				}
				tx.TouchList(h.PostListID)
			}
		}
		return tx.Audit(actor, "list.moderate", h.List, map[string]any{"held": id, "decision": state, "reason": reason, "sender": h.Sender, "post_to": h.PostTo})
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
	// A post held by several lists expires for all of them at once: one
	// entry each, so its sender is told once.
	var out []Held
	told := map[[2]int64]bool{}
	for _, id := range ids {
		h, err := s.HeldByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if k := [2]int64{h.SubmissionID, h.PostListID}; !told[k] {
			told[k] = true
			out = append(out, *h)
		}
	}
	return out, nil
}
