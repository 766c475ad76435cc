package netdns

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// ErrBogus is a lookup the resolver could not answer (SERVFAIL): in a signed
// zone it usually means the answer failed DNSSEC validation (RFC 4035 5.5).
// Whoever relies on the answer (DANE, RFC 7672 2.1.1) must treat it as a
// temporary failure, never as "no record".
var ErrBogus = errors.New("dns: the resolver failed the lookup (SERVFAIL: DNSSEC validation failed or the zone is broken)")

// Answer is a reply from a validating resolver.
type Answer struct {
	RRs []dns.RR
	// Secure is the AD bit (RFC 4035 3.2.3): the resolver validated the
	// answer (or the denial of its existence) with DNSSEC.
	Secure bool
	// NXDomain is set when the name does not exist.
	NXDomain bool
}

// Lookup asks the resolver at addr (host:port; empty is the first name
// server of /etc/resolv.conf) one question with the DO and AD bits set (RFC
// 6840 5.7), over UDP and then TCP when the answer is truncated. Only the
// records of the asked type are returned, owned by name or by the end of its
// CNAME chain.
func Lookup(ctx context.Context, addr, name string, qtype uint16) (Answer, error) {
	if addr == "" {
		cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(cc.Servers) == 0 {
			return Answer{}, fmt.Errorf("dns: no resolver configured: %v", err)
		}
		addr = net.JoinHostPort(cc.Servers[0], cc.Port)
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.AuthenticatedData = true
	m.SetEdns0(4096, true)
	c := &dns.Client{Timeout: DefaultTimeout, UDPSize: 4096}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, addr)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("dns: %s %s: %w", name, dns.TypeToString[qtype], err)
	}
	a := Answer{Secure: r.AuthenticatedData}
	switch r.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		a.NXDomain = true
		return a, nil
	case dns.RcodeServerFailure:
		return a, fmt.Errorf("%s %s: %w", name, dns.TypeToString[qtype], ErrBogus)
	default:
		return a, fmt.Errorf("dns: %s %s: %s", name, dns.TypeToString[qtype], dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			a.RRs = append(a.RRs, rr)
		}
	}
	return a, nil
}

// TLSA is one DANE record (RFC 6698 2.1).
type TLSA struct {
	Usage, Selector, Matching uint8
	Data                      []byte
}

// LookupTLSA returns the TLSA records of _PORT._tcp.HOST (RFC 7672 2.2.3) and
// whether both they and the host's address records are DNSSEC-validated:
// DANE applies only when both are (RFC 7672 2.2.1, 2.2.2). An insecure
// answer returns secure false and no error; a bogus one ErrBogus.
func LookupTLSA(ctx context.Context, addr, host string, port int) ([]TLSA, bool, error) {
	host = strings.TrimSuffix(host, ".")
	// The address must be secure first (RFC 7672 2.2.2): an attacker who can
	// forge an insecure A record can send us elsewhere whatever TLSA says.
	ha, err := Lookup(ctx, addr, host, dns.TypeA)
	if err != nil {
		return nil, false, err
	}
	if !ha.Secure {
		return nil, false, nil
	}
	a, err := Lookup(ctx, addr, "_"+strconv.Itoa(port)+"._tcp."+host, dns.TypeTLSA)
	if err != nil {
		return nil, false, err
	}
	if !a.Secure {
		return nil, false, nil
	}
	var out []TLSA
	for _, rr := range a.RRs {
		t := rr.(*dns.TLSA)
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			continue
		}
		out = append(out, TLSA{Usage: t.Usage, Selector: t.Selector, Matching: t.MatchingType, Data: data})
	}
	return out, true, nil
}

// LookupTXT returns the TXT records of name, each one's strings joined (RFC
// 7208 3.3), with whether the answer was validated. A name that does not
// exist has no records and no error.
func LookupTXT(ctx context.Context, addr, name string) ([]string, bool, error) {
	a, err := Lookup(ctx, addr, name, dns.TypeTXT)
	if err != nil {
		return nil, false, err
	}
	var out []string
	for _, rr := range a.RRs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, a.Secure, nil
}
