package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// The audit trail records who did what to whom: every administrative action,
// every list posting decision an administrator made, sign-in events. It is
// append-only; nothing in Wardmail edits or deletes an entry.

// AuditEntry is one line of the audit trail.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // an address, "cli:USER" or "system"
	Action string    `json:"action"` // dotted: "list.create", "admin.grant", "signin.lock"...
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"` // JSON object
}

// Audit appends an entry inside the caller's write. detail is marshalled as
// JSON; it must never hold a secret.
func (t *Tx) Audit(actor, action, target string, detail any) error {
	return t.auditConcerning(actor, action, target, detail, nil)
}

// auditConcerning is Audit for an entry that also concerns organisations
// its target no longer shows (a list's previous owners').
func (t *Tx) auditConcerning(actor, action, target string, detail any, also []int64) error {
	d := ""
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		d = string(b)
	}
	var id int64
	if err := t.QueryRow(`INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		t.s.now().Unix(), actor, action, target, d).Scan(&id); err != nil {
		return err
	}
	orgs, err := auditOrgs(t, action, target)
	if err != nil {
		return err
	}
	orgs = append(orgs, also...)
	for _, o := range orgs {
		if _, err := t.Exec(`INSERT INTO audit_orgs (audit_id, org_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, o); err != nil {
			return err
		}
	}
	return nil
}

// Audit appends an entry in a write of its own.
func (s *Store) Audit(ctx context.Context, actor, action, target string, detail any) error {
	return s.Write(ctx, func(tx *Tx) error { return tx.Audit(actor, action, target, detail) })
}

// AuditQuery selects entries; zero fields do not filter.
type AuditQuery struct {
	Since        time.Time
	Until        time.Time // entries before this time
	Actor        string
	ActionPrefix string // "list." for every list action
	Target       string
	Before       int64 // entries with a smaller id (paging backwards)
	// Orgs, when not nil, keeps the entries that concern one of these
	// organisations (audit_orgs.go): a local administrator's view. An empty,
	// non-nil Orgs keeps nothing.
	Orgs  []int64
	Limit int // default 100, at most 1000
}

// AuditLog returns entries, newest first.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > 1000 {
		q.Limit = 1000
	}
	query := `SELECT id, at, actor, action, target, detail FROM audit WHERE at >= ?`
	args := []any{q.Since.Unix()}
	if q.Since.IsZero() {
		args[0] = int64(0)
	}
	if q.ActionPrefix != "" {
		query += ` AND action >= ? AND action < ?`
		args = append(args, q.ActionPrefix, prefixEnd(q.ActionPrefix))
	}
	if q.Target != "" {
		query += ` AND target = ?`
		args = append(args, q.Target)
	}
	if q.Actor != "" {
		query += ` AND actor = ?`
		args = append(args, q.Actor)
	}
	if !q.Until.IsZero() {
		query += ` AND at < ?`
		args = append(args, q.Until.Unix())
	}
	if q.Before > 0 {
		query += ` AND id < ?`
		args = append(args, q.Before)
	}
	if q.Orgs != nil {
		if len(q.Orgs) == 0 {
			return nil, nil
		}
		query += ` AND id IN (SELECT audit_id FROM audit_orgs WHERE org_id IN (?` + strings.Repeat(`, ?`, len(q.Orgs)-1) + `))`
		for _, o := range q.Orgs {
			args = append(args, o)
		}
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
