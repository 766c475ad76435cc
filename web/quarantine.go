package web

import (
	"net/http"
	"strconv"

	"wardmail/privilege"
)

// The administrators' quarantine: messages the scanner kept from their
// recipients (package scan). Each call is decided by admin.Service, which
// asks the privilege model and shows a local administrator only the
// recipients in their organisations.

// handleQuarantine: GET /api/v1/admin/quarantine[?all=1] — the messages
// still waiting for a decision (all=1: decided ones too).
func (a *API) handleQuarantine(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	held := r.URL.Query().Get("all") != "1"
	list, err := a.cfg.Admin.Quarantine(r.Context(), *actor, held, 500)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": list})
	return nil
}

// quarantineID reads the {id} of the path.
func quarantineID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem(http.StatusNotFound, "not-found", "There is no quarantined message %q.", r.PathValue("id"))
	}
	return id, nil
}

// handleQuarantined: GET /api/v1/admin/quarantine/{id}.
func (a *API) handleQuarantined(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	q, err := a.cfg.Admin.QuarantinedMessage(r.Context(), *actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

// handleQuarantineRelease: POST /api/v1/admin/quarantine/{id}/release.
func (a *API) handleQuarantineRelease(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	res, err := a.cfg.Admin.ReleaseQuarantined(r.Context(), *actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// handleQuarantineDelete: DELETE /api/v1/admin/quarantine/{id}.
func (a *API) handleQuarantineDelete(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	res, err := a.cfg.Admin.DeleteQuarantined(r.Context(), *actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
