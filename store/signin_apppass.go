package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AppPassword is one device's password, as listed (never the secret).
type AppPassword struct {
	ID           int64     `json:"id"`
	PersonID     int64     `json:"person_id"`
	Name         string    `json:"name"`
	Scopes       []string  `json:"scopes"`
	CreatedAt    time.Time `json:"created_at"`
	LastUsedAt   time.Time `json:"last_used_at,omitzero"`
	LastUsedFrom string    `json:"last_used_from,omitempty"`
}

// AppPasswordRecord is a new app password: the SHA-256 of its secret.
type AppPasswordRecord struct {
	PersonID int64
	Name     string
	Hash     []byte
	Scopes   []string
}

// AddAppPassword stores a new app password and records it in the audit
// trail. A person's app passwords have distinct names (ErrExists).
func (s *Store) AddAppPassword(ctx context.Context, actor string, r AppPasswordRecord) (int64, error) {
	var id int64
	err := s.Write(ctx, func(tx *Tx) error {
		var n int
		err := tx.QueryRow(`SELECT 1 FROM app_passwords WHERE person_id = ? AND name = ?`, r.PersonID, r.Name).Scan(&n)
		if err == nil {
			return fmt.Errorf("an app password named %q: %w", r.Name, ErrExists)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(`INSERT INTO app_passwords (person_id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			r.PersonID, r.Name, r.Hash, strings.Join(r.Scopes, ","), tx.s.now().Unix()).Scan(&id); err != nil {
			return err
		}
		return tx.Audit(actor, "apppass.create", fmt.Sprint(r.PersonID), map[string]any{"name": r.Name, "scopes": r.Scopes})
	})
	return id, err
}

// AddAppPasswords stores many app passwords in one write, without an audit
// entry each: it is for seeding simulations.
func (s *Store) AddAppPasswords(ctx context.Context, recs []AppPasswordRecord) error {
	return s.Write(ctx, func(tx *Tx) error {
		now := tx.s.now().Unix()
		for _, r := range recs {
			if _, err := tx.Exec(`INSERT INTO app_passwords (person_id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)`,
				r.PersonID, r.Name, r.Hash, strings.Join(r.Scopes, ","), now); err != nil {
				return err
			}
		}
		return nil
	})
}

const appPassCols = `a.id, a.person_id, a.name, a.scopes, a.created_at, a.last_used_at, a.last_used_from`

func scanAppPassword(row interface{ Scan(...any) error }, extra ...any) (*AppPassword, error) {
	var a AppPassword
	var scopes string
	var created, used int64
	if err := row.Scan(append([]any{&a.ID, &a.PersonID, &a.Name, &scopes, &created, &used, &a.LastUsedFrom}, extra...)...); err != nil {
		return nil, err
	}
	if scopes != "" {
		a.Scopes = strings.Split(scopes, ",")
	}
	a.CreatedAt = time.Unix(created, 0).UTC()
	if used > 0 {
		a.LastUsedAt = time.Unix(used, 0).UTC()
	}
	return &a, nil
}

// AppPasswords lists a person's app passwords by name.
func (s *Store) AppPasswords(ctx context.Context, personID int64) ([]AppPassword, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+appPassCols+` FROM app_passwords a WHERE a.person_id = ? ORDER BY a.name`), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AppPassword
	for rows.Next() {
		a, err := scanAppPassword(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// AppPasswordOwner returns the app password with this SHA-256, the hash as
// stored (for a constant-time comparison by the caller) and its owner, in
// one query: the sign-in path of every device reconnecting at once.
// ErrNotFound when there is none.
func (s *Store) AppPasswordOwner(ctx context.Context, hash []byte) (*AppPassword, []byte, *Person, error) {
	var stored []byte
	var p Person
	var disabled int
	a, err := scanAppPassword(s.r.QueryRowContext(ctx, s.q(`SELECT `+appPassCols+`, a.hash, `+personCols+`
		FROM app_passwords a JOIN people p ON p.id = a.person_id JOIN orgs o ON o.id = p.org_id WHERE a.hash = ?`), hash),
		&stored, &p.ID, &p.Email, &p.Name, &p.OrgID, &p.Org, &p.Role, &p.Site, &p.PasswordHash, &disabled, &p.CredGen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, ErrNotFound
	} else if err != nil {
		return nil, nil, nil, err
	}
	p.Disabled = disabled != 0
	return a, stored, &p, nil
}

// RevokeAppPasswords deletes a person's app password by name, or all of them
// when name is empty, and records each in the audit trail. It returns how
// many went (ErrNotFound when a named one does not exist).
func (s *Store) RevokeAppPasswords(ctx context.Context, actor string, personID int64, name string) (int, error) {
	var n int
	err := s.Write(ctx, func(tx *Tx) error {
		q, args := `SELECT id, name FROM app_passwords WHERE person_id = ?`, []any{personID}
		if name != "" {
			q += ` AND name = ?`
			args = append(args, name)
		}
		rows, err := tx.Query(q, args...)
		if err != nil {
			return err
		}
		var names []string
		var ids []int64
		for rows.Next() {
			var id int64
			var nm string
			if err := rows.Scan(&id, &nm); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			names = append(names, nm)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if name != "" && len(names) == 0 {
			return fmt.Errorf("no app password named %q: %w", name, ErrNotFound)
		}
		for i, nm := range names {
			if _, err := tx.Exec(`DELETE FROM app_passwords WHERE person_id = ? AND name = ?`, personID, nm); err != nil {
				return err
			}
			// The sessions this app password opened end; the person's
			// others go on.
			if err := tx.recordRevocation(personID, ids[i], RevokedAppPassword); err != nil {
				return err
			}
			if err := tx.Audit(actor, "apppass.revoke", fmt.Sprint(personID), map[string]any{"name": nm}); err != nil {
				return err
			}
		}
		n = len(names)
		return nil
	})
	if err == nil && n > 0 {
		s.revocations.changed(personID)
	}
	return n, err
}

// TouchAppPassword records an app password's last use inside a write.
func (t *Tx) TouchAppPassword(id int64, at time.Time, from string) error {
	_, err := t.Exec(`UPDATE app_passwords SET last_used_at = ?, last_used_from = ? WHERE id = ? AND last_used_at <= ?`,
		at.Unix(), from, id, at.Unix())
	return err
}
