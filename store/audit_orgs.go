package store

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"wardmail/lists"
)

// The organisations an audit entry concerns, so that local administrators
// can read the entries of their organisations. They are worked out once,
// when the entry is written, from what the entry is about:
//
//   - a person (by address, or by id for app passwords, two-step sign-in and
//     administrator grants): their organisation;
//   - a list (by address, or a held post's id): the organisations of its
//     owners and, for a dynamic list scoped to organisations, those.
//
// Entries about neither (a purge, a storm, a setting) concern no single
// organisation, and neither do entries written before audit_orgs existed:
// both stay for national administrators only. The audit row itself is never
// changed; audit_orgs rows are written in the same transaction as it.

// personByID actions name a person by id in their target.
var personByID = []string{"totp.", "recovery.", "apppass.", "admin."}

// auditOrgs works out the organisations an entry concerns.
func auditOrgs(tx *Tx, action, target string) ([]int64, error) {
	target = strings.TrimSpace(target)
	if target == "" {
		return nil, nil
	}
	if id, err := strconv.ParseInt(target, 10, 64); err == nil {
		switch {
		case strings.HasPrefix(action, "list."):
			var list int64
			if err := tx.QueryRow(`SELECT list_id FROM held WHERE id = ?`, id).Scan(&list); err != nil {
				return nil, noRows(err)
			}
			return listOrgs(tx, list)
		case hasAnyPrefix(action, personByID):
			return oneOrg(tx, `SELECT org_id FROM people WHERE id = ?`, id)
		}
		return nil, nil
	}
	if !strings.Contains(target, "@") {
		return nil, nil
	}
	addr := strings.ToLower(target)
	if orgs, err := oneOrg(tx, `SELECT org_id FROM people WHERE email = ?`, addr); err != nil || orgs != nil {
		return orgs, err
	}
	var list int64
	if err := tx.QueryRow(`SELECT id FROM lists WHERE address = ?`, addr).Scan(&list); err != nil {
		return nil, noRows(err)
	}
	return listOrgs(tx, list)
}

// listOrgs: the organisations of a list's owners and of its scope.
func listOrgs(tx *Tx, listID int64) ([]int64, error) {
	var kind, scope string
	if err := tx.QueryRow(`SELECT kind, scope FROM lists WHERE id = ?`, listID).Scan(&kind, &scope); err != nil {
		return nil, noRows(err)
	}
	seen := map[int64]bool{}
	var out []int64
	add := func(id int64) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	rows, err := tx.Query(`SELECT DISTINCT p.org_id FROM list_owners x JOIN people p ON p.id = x.person_id WHERE x.list_id = ?`, listID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		add(id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	if kind != ListDynamic {
		return out, nil
	}
	sc, err := lists.ParseScope(scope)
	if err != nil || sc.Kind == lists.ScopeNational {
		return out, nil
	}
	for _, name := range sc.Orgs {
		var id int64
		if err := tx.QueryRow(`SELECT id FROM orgs WHERE lower(name) = lower(?)`, strings.TrimSpace(name)).Scan(&id); err == nil {
			add(id)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	return out, nil
}

func oneOrg(tx *Tx, query string, arg any) ([]int64, error) {
	var id int64
	if err := tx.QueryRow(query, arg).Scan(&id); err != nil {
		return nil, noRows(err)
	}
	return []int64{id}, nil
}

// noRows: nothing found is no organisation, not an error.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
