package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	storm "wardmail/policy"
	"wardmail/privilege"
)

// StormBoard is the reply-all storm breaker as the admin API sees it
// (policy.Breaker). The server passes the breaker as Config.ReplyAll; when
// it also has these methods, the storm board is served.
type StormBoard interface {
	Board(ctx context.Context, since time.Duration) ([]storm.StormThread, error)
	Block(ctx context.Context, actor, thread string, d time.Duration, reason string) (*storm.StormThread, error)
	Unblock(ctx context.Context, actor, thread, reason string) (*storm.StormThread, error)
}

func (a *API) stormBoard() (StormBoard, error) {
	if sb, ok := a.cfg.ReplyAll.(StormBoard); ok {
		return sb, nil
	}
	return nil, problem(http.StatusServiceUnavailable, "no-storm-breaker", "This server runs without the reply-all storm breaker.")
}

// handleStorms: GET /api/v1/admin/storms[?since=24h]: every thread with
// large-audience replies in that time (default 7 days) or still blocked.
func (a *API) handleStorms(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	sb, err := a.stormBoard()
	if err != nil {
		return err
	}
	since := 7 * 24 * time.Hour
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = time.ParseDuration(v); err != nil || since <= 0 {
			return problem(http.StatusBadRequest, "bad-request", "since must be a duration such as 24h, not %q.", v)
		}
	}
	threads, err := sb.Board(r.Context(), since)
	if err != nil {
		return err
	}
	out := map[string]any{"threads": threads, "at": a.now().UTC()}
	if c, ok := a.cfg.ReplyAll.(interface{ Config() storm.StormConfig }); ok {
		// The rules in force, so the board says what this server does.
		cfg := c.Config()
		out["rules"] = map[string]any{"min_audience": cfg.MinAudience, "threshold": cfg.Threshold,
			"window_minutes": cfg.Window.Minutes(), "block_hours": cfg.BlockFor.Hours(),
			"brake_from": cfg.BrakeFrom, "brake_delay_minutes": cfg.BrakeDelay.Minutes()}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleStormBlock: POST /api/v1/admin/storms/{thread}/block with an
// optional {"hours": 6, "reason": "..."}. Any administrator may block: it
// only stops replies to large audiences. Lifting a block
// (/unblock) is for national administrators.
func (a *API) handleStormBlock(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	return a.stormSet(w, r, who, actor, true)
}

// handleStormUnblock: POST /api/v1/admin/storms/{thread}/unblock.
func (a *API) handleStormUnblock(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
	return a.stormSet(w, r, who, actor, false)
}

func (a *API) stormSet(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal, block bool) error {
	sb, err := a.stormBoard()
	if err != nil {
		return err
	}
	thread := strings.TrimSpace(r.PathValue("thread"))
	if thread == "" {
		return problem(http.StatusBadRequest, "bad-request", "Give the thread: the Message-ID of its first message.")
	}
	var req struct {
		Hours  float64 `json:"hours"`
		Reason string  `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := readJSON(w, r, 16<<10, &req); err != nil {
			return err
		}
	}
	if req.Hours < 0 || req.Hours > 24*30 {
		return problem(http.StatusBadRequest, "bad-request", "hours must be between 0 (the configured block time) and 720.")
	}
	var t *storm.StormThread
	if block {
		t, err = sb.Block(r.Context(), who.Person.Email, thread, time.Duration(req.Hours*float64(time.Hour)), req.Reason)
	} else {
		t, err = sb.Unblock(r.Context(), who.Person.Email, thread, req.Reason)
	}
	if errors.Is(err, storm.ErrNoThread) {
		return problem(http.StatusNotFound, "not-found", "%s", err)
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
