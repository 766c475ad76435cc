package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// WebSession is one signed-in browser (or API client with a session).
// TokenHash is the SHA-256 (hex) of the cookie's token; the token itself is
// never stored.
type WebSession struct {
	TokenHash string
	PersonID  int64
	CSRF      string
	Created   time.Time
	LastSeen  time.Time
	Expires   time.Time // absolute: the session ends then however active it is
	Remote    string
	Agent     string
	// CredGen is the person's credential generation at sign-in: the
	// session ends when it changes (revoke.go).
	CredGen int64
}

const webSessionCols = `token_hash, person_id, csrf, created_at, last_seen, expires_at, remote, agent, cred_gen`

func scanWebSession(row interface{ Scan(...any) error }) (*WebSession, error) {
	var w WebSession
	var created, seen, expires int64
	err := row.Scan(&w.TokenHash, &w.PersonID, &w.CSRF, &created, &seen, &expires, &w.Remote, &w.Agent, &w.CredGen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	w.Created, w.LastSeen, w.Expires = time.Unix(created, 0), time.Unix(seen, 0), time.Unix(expires, 0)
	return &w, err
}

// CreateWebSession records a new session.
func (s *Store) CreateWebSession(ctx context.Context, w *WebSession) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO web_sessions (`+webSessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.TokenHash, w.PersonID, w.CSRF, w.Created.Unix(), w.LastSeen.Unix(), w.Expires.Unix(), w.Remote, w.Agent, w.CredGen)
		return err
	})
}

// WebSession finds a session by its token hash.
func (s *Store) WebSession(ctx context.Context, tokenHash string) (*WebSession, error) {
	return scanWebSession(s.r.QueryRowContext(ctx, s.q(`SELECT `+webSessionCols+` FROM web_sessions WHERE token_hash = ?`), tokenHash))
}

// WebSessions lists a person's sessions, newest first.
func (s *Store) WebSessions(ctx context.Context, personID int64) ([]WebSession, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+webSessionCols+` FROM web_sessions WHERE person_id = ? ORDER BY created_at DESC`), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WebSession
	for rows.Next() {
		w, err := scanWebSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}

// TouchWebSession records activity on a session.
func (s *Store) TouchWebSession(ctx context.Context, tokenHash string, at time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?`, at.Unix(), tokenHash)
		return err
	})
}

// DeleteWebSession ends one session.
func (s *Store) DeleteWebSession(ctx context.Context, tokenHash string) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM web_sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
}

// DeleteWebSessions ends every session of a person ("sign out everywhere")
// and says how many there were.
func (s *Store) DeleteWebSessions(ctx context.Context, personID int64) (int, error) {
	var n int64
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM web_sessions WHERE person_id = ?`, personID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// PruneWebSessions removes sessions idle since before idleBefore or past
// their absolute expiry, and uploads older than uploadsBefore.
func (s *Store) PruneWebSessions(ctx context.Context, idleBefore, now, uploadsBefore time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM web_sessions WHERE last_seen < ? OR expires_at <= ?`, idleBefore.Unix(), now.Unix()); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM web_uploads WHERE created_at < ?`, uploadsBefore.Unix())
		return err
	})
}
