package store

import (
	"context"
	"strings"
)

// maxNameLookup bounds the addresses one DirectoryNames call looks up (a
// page of the message list names at most a few hundred).
const maxNameLookup = 500

// DirectoryNames returns the directory's name of each address that belongs
// to a person, keyed by the lower-case address; addresses of nobody (and
// any past the first 500) are left out.
func (s *Store) DirectoryNames(ctx context.Context, addrs []string) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	var args []any
	for _, a := range addrs {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" || seen[a] || len(args) == maxNameLookup {
			continue
		}
		seen[a] = true
		args = append(args, a)
	}
	if len(args) == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT email, name FROM people WHERE email IN (`+placeholders(len(args))+`)`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var email, name string
		if err := rows.Scan(&email, &name); err != nil {
			return nil, err
		}
		if name != "" {
			out[email] = name
		}
	}
	return out, rows.Err()
}
