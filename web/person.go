package web

import (
	"net/http"
	"time"

	"wardmail/admin"
	"wardmail/privilege"
)

// personDetail is GET /api/v1/admin/people/{email}: who the person is, the
// lists they are on or own, their sign-in locks with where they came from,
// and their last sign-in.
type personDetail struct {
	personRow
	Lists         []admin.PersonList `json:"lists"`
	Locks         []admin.Lock       `json:"locks"`
	LastSignIn    *time.Time         `json:"last_sign_in,omitempty"`
	LastSignInNet string             `json:"last_sign_in_from,omitempty"`
}

// handlePerson: GET /api/v1/admin/people/{email}, within the
// administrator's organisations (anyone else is "not found").
func (a *API) handlePerson(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	d, err := a.cfg.Admin.PersonDetail(r.Context(), *actor, r.PathValue("email"))
	if err != nil {
		return err
	}
	out := personDetail{personRow: toPersonRow(d.Person), Lists: d.Lists, Locks: d.Locks}
	if out.Lists == nil {
		out.Lists = []admin.PersonList{}
	}
	if !d.LastSignIn.IsZero() {
		out.LastSignIn, out.LastSignInNet = &d.LastSignIn, d.LastSignInNet
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
