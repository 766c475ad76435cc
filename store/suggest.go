package store

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Suggestion is one person offered by address autocomplete.
type Suggestion struct {
	PersonID int64
	Email    string
	Name     string
	Org      string
	Role     string
}

// Suggest returns up to limit people whose address, name or last name starts
// with q (case-insensitive for ASCII letters), ordered by name. Each of the
// three matches is an index range scan bounded by limit, so the cost does
// not grow with the directory (the indexes of SchemaWeb in store/sqlite).
func (s *Store) Suggest(ctx context.Context, q string, limit int) ([]Suggestion, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" || limit <= 0 {
		return nil, nil
	}
	if len(q) > 320 || !utf8.ValidString(q) {
		return nil, nil
	}
	hi := q + "\U0010FFFF" // above every string that starts with q (UTF-8 byte order)
	// The expression of the people_surname_lower index, spelled as the
	// backend's schema spells it.
	surname := "lower(substr(name, " + s.dialect.Position("name", "' '") + " + 1))"
	// Subqueries in FROM are named: PostgreSQL before 16 requires it.
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT p.id, p.email, p.name, o.name, p.role
		FROM people p JOIN orgs o ON o.id = p.org_id
		WHERE p.disabled = 0 AND p.id IN (
			SELECT id FROM (SELECT id FROM people WHERE email >= ? AND email < ? ORDER BY email LIMIT ?) AS by_email
			UNION SELECT id FROM (SELECT id FROM people WHERE lower(name) >= ? AND lower(name) < ? ORDER BY lower(name) LIMIT ?) AS by_name
			UNION SELECT id FROM (SELECT id FROM people
				WHERE `+surname+` >= ? AND `+surname+` < ?
				ORDER BY `+surname+` LIMIT ?) AS by_surname)
		ORDER BY p.name, p.email LIMIT ?`), q, hi, limit, q, hi, limit, q, hi, limit, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Suggestion
	for rows.Next() {
		var sg Suggestion
		if err := rows.Scan(&sg.PersonID, &sg.Email, &sg.Name, &sg.Org, &sg.Role); err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}

// ListSuggestion is one distribution list offered by address autocomplete.
type ListSuggestion struct {
	Address, Name string
	Size          int64
	Suspended     bool
}

// SuggestLists returns up to limit lists whose address starts with q, by
// address: a range scan of the address's UNIQUE index, bounded by limit.
// Names are not searched (that would scan every list on each key press);
// a list's address is what a sender types.
func (s *Store) SuggestLists(ctx context.Context, q string, limit int) ([]ListSuggestion, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" || limit <= 0 || len(q) > 320 || !utf8.ValidString(q) {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT address, name, size, suspended FROM lists
		WHERE address >= ? AND address < ? ORDER BY address LIMIT ?`), q, q+"\U0010FFFF", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ListSuggestion
	for rows.Next() {
		var l ListSuggestion
		var susp int
		if err := rows.Scan(&l.Address, &l.Name, &l.Size, &susp); err != nil {
			return nil, err
		}
		l.Suspended = susp != 0
		out = append(out, l)
	}
	return out, rows.Err()
}
