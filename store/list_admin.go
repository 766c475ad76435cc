package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// What the administrators' console needs about a list beyond its row: the
// declared members of a static list, its owners changed as a whole, and the
// lists a person is on.

// listTarget names a list in the audit trail by its address, so the trail
// can be searched by list (the id when the list has gone).
func listTarget(tx *Tx, listID int64) string {
	var addr string
	if err := tx.QueryRow(`SELECT address FROM lists WHERE id = ?`, listID).Scan(&addr); err != nil {
		return fmt.Sprint(listID)
	}
	return addr
}

// addressesOf names people or lists in the audit trail by address rather
// than by id (ids it cannot find stay as numbers). nil stays nil, so "not
// changed" (senders) reads as null.
func addressesOf(tx *Tx, table, col string, ids []int64) []string {
	if ids == nil {
		return nil
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		var a string
		if err := tx.QueryRow(`SELECT `+col+` FROM `+table+` WHERE id = ?`, id).Scan(&a); err != nil {
			a = fmt.Sprint(id)
		}
		out = append(out, a)
	}
	return out
}

// DeclaredMembers returns the people and lists named as members of a static
// list, by address (a dynamic list has none: its rule decides).
func (s *Store) DeclaredMembers(ctx context.Context, listID int64) (people, lists []string, err error) {
	if people, err = s.addresses(ctx, `SELECT p.email FROM list_members m JOIN people p ON p.id = m.person_id
		WHERE m.list_id = ? AND m.sublist_id = 0 ORDER BY p.email`, listID); err != nil {
		return nil, nil, err
	}
	lists, err = s.addresses(ctx, `SELECT l.address FROM list_members m JOIN lists l ON l.id = m.sublist_id
		WHERE m.list_id = ? AND m.person_id = 0 ORDER BY l.address`, listID)
	return people, lists, err
}

// SetListOwners replaces a list's owners. A list keeps at least one owner.
func (s *Store) SetListOwners(ctx context.Context, actor string, listID int64, owners []int64) error {
	if len(owners) == 0 {
		return errors.New("a list needs at least one owner")
	}
	return s.Write(ctx, func(tx *Tx) error {
		// The change concerns the organisations of the owners it replaces
		// too: their administrators see it in the audit trail.
		before, err := listOrgs(tx, listID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM list_owners WHERE list_id = ?`, listID); err != nil {
			return err
		}
		for _, o := range owners {
			if _, err := tx.Exec(`INSERT INTO list_owners (list_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, listID, o); err != nil {
				return err
			}
		}
		return tx.auditConcerning(actor, "list.owners", listTarget(tx, listID), map[string]any{"owners": addressesOf(tx, "people", "email", owners)}, before)
	})
}

// PersonList is a list a person is on or owns.
type PersonList struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	Member  bool   `json:"member"`
	Owner   bool   `json:"owner"`
}

// ListsOfPerson returns the lists a person is an effective member of (by
// name, by rule or through a nested list) or owns, by address.
func (s *Store) ListsOfPerson(ctx context.Context, personID int64) ([]PersonList, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT l.address, l.name,
			EXISTS (SELECT 1 FROM memberships m WHERE m.list_id = l.id AND m.person_id = ?),
			EXISTS (SELECT 1 FROM list_owners o WHERE o.list_id = l.id AND o.person_id = ?)
		FROM lists l
		WHERE l.id IN (SELECT list_id FROM memberships WHERE person_id = ? UNION SELECT list_id FROM list_owners WHERE person_id = ?)
		ORDER BY l.address`), personID, personID, personID, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PersonList{}
	for rows.Next() {
		var l PersonList
		if err := rows.Scan(&l.Address, &l.Name, &l.Member, &l.Owner); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LastSignIn returns a person's latest successful sign-in and the network
// it came from (zero when they never signed in).
func (s *Store) LastSignIn(ctx context.Context, account string) (time.Time, string, error) {
	var at int64
	var source string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT last_success, source FROM signin_familiar WHERE account = ?
		ORDER BY last_success DESC LIMIT 1`), account).Scan(&at, &source)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return time.Time{}, "", nil
		}
		return time.Time{}, "", err
	}
	return time.Unix(at, 0).UTC(), source, nil
}
