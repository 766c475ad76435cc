package store

import (
	"context"
	"strings"

	"wardmail/lists"
)

// PreviewRule counts the people a dynamic list with this rule would have,
// per organisation, before it is created: the same evaluation as the list's
// memberships (ruleMembers), over the people of orgIDs (nil: everyone),
// disabled people left out. It reads every person in scope once; the
// console asks it as an administrator types, a few times a minute.
func (s *Store) PreviewRule(ctx context.Context, rule *lists.Rule, orgIDs []int64) ([]OrgCount, int64, error) {
	query := `SELECT o.name, p.role, p.site FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.disabled = 0`
	var args []any
	if orgIDs != nil {
		if len(orgIDs) == 0 {
			return nil, 0, nil
		}
		query += ` AND p.org_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(orgIDs)), ",") + `)`
		for _, id := range orgIDs {
			args = append(args, id)
		}
	}
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	counts := map[string]int64{}
	var order []string
	var total int64
	var a lists.Attrs
	for rows.Next() {
		if err := rows.Scan(&a.Org, &a.Role, &a.Site); err != nil {
			return nil, 0, err
		}
		if rule.Match(a) {
			if counts[a.Org] == 0 {
				order = append(order, a.Org)
			}
			counts[a.Org]++
			total++
		}
	}
	out := make([]OrgCount, 0, len(order))
	for _, o := range order {
		out = append(out, OrgCount{Name: o, People: counts[o]})
	}
	return out, total, rows.Err()
}
