// Package tlspolicy decides how mail to a domain must be protected in
// transit, and checks that it was: DANE (RFC 7672) when the destination's
// MX host publishes DNSSEC-validated TLSA records, otherwise MTA-STS (RFC
// 8461) when the domain publishes a policy, REQUIRETLS (RFC 8689) for a
// message that asks for it, and the operator's list of domains to which TLS
// is required (e.g. "*.gov.uk"). It implements the outbound queue's Security
// and SecurityPlan, and records each connection's outcome for TLS reports
// (RFC 8460, package tlsrpt).
//
// Every handshake is made with InsecureSkipVerify and checked in
// VerifyConnection, so that the reason a certificate is refused names the
// policy that refused it, and so that a policy in testing mode can record a
// failure for its report without stopping delivery.
package tlspolicy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"wardmail/netdns"
	"wardmail/tlsrpt"
)

// Config says where to look and whom to trust.
type Config struct {
	// Resolver is the validating resolver (host:port, dns_resolver); empty
	// is the system's.
	Resolver string
	// RootCAs are the trusted roots for MTA-STS and PKIX checks; nil is the
	// system's.
	RootCAs *x509.CertPool
	// Required lists domains to which TLS with a valid certificate is
	// always required: "nhs.net", or "*.gov.uk" for every domain under
	// gov.uk (not gov.uk itself).
	Required []string
	// SMTPPort names the TLSA records (_PORT._tcp.MX); 0 is 25.
	SMTPPort int
	// HTTPSPort is where MTA-STS policies are fetched; 0 is 443.
	HTTPSPort int
	// Results records each connection's outcome; nil records nothing.
	Results tlsrpt.Recorder
	// Cache keeps MTA-STS policies across restarts (the store); nil keeps
	// them in memory only.
	Cache  PolicyCache
	Logger *slog.Logger
	Now    func() time.Time
}

// PolicyCache keeps MTA-STS policies until they expire (RFC 8461 5.1).
type PolicyCache interface {
	MTASTSPolicy(ctx context.Context, domain string) (id, text string, expires time.Time, ok bool, err error)
	SaveMTASTSPolicy(ctx context.Context, domain, id, text string, expires time.Time) error
}

// Security holds the policy cache. It is safe for concurrent use.
type Security struct {
	cfg  Config
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	mu  sync.Mutex
	sts map[string]cachedSTS
}

// New returns a Security for cfg.
func New(cfg Config) *Security {
	s := &Security{cfg: cfg, http: newHTTPClient(cfg), log: cfg.Logger, now: cfg.Now, sts: map[string]cachedSTS{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.SMTPPort == 0 {
		s.cfg.SMTPPort = 25
	}
	return s
}

// MatchRequired reports whether domain is on a TLS-required list of
// patterns: an exact domain, or "*.parent" for any domain below parent.
func MatchRequired(patterns []string, domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if parent, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(domain, "."+parent) {
				return true
			}
		} else if p == domain {
			return true
		}
	}
	return false
}

// Plan is how mail to one domain, for one delivery attempt, is protected.
type Plan struct {
	s          *Security
	domain     string
	requireTLS bool // REQUIRETLS (RFC 8689) on the message
	// relaxed: the message carries "TLS-Required: No" (RFC 8689 5) and
	// the domain is not on the operator's list: MTA-STS and DANE are set
	// aside, and nothing is recorded for TLS reports (no policy was
	// applied).
	relaxed    bool
	listed     bool // on the operator's TLS-required list
	sts        *STS
	stsFailure string // a policy announced but unusable (TLS-RPT failure type)
	// mxSecure: the domain's MX records were DNSSEC-validated (looked up
	// for REQUIRETLS only, RFC 8689 4.1).
	mxSecure bool

	mu    sync.Mutex
	hosts map[string]*hostState
}

type hostState struct {
	kind    string // "tlsa", "sts" or "no-policy-found" (RFC 8460 4.4 policy-type)
	policy  []string
	failure string // TLS-RPT result-type of a failed check
}

// Plan looks up the domain's MTA-STS policy and the TLS-required list.
// requireTLS is the message's REQUIRETLS flag. DANE is looked up per MX host
// by TLS. Plan does not fail: a policy that cannot be had is reported and
// mail goes on as if there were none (RFC 8461 5.1), unless a cached one
// says otherwise.
func (s *Security) Plan(ctx context.Context, domain string, requireTLS bool) (*Plan, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	p := &Plan{s: s, domain: domain, requireTLS: requireTLS, listed: MatchRequired(s.cfg.Required, domain),
		hosts: map[string]*hostState{}}
	sts, failure, err := s.policyFor(ctx, domain)
	if err != nil {
		return nil, err
	}
	if sts != nil && sts.Mode != "none" {
		p.sts = sts
	}
	p.stsFailure = failure
	if requireTLS && p.sts == nil {
		a, err := netdns.Lookup(ctx, s.cfg.Resolver, domain, dns.TypeMX)
		if err != nil && !errors.Is(err, netdns.ErrBogus) {
			return nil, err
		}
		p.mxSecure = err == nil && a.Secure
	}
	return p, nil
}

// PlanTLSOptional is the plan for a message that carries "TLS-Required:
// No" (RFC 8689 5): the sender asks that the recipient domain's policies
// (MTA-STS, DANE) not stop it, so neither is looked up and STARTTLS is
// opportunistic (still used whenever offered, RFC 7435). The operator's
// tls_required list still holds: a domain on it gets the ordinary plan, as
// the operator's rule is about the destination, not one sender's wish.
func (s *Security) PlanTLSOptional(ctx context.Context, domain string) (*Plan, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if MatchRequired(s.cfg.Required, domain) {
		return s.Plan(ctx, domain, false)
	}
	return &Plan{s: s, domain: domain, relaxed: true, hosts: map[string]*hostState{}}, nil
}

// RequireTLS reports whether the message carries REQUIRETLS (RFC 8689): the
// client must then see REQUIRETLS in the server's EHLO reply and pass it on
// in MAIL FROM, or defer.
func (p *Plan) RequireTLS() bool { return p.requireTLS }

// AllowMX reports whether mail may go to host: under an MTA-STS policy in
// enforce mode only the MX hosts it names may be used (RFC 8461 4.1); in
// testing mode any, but a mismatch is reported.
func (p *Plan) AllowMX(host string) bool {
	if p.sts == nil {
		return true
	}
	for _, pat := range p.sts.MX {
		if MatchMX(pat, host) {
			return true
		}
	}
	if p.sts.Mode == "testing" && !p.requireTLS {
		p.host(host, "sts").failure = "validation-failure"
		return true
	}
	// A REQUIRETLS message trusts only the MX hosts the policy names,
	// whatever its mode (RFC 8689 4.1).
	p.record(host, p.stsPolicy(), "sts", false, "validation-failure", "")
	return false
}

func (p *Plan) stsPolicy() []string {
	if p.sts == nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(p.sts.Text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

func (p *Plan) host(mx, kind string) *hostState {
	mx = strings.ToLower(strings.TrimSuffix(mx, "."))
	p.mu.Lock()
	defer p.mu.Unlock()
	h, ok := p.hosts[mx]
	if !ok {
		h = &hostState{kind: kind}
		p.hosts[mx] = h
	}
	return h
}

// TLS returns the TLS configuration for a connection to mxHost, whether
// the message must be deferred when TLS cannot be had (required), and the
// reason security is required, for the deferral notice. An error (a DNSSEC
// failure of the TLSA lookup) means: defer, with that reason (RFC 7672
// 2.1.1); a temporary failure.
func (p *Plan) TLS(ctx context.Context, mxHost string) (*tls.Config, bool, string, error) {
	mxHost = strings.ToLower(strings.TrimSuffix(mxHost, "."))
	// Each attempt starts afresh: the outcome reported is this one's.
	p.mu.Lock()
	delete(p.hosts, mxHost)
	p.mu.Unlock()
	if p.relaxed {
		return &tls.Config{ServerName: mxHost, MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, // #nosec G402 -- RFC 8689 5, RFC 7435
			VerifyConnection: func(tls.ConnectionState) error { return nil }}, false, "", nil
	}
	if p.requireTLS && p.sts == nil && !p.mxSecure {
		// RFC 8689 4.1: the MX host must come from a DNSSEC-validated
		// answer or be named by an MTA-STS policy; a forged MX could
		// otherwise present a valid certificate (or TLSA records) of its
		// own. This holds for DANE too: TLSA records of a host named by
		// an unsigned MX prove nothing about the domain.
		p.record(mxHost, nil, "no-policy-found", false, "validation-failure", "")
		return nil, true, "", fmt.Errorf("REQUIRETLS: the MX records of %s are not DNSSEC-signed and it publishes no MTA-STS policy, so %s cannot be trusted (RFC 8689 4.1)", p.domain, mxHost)
	}
	// RFC 8461 2: DANE, when it applies, takes precedence over MTA-STS.
	// A host given as an address (an operator's route to a smarthost)
	// has no name to hold TLSA records (RFC 7672 2.2.3); asking the DNS
	// for one would only wait for the resolver to give up.
	var records []netdns.TLSA
	var secure bool
	var err error
	if net.ParseIP(mxHost) == nil {
		records, secure, err = netdns.LookupTLSA(ctx, p.s.cfg.Resolver, mxHost, p.s.cfg.SMTPPort)
	}
	if err != nil {
		p.record(mxHost, nil, "tlsa", false, "dnssec-invalid", "")
		if errors.Is(err, netdns.ErrBogus) {
			return nil, true, "", fmt.Errorf("DANE: the TLSA records of %s could not be validated (%v); delivery deferred (RFC 7672 2.1.1)", mxHost, err)
		}
		return nil, true, "", fmt.Errorf("DANE: looking up the TLSA records of %s: %w", mxHost, err)
	}
	cfg := &tls.Config{ServerName: mxHost, MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}
	roots := p.s.cfg.RootCAs
	pkix := func(cs tls.ConnectionState) error { return verifyPKIX(cs, mxHost, roots) }
	if secure && len(records) > 0 {
		usable := usableTLSA(records)
		h := p.host(mxHost, "tlsa")
		h.policy = tlsaStrings(records)
		if len(usable) == 0 && p.requireTLS {
			// REQUIRETLS asks for an authenticated peer (RFC 8689 4.2.1):
			// with no usable TLSA record, the certificate must verify.
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				if err := pkix(cs); err != nil {
					h.failure = pkixFailure(err)
					return fmt.Errorf("REQUIRETLS: %s publishes no usable TLSA record and %w", mxHost, err)
				}
				return nil
			}
			return cfg, true, "REQUIRETLS: " + mxHost + " publishes no usable TLSA record; its certificate must verify", nil
		}
		if len(usable) == 0 {
			// RFC 7672 2.2: TLSA records none of which is usable still
			// mean TLS is mandatory, unauthenticated.
			cfg.VerifyConnection = func(tls.ConnectionState) error { return nil }
			return cfg, true, "DANE: " + mxHost + " publishes TLSA records (none usable): TLS is required", nil
		}
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := verifyDANE(usable, cs, mxHost); err != nil {
				h.failure = daneFailure(err)
				return fmt.Errorf("DANE: the certificate of %s matches none of its TLSA records (%v)", mxHost, err)
			}
			return nil
		}
		return cfg, true, "DANE: " + mxHost + " publishes DNSSEC-signed TLSA records", nil
	}
	switch {
	case p.sts != nil && p.sts.Mode == "enforce":
		h := p.host(mxHost, "sts")
		h.policy = p.stsPolicy()
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := pkix(cs); err != nil {
				h.failure = pkixFailure(err)
				return fmt.Errorf("MTA-STS (enforce) for %s: %w", p.domain, err)
			}
			return nil
		}
		return cfg, true, "MTA-STS: " + p.domain + " publishes a policy in enforce mode", nil
	case p.sts != nil: // testing: check, report, deliver whatever the outcome
		h := p.host(mxHost, "sts")
		h.policy = p.stsPolicy()
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := pkix(cs); err != nil {
				h.failure = pkixFailure(err)
			}
			return nil
		}
	}
	h := p.host(mxHost, "no-policy-found")
	if p.requireTLS || p.listed {
		reason := "REQUIRETLS: the message asks for TLS with a valid certificate (RFC 8689)"
		if p.listed {
			reason = "TLS is required to " + p.domain + " (tls_required)"
		}
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := pkix(cs); err != nil {
				h.failure = pkixFailure(err)
				return fmt.Errorf("%s: %w", reason, err)
			}
			return nil
		}
		return cfg, true, reason, nil
	}
	if cfg.VerifyConnection == nil {
		// Opportunistic TLS (RFC 7435): any certificate, better than none.
		cfg.VerifyConnection = func(tls.ConnectionState) error { return nil }
	}
	return cfg, false, "", nil
}

// verifyPKIX checks the chain against roots and the name against host.
func verifyPKIX(cs tls.ConnectionState, host string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter})
	if err != nil {
		return fmt.Errorf("the certificate of %s is not valid: %w", host, err)
	}
	return nil
}

// pkixFailure is the TLS-RPT result type of a failed certificate check
// (RFC 8460 4.3.2).
func pkixFailure(err error) string {
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	var unk x509.UnknownAuthorityError
	switch {
	case errors.As(err, &host):
		return "certificate-host-mismatch"
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return "certificate-expired"
	case errors.As(err, &unk):
		return "certificate-not-trusted"
	}
	return "validation-failure"
}

// Report records the outcome of a connection to mxHost: state is the
// handshake's, nil when there was no TLS; err the connection's error, nil on
// success.
func (p *Plan) Report(mxHost string, state *tls.ConnectionState, err error) {
	if p.relaxed {
		return
	}
	mxHost = strings.ToLower(strings.TrimSuffix(mxHost, "."))
	h := p.host(mxHost, "no-policy-found")
	p.mu.Lock()
	kind, policy, failure := h.kind, h.policy, h.failure
	p.mu.Unlock()
	if kind == "no-policy-found" && p.stsFailure != "" {
		failure = p.stsFailure
	}
	ok := state != nil && failure == ""
	if state == nil && failure == "" {
		failure = "starttls-not-supported"
		if err != nil && !strings.Contains(strings.ToLower(err.Error()), "starttls") {
			// The connection failed before TLS for a reason that is not
			// TLS's (refused, timed out): not a TLS result.
			if _, isNet := err.(net.Error); isNet {
				return
			}
		}
	}
	p.record(mxHost, policy, kind, ok, failure, "")
}

func (p *Plan) record(mx string, policy []string, kind string, ok bool, failure, ip string) {
	outcome := "success"
	if !ok {
		outcome = failure
	}
	tlsOutcomes.WithLabelValues(kind, outcome).Inc()
	if p.s.cfg.Results == nil {
		return
	}
	r := tlsrpt.Result{Day: p.s.now().UTC().Truncate(24 * time.Hour), PolicyDomain: p.domain, PolicyType: kind,
		PolicyString: policy, MXHost: mx, Success: ok, FailureType: failure, ReceivingIP: ip, Count: 1}
	if ok {
		r.FailureType = ""
	}
	if err := p.s.cfg.Results.RecordTLSResult(context.Background(), r); err != nil {
		p.s.log.Warn("tls-rpt: recording a result", "domain", p.domain, "mx", mx, "err", err)
	}
}
