package tlspolicy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"wardmail/netdns"
)

// STS is an MTA-STS policy (RFC 8461 section 3.2).
type STS struct {
	ID     string // from the _mta-sts TXT record
	Mode   string // "enforce", "testing" or "none"
	MX     []string
	MaxAge time.Duration
	// Text is the policy as fetched, for TLS-RPT's policy-string (RFC 8460 4.4).
	Text string
}

// MTA-STS limits: RFC 8461 3.2 caps max_age at 31557600 s; 64 KiB is far more
// than any policy needs (RFC 8461 3.3 leaves the bound to the client).
const (
	maxPolicyBytes = 64 << 10
	maxMaxAge      = 31557600 * time.Second
	fetchTimeout   = 60 * time.Second
)

// ParseSTS reads a policy body (RFC 8461 3.2): "key: value" lines, CRLF or LF,
// version STSv1, a mode, mx patterns (required unless the mode is none) and
// max_age. Unknown keys are ignored (3.2: extensions).
func ParseSTS(text string) (STS, error) {
	var p STS
	var version string
	maxAge := ""
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > 1000 {
		return p, errors.New("policy has too many lines")
	}
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return p, fmt.Errorf("policy line %q has no key", trunc(line))
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "version":
			version = v
		case "mode":
			p.Mode = v
		case "mx":
			if v == "" || strings.ContainsAny(v, " \t") {
				return p, fmt.Errorf("policy mx %q is not a host pattern", trunc(v))
			}
			p.MX = append(p.MX, strings.ToLower(strings.TrimSuffix(v, ".")))
		case "max_age":
			maxAge = v
		}
	}
	if version != "STSv1" {
		return p, fmt.Errorf("policy version %q is not STSv1", trunc(version))
	}
	switch p.Mode {
	case "enforce", "testing":
		if len(p.MX) == 0 {
			return p, errors.New("policy in mode " + p.Mode + " names no mx")
		}
	case "none":
	default:
		return p, fmt.Errorf("policy mode %q is not enforce, testing or none", trunc(p.Mode))
	}
	secs, err := strconv.ParseUint(maxAge, 10, 64)
	if err != nil || len(maxAge) > 10 {
		return p, fmt.Errorf("policy max_age %q is not a number of seconds", trunc(maxAge))
	}
	p.MaxAge = min(time.Duration(secs)*time.Second, maxMaxAge)
	p.Text = text
	return p, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// MatchMX reports whether host matches a policy's mx pattern: equal, or
// "*.example.com" standing for exactly one leftmost label (RFC 8461 4.1).
func MatchMX(pattern, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		_, parent, ok := strings.Cut(host, ".")
		return ok && parent == rest
	}
	return pattern == host
}

// stsID reads the _mta-sts TXT record (RFC 8461 3.1): exactly one record
// starting with v=STSv1 and an id of 1–32 letters and digits. Empty without
// a usable record.
func stsID(records []string) (string, error) {
	var found []string
	for _, r := range records {
		if strings.HasPrefix(r, "v=STSv1") {
			found = append(found, r)
		}
	}
	if len(found) == 0 {
		return "", nil
	}
	if len(found) > 1 {
		return "", errors.New("more than one _mta-sts record (RFC 8461 3.1)")
	}
	for _, f := range strings.Split(found[0], ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		if k == "id" {
			if v == "" || len(v) > 32 || strings.IndexFunc(v, func(r rune) bool {
				return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
			}) >= 0 {
				return "", fmt.Errorf("_mta-sts id %q is not 1-32 letters and digits", trunc(v))
			}
			return v, nil
		}
	}
	return "", errors.New("_mta-sts record has no id")
}

// fetch gets https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461 3.3):
// a certificate valid for that name, no redirects, text/plain, a bounded body.
func (s *Security) fetch(ctx context.Context, domain string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	host := "mta-sts." + domain
	url := "https://" + host
	if s.cfg.HTTPSPort != 0 && s.cfg.HTTPSPort != 443 {
		url += ":" + strconv.Itoa(s.cfg.HTTPSPort)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/.well-known/mta-sts.txt", nil)
	if err != nil {
		return "", err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("policy fetch: HTTP %d", resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return "", fmt.Errorf("policy fetch: content type %q is not text/plain", resp.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicyBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxPolicyBytes {
		return "", errors.New("policy fetch: the policy is larger than 64 KiB")
	}
	return string(b), nil
}

// newHTTPClient makes the policy fetcher's client: names are resolved by the
// configured resolver, certificates checked against roots (nil: the system's).
func newHTTPClient(cfg Config) *http.Client {
	r := netdns.Resolver(cfg.Resolver)
	d := &net.Dialer{Timeout: 30 * time.Second, Resolver: r}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			TLSClientConfig:     &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 30 * time.Second,
			MaxIdleConns:        10,
			IdleConnTimeout:     30 * time.Second,
		},
		// RFC 8461 3.3: HTTP 3xx redirects MUST NOT be followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type cachedSTS struct {
	policy  STS
	expires time.Time
}

// policyFor returns the domain's MTA-STS policy, nil when it has none, and a
// TLS-RPT failure type when a policy was announced but could not be had.
// RFC 8461 5.1: the TXT record is checked each time; a policy is fetched
// when none is cached or its id changed; a cached policy that has not
// expired is used when the record or the fetch fails.
func (s *Security) policyFor(ctx context.Context, domain string) (*STS, string, error) {
	s.mu.Lock()
	c, cachedOK := s.sts[domain]
	s.mu.Unlock()
	now := s.now()
	if !cachedOK && s.cfg.Cache != nil {
		// After a restart: the policy cached before it, if still valid.
		id, text, expires, ok, err := s.cfg.Cache.MTASTSPolicy(ctx, domain)
		if err != nil {
			return nil, "", err
		}
		if ok {
			if p, err := ParseSTS(text); err == nil {
				p.ID = id
				c, cachedOK = cachedSTS{policy: p, expires: expires}, true
				s.remember(domain, c)
			}
		}
	}
	if cachedOK && !now.Before(c.expires) {
		cachedOK = false
	}
	txt, _, err := netdns.LookupTXT(ctx, s.cfg.Resolver, "_mta-sts."+domain)
	id := ""
	if err == nil {
		id, err = stsID(txt)
	}
	if err != nil || id == "" {
		if cachedOK {
			return &c.policy, "", nil
		}
		if err != nil {
			return nil, "sts-policy-invalid", nil
		}
		return nil, "", nil
	}
	if cachedOK && c.policy.ID == id {
		return &c.policy, "", nil
	}
	text, err := s.fetch(ctx, domain)
	failure := "sts-policy-fetch-error"
	var p STS
	if err == nil {
		failure = "sts-policy-invalid"
		p, err = ParseSTS(text)
	}
	if err != nil {
		s.log.Warn("mta-sts policy", "domain", domain, "err", err)
		if cachedOK {
			return &c.policy, "", nil
		}
		// RFC 8461 5.1: with no usable policy, deliver as if there were none.
		return nil, failure, nil
	}
	p.ID = id
	c = cachedSTS{policy: p, expires: now.Add(p.MaxAge)}
	s.remember(domain, c)
	if s.cfg.Cache != nil {
		if err := s.cfg.Cache.SaveMTASTSPolicy(ctx, domain, id, text, c.expires); err != nil {
			s.log.Warn("mta-sts: keeping the policy", "domain", domain, "err", err)
		}
	}
	return &p, "", nil
}

func (s *Security) remember(domain string, c cachedSTS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sts) >= maxCachedPolicies {
		for k := range s.sts {
			delete(s.sts, k)
			break
		}
	}
	s.sts[domain] = c
}

// maxCachedPolicies bounds the policy cache.
const maxCachedPolicies = 100000
