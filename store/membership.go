package store

import (
	"context"
	"fmt"
	"slices"

	"wardmail/lists"
)

// Effective membership. A list's members are its declared people, the people
// its rule matches inside its scope (dynamic lists), and the members of the
// lists nested in it. The memberships table holds the result, flattened, with
// each member's position in the list's post log; it is what a post reaches.
// Whenever the inputs change (a list's definition, a person's organisation,
// role or site) the table is brought up to date here, and a person who leaves
// a list has the list's pending posts materialised first (DESIGN section 3,
// invariant 1).

// membershipChunk bounds the rows one write changes, so that rebuilding a
// national list never holds the writer for long.
const membershipChunk = 20000

// listDef is a list's definition, loaded for evaluation.
type listDef struct {
	id      int64
	kind    string
	rule    *lists.Rule
	scope   lists.Scope
	orgIDs  map[int64]bool // nil: national
	persons map[int64]bool
	subs    []int64
}

// loadDefs reads every list's definition.
func (s *Store) loadDefs(ctx context.Context) (map[int64]*listDef, error) {
	defs := map[int64]*listDef{}
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, rule, scope FROM lists`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		d := &listDef{persons: map[int64]bool{}}
		var rule, scope string
		if err := rows.Scan(&d.id, &d.kind, &rule, &scope); err != nil {
			rows.Close()
			return nil, err
		}
		if d.kind == ListDynamic {
			if d.rule, err = lists.ParseRule(rule); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: list %d: stored rule: %w", d.id, err)
			}
			if d.scope, err = lists.ParseScope(scope); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: list %d: stored scope: %w", d.id, err)
			}
		}
		defs[d.id] = d
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for _, d := range defs {
		if d.kind != ListDynamic {
			continue
		}
		ids, err := s.scopeOrgs(ctx, d.scope)
		if err != nil {
			// An organisation renamed or removed since: the scope now
			// holds nobody from it (never everyone).
			s.log.Warn("list scope names a missing organisation", "list", d.id, "scope", d.scope.String(), "err", err)
			ids = []int64{}
		}
		if ids != nil || d.scope.Kind != lists.ScopeNational {
			d.orgIDs = map[int64]bool{}
			for _, id := range ids {
				d.orgIDs[id] = true
			}
		}
	}
	rows, err = s.r.QueryContext(ctx, `SELECT list_id, person_id, sublist_id FROM list_members`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l, p, sub int64
		if err := rows.Scan(&l, &p, &sub); err != nil {
			return nil, err
		}
		d := defs[l]
		if d == nil {
			continue
		}
		if p != 0 {
			d.persons[p] = true
		}
		if sub != 0 {
			d.subs = append(d.subs, sub)
		}
	}
	return defs, rows.Err()
}

// personAttrs is what membership evaluation needs to know of a person.
type personAttrs struct {
	id    int64
	orgID int64
	attrs lists.Attrs
}

// memberOf returns every list a person is an effective member of.
func memberOf(defs map[int64]*listDef, p personAttrs) []int64 {
	memo := map[int64]int8{} // 0 unknown, 1 yes, 2 no, 3 in progress
	var is func(id int64) bool
	is = func(id int64) bool {
		switch memo[id] {
		case 1:
			return true
		case 2, 3:
			return false
		}
		memo[id] = 3
		d := defs[id]
		ok := d != nil && (d.persons[p.id] || d.matches(p))
		if d != nil && !ok {
			for _, sub := range d.subs {
				if is(sub) {
					ok = true
					break
				}
			}
		}
		if ok {
			memo[id] = 1
		} else {
			memo[id] = 2
		}
		return ok
	}
	var out []int64
	for id := range defs {
		if is(id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// matches says whether a dynamic list's rule takes the person, inside the
// scope.
func (d *listDef) matches(p personAttrs) bool {
	if d.kind != ListDynamic {
		return false
	}
	if d.orgIDs != nil && !d.orgIDs[p.orgID] {
		return false
	}
	return d.rule.Match(p.attrs)
}

// SyncList brings a list's effective members, and those of every list it is
// nested in, up to date with their definitions and the directory.
func (s *Store) SyncList(ctx context.Context, listID int64) error {
	defs, err := s.loadDefs(ctx)
	if err != nil {
		return err
	}
	// The list, then its ancestors, children before parents.
	parents := map[int64][]int64{}
	for _, d := range defs {
		for _, c := range d.subs {
			parents[c] = append(parents[c], d.id)
		}
	}
	order := []int64{listID}
	seen := map[int64]bool{listID: true}
	for i := 0; i < len(order); i++ {
		for _, p := range parents[order[i]] {
			if !seen[p] {
				seen[p] = true
				order = append(order, p)
			}
		}
	}
	disabled, err := s.disabledPeople(ctx)
	if err != nil {
		return err
	}
	computed := map[int64][]int64{}
	for _, id := range order {
		if defs[id] == nil {
			continue
		}
		members, err := s.effectiveMembers(ctx, defs, id, computed, 0)
		if err != nil {
			return err
		}
		if len(disabled) > 0 {
			members = slices.DeleteFunc(slices.Clone(members), func(p int64) bool { return disabled[p] })
		}
		if err := s.applyMembership(ctx, id, members); err != nil {
			return err
		}
	}
	return nil
}

// effectiveMembers computes a list's members, sorted by person id.
func (s *Store) effectiveMembers(ctx context.Context, defs map[int64]*listDef, id int64, memo map[int64][]int64, depth int) ([]int64, error) {
	if m, ok := memo[id]; ok {
		return m, nil
	}
	if depth > MaxListDepth {
		return nil, ErrListDepth
	}
	d := defs[id]
	if d == nil {
		return nil, nil
	}
	var set []int64
	for p := range d.persons {
		set = append(set, p)
	}
	if d.kind == ListDynamic {
		dyn, err := s.ruleMembers(ctx, d)
		if err != nil {
			return nil, err
		}
		set = append(set, dyn...)
	}
	for _, sub := range d.subs {
		m, err := s.effectiveMembers(ctx, defs, sub, memo, depth+1)
		if err != nil {
			return nil, err
		}
		set = append(set, m...)
	}
	slices.Sort(set)
	set = slices.Compact(set)
	memo[id] = set
	return set, nil
}

// ruleMembers evaluates a dynamic list's rule over the people in its scope.
// Disabled people are not members of anything.
func (s *Store) ruleMembers(ctx context.Context, d *listDef) ([]int64, error) {
	query := `SELECT p.id, p.org_id, o.name, p.role, p.site FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.disabled = 0`
	var args []any
	if d.orgIDs != nil {
		if len(d.orgIDs) == 0 {
			return nil, nil
		}
		query += ` AND p.org_id IN (`
		for id := range d.orgIDs {
			if len(args) > 0 {
				query += `, `
			}
			query += `?`
			args = append(args, id)
		}
		query += `)`
	}
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	var p personAttrs
	for rows.Next() {
		if err := rows.Scan(&p.id, &p.orgID, &p.attrs.Org, &p.attrs.Role, &p.attrs.Site); err != nil {
			return nil, err
		}
		if d.matches(p) {
			out = append(out, p.id)
		}
	}
	return out, rows.Err()
}

// applyMembership makes a list's memberships equal to members (sorted):
// joiners start at the end of the post log; leavers have the list's pending
// posts materialised, then go.
func (s *Store) applyMembership(ctx context.Context, listID int64, members []int64) error {
	current, err := s.currentMembers(ctx, listID)
	if err != nil {
		return err
	}
	var joins, leaves []int64
	i, j := 0, 0
	for i < len(members) || j < len(current) {
		switch {
		case j == len(current) || (i < len(members) && members[i] < current[j]):
			joins = append(joins, members[i])
			i++
		case i == len(members) || current[j] < members[i]:
			leaves = append(leaves, current[j])
			j++
		default:
			i++
			j++
		}
	}
	for len(leaves) > 0 {
		n := min(len(leaves), membershipChunk/10)
		chunk := leaves[:n]
		leaves = leaves[n:]
		if err := s.Write(ctx, func(tx *Tx) error {
			if err := lockList(tx, listID); err != nil {
				return err
			}
			for _, p := range chunk {
				if _, err := materialise(tx, p, listID); err != nil {
					return err
				}
				if _, err := tx.Exec(`DELETE FROM memberships WHERE list_id = ? AND person_id = ?`, listID, p); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	joined := len(joins)
	for len(joins) > 0 {
		n := min(len(joins), membershipChunk)
		chunk := joins[:n]
		joins = joins[n:]
		if err := s.Write(ctx, func(tx *Tx) error {
			// Under the list's lock no post to it is still being
			// committed: a joiner's position is past every post made
			// before they joined, and before every one made after.
			if err := lockList(tx, listID); err != nil {
				return err
			}
			end, err := logEnd(tx)
			if err != nil {
				return err
			}
			args := make([]any, 0, 3*len(chunk))
			for _, p := range chunk {
				args = append(args, listID, p, end)
			}
			if err := insertMany(tx, `INSERT INTO memberships (list_id, person_id, pos) VALUES `, "(?, ?, ?)", 3, args, ` ON CONFLICT DO NOTHING`); err != nil {
				return err
			}
			// A joiner's open IMAP session learns of its new list when
			// woken; for a few joiners, wake them now. (A national list's
			// million joiners learn at their next command or wake-up.)
			if len(chunk) <= touchJoinersMax {
				return touchInboxes(tx, chunk)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if err := s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE lists SET size = (SELECT COUNT(*) FROM memberships WHERE list_id = ?) WHERE id = ?`, listID, listID)
		return err
	}); err != nil {
		return err
	}
	if a, ok := s.dialect.(BulkAnalyzer); ok && joined >= bulkJoins {
		// The planner's statistics of memberships now describe a table
		// a fraction of its size until autovacuum comes round: a
		// member's "posts pending?" probe, asked at every sign-in and
		// SELECT, was planned as a scan of every membership.
		if _, err := s.w.ExecContext(ctx, a.Analyze("memberships")); err != nil {
			s.log.Warn("store: analysing memberships after a bulk join", "err", err)
		}
	}
	return nil
}

// bulkJoins is how many people joining a list at once make the
// memberships' statistics worth renewing (BulkAnalyzer).
const bulkJoins = 10000

// BulkAnalyzer is implemented by a Dialect whose planner works from
// statistics that a bulk insert leaves stale until a background job renews
// them (PostgreSQL's autovacuum). Analyze is the statement that renews a
// table's.
type BulkAnalyzer interface {
	Analyze(table string) string
}

func (s *Store) currentMembers(ctx context.Context, listID int64) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT person_id FROM memberships WHERE list_id = ? ORDER BY person_id`), listID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// logEnd is the newest post id: a member whose position is logEnd has
// nothing pending.
func logEnd(tx *Tx) (int64, error) {
	var end int64
	err := tx.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM posts`).Scan(&end)
	return end, err
}
