// Package tlsrpt is SMTP TLS Reporting (RFC 8460): the outcome of each
// outbound connection is recorded, a daily aggregate report is built for
// each destination that publishes a _smtp._tls record with a mailto: rua,
// and reports that others send about our own domains are parsed and kept
// for administrators.
package tlsrpt

import (
	"context"
	"time"
)

// Result is a count of connections with one outcome, for one day, one
// policy domain, one policy and one receiving MX (RFC 8460 4.4).
type Result struct {
	Day          time.Time // UTC midnight
	PolicyDomain string
	PolicyType   string   // "tlsa", "sts" or "no-policy-found"
	PolicyString []string // the policy (TLSA records or MTA-STS lines)
	MXHost       string
	Success      bool
	FailureType  string // RFC 8460 4.3 result type, when not Success
	ReceivingIP  string
	Count        int64
}

// Recorder keeps results; the store implements it.
type Recorder interface {
	RecordTLSResult(ctx context.Context, r Result) error
}
