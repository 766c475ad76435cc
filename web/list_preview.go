package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"wardmail/privilege"

	"wardmail/lists"
	"wardmail/store"
)

// handleListPreview: POST /api/v1/admin/lists/preview with the body of a
// list creation ({rule, scope} or {members}). It answers who the list would
// reach and which governance would apply, before it exists: the console
// shows it live as the administrator types (DESIGN: "its evaluated size is
// shown before creation"). The same scope rules as creation apply.
func (a *API) handleListPreview(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	var req createListRequest
	if err := readJSON(w, r, 1<<20, &req); err != nil {
		return err
	}
	ctx := r.Context()
	var orgs []store.OrgCount
	var total int64
	if strings.TrimSpace(req.Rule) != "" {
		rule, err := lists.ParseRule(req.Rule)
		if err != nil {
			p := problem(http.StatusUnprocessableEntity, "bad-rule", "%s", err)
			p.Field = "rule"
			return p
		}
		sc, err := lists.ParseScope(req.Scope)
		if err != nil {
			p := problem(http.StatusUnprocessableEntity, "bad-scope", "%s", err)
			p.Field = "scope"
			return p
		}
		var ids []int64
		if sc.Kind == lists.ScopeNational {
			if !actor.IsNational() {
				return problem(http.StatusForbidden, "not-national", "Only a national administrator may create a national list.")
			}
		} else {
			all, err := a.store.Orgs(ctx)
			if err != nil {
				return err
			}
			ids = []int64{}
			for _, o := range all {
				if sc.Contains(o.Name) {
					if !actor.Administers(o.ID) {
						return problem(http.StatusForbidden, "not-your-org", "%s is outside the organisations you administer.", o.Name)
					}
					ids = append(ids, o.ID)
				}
			}
			if len(ids) == 0 {
				p := problem(http.StatusUnprocessableEntity, "bad-scope", "No organisation is called %s.", strings.Join(sc.Orgs, " or "))
				p.Field = "scope"
				return p
			}
		}
		if orgs, total, err = a.store.PreviewRule(ctx, rule, ids); err != nil {
			return err
		}
	} else {
		var people, subs []int64
		for _, m := range req.Members {
			m = strings.TrimSpace(m)
			if m == "" {
				continue
			}
			if p, err := a.store.PersonByEmail(ctx, m); err == nil {
				people = append(people, p.ID)
			} else if l, err := a.store.ListByAddress(ctx, m); err == nil {
				subs = append(subs, l.ID)
			} else if errors.Is(err, store.ErrNotFound) {
				p := problem(http.StatusUnprocessableEntity, "unknown-member", "%s is neither a person nor a list.", m)
				p.Field = "members"
				return p
			} else {
				return err
			}
		}
		var err error
		if total, err = a.store.AudienceCount(ctx, people, subs); err != nil {
			return err
		}
		if orgs, err = a.store.AudienceOrgs(ctx, people, subs); err != nil {
			return err
		}
	}
	slices.SortStableFunc(orgs, func(x, y store.OrgCount) int { return int(y.People - x.People) })
	g := a.pipeline.Governance()
	var notes []string
	if total > g.SendersOnlyAbove {
		notes = append(notes, "Over "+strconv.FormatInt(g.SendersOnlyAbove, 10)+" people: only named senders may post, unless an administrator chooses another policy.")
	}
	if total > g.ApprovalAbove {
		notes = append(notes, "Over "+strconv.FormatInt(g.ApprovalAbove, 10)+" people: nobody may post until "+strconv.Itoa(g.Approvals)+" national administrators approve it.")
	}
	if notes == nil {
		notes = []string{}
	}
	if orgs == nil {
		orgs = []store.OrgCount{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"people": total, "organisations": orgs, "notes": notes})
	return nil
}
