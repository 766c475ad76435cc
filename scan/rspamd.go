package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Rspamd asks Rspamd's normal worker for a message's spam score over its
// HTTP protocol (POST /checkv2, https://rspamd.com/doc/developers/protocol.html).
type Rspamd struct {
	URL     string // e.g. http://127.0.0.1:11333
	Timeout time.Duration
	Client  *http.Client
}

// Envelope is what Rspamd is told about a message beside its bytes.
type Envelope struct {
	From    string   // MAIL FROM
	Rcpts   []string // RCPT TO
	IP      string   // the client's address
	Helo    string
	QueueID string
	// Authenticated names the signed-in sender ("" for mail from outside).
	Authenticated string
}

// SpamResult is Rspamd's answer, the parts Wardmail uses.
type SpamResult struct {
	Score    float64 `json:"score"`
	Required float64 `json:"required_score"`
	Action   string  `json:"action"` // "no action", "add header", "rewrite subject", "greylist", "soft reject", "reject"
	Symbols  map[string]struct {
		Score float64 `json:"score"`
	} `json:"symbols"`
}

// TopSymbols names the symbols that added most to the score, for the
// header and the quarantine view.
func (r *SpamResult) TopSymbols(n int) []string {
	type sym struct {
		name  string
		score float64
	}
	var all []sym
	for name, s := range r.Symbols {
		if s.Score > 0 {
			all = append(all, sym{name, s.Score})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score > all[j].score
		}
		return all[i].name < all[j].name
	})
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].name)
	}
	return out
}

// Check scans a message.
func (r *Rspamd) Check(ctx context.Context, env Envelope, body []byte) (*SpamResult, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.URL, "/")+"/checkv2", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("rspamd: %w", err)
	}
	set := func(k, v string) {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	set("From", env.From)
	set("IP", env.IP)
	set("Helo", env.Helo)
	set("Queue-Id", env.QueueID)
	set("User", env.Authenticated)
	for _, rc := range env.Rcpts {
		req.Header.Add("Rcpt", rc)
	}
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("rspamd: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("rspamd: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rspamd: %s", resp.Status)
	}
	var res SpamResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("rspamd: reading the answer: %w", err)
	}
	return &res, nil
}

// Ping asks Rspamd whether it is alive (GET /ping answers "pong").
func (r *Rspamd) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.URL, "/")+"/ping", nil)
	if err != nil {
		return fmt.Errorf("rspamd: %w", err)
	}
	resp, err := r.client().Do(req)
	if err != nil {
		return fmt.Errorf("rspamd: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("rspamd: ping: %s", resp.Status)
	}
	return nil
}

func (r *Rspamd) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return http.DefaultClient
}

func (r *Rspamd) timeout() time.Duration {
	if r.Timeout <= 0 {
		return 15 * time.Second
	}
	return r.Timeout
}
