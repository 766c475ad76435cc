package outbound

import (
	"context"
	"crypto/tls"
	"errors"
)

// Signer adds DKIM-Signature fields to a message from fromDomain before it
// is queued. It returns the header fields to put on top of the message.
type Signer interface {
	Sign(ctx context.Context, fromDomain string, msg []byte) (header []byte, err error)
}

// Security says how mail to a domain must be protected (MTA-STS, DANE,
// REQUIRETLS, a TLS-required list).
type Security interface {
	Plan(ctx context.Context, domain string, requireTLS bool) (SecurityPlan, error)
}

// TLSOptionalSecurity is a Security that can plan for a message carrying
// "TLS-Required: No" (RFC 8689 5): the recipient domain's own policies
// (MTA-STS, DANE) are set aside, STARTTLS is still used when offered, and
// what the operator requires (tls_required) still holds. A Security without
// it sends such messages as it sends any other.
type TLSOptionalSecurity interface {
	PlanTLSOptional(ctx context.Context, domain string) (SecurityPlan, error)
}

// SecurityPlan is the protection for one attempt at one domain.
type SecurityPlan interface {
	// AllowMX reports whether an MX host may be used (MTA-STS mx
	// patterns); false skips it.
	AllowMX(host string) bool
	// TLS returns the TLS configuration for an MX host, whether TLS is
	// required (no STARTTLS, or a failed handshake, then defers the
	// message instead of sending it in clear) and why.
	TLS(ctx context.Context, mxHost string) (cfg *tls.Config, required bool, reason string, err error)
	// Report records the outcome of TLS with an MX host, for TLS-RPT
	// (RFC 8460); state is nil when no TLS was negotiated.
	Report(mxHost string, state *tls.ConnectionState, err error)
}

// NoSigner signs nothing.
type NoSigner struct{}

// Sign returns no header fields.
func (NoSigner) Sign(context.Context, string, []byte) ([]byte, error) { return nil, nil }

// Opportunistic is the default Security: STARTTLS whenever offered, TLS 1.2
// or newer, the certificate not verified (RFC 7435: unauthenticated
// encryption is better than none), and clear text when the server offers no
// TLS. A message that asks for REQUIRETLS is never sent under it.
type Opportunistic struct{}

// Plan returns the opportunistic plan.
func (Opportunistic) Plan(_ context.Context, _ string, requireTLS bool) (SecurityPlan, error) {
	return opportunisticPlan{requireTLS: requireTLS}, nil
}

type opportunisticPlan struct{ requireTLS bool }

func (opportunisticPlan) AllowMX(string) bool { return true }

func (p opportunisticPlan) TLS(_ context.Context, mxHost string) (*tls.Config, bool, string, error) {
	cfg := &tls.Config{ServerName: mxHost, MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} // #nosec G402 -- RFC 7435
	if p.requireTLS {
		// Without a policy engine no certificate is verified, and no MX
		// name is known to be genuine: REQUIRETLS cannot be honoured.
		return nil, true, "", errors.New("REQUIRETLS: no TLS policy engine verifies certificates here (RFC 8689 4.2.1)")
	}
	return cfg, false, "", nil
}

func (opportunisticPlan) Report(string, *tls.ConnectionState, error) {}
