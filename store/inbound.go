package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// What the inbound checks (package inbound) ask of the directory, and where
// mail judged as junk goes.

// LocalDomainNames lists the domains the service receives mail for.
func (s *Store) LocalDomainNames(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT name FROM domains ORDER BY name`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PersonNamed reports whether an enabled person has this display name,
// without regard to case (the people_name_lower index).
func (s *Store) PersonNamed(ctx context.Context, name string) (bool, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || len(name) > 320 {
		return false, nil
	}
	var one int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM people WHERE lower(name) = ? AND disabled = 0 LIMIT 1`), name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
