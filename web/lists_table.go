package web

import (
	"net/http"
	"strings"

	"wardmail/privilege"
)

// handleAdminLists: GET /api/v1/admin/lists?q=TEXT&offset=N&limit=N&alert=1,
// the console's list table: the lists the administrator manages, by
// address, whose address or name contains q, a page at a time (total says
// how many match). alert=1 keeps the lists that need administrators now
// (suspended, or grown past their approved size): listsvc.Service.Table.
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
	out, total, err := a.lists.Table(r.Context(), actor, q, alert, offset, limit)
	if err != nil {
		return err
	}
	resp := map[string]any{"lists": out, "total": total, "offset": offset, "limit": limit}
	if offset+len(out) < total {
		resp["next_offset"] = offset + len(out)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
