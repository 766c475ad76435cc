package web

import (
	"errors"
	"net/http"
	"strconv"

	"wardmail/outbound"
	"wardmail/privilege"
)

// The outbound queue in the administrators' API: what waits for other
// domains, per destination, and the operators' actions on it (package
// outbound decides, through the privilege model, and audits).

func (a *API) queue() (*outbound.Queue, error) {
	if a.cfg.Queue == nil {
		return nil, problem(http.StatusServiceUnavailable, "no-queue", "This server does not send mail to other domains (outbound = off).")
	}
	return a.cfg.Queue, nil
}

// handleQueue: GET /api/v1/admin/queue[?domain=D&state=S&limit=N]: each
// destination's state (queued, deferred, held, oldest, next attempt, last
// error) and the messages waiting, oldest first.
func (a *API) handleQueue(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	q, err := a.queue()
	if err != nil {
		return err
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit <= 0 || limit > 1000 {
			return problem(http.StatusBadRequest, "bad-request", "limit must be a number from 1 to 1000, not %q.", v)
		}
	}
	state := r.URL.Query().Get("state")
	switch state {
	case "", outbound.StateQueued, outbound.StateHeld, outbound.StateDelivered, outbound.StateFailed, outbound.StateDeleted:
	default:
		return problem(http.StatusBadRequest, "bad-request", "state must be queued, held, delivered, failed or deleted, not %q.", state)
	}
	domains, err := q.Domains(r.Context(), *actor)
	if err != nil {
		return err
	}
	msgs, err := q.List(r.Context(), *actor, outbound.QueueFilter{Domain: r.URL.Query().Get("domain"), State: state, Limit: limit})
	if err != nil {
		return err
	}
	if domains == nil {
		domains = []outbound.QueueDomain{}
	}
	if msgs == nil {
		msgs = []*outbound.QueuedMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"domains": domains, "messages": msgs, "at": a.now().UTC()})
	return nil
}

// handleQueueMessage: GET /api/v1/admin/queue/{id}: one queued message and
// every recipient, whatever became of it.
func (a *API) handleQueueMessage(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	q, err := a.queue()
	if err != nil {
		return err
	}
	m, err := q.Show(r.Context(), *actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// handleQueueAction: POST /api/v1/admin/queue/{id}/{action} and
// /api/v1/admin/queue/domains/{domain}/{action}, action retry, hold,
// release or delete.
func (a *API) handleQueueAction(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	q, err := a.queue()
	if err != nil {
		return err
	}
	n, err := q.Change(r.Context(), *actor, r.PathValue("action"), r.PathValue("id"), r.PathValue("domain"))
	if errors.Is(err, outbound.ErrInvalid) {
		return problem(http.StatusBadRequest, "bad-request", "%s", err.Error())
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"action": r.PathValue("action"), "recipients": n})
	return nil
}
