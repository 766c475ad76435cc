// Package netdns is how Wardmail asks the DNS: SPF, DKIM and DMARC records for
// mail that arrives, MX and address records for mail that leaves. Every lookup
// goes to the resolver the operator names (dns_resolver, host:port), or to the
// system's resolver when none is named.
//
// A validating resolver (one that sets the AD bit, RFC 4035 3.2.3) is needed
// for DANE (RFC 7672); the Go resolver does not report the AD bit, so lookups
// that depend on it are made by a DNS client of their own against the same
// address.
package netdns

import (
	"context"
	"net"
	"time"
)

// DefaultTimeout bounds one exchange with the resolver.
const DefaultTimeout = 5 * time.Second

// Resolver returns a resolver that sends every query to addr (host:port) over
// UDP, falling back to TCP for truncated answers as the Go resolver does. An
// empty addr returns the system's resolver.
func Resolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: DefaultTimeout}
			return d.DialContext(ctx, network, addr)
		},
	}
}
