package submit

import (
	"context"
	"mime"
	"strings"

	"wardmail/message"
)

// Reports takes the TLS reports (RFC 8460) that other operators send to the
// report address published in our _smtp._tls records: they are kept for
// the administrators (package tlsrpt), not put in anybody's INBOX.
type Reports interface {
	// IsReportAddress reports whether addr is the report address.
	IsReportAddress(addr string) bool
	// ReceiveTLSReport parses and keeps one report mail; an error says
	// why it was not kept (not a report, about a domain not ours).
	ReceiveTLSReport(ctx context.Context, msg []byte) error
}

// isTLSReport reports whether the header says the message is a TLS report:
// multipart/report with report-type=tlsrpt (RFC 8460 5.3).
func isTLSReport(body []byte, hs int64) bool {
	mt, params, err := mime.ParseMediaType(message.HeaderValue(body, hs, "Content-Type"))
	return err == nil && mt == "multipart/report" && strings.EqualFold(params["report-type"], "tlsrpt")
}

// takeReports hands a TLS report sent to the report address to Reports and
// returns the recipients left to deliver to: the report address gets no
// INBOX copy of a report. Other mail to the report address goes to its
// mailbox when there is one; without one, and with nobody else to deliver
// to, it is refused. done is true when nothing is left to deliver.
func (p *Pipeline) takeReports(ctx context.Context, id string, rcpts []Recipient, body []byte, hs int64) (rest []Recipient, done bool, err error) {
	report := false
	for _, r := range rcpts {
		report = report || r.Report
	}
	if !report {
		return rcpts, false, nil
	}
	isReport := isTLSReport(body, hs)
	var kept error
	if isReport {
		kept = p.cfg.Reports.ReceiveTLSReport(ctx, body)
		if kept != nil {
			p.cfg.Logger.Info("a TLS report was not kept", "id", id, "err", kept)
		}
	}
	for _, r := range rcpts {
		switch {
		case !r.Report:
			rest = append(rest, r)
		case isReport && kept == nil:
			// Kept for the administrators: no INBOX copy.
		case r.PersonID != 0 || r.ListID != 0:
			rest = append(rest, r)
		}
	}
	if len(rest) > 0 {
		return rest, false, nil
	}
	if isReport && kept == nil {
		return nil, true, nil
	}
	if isReport {
		return nil, true, refuse(550, 5, 6, 0, "The TLS report was not accepted: %v", kept)
	}
	return nil, true, refuse(550, 5, 1, 1, "This address takes only TLS reports (RFC 8460 multipart/report; report-type=tlsrpt)")
}
