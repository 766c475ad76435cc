package tlspolicy

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"wardmail/netdns"
)

var tlsOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "wardmail_outbound_tls_total",
	Help: "Outbound TLS outcomes, by policy type (tlsa, sts, no-policy-found) and result (success or an RFC 8460 failure type).",
}, []string{"policy", "result"})

// Collectors are the package's metrics, for the server's registry.
func Collectors() []prometheus.Collector { return []prometheus.Collector{tlsOutcomes} }

// DANE usages, selectors and matching types (RFC 6698 2.1, RFC 7218).
const (
	usageDANETA = 2
	usageDANEEE = 3
)

// usableTLSA keeps the records an SMTP client may use (RFC 7672 3.1):
// DANE-TA(2) and DANE-EE(3), Cert(0) or SPKI(1), Full(0), SHA2-256(1) or
// SHA2-512(2). PKIX-TA(0) and PKIX-EE(1) are not for SMTP (3.1.3).
func usableTLSA(rs []netdns.TLSA) []netdns.TLSA {
	var out []netdns.TLSA
	for _, r := range rs {
		if (r.Usage == usageDANETA || r.Usage == usageDANEEE) && r.Selector <= 1 && r.Matching <= 2 {
			out = append(out, r)
		}
	}
	return out
}

func tlsaStrings(rs []netdns.TLSA) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.Matching, hex.EncodeToString(r.Data)))
	}
	return out
}

// tlsaMatches reports whether a certificate matches a record's selector and
// matching type.
func tlsaMatches(r netdns.TLSA, c *x509.Certificate) bool {
	data := c.Raw
	if r.Selector == 1 {
		data = c.RawSubjectPublicKeyInfo
	}
	switch r.Matching {
	case 1:
		h := sha256.Sum256(data)
		data = h[:]
	case 2:
		h := sha512.Sum512(data)
		data = h[:]
	}
	return bytes.Equal(data, r.Data)
}

var errNoTLSAMatch = errors.New("no TLSA record matches")

// verifyDANE checks a handshake against usable TLSA records (RFC 7672 3.1):
// DANE-EE matches the server's own certificate, with no name or expiry
// check (3.1.1); DANE-TA matches a certificate of the chain the server sent,
// which then must issue the server's certificate for host (3.1.2, 3.2.2).
func verifyDANE(rs []netdns.TLSA, cs tls.ConnectionState, host string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	leaf := cs.PeerCertificates[0]
	var lastErr error = errNoTLSAMatch
	for _, r := range rs {
		switch r.Usage {
		case usageDANEEE:
			if tlsaMatches(r, leaf) {
				return nil
			}
		case usageDANETA:
			for _, ta := range cs.PeerCertificates {
				if !tlsaMatches(r, ta) {
					continue
				}
				roots := x509.NewCertPool()
				roots.AddCert(ta)
				inter := x509.NewCertPool()
				for _, c := range cs.PeerCertificates[1:] {
					inter.AddCert(c)
				}
				if ta == leaf {
					// A trust anchor that is the server's own certificate is
					// checked by name only.
					if err := leaf.VerifyHostname(host); err != nil {
						lastErr = err
						continue
					}
					return nil
				}
				if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter}); err != nil {
					lastErr = err
					continue
				}
				return nil
			}
		}
	}
	return lastErr
}

func daneFailure(err error) string {
	if errors.Is(err, errNoTLSAMatch) {
		return "tlsa-invalid"
	}
	return pkixFailure(err)
}
