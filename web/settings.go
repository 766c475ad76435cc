package web

import "net/http"

// handleNotYet answers the settings that issue 5 brings (app passwords,
// TOTP enrolment) until their handlers replace it in routes.go.
func (a *API) handleNotYet(w http.ResponseWriter, r *http.Request, who *Session) error {
	return problem(http.StatusNotImplemented, "not-yet", "This setting is not available on this server yet.")
}
