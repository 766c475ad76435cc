package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LockoutRow is the persisted smart-lockout state of one (account, source).
type LockoutRow struct {
	Account     string    `json:"account"`
	Source      string    `json:"source"`
	Familiar    bool      `json:"familiar"`
	Failures    int       `json:"failures"`
	Locks       int       `json:"locks"`
	LockedAt    time.Time `json:"locked_at,omitzero"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	// Fingerprints are the last wrong secrets' keyed hashes, oldest first
	// (never the secrets).
	Fingerprints []uint32 `json:"-"`
}

// encodeFingerprints writes fingerprints as 8 hex digits each.
func encodeFingerprints(fps []uint32) string {
	var b strings.Builder
	for _, f := range fps {
		fmt.Fprintf(&b, "%08x", f)
	}
	return b.String()
}

// decodeFingerprints reads what encodeFingerprints wrote; anything else
// (a damaged row) gives what could be read.
func decodeFingerprints(s string) []uint32 {
	var out []uint32
	for ; len(s) >= 8; s = s[8:] {
		v, err := strconv.ParseUint(s[:8], 16, 32)
		if err != nil {
			break
		}
		out = append(out, uint32(v))
	}
	return out
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// SaveLockout writes one counter row inside a write.
func (t *Tx) SaveLockout(r LockoutRow) error {
	_, err := t.Exec(`INSERT INTO signin_counters (account, source, familiar, failures, locks, locked_at, locked_until, last_failure, fingerprints)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, source) DO UPDATE SET familiar = excluded.familiar, failures = excluded.failures,
			locks = excluded.locks, locked_at = excluded.locked_at, locked_until = excluded.locked_until,
			last_failure = excluded.last_failure, fingerprints = excluded.fingerprints`,
		r.Account, r.Source, boolInt(r.Familiar), r.Failures, r.Locks, unix(r.LockedAt), unix(r.LockedUntil), unix(r.LastFailure),
		encodeFingerprints(r.Fingerprints))
	return err
}

// DeleteLockout forgets one counter row inside a write.
func (t *Tx) DeleteLockout(account, source string) error {
	_, err := t.Exec(`DELETE FROM signin_counters WHERE account = ? AND source = ?`, account, source)
	return err
}

func (s *Store) lockoutRows(ctx context.Context, where string, args ...any) ([]LockoutRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT account, source, familiar, failures, locks, locked_at, locked_until, last_failure, fingerprints
		FROM signin_counters `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LockoutRow
	for rows.Next() {
		var r LockoutRow
		var at, until, last int64
		var fps string
		if err := rows.Scan(&r.Account, &r.Source, &r.Familiar, &r.Failures, &r.Locks, &at, &until, &last, &fps); err != nil {
			return nil, err
		}
		r.LockedAt, r.LockedUntil, r.LastFailure = fromUnix(at), fromUnix(until), fromUnix(last)
		r.Fingerprints = decodeFingerprints(fps)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LockoutState returns every counter row with a failure since the given
// time or a lock still running: what a starting server loads.
func (s *Store) LockoutState(ctx context.Context, since time.Time) ([]LockoutRow, error) {
	return s.lockoutRows(ctx, `WHERE last_failure >= ? OR locked_until > ?`, since.Unix(), s.now().Unix())
}

// Lockouts returns the locks running now, newest first.
func (s *Store) Lockouts(ctx context.Context) ([]LockoutRow, error) {
	return s.lockoutRows(ctx, `WHERE locked_until > ? ORDER BY locked_at DESC, account, source`, s.now().Unix())
}

// Unlock forgets the lockout state of the named accounts (locked or not),
// and, when lockedSince is not zero, of every account with a lock running
// now that began at or after it. Each unlocked account gets an audit entry
// and a row in signin_unlocks, which a running server polls. It returns the
// locks that were running.
func (s *Store) Unlock(ctx context.Context, actor string, accounts []string, lockedSince time.Time) ([]LockoutRow, error) {
	var out []LockoutRow
	err := s.Write(ctx, func(tx *Tx) error {
		now := tx.s.now().Unix()
		set := map[string]bool{}
		for _, a := range accounts {
			set[a] = true
		}
		if !lockedSince.IsZero() {
			rows, err := tx.Query(`SELECT DISTINCT account FROM signin_counters WHERE locked_until > ? AND locked_at >= ?`, now, lockedSince.Unix())
			if err != nil {
				return err
			}
			for rows.Next() {
				var a string
				if err := rows.Scan(&a); err != nil {
					rows.Close()
					return err
				}
				set[a] = true
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
		}
		out = out[:0]
		for a := range set {
			rows, err := tx.Query(`SELECT source, locked_at, locked_until FROM signin_counters WHERE account = ? AND locked_until > ?`, a, now)
			if err != nil {
				return err
			}
			var sources []string
			for rows.Next() {
				r := LockoutRow{Account: a}
				var at, until int64
				if err := rows.Scan(&r.Source, &at, &until); err != nil {
					rows.Close()
					return err
				}
				r.LockedAt, r.LockedUntil = fromUnix(at), fromUnix(until)
				out = append(out, r)
				sources = append(sources, r.Source)
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
			if _, err := tx.Exec(`DELETE FROM signin_counters WHERE account = ?`, a); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO signin_unlocks (account, at, actor) VALUES (?, ?, ?)`, a, now, actor); err != nil {
				return err
			}
			if err := tx.Audit(actor, "signin.unlock", a, map[string]any{"locked_sources": sources}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// UnlockEvent is one row of signin_unlocks.
type UnlockEvent struct {
	ID      int64
	Account string
}

// UnlocksAfter returns unlocks with an id above after, oldest first.
func (s *Store) UnlocksAfter(ctx context.Context, after int64) ([]UnlockEvent, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, account FROM signin_unlocks WHERE id > ? ORDER BY id LIMIT 10000`), after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UnlockEvent
	for rows.Next() {
		var e UnlockEvent
		if err := rows.Scan(&e.ID, &e.Account); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastUnlockID returns the newest signin_unlocks id (0 when none).
func (s *Store) LastUnlockID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM signin_unlocks`).Scan(&id)
	return id.Int64, err
}

// SetSignInControl sets a switch shared by the server and the CLI
// ("incident" = "on"/"off") and records it in the audit trail.
func (s *Store) SetSignInControl(ctx context.Context, actor, key, value string) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO signin_control (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			key, value, tx.s.now().Unix()); err != nil {
			return err
		}
		return tx.Audit(actor, "signin.control", key, map[string]string{"value": value})
	})
}

// SignInControl returns a switch's value ("" when never set).
func (s *Store) SignInControl(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT value FROM signin_control WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetFamiliar records a successful sign-in from a source inside a write.
func (t *Tx) SetFamiliar(account, source string, at time.Time) error {
	_, err := t.Exec(`INSERT INTO signin_familiar (account, source, last_success) VALUES (?, ?, ?)
		ON CONFLICT (account, source) DO UPDATE SET last_success = CASE
			WHEN excluded.last_success > signin_familiar.last_success THEN excluded.last_success ELSE signin_familiar.last_success END`,
		account, source, at.Unix())
	return err
}

// LastSuccess returns when an account last signed in from a source (zero
// when never).
func (s *Store) LastSuccess(ctx context.Context, account, source string) (time.Time, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT last_success FROM signin_familiar WHERE account = ? AND source = ?`), account, source).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return fromUnix(at), err
}
