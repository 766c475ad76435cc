// Package dnsrecords says what a local domain must publish in the DNS for
// its mail to be trusted (the UK's email security standard and the NHS
// Secure Email Standard: SPF, DKIM, DMARC at p=reject, MTA-STS in enforce
// mode with TLS reporting, optionally DANE), serves its MTA-STS policy (RFC
// 8461 3.3), and checks what is published, line by line, as NCSC's Mail
// Check reports it.
package dnsrecords

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Setup is what a domain's records are made from.
type Setup struct {
	Domain string
	// MXHost is the name mail for the domain is sent to: the server's
	// hostname.
	MXHost string
	// MTASTSMode is enforce, testing or none; MTASTSMaxAge the policy's
	// max_age; MTASTSMX its mx lines (default: MXHost).
	MTASTSMode   string
	MTASTSMaxAge time.Duration
	MTASTSMX     []string
	// ReportAddress receives DMARC aggregate and TLS reports (rua).
	ReportAddress string
	// DKIM are the key records to publish: selector → record.
	DKIM []DKIMKey
	// Cert, when set, adds a DANE TLSA record for the MX host (3 1 1).
	Cert *x509.Certificate
	// SMTPPort names the TLSA record (_PORT._tcp); 0 is 25.
	SMTPPort int
}

// DKIMKey is one published DKIM key.
type DKIMKey struct{ Selector, Record string }

// Record is one record to publish.
type Record struct {
	Name  string // full owner name
	Type  string // MX, TXT, CNAME, TLSA
	Value string
	// Why says what it is for, in a line.
	Why string
	// Optional records are not required by the standard (TLSA).
	Optional bool
}

// Policy is the domain's MTA-STS policy text (RFC 8461 3.2).
func (s Setup) Policy() string {
	mode := s.MTASTSMode
	if mode == "" {
		mode = "enforce"
	}
	var b strings.Builder
	b.WriteString("version: STSv1\r\nmode: " + mode + "\r\n")
	mx := s.MTASTSMX
	if len(mx) == 0 {
		mx = []string{s.MXHost}
	}
	for _, m := range mx {
		b.WriteString("mx: " + m + "\r\n")
	}
	age := s.MTASTSMaxAge
	if age <= 0 {
		age = 7 * 24 * time.Hour
	}
	fmt.Fprintf(&b, "max_age: %d\r\n", int64(age/time.Second))
	return b.String()
}

// PolicyID is the id published in the _mta-sts record: a digest of the
// policy, so it changes exactly when the policy does (RFC 8461 3.1).
func (s Setup) PolicyID() string {
	sum := sha256.Sum256([]byte(s.Policy()))
	return hex.EncodeToString(sum[:10])
}

func (s Setup) reportAddress() string {
	if s.ReportAddress != "" {
		return s.ReportAddress
	}
	return "reports@" + s.Domain
}

// SPF is the domain's SPF policy: its MX hosts send, nobody else (RFC 7208).
func (s Setup) SPF() string { return "v=spf1 mx -all" }

// DMARC is the domain's DMARC policy: reject what fails, aggregate reports
// to the report address (RFC 7489 6.3).
func (s Setup) DMARC() string {
	return "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:" + s.reportAddress()
}

// TLSRPT is the domain's TLS reporting record (RFC 8460 3).
func (s Setup) TLSRPT() string { return "v=TLSRPTv1; rua=mailto:" + s.reportAddress() }

// TLSA is the DANE-EE record of the server's certificate (RFC 7671 5.1:
// 3 1 1, the SHA-256 of its public key, which survives renewals with the
// same key); empty without a certificate.
func (s Setup) TLSA() string {
	if s.Cert == nil {
		return ""
	}
	sum := sha256.Sum256(s.Cert.RawSubjectPublicKeyInfo)
	return "3 1 1 " + hex.EncodeToString(sum[:])
}

// Records are what the domain publishes.
func (s Setup) Records() []Record {
	d := s.Domain
	out := []Record{
		{Name: d, Type: "MX", Value: "10 " + s.MXHost + ".", Why: "where mail for " + d + " goes"},
		{Name: d, Type: "TXT", Value: s.SPF(), Why: "SPF: only the MX hosts send mail from " + d},
	}
	for _, k := range s.DKIM {
		out = append(out, Record{Name: k.Selector + "._domainkey." + d, Type: "TXT", Value: k.Record,
			Why: "DKIM key " + k.Selector})
	}
	out = append(out,
		Record{Name: "_dmarc." + d, Type: "TXT", Value: s.DMARC(), Why: "DMARC: reject mail that fails SPF and DKIM"},
		Record{Name: "mta-sts." + d, Type: "CNAME", Value: s.MXHost + ".", Why: "the MTA-STS policy host (this server's HTTPS door; its certificate must name mta-sts." + d + ")"},
		Record{Name: "_mta-sts." + d, Type: "TXT", Value: "v=STSv1; id=" + s.PolicyID(), Why: "MTA-STS: senders must use TLS to the MX"},
		Record{Name: "_smtp._tls." + d, Type: "TXT", Value: s.TLSRPT(), Why: "TLS-RPT: where senders report TLS failures"},
	)
	if t := s.TLSA(); t != "" {
		port := s.SMTPPort
		if port == 0 {
			port = 25
		}
		out = append(out, Record{Name: fmt.Sprintf("_%d._tcp.%s", port, s.MXHost), Type: "TLSA", Value: t,
			Why: "DANE: the MX host's key (only in a DNSSEC-signed zone)", Optional: true})
	}
	return out
}

// Zone formats records as zone-file lines.
func Zone(rs []Record) string {
	var b strings.Builder
	for _, r := range rs {
		v := r.Value
		if r.Type == "TXT" {
			v = quoteTXT(v)
		}
		opt := ""
		if r.Optional {
			opt = " (optional)"
		}
		fmt.Fprintf(&b, "; %s%s\n%s. 3600 IN %s %s\n", r.Why, opt, r.Name, r.Type, v)
	}
	return b.String()
}

// quoteTXT splits text into quoted strings of at most 255 bytes (RFC 1035
// 3.3.14), as long DKIM keys need.
func quoteTXT(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, `"`+s[:255]+`"`)
		s = s[255:]
	}
	parts = append(parts, `"`+s+`"`)
	return strings.Join(parts, " ")
}
