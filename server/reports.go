package server

import (
	"context"
	"slices"
	"strings"

	"wardmail/store"
	"wardmail/tlsrpt"
)

// tlsReports routes the TLS reports other operators send to report_address
// (the rua of our _smtp._tls records, RFC 8460) into the store, where
// administrators read them, instead of an INBOX.
type tlsReports struct {
	st  *store.Store
	cfg Config
}

// IsReportAddress reports whether addr (in a local domain) is the report
// address: report_address itself, or its local part ("reports" by default)
// at any local domain when it names no domain.
func (r tlsReports) IsReportAddress(addr string) bool {
	ra := r.cfg.ReportAddress
	if ra == "" {
		ra = "reports"
	}
	if strings.Contains(ra, "@") {
		return strings.EqualFold(addr, ra)
	}
	local, _, _ := strings.Cut(addr, "@")
	return strings.EqualFold(local, ra)
}

// ReceiveTLSReport keeps a report about one of our domains.
func (r tlsReports) ReceiveTLSReport(ctx context.Context, msg []byte) error {
	ours := func(d string) bool {
		if slices.Contains(r.cfg.LocalDomains, d) {
			return true
		}
		ok, err := r.st.IsLocalDomain(ctx, d)
		return err == nil && ok
	}
	_, err := tlsrpt.Receive(ctx, r.st, ours, msg)
	return err
}
