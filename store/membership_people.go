package store

import (
	"context"
	"maps"
	"slices"
	"sort"
)

// SyncPeople brings the memberships of the given people up to date after
// their organisation, role, site or status changed (an import, `user add`).
func (s *Store) SyncPeople(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	defs, err := s.loadDefs(ctx)
	if err != nil {
		return err
	}
	if len(defs) == 0 {
		return nil
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	const batch = 500
	changedLists := map[int64]bool{}
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		type change struct {
			person, list int64
			join         bool
		}
		var changes []change
		for _, id := range part {
			p, disabled, err := s.personAttrs(ctx, id)
			if err != nil {
				return err
			}
			var want []int64
			if !disabled {
				want = memberOf(defs, p)
			}
			have, err := s.personLists(ctx, id)
			if err != nil {
				return err
			}
			for _, l := range want {
				if !slices.Contains(have, l) {
					changes = append(changes, change{id, l, true})
				}
			}
			for _, l := range have {
				if !slices.Contains(want, l) {
					changes = append(changes, change{id, l, false})
				}
			}
		}
		if len(changes) == 0 {
			continue
		}
		locks := map[int64]bool{}
		for _, c := range changes {
			locks[c.list] = true
		}
		lockOrder := slices.Sorted(maps.Keys(locks))
		if err := s.Write(ctx, func(tx *Tx) error {
			for _, l := range lockOrder {
				if err := lockList(tx, l); err != nil {
					return err
				}
			}
			end, err := logEnd(tx)
			if err != nil {
				return err
			}
			var joiners []int64
			for _, c := range changes {
				if c.join {
					joiners = append(joiners, c.person)
					_, err = tx.Exec(`INSERT INTO memberships (list_id, person_id, pos) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, c.list, c.person, end)
				} else {
					if _, err = materialise(tx, c.person, c.list); err == nil {
						_, err = tx.Exec(`DELETE FROM memberships WHERE list_id = ? AND person_id = ?`, c.list, c.person)
					}
				}
				if err != nil {
					return err
				}
			}
			return touchInboxes(tx, joiners)
		}); err != nil {
			return err
		}
		for _, c := range changes {
			changedLists[c.list] = true
		}
	}
	return s.Write(ctx, func(tx *Tx) error {
		for l := range changedLists {
			if _, err := tx.Exec(`UPDATE lists SET size = (SELECT COUNT(*) FROM memberships WHERE list_id = ?) WHERE id = ?`, l, l); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) personAttrs(ctx context.Context, id int64) (personAttrs, bool, error) {
	p := personAttrs{id: id}
	var disabled int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT p.org_id, o.name, p.role, p.site, p.disabled FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.id = ?`), id).
		Scan(&p.orgID, &p.attrs.Org, &p.attrs.Role, &p.attrs.Site, &disabled)
	return p, disabled != 0, err
}

// personLists returns the lists a person is an effective member of.
func (s *Store) personLists(ctx context.Context, personID int64) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT list_id FROM memberships WHERE person_id = ?`), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var l int64
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// PersonLists returns the ids of the lists a person belongs to, for
// subscribing to their posts.
func (s *Store) PersonLists(ctx context.Context, personID int64) ([]int64, error) {
	return s.personLists(ctx, personID)
}

// SyncDynamicLists re-evaluates every dynamic list (and the lists they are
// nested in) against the directory: what an import calls once at the end,
// rather than a per-person update for a million rows.
func (s *Store) SyncDynamicLists(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM lists WHERE kind = 'dynamic' ORDER BY id`)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.SyncList(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// disabledPeople is the set of people who belong to no list while disabled.
func (s *Store) disabledPeople(ctx context.Context) (map[int64]bool, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM people WHERE disabled != 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// touchJoinersMax bounds how many joiners' sessions a membership change
// wakes at once.
const touchJoinersMax = 1000

// touchInboxes wakes the open INBOX sessions of these people, so that they
// subscribe to the lists they just joined.
func touchInboxes(tx *Tx, people []int64) error {
	for len(people) > 0 {
		n := min(len(people), 500)
		args := make([]any, n)
		for i, p := range people[:n] {
			args[i] = p
		}
		people = people[n:]
		rows, err := tx.Query(`SELECT id FROM mailboxes WHERE name = 'INBOX' AND person_id IN (`+placeholders(n)+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			tx.Touch(id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}
