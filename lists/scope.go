package lists

import (
	"fmt"
	"strings"
)

// ScopeKind says how far a dynamic list may reach.
type ScopeKind string

// Scope kinds.
const (
	ScopeOrg      ScopeKind = "org"      // one organisation
	ScopeSet      ScopeKind = "set"      // a named set of organisations
	ScopeNational ScopeKind = "national" // everyone
)

// Scope bounds a dynamic list: a rule is evaluated only over the people in
// its scope, so a rule written for one organisation can never reach the
// country, whatever its text says (the November 2016 incident).
type Scope struct {
	Kind ScopeKind
	Orgs []string // the organisations, as written, for org and set
}

// ParseScope reads "org:NAME", "set:NAME|NAME|..." or "national".
func ParseScope(s string) (Scope, error) {
	s = strings.TrimSpace(s)
	kind, rest, _ := strings.Cut(s, ":")
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "national":
		if strings.TrimSpace(rest) != "" {
			return Scope{}, fmt.Errorf("scope %q: national takes no organisation", s)
		}
		return Scope{Kind: ScopeNational}, nil
	case "org":
		name := strings.TrimSpace(rest)
		if name == "" {
			return Scope{}, fmt.Errorf("scope %q: name the organisation, as in org:Leeds Teaching Hospitals NHS Trust", s)
		}
		return Scope{Kind: ScopeOrg, Orgs: []string{name}}, nil
	case "set":
		var orgs []string
		seen := map[string]bool{}
		for _, o := range strings.Split(rest, "|") {
			o = strings.TrimSpace(o)
			if o == "" || seen[normalise(o)] {
				continue
			}
			seen[normalise(o)] = true
			orgs = append(orgs, o)
		}
		if len(orgs) == 0 {
			return Scope{}, fmt.Errorf("scope %q: a set names organisations separated by |", s)
		}
		return Scope{Kind: ScopeSet, Orgs: orgs}, nil
	case "":
		return Scope{}, fmt.Errorf("a dynamic list needs a scope: org:NAME, set:NAME|NAME or national")
	}
	return Scope{}, fmt.Errorf("scope %q: it must be org:NAME, set:NAME|NAME or national", s)
}

// String writes the scope in the form ParseScope reads.
func (s Scope) String() string {
	switch s.Kind {
	case ScopeNational:
		return "national"
	case ScopeOrg:
		return "org:" + s.Orgs[0]
	}
	return "set:" + strings.Join(s.Orgs, "|")
}

// Contains reports whether an organisation is inside the scope. An empty
// organisation (a person whose record lacks one) is inside only the national
// scope.
func (s Scope) Contains(org string) bool {
	if s.Kind == ScopeNational {
		return true
	}
	o := normalise(org)
	if o == "" {
		return false
	}
	for _, x := range s.Orgs {
		if normalise(x) == o {
			return true
		}
	}
	return false
}
