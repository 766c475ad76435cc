package store

import (
	"context"
	"strings"
)

// AudienceCount is the number of distinct people a message reaches: the
// people named directly and the effective members of the lists, each person
// once. For one list and a few names it costs a lookup per name.
func (s *Store) AudienceCount(ctx context.Context, people, listIDs []int64) (int64, error) {
	people = dedup(people)
	listIDs = dedup(listIDs)
	switch len(listIDs) {
	case 0:
		return int64(len(people)), nil
	case 1:
		var n int64
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT size FROM lists WHERE id = ?`), listIDs[0]).Scan(&n); err != nil {
			return 0, err
		}
		for _, p := range people {
			in, err := s.IsMember(ctx, listIDs[0], p)
			if err != nil {
				return 0, err
			}
			if !in {
				n++
			}
		}
		return n, nil
	}
	q, args := audienceUnion(people, listIDs)
	var n int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM (`+q+`) a`), args...).Scan(&n)
	return n, err
}

// OrgCount is how many people of an audience belong to an organisation.
type OrgCount struct {
	Name   string `json:"name"`
	People int64  `json:"people"`
}

// AudienceOrgs breaks an audience down by organisation, largest first. For
// a national list this reads every member once (about a second for 1.2
// million people): it serves the audience preview, not delivery.
func (s *Store) AudienceOrgs(ctx context.Context, people, listIDs []int64) ([]OrgCount, error) {
	q, args := audienceUnion(dedup(people), dedup(listIDs))
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT o.name, COUNT(*) FROM (`+q+`) a JOIN people p ON p.id = a.pid
		JOIN orgs o ON o.id = p.org_id GROUP BY o.name ORDER BY COUNT(*) DESC, o.name`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OrgCount{}
	for rows.Next() {
		var c OrgCount
		if err := rows.Scan(&c.Name, &c.People); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// audienceUnion is a query for the distinct person ids (column pid).
func audienceUnion(people, listIDs []int64) (string, []any) {
	var parts []string
	var args []any
	if len(listIDs) > 0 {
		parts = append(parts, `SELECT person_id AS pid FROM memberships WHERE list_id IN (`+placeholders(len(listIDs))+`)`)
		for _, l := range listIDs {
			args = append(args, l)
		}
	}
	if len(people) > 0 {
		parts = append(parts, `SELECT id AS pid FROM people WHERE id IN (`+placeholders(len(people))+`)`)
		for _, p := range people {
			args = append(args, p)
		}
	}
	if len(parts) == 0 {
		return `SELECT 0 AS pid WHERE 1 = 0`, nil
	}
	return strings.Join(parts, ` UNION `), args
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func dedup(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// CountMailRows is how many message rows all mailboxes hold together.
func (s *Store) CountMailRows(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail`).Scan(&n)
	return n, err
}
