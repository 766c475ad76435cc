package web

import (
	"net/http"
	"time"
	"wardmail/privilege"

	"wardmail/store"
)

// personDetail is GET /api/v1/admin/people/{email}: who the person is, the
// lists they are on or own, their sign-in locks with where they came from,
// and their last sign-in.
type personDetail struct {
	personRow
	Lists         []store.PersonList `json:"lists"`
	Locks         []lockRow          `json:"locks"`
	LastSignIn    *time.Time         `json:"last_sign_in,omitempty"`
	LastSignInNet string             `json:"last_sign_in_from,omitempty"`
}

// handlePerson: GET /api/v1/admin/people/{email}, within the
// administrator's organisations (anyone else is "not found").
func (a *API) handlePerson(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	p, err := a.personFor(r, actor, privilege.ViewPerson)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := personDetail{personRow: toPersonRow(p), Locks: []lockRow{}}
	if d.Lists, err = a.store.ListsOfPerson(ctx, p.ID); err != nil {
		return err
	}
	locks, err := a.locksNow(ctx)
	if err != nil {
		return err
	}
	rows, err := a.scopedLocks(ctx, actor, locks)
	if err != nil {
		return err
	}
	for _, l := range rows {
		if l.Account == p.Email {
			d.Locks = append(d.Locks, l)
		}
	}
	at, from, err := a.store.LastSignIn(ctx, p.Email)
	if err != nil {
		return err
	}
	if !at.IsZero() {
		d.LastSignIn, d.LastSignInNet = &at, from
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
