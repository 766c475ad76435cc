package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"wardmail/lists"
	"wardmail/privilege"
)

// Scopes name organisations; these resolve them against the directory, so
// that a mistyped organisation is an error, never "everyone".

// scopeOrgs resolves a scope's organisations to ids (nil for national). An
// organisation that does not exist is an error naming the closest ones.
func (s *Store) scopeOrgs(ctx context.Context, sc lists.Scope) ([]int64, error) {
	if sc.Kind == lists.ScopeNational {
		return nil, nil
	}
	orgs, err := s.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, want := range sc.Orgs {
		found := false
		for _, o := range orgs {
			if strings.EqualFold(strings.TrimSpace(o.Name), strings.TrimSpace(want)) {
				ids, found = append(ids, o.ID), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("there is no organisation called %q in the directory%s", want, suggestOrgs(orgs, want))
		}
	}
	return ids, nil
}

// suggestOrgs names up to three organisations whose names share the most
// words with what was typed.
func suggestOrgs(orgs []Org, typed string) string {
	words := strings.Fields(strings.ToLower(typed))
	type cand struct {
		name  string
		score int
	}
	var cs []cand
	for _, o := range orgs {
		n := strings.ToLower(o.Name)
		score := 0
		for _, w := range words {
			if len(w) > 2 && w != "nhs" && w != "trust" && w != "the" && w != "and" && strings.Contains(n, w) {
				score++
			}
		}
		if score > 0 {
			cs = append(cs, cand{o.Name, score})
		}
	}
	if len(cs) == 0 {
		return ""
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	if len(cs) > 3 {
		cs = cs[:3]
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = fmt.Sprintf("%q", c.name)
	}
	return "; did you mean " + strings.Join(names, " or ") + "?"
}

// PrivilegeList is a list as the privilege model sees it. orgs names every
// organisation (Store.OrgNames; needed for dynamic lists only).
func PrivilegeList(l *List, orgs map[int64]string) privilege.List {
	pl := privilege.List{Address: l.Address, Dynamic: l.Kind == ListDynamic, OwnerOrgs: l.OwnerOrgs, Owners: l.Owners}
	if !pl.Dynamic {
		return pl
	}
	sc, err := lists.ParseScope(l.Scope)
	if err != nil || sc.Kind == lists.ScopeNational {
		// An unreadable scope is managed nationally only.
		pl.NationalScope = true
		return pl
	}
	for id, name := range orgs {
		if sc.Contains(name) {
			pl.ScopeOrgs = append(pl.ScopeOrgs, id)
		}
	}
	return pl
}
