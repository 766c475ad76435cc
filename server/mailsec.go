package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"wardmail/dkimsign"
	"wardmail/dnsrecords"
	"wardmail/store"
	"wardmail/tlspolicy"
	"wardmail/tlsrpt"
)

// MailSecurity is what mail leaving the server is protected by: DKIM keys
// per local domain (DATA/dkim) and the TLS policy of each destination. The
// outbound queue takes Signer as its Signer and Security as its Security.
type MailSecurity struct {
	Keys     *dkimsign.Keyring
	Signer   dkimsign.Signer
	Security *tlspolicy.Security
}

// DKIMDir is where the DKIM keys are kept: dkim_key_dir, or DATA/dkim.
// Nodes sharing a database must share it too (they sign with the keys the
// DNS publishes).
func DKIMDir(cfg Config) string {
	if cfg.DKIMKeyDir != "" {
		return cfg.DKIMKeyDir
	}
	return filepath.Join(cfg.DataDir, "dkim")
}

// LocalDomains is the directory's domains and the configured ones.
func LocalDomains(ctx context.Context, st *store.Store, cfg Config) ([]string, error) {
	ds, err := st.Domains(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range cfg.LocalDomains {
		d = strings.ToLower(d)
		if !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	return ds, nil
}

// newMailSecurity makes DKIM keys for every local domain that has none
// (the first start) and the TLS policy engine, whose results are kept for
// TLS reports.
func newMailSecurity(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) (*MailSecurity, error) {
	keys := dkimsign.Open(DKIMDir(cfg), cfg.Now)
	domains, err := LocalDomains(ctx, st, cfg)
	if err != nil {
		return nil, err
	}
	if err := keys.Ensure(domains...); err != nil {
		return nil, err
	}
	var roots *x509.CertPool
	if cfg.Outbound.CAFile != "" {
		pem, err := os.ReadFile(cfg.Outbound.CAFile)
		if err != nil {
			return nil, fmt.Errorf("outbound_ca_file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("outbound_ca_file: %s holds no PEM certificate", cfg.Outbound.CAFile)
		}
	}
	sec := tlspolicy.New(tlspolicy.Config{Resolver: cfg.DNSResolver, Required: cfg.TLSRequired, Results: st, Cache: st,
		RootCAs: roots, SMTPPort: cfg.Outbound.Port, HTTPSPort: cfg.Outbound.MTASTSPort, Logger: log, Now: cfg.Now})
	return &MailSecurity{Keys: keys, Signer: dkimsign.Signer{Keys: keys, Local: func(ctx context.Context, d string) (bool, error) {
		if slices.Contains(cfg.LocalDomains, d) {
			return true, nil
		}
		return st.IsLocalDomain(ctx, d)
	}}, Security: sec}, nil
}

// DNSSetup is what a local domain publishes, from the configuration, its
// live DKIM keys and the server's certificate (for the optional TLSA).
func DNSSetup(cfg Config, keys *dkimsign.Keyring, cert *x509.Certificate, domain string) (dnsrecords.Setup, error) {
	s := dnsrecords.Setup{Domain: strings.ToLower(domain), MXHost: cfg.Hostname, MTASTSMode: cfg.MTASTSMode,
		MTASTSMaxAge: cfg.MTASTSMaxAge, ReportAddress: cfg.ReportAddress, Cert: cert}
	if s.ReportAddress != "" && !strings.Contains(s.ReportAddress, "@") {
		s.ReportAddress += "@" + s.Domain
	}
	pub, err := keys.Published(domain)
	if err != nil {
		return s, err
	}
	for _, k := range pub {
		s.DKIM = append(s.DKIM, dnsrecords.DKIMKey{Selector: k.Selector, Record: k.Record()})
	}
	return s, nil
}

// mtaSTSHandler serves each local domain's MTA-STS policy on the HTTPS door
// (https://mta-sts.DOMAIN/.well-known/mta-sts.txt).
func (s *Server) mtaSTSHandler(cfg Config) http.Handler {
	return dnsrecords.PolicyHandler(func(domain string) (dnsrecords.Setup, bool) {
		local, err := s.Store.IsLocalDomain(context.Background(), domain)
		if err != nil || !(local || slices.Contains(cfg.LocalDomains, domain)) {
			return dnsrecords.Setup{}, false
		}
		return dnsrecords.Setup{Domain: domain, MXHost: cfg.Hostname, MTASTSMode: cfg.MTASTSMode, MTASTSMaxAge: cfg.MTASTSMaxAge}, true
	})
}

// StartTLSReports sends the daily TLS reports (RFC 8460) through q, the
// outbound queue, from report_address in the server's own domain, until the
// server closes.
func (s *Server) StartTLSReports(cfg Config, q tlsrpt.Enqueuer) {
	domain := cfg.Hostname
	if _, parent, ok := strings.Cut(domain, "."); ok && strings.Contains(parent, ".") {
		domain = parent
	}
	from := cfg.ReportAddress
	if from == "" {
		from = "reports"
	}
	if !strings.Contains(from, "@") {
		from += "@" + domain
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &tlsrpt.Reporter{Store: s.Store, Queue: q, Resolver: cfg.DNSResolver, Organization: cfg.Hostname,
		Submitter: domain, From: from, Logger: s.log}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	s.closers = append(s.closers, func() error { cancel(); <-done; return nil })
}
