package web

import (
	"net/http"
	"strings"
	"wardmail/privilege"

	"wardmail/store"
)

// handleAdminLists: GET /api/v1/admin/lists?q=TEXT&offset=N&limit=N&alert=1,
// the console's list table: the lists the administrator manages, by
// address, whose address or name contains q, a page at a time (total says
// how many match). alert=1 keeps the lists that need administrators now
// (suspended, or grown past their approved size). Owners, senders and
// approvals come for all the lists in four queries (store/lists_table.go),
// and the scope is decided without further queries.
func (a *API) handleAdminLists(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	alert := v.Get("alert") == "1" || v.Get("alert") == "true"
	q := strings.TrimSpace(v.Get("q"))
	if len(q) > 200 {
		p := problem(http.StatusBadRequest, "bad-request", "The text to look for is too long: at most 200 characters.")
		p.Field = "q"
		return p
	}
	lq := store.ListQuery{Contains: q}
	out := []listView{}
	total := 0
	if actor.IsNational() && !alert {
		// Every list counts: the database pages.
		if total, err = a.store.CountLists(r.Context(), lq); err != nil {
			return err
		}
		lq.Offset, lq.Limit = offset, limit
		page, err := a.store.ListsWithDetails(r.Context(), lq)
		if err != nil {
			return err
		}
		for _, l := range page {
			out = append(out, a.listView(l))
		}
	} else {
		// The scope or the alert decides which lists count: page after.
		all, err := a.store.ListsWithDetails(r.Context(), lq)
		if err != nil {
			return err
		}
		var orgs map[int64]string
		if !actor.IsNational() {
			if orgs, err = a.store.OrgNames(r.Context()); err != nil {
				return err
			}
		}
		for _, l := range all {
			if !mayManageWith(actor, l, orgs) {
				continue
			}
			view := a.listView(l)
			if alert && !view.Suspended && !view.Drifted {
				continue
			}
			if total >= offset && len(out) < limit {
				out = append(out, view)
			}
			total++
		}
	}
	resp := map[string]any{"lists": out, "total": total, "offset": offset, "limit": limit}
	if offset+len(out) < total {
		resp["next_offset"] = offset + len(out)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
