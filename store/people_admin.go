package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Administering people one at a time, for the administrators' console
// (web/people.go). The CLI's `wardmail user` works through UpsertPeople,
// SetPassword and SetDisabled; the console uses those too and adds a search
// bounded to the administrator's organisations and an add that refuses an
// address already taken.

// PeopleQuery selects people for an administrator.
type PeopleQuery struct {
	// Prefix matches the start of the address or of the name
	// (case-insensitive); empty lists everyone in scope by address.
	Prefix string
	// Orgs bounds the search to these organisations; nil means every one.
	Orgs []int64
	// After continues a listing after this address.
	After string
	Limit int
}

// SearchPeople returns people matching q, ordered by address. The address
// and name matches are index range scans (the UNIQUE index and
// people_name_lower); the organisation bound is applied to their rows.
func (s *Store) SearchPeople(ctx context.Context, q PeopleQuery) ([]Person, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	if q.Orgs != nil && len(q.Orgs) == 0 {
		return nil, nil
	}
	prefix := strings.ToLower(strings.TrimSpace(q.Prefix))
	if len(prefix) > 320 || !utf8.ValidString(prefix) {
		return nil, nil
	}
	where := []string{"p.email > ?"}
	args := []any{strings.ToLower(q.After)}
	if prefix != "" {
		hi := prefix + "\U0010FFFF"
		where = append(where, "((p.email >= ? AND p.email < ?) OR (lower(p.name) >= ? AND lower(p.name) < ?))")
		args = append(args, prefix, hi, prefix, hi)
	}
	if q.Orgs != nil {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(q.Orgs)), ",")
		where = append(where, "p.org_id IN ("+marks+")")
		for _, o := range q.Orgs {
			args = append(args, o)
		}
	}
	args = append(args, q.Limit)
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+personCols+` FROM people p JOIN orgs o ON o.id = p.org_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY p.email LIMIT ?`), args...)
	if err != nil {
		return nil, err
	}
	return scanPeople(rows)
}

// OrgByName finds an organisation by its exact name (ErrNotFound).
func (s *Store) OrgByName(ctx context.Context, name string) (*Org, error) {
	var o Org
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, name, code FROM orgs WHERE name = ?`), strings.TrimSpace(name)).Scan(&o.ID, &o.Name, &o.Code)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &o, err
}

// AddPerson adds one person, refusing an address that is taken
// (ErrExists), and records it in the audit trail in the same write. The
// person then joins the dynamic lists their organisation and role match.
func (s *Store) AddPerson(ctx context.Context, actor string, r PersonRecord) (*Person, error) {
	email := strings.ToLower(strings.TrimSpace(r.Email))
	err := s.Write(ctx, func(tx *Tx) error {
		var one int
		err := tx.QueryRow(`SELECT 1 FROM people WHERE email = ?`, email).Scan(&one)
		if err == nil {
			return fmt.Errorf("%s: %w", email, ErrExists)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		r.Email = email
		if err := upsertPeople(tx, []PersonRecord{r}, map[string]int64{}, map[string]bool{}); err != nil {
			return err
		}
		return tx.Audit(actor, "person.add", email, map[string]any{"name": r.Name, "org": r.Org, "role": r.Role,
			"site": r.Site, "password": r.PasswordHash != ""})
	})
	if err != nil {
		return nil, err
	}
	p, err := s.PersonByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	return p, s.SyncPeople(ctx, []int64{p.ID})
}
