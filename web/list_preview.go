package web

import (
	"net/http"

	"wardmail/privilege"
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
	pv, err := a.lists.Preview(r.Context(), actor, req.newList())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pv)
	return nil
}
