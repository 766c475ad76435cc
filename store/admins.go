package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Administrator roles. A local administrator manages one organisation; a
// national administrator manages everything.
const (
	RoleLocal    = "local"
	RoleNational = "national"
)

// Admin is one grant.
type Admin struct {
	PersonID  int64     `json:"person_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	OrgID     int64     `json:"org_id,omitempty"`
	Org       string    `json:"org,omitempty"`
	GrantedAt time.Time `json:"granted_at"`
}

// GrantAdmin makes a person an administrator and records it in the audit
// trail. A local grant names an organisation; a national one does not.
func (s *Store) GrantAdmin(ctx context.Context, actor string, personID int64, role string, orgID int64) error {
	switch {
	case role == RoleLocal && orgID == 0:
		return fmt.Errorf("a local administrator needs an organisation")
	case role == RoleNational:
		orgID = 0
	case role != RoleLocal:
		return fmt.Errorf("unknown administrator role %q: use local or national", role)
	}
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO admins (person_id, role, org_id, granted_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			personID, role, orgID, tx.s.now().Unix()); err != nil {
			return err
		}
		return tx.Audit(actor, "admin.grant", fmt.Sprint(personID), map[string]any{"role": role, "org_id": orgID})
	})
}

// RevokeAdmin removes every administrator grant of a person.
func (s *Store) RevokeAdmin(ctx context.Context, actor string, personID int64) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM admins WHERE person_id = ?`, personID); err != nil {
			return err
		}
		return tx.Audit(actor, "admin.revoke", fmt.Sprint(personID), nil)
	})
}

// AdminGrants returns a person's grants (none for most people).
func (s *Store) AdminGrants(ctx context.Context, personID int64) ([]Admin, error) {
	return s.admins(ctx, `WHERE a.person_id = ?`, personID)
}

// Admins returns every grant.
func (s *Store) Admins(ctx context.Context) ([]Admin, error) {
	return s.admins(ctx, ``)
}

func (s *Store) admins(ctx context.Context, where string, args ...any) ([]Admin, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT a.person_id, p.email, a.role, a.org_id, COALESCE(o.name, ''), a.granted_at
		FROM admins a JOIN people p ON p.id = a.person_id LEFT JOIN orgs o ON o.id = a.org_id `+where+` ORDER BY p.email`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Admin
	for rows.Next() {
		var a Admin
		var at int64
		if err := rows.Scan(&a.PersonID, &a.Email, &a.Role, &a.OrgID, &a.Org, &at); err != nil {
			return nil, err
		}
		a.GrantedAt = time.Unix(at, 0).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// CanAdminister reports whether a person administers an organisation
// (orgID 0: asks for national rights).
func (s *Store) CanAdminister(ctx context.Context, personID, orgID int64) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM admins WHERE person_id = ? AND (role = 'national' OR (role = 'local' AND org_id = ? AND org_id != 0)) LIMIT 1`),
		personID, orgID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// IsAdmin reports whether a person holds any administrator grant.
func (s *Store) IsAdmin(ctx context.Context, personID int64) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM admins WHERE person_id = ? LIMIT 1`), personID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
