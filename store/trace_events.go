package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// TraceHeld is one time a list held a message for its moderators (or the
// storm brake), and what became of it.
type TraceHeld struct {
	List      string     `json:"list"`
	Reason    string     `json:"reason"`
	State     string     `json:"state"` // held, approved, rejected, expired, purged, deleted
	Decision  string     `json:"decision,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"` // empty: by Wardmail (expiry, the storm brake's release)
	At        time.Time  `json:"at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// TracePurge is the purge that removed a message, from the audit trail.
type TracePurge struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Target string    `json:"target"` // "message <id>" or "thread <id>"
}

// traceEvents adds a traced message's moderation history and its purge.
func (s *Store) traceEvents(ctx context.Context, t *Trace) error {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT l.address, h.reason, h.state, h.decision, COALESCE(p.email, ''), h.created_at, h.decided_at
		FROM held h JOIN lists l ON l.id = h.list_id LEFT JOIN people p ON p.id = h.decided_by
		WHERE h.submission_id = ? ORDER BY h.id`), t.ID)
	if err != nil {
		return err
	}
	t.Moderation = []TraceHeld{}
	for rows.Next() {
		var h TraceHeld
		var at, decided int64
		if err := rows.Scan(&h.List, &h.Reason, &h.State, &h.Decision, &h.DecidedBy, &at, &decided); err != nil {
			rows.Close()
			return err
		}
		h.At = time.Unix(at, 0).UTC()
		if decided > 0 {
			d := time.Unix(decided, 0).UTC()
			h.DecidedAt = &d
		}
		t.Moderation = append(t.Moderation, h)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	if t.State != "purged" {
		return nil
	}
	var p TracePurge
	var at int64
	err = s.r.QueryRowContext(ctx, s.q(`SELECT actor, at, target FROM audit WHERE action = 'message.purge' AND target IN (?, ?, ?, ?)
		ORDER BY id DESC LIMIT 1`), "message "+t.MessageID, "thread "+t.ThreadID, "message "+bare(t.MessageID), "thread "+bare(t.ThreadID)).Scan(&p.By, &at, &p.Target)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // purged as part of another thread's purge
	}
	if err != nil {
		return err
	}
	p.At = time.Unix(at, 0).UTC()
	t.Purged = &p
	return nil
}

// bare is a Message-ID without its angle brackets, as a purge may name it.
func bare(id string) string { return strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">") }
