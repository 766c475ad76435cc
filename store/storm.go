package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The reply-all storm breaker's record (package policy decides; this file
// keeps what it decided). See SchemaStorm in store/sqlite.

// StormThread is one thread that has had replies to a large audience.
type StormThread struct {
	ThreadID     string     `json:"thread"`
	Subject      string     `json:"subject"`
	FirstSender  string     `json:"original_sender"`
	Audience     int64      `json:"audience"`       // the largest audience of a counted reply
	Replies      int64      `json:"replies"`        // large-audience replies accepted
	Braked       int64      `json:"braked"`         // of those, delivered to the list late
	Refused      int64      `json:"blocked"`        // large-audience replies refused while blocked
	InWindow     int64      `json:"replies_window"` // accepted within the sliding window (since the last unblock)
	State        string     `json:"state"`          // watch, brake or blocked (set by policy)
	FirstAt      time.Time  `json:"first_at"`
	LastAt       time.Time  `json:"last_at"`
	BlockedAt    *time.Time `json:"blocked_at,omitempty"`
	BlockedUntil *time.Time `json:"blocked_until,omitempty"` // set while a block is or was in force
	BlockedBy    string     `json:"blocked_by,omitempty"`    // "breaker" or the administrator
	UnblockedAt  *time.Time `json:"unblocked_at,omitempty"`
}

// Blocked reports whether the thread is blocked at t.
func (t *StormThread) Blocked(at time.Time) bool {
	return t.BlockedUntil != nil && t.BlockedUntil.After(at)
}

// StormReply is a large-audience reply the breaker let through.
type StormReply struct {
	ThreadID  string
	MessageID string
	Sender    string
	Subject   string
	Audience  int64
	Braked    bool
	At        time.Time
}

const stormCols = `t.thread_id, t.subject, t.first_sender, t.audience, t.replies, t.braked, t.refused, t.first_at, t.last_at,
	t.blocked_at, t.blocked_until, t.blocked_by, t.unblocked_at`

// windowCount counts a thread's replies after the window start, or after
// the last unblock when that is later.
const windowCount = `(SELECT COUNT(*) FROM storm_replies r WHERE r.thread_id = t.thread_id
	AND r.at > CASE WHEN t.unblocked_at > ? THEN t.unblocked_at ELSE ? END)`

func scanStorm(row interface{ Scan(...any) error }, withWindow bool) (*StormThread, error) {
	var t StormThread
	var first, last, bat, buntil, unb int64
	dest := []any{&t.ThreadID, &t.Subject, &t.FirstSender, &t.Audience, &t.Replies, &t.Braked, &t.Refused, &first, &last,
		&bat, &buntil, &t.BlockedBy, &unb}
	if withWindow {
		dest = append(dest, &t.InWindow)
	}
	if err := row.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	t.FirstAt, t.LastAt = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
	opt := func(v int64) *time.Time {
		if v == 0 {
			return nil
		}
		u := time.Unix(v, 0).UTC()
		return &u
	}
	t.BlockedAt, t.BlockedUntil, t.UnblockedAt = opt(bat), opt(buntil), opt(unb)
	return &t, nil
}

// StormThread returns one thread with its replies since windowStart (or
// since its last unblock, when later). ErrNotFound: the thread has had no
// large-audience reply and no block.
func (s *Store) StormThread(ctx context.Context, thread string, windowStart time.Time) (*StormThread, error) {
	w := windowStart.Unix()
	return scanStorm(s.r.QueryRowContext(ctx, s.q(`SELECT `+stormCols+`, `+windowCount+` FROM storm_threads t WHERE t.thread_id = ?`),
		w, w, thread), true)
}

// StormThreads returns the board: threads with a reply since `since` or a
// block still in force at now, newest first.
func (s *Store) StormThreads(ctx context.Context, windowStart, since, now time.Time, limit int) ([]StormThread, error) {
	w := windowStart.Unix()
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+stormCols+`, `+windowCount+` FROM storm_threads t
		WHERE t.last_at >= ? OR t.blocked_until > ? ORDER BY t.last_at DESC LIMIT ?`), w, w, since.Unix(), now.Unix(), limit)
	if err != nil {
		return nil, err
	}
	out := []StormThread{}
	for rows.Next() {
		t, err := scanStorm(rows, true)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *t)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// threadOrigin finds a thread's first message, for the board's subject and
// original sender. A thread started elsewhere has none: the reply's subject
// stands in, without its "Re:".
func threadOrigin(tx *Tx, thread, replySubject string) (subject, sender string, err error) {
	err = tx.QueryRow(`SELECT subject, sender FROM submissions WHERE message_id = ? ORDER BY id LIMIT 1`, thread).Scan(&subject, &sender)
	if errors.Is(err, sql.ErrNoRows) {
		return stripReply(replySubject), "", nil
	}
	return subject, sender, err
}

func stripReply(s string) string {
	for {
		t := strings.TrimSpace(s)
		l := strings.ToLower(t)
		switch {
		case strings.HasPrefix(l, "re:"), strings.HasPrefix(l, "aw:"):
			s = t[3:]
		case strings.HasPrefix(l, "fwd:"):
			s = t[4:]
		default:
			return t
		}
	}
}

// ensureStorm makes the thread's row if it has none.
func ensureStorm(tx *Tx, thread, replySubject string, at int64) error {
	subject, sender, err := threadOrigin(tx, thread, replySubject)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO storm_threads (thread_id, subject, first_sender, first_at, last_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (thread_id) DO NOTHING`, thread, subject, sender, at, at)
	return err
}

// recordStormReply records an accepted large-audience reply.
func recordStormReply(tx *Tx, r StormReply) error {
	at := r.At.Unix()
	if err := ensureStorm(tx, r.ThreadID, r.Subject, at); err != nil {
		return err
	}
	braked := 0
	if r.Braked {
		braked = 1
	}
	if _, err := tx.Exec(`INSERT INTO storm_replies (thread_id, at, message_id, sender, audience, braked) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ThreadID, at, r.MessageID, r.Sender, r.Audience, braked); err != nil {
		return err
	}
	_, err := tx.Exec(`UPDATE storm_threads SET replies = replies + 1, braked = braked + ?, last_at = ?,
		audience = CASE WHEN audience < ? THEN ? ELSE audience END WHERE thread_id = ?`,
		braked, at, r.Audience, r.Audience, r.ThreadID)
	return err
}

// blockStorm blocks a thread until `until` as the breaker, with the reply
// that reached the threshold in the audit trail.
func blockStorm(tx *Tx, r StormReply, until time.Time) error {
	if _, err := tx.Exec(`UPDATE storm_threads SET blocked_at = ?, blocked_until = ?, blocked_by = 'breaker' WHERE thread_id = ?`,
		r.At.Unix(), until.Unix(), r.ThreadID); err != nil {
		return err
	}
	return tx.Audit("breaker", "storm.block", r.ThreadID, map[string]any{"until": until.UTC(), "subject": r.Subject,
		"trigger": r.MessageID, "sender": r.Sender})
}

// RecordStormRefusal counts a large-audience reply refused on a blocked
// thread (or while the reply that blocks it is still being stored).
func (s *Store) RecordStormRefusal(ctx context.Context, thread, replySubject string) error {
	return s.Write(ctx, func(tx *Tx) error {
		now := tx.s.now().Unix()
		if err := ensureStorm(tx, thread, replySubject, now); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE storm_threads SET refused = refused + 1, last_at = ? WHERE thread_id = ?`, now, thread)
		return err
	})
}

// SetStormBlock blocks a thread until `until` (an administrator's block), or
// lifts its block when until is zero; replies before an unblock stop
// counting toward the window. The thread must be known: a message of it was
// submitted here, or it has had a large-audience reply.
func (s *Store) SetStormBlock(ctx context.Context, actor, thread string, until time.Time, reason string) (*StormThread, error) {
	thread = strings.TrimSpace(thread)
	if thread == "" {
		return nil, errors.New("no thread given")
	}
	if !strings.HasPrefix(thread, "<") {
		thread = "<" + thread + ">"
	}
	err := s.Write(ctx, func(tx *Tx) error {
		now := tx.s.now().Unix()
		var one int
		err := tx.QueryRow(`SELECT 1 FROM storm_threads WHERE thread_id = ?`, thread).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			var subject string
			err = tx.QueryRow(`SELECT subject FROM (`+threadSubmissions(`id, subject`)+`) AS t ORDER BY id LIMIT 1`, thread, thread).Scan(&subject)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: no message in thread %s", ErrNotFound, thread)
			}
			if err != nil {
				return err
			}
			if err := ensureStorm(tx, thread, subject, now); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if until.IsZero() {
			if _, err := tx.Exec(`UPDATE storm_threads SET blocked_until = 0, unblocked_at = ? WHERE thread_id = ?`, now, thread); err != nil {
				return err
			}
			return tx.Audit(actor, "storm.unblock", thread, map[string]any{"reason": reason})
		}
		if _, err := tx.Exec(`UPDATE storm_threads SET blocked_at = ?, blocked_until = ?, blocked_by = ? WHERE thread_id = ?`,
			now, until.Unix(), actor, thread); err != nil {
			return err
		}
		return tx.Audit(actor, "storm.block", thread, map[string]any{"until": until.UTC(), "reason": reason})
	})
	if err != nil {
		return nil, err
	}
	return s.StormThread(ctx, thread, s.now())
}
