package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"wardmail/privilege"
)

// handleMTASTS: GET /.well-known/mta-sts.txt on mta-sts.DOMAIN: the local
// domain's MTA-STS policy (RFC 8461 3.3); 404 on any other host.
func (a *API) handleMTASTS(w http.ResponseWriter, r *http.Request) {
	if a.cfg.MTASTS == nil {
		http.NotFound(w, r)
		return
	}
	a.cfg.MTASTS.ServeHTTP(w, r)
}

// handleTLSReports: GET /api/v1/admin/tls-reports[?domain=D&limit=N]: the TLS
// reports (RFC 8460) other operators sent about our domains, newest first,
// with their totals. Reading them is not audited: they describe other
// servers' connections to ours, not anyone's mail.
func (a *API) handleTLSReports(w http.ResponseWriter, r *http.Request, _ *Session, actor *privilege.Principal) error {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return problem(http.StatusBadRequest, "bad-request", "limit must be a number from 1 to 1000, not %q.", v)
		}
		limit = n
	}
	reps, err := a.cfg.Admin.TLSReports(r.Context(), *actor, r.URL.Query().Get("domain"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": reps})
	return nil
}

// handleTLSReport: GET /api/v1/admin/tls-reports/{id}: one report with its
// JSON as received.
func (a *API) handleTLSReport(w http.ResponseWriter, r *http.Request, _ *Session, actor *privilege.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return problem(http.StatusBadRequest, "bad-request", "%q is not a report id.", r.PathValue("id"))
	}
	rep, err := a.cfg.Admin.TLSReport(r.Context(), *actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"report": rep, "json": json.RawMessage(rep.JSON)})
	return nil
}
