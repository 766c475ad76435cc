package inbound

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// orgDomain is a domain's organisational domain (RFC 7489 3.2): the public
// suffix plus one label, found with the Public Suffix List.
func orgDomain(d string) string {
	d = strings.TrimSuffix(strings.ToLower(d), ".")
	if o, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return o
	}
	return d
}

// aligned reports whether two domains are aligned (RFC 7489 3.1): equal in
// strict mode, of the same organisational domain in relaxed mode.
func aligned(a, b string, mode dmarc.AlignmentMode) bool {
	a, b = strings.TrimSuffix(strings.ToLower(a), "."), strings.TrimSuffix(strings.ToLower(b), ".")
	if a == "" || b == "" {
		return false
	}
	if mode == dmarc.AlignmentStrict {
		return a == b
	}
	return orgDomain(a) == orgDomain(b)
}

// policyRecord is a From domain's DMARC record and where it was found.
type policyRecord struct {
	rec *dmarc.Record
	// atOrg: found at the organisational domain, so sp= applies to a
	// subdomain (RFC 7489 6.6.3).
	atOrg bool
	// temp: the lookup failed for now (RFC 7489 6.6.3: temperror).
	temp bool
}

// lookupPolicy finds the DMARC record for the From domain, falling back to
// the organisational domain (RFC 7489 6.6.3).
func (c *Checker) lookupPolicy(ctx context.Context, from string) policyRecord {
	opts := &dmarc.LookupOptions{LookupTXT: c.lookupTXT(ctx)}
	rec, err := dmarc.LookupWithOptions(from, opts)
	if err == nil {
		return policyRecord{rec: rec}
	}
	if dmarc.IsTempFail(err) || isTemporary(err) {
		return policyRecord{temp: true}
	}
	org := orgDomain(from)
	if org == from {
		return policyRecord{}
	}
	rec, err = dmarc.LookupWithOptions(org, opts)
	if err == nil {
		return policyRecord{rec: rec, atOrg: true}
	}
	if dmarc.IsTempFail(err) || isTemporary(err) {
		return policyRecord{temp: true}
	}
	return policyRecord{}
}

// policy is the policy that applies to the From domain (p=, or sp= for a
// subdomain whose record was found at the organisational domain), with
// pct= applied (RFC 7489 6.6.4: a message outside the sample gets the next
// policy down).
func (p policyRecord) policy() dmarc.Policy {
	if p.rec == nil {
		return dmarc.PolicyNone
	}
	pol := p.rec.Policy
	if p.atOrg && p.rec.SubdomainPolicy != "" {
		pol = p.rec.SubdomainPolicy
	}
	if p.rec.Percent != nil && *p.rec.Percent < 100 && rand.IntN(100) >= *p.rec.Percent {
		switch pol {
		case dmarc.PolicyReject:
			pol = dmarc.PolicyQuarantine
		case dmarc.PolicyQuarantine:
			pol = dmarc.PolicyNone
		}
	}
	return pol
}

func isTemporary(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && (de.IsTemporary || de.IsTimeout)
}

// lookupTXT returns a TXT lookup bound to ctx, for the libraries that take
// a function of a name alone; answers are cached (cache.go).
func (c *Checker) lookupTXT(ctx context.Context) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		return c.txt.lookup(ctx, c.cfg.Resolver, name)
	}
}
