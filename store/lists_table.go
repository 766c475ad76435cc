package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// The administrators' list table (GET /api/v1/admin/lists) shows every list
// with its owners, named senders and approvals. Loading them list by list is
// 1 + 4 queries a list; ListsWithDetails loads them for all the lists at
// once, in four queries whatever their number (docs/benchmarks.md).

// ListQuery selects lists; zero fields do not filter.
type ListQuery struct {
	Contains string // in the address or the name, any case
	// Offset and Limit page through the lists in address order (Limit 0:
	// all). Callers that filter further (a local administrator's scope)
	// page after filtering instead.
	Offset, Limit int
}

// listWhere is the filter of q as SQL on lists.
func listWhere(q ListQuery) (string, []any) {
	c := strings.ToLower(strings.TrimSpace(q.Contains))
	if c == "" {
		return "", nil
	}
	pat := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(c) + "%"
	return ` WHERE (lower(address) LIKE ? ESCAPE '\' OR lower(name) LIKE ? ESCAPE '\')`, []any{pat, pat}
}

// CountLists counts the lists q selects (Offset and Limit aside).
func (s *Store) CountLists(ctx context.Context, q ListQuery) (int, error) {
	where, args := listWhere(q)
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM lists`+where), args...).Scan(&n)
	return n, err
}

// ListsWithDetails returns the lists q selects, by address, each with its
// owners (and their organisations), named senders and approvals.
func (s *Store) ListsWithDetails(ctx context.Context, q ListQuery) ([]*List, error) {
	where, args := listWhere(q)
	page := ""
	if q.Limit > 0 {
		page = ` LIMIT ? OFFSET ?`
		args = append(args, q.Limit, q.Offset)
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+listCols+` FROM lists`+where+` ORDER BY address`+page), args...)
	if err != nil {
		return nil, err
	}
	var out []*List
	byID := map[int64]*List{}
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		l.Owners, l.OwnerOrgs = []string{}, []int64{}
		out = append(out, l)
		byID[l.ID] = l
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	// The details of the same lists: the filter again as a subquery, so a
	// narrow filter reads few detail rows.
	in := ""
	if where != "" || page != "" {
		in = ` AND x.list_id IN (SELECT id FROM lists` + where + ` ORDER BY address` + page + `)`
	}
	err = s.eachRow(ctx, `SELECT x.list_id, p.email, p.org_id FROM list_owners x JOIN people p ON p.id = x.person_id WHERE 1 = 1`+in+` ORDER BY x.list_id, p.email`, args,
		func(scan func(...any) error) error {
			var id, org int64
			var email string
			if err := scan(&id, &email, &org); err != nil {
				return err
			}
			if l := byID[id]; l != nil {
				l.Owners, l.OwnerOrgs = append(l.Owners, email), append(l.OwnerOrgs, org)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = s.eachRow(ctx, `SELECT x.list_id, p.email FROM list_senders x JOIN people p ON p.id = x.person_id WHERE 1 = 1`+in+` ORDER BY x.list_id, p.email`, args,
		func(scan func(...any) error) error {
			var id int64
			var email string
			if err := scan(&id, &email); err != nil {
				return err
			}
			if l := byID[id]; l != nil {
				l.Senders = append(l.Senders, email)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = s.eachRow(ctx, `SELECT x.list_id, p.email, x.size, x.at FROM list_approvals x JOIN people p ON p.id = x.admin_id WHERE 1 = 1`+in+` ORDER BY x.list_id, x.at`, args,
		func(scan func(...any) error) error {
			var id, at int64
			var a Approval
			if err := scan(&id, &a.Admin, &a.Size, &at); err != nil {
				return err
			}
			a.At = time.Unix(at, 0).UTC()
			if l := byID[id]; l != nil {
				l.Approvals = append(l.Approvals, a)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, l := range out {
		if l.Senders == nil {
			l.Senders = []string{}
		}
	}
	return out, nil
}

// eachRow runs a query on the read pool and calls row for each result.
func (s *Store) eachRow(ctx context.Context, query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			rows.Close()
			return err
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}

// OrgNames maps organisation ids to names, without the head counts Orgs
// adds (a count over every person).
func (s *Store) OrgNames(ctx context.Context) (map[int64]string, error) {
	out := map[int64]string{}
	err := s.eachRow(ctx, `SELECT id, name FROM orgs`, nil, func(scan func(...any) error) error {
		var id int64
		var name string
		if err := scan(&id, &name); err != nil {
			return err
		}
		out[id] = name
		return nil
	})
	return out, err
}
