package tlsrpt

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"sort"
	"strings"
	"time"

	"wardmail/netdns"
)

// Store is what reporting needs from storage (*store.Store implements it).
type Store interface {
	Recorder
	TLSResults(ctx context.Context, day time.Time) ([]Result, error)
	MarkTLSReportSent(ctx context.Context, day time.Time, domain string) (bool, error)
	AddTLSReport(ctx context.Context, r Received) error
}

// Enqueuer queues a message for delivery (the outbound queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, from string, to []string, msg []byte) error
}

// Reporter sends the daily aggregate reports.
type Reporter struct {
	Store    Store
	Queue    Enqueuer
	Resolver string // dns_resolver
	// Organization names us in reports; Submitter is our domain (RFC 8460
	// 5.3); From is the address reports come from.
	Organization, Submitter, From string
	Logger                        *slog.Logger
}

// RUA returns the mailto: addresses of a domain's _smtp._tls record (RFC
// 8460 3); https: ones are not used.
func RUA(records []string) []string {
	var out []string
	for _, rec := range records {
		if !strings.HasPrefix(rec, "v=TLSRPTv1") {
			continue
		}
		for _, f := range strings.Split(rec, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			if k != "rua" {
				continue
			}
			for _, u := range strings.Split(v, ",") {
				if addr, ok := strings.CutPrefix(strings.TrimSpace(u), "mailto:"); ok {
					if a, err := mail.ParseAddress(addr); err == nil {
						out = append(out, a.Address)
					}
				}
			}
		}
	}
	return out
}

// SendDay queues the report of day (UTC) to every domain that had results
// and publishes a mailto: rua, once per domain and day however often it is
// called. It returns how many reports were queued.
func (r *Reporter) SendDay(ctx context.Context, day time.Time) (int, error) {
	results, err := r.Store.TLSResults(ctx, day)
	if err != nil {
		return 0, err
	}
	byDomain := map[string][]Result{}
	for _, res := range results {
		byDomain[res.PolicyDomain] = append(byDomain[res.PolicyDomain], res)
	}
	domains := make([]string, 0, len(byDomain))
	for d := range byDomain {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	sent := 0
	for _, d := range domains {
		txt, _, err := netdns.LookupTXT(ctx, r.Resolver, "_smtp._tls."+d)
		if err != nil {
			r.log().Warn("tls-rpt: looking up the report address", "domain", d, "err", err)
			continue
		}
		to := RUA(txt)
		if len(to) == 0 {
			continue
		}
		rep := Build(r.Organization, r.From, day, byDomain[d])
		msg, err := Message(rep, r.From, strings.Join(to, ", "), r.Submitter, d, time.Now())
		if err != nil {
			return sent, err
		}
		fresh, err := r.Store.MarkTLSReportSent(ctx, day, d)
		if err != nil {
			return sent, err
		}
		if !fresh {
			continue
		}
		if err := r.Queue.Enqueue(ctx, r.From, to, msg); err != nil {
			return sent, fmt.Errorf("tls-rpt: queueing the report to %s: %w", d, err)
		}
		sent++
	}
	return sent, nil
}

// Run sends yesterday's reports shortly after each UTC midnight until ctx ends.
func (r *Reporter) Run(ctx context.Context) {
	for {
		now := time.Now().UTC()
		next := now.Truncate(24 * time.Hour).Add(24*time.Hour + 5*time.Minute)
		select {
		case <-ctx.Done():
			return
		case <-time.After(next.Sub(now)):
		}
		day := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
		if n, err := r.SendDay(ctx, day); err != nil {
			r.log().Error("tls-rpt: daily reports", "err", err)
		} else {
			r.log().Info("tls-rpt: daily reports queued", "day", day.Format("2006-01-02"), "reports", n)
		}
	}
}

func (r *Reporter) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// Receive keeps a report mail about one of our domains (sent to the
// configured report address). Reports about other domains are refused.
func Receive(ctx context.Context, st Store, ourDomains func(string) bool, msg []byte) (Received, error) {
	_, rec, err := Parse(msg)
	if err != nil {
		return rec, err
	}
	return rec, Keep(ctx, st, ourDomains, rec)
}

// Keep keeps a report already parsed (a JSON file an operator imports) when
// it is about one of our domains; reports about other domains are refused.
func Keep(ctx context.Context, st Store, ourDomains func(string) bool, rec Received) error {
	if !ourDomains(rec.PolicyDomain) {
		return fmt.Errorf("tlsrpt: the report is about %s, not one of our domains", rec.PolicyDomain)
	}
	return st.AddTLSReport(ctx, rec)
}
