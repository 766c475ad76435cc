package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"wardmail/dkimsign"
	"wardmail/dnsrecords"
	"wardmail/server"
)

const dnsUsage = `usage:
  wardmail dns records [--config FILE] [serve flags] [--tlsa] DOMAIN   the records DOMAIN publishes, as zone-file lines
  wardmail dns check [--config FILE] [serve flags] DOMAIN              what DOMAIN publishes, line by line: ok, missing, wrong`

func runDNS(args []string) error {
	if len(args) == 0 {
		return errors.New(dnsUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("dns "+verb, flag.ExitOnError)
	load := serveFlags(fs)
	resolver := fs.String("resolver", "", "resolver to ask (host:port); default dns_resolver")
	withTLSA := fs.Bool("tlsa", true, "include a DANE TLSA record of the server's key (publish it only in a DNSSEC-signed zone)")
	rest := parseMixed(fs, args[1:])
	if len(rest) != 1 {
		return errors.New(dnsUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	domain := rest[0]
	keys := dkimsign.Open(server.DKIMDir(cfg), nil)
	// Keys are made here too when the server has not started yet, so that
	// the records can be published before the first message leaves.
	if err := keys.Ensure(domain); err != nil {
		return err
	}
	var cert *x509.Certificate
	if *withTLSA {
		if cert, err = serverCert(cfg); err != nil {
			fmt.Fprintln(os.Stderr, "no TLSA record:", err)
		}
	}
	setup, err := server.DNSSetup(cfg, keys, cert, domain)
	if err != nil {
		return err
	}
	switch verb {
	case "records":
		fmt.Print(dnsrecords.Zone(setup.Records()))
		fmt.Printf("; the MTA-STS policy served at https://mta-sts.%s/.well-known/mta-sts.txt:\n", setup.Domain)
		for _, line := range splitLines(setup.Policy()) {
			fmt.Println(";   " + line)
		}
		return nil
	case "check":
		r := cfg.DNSResolver
		if *resolver != "" {
			r = *resolver
		}
		bad := 0
		for _, f := range dnsrecords.Check(context.Background(), r, setup) {
			fmt.Println(f)
			if f.Status == dnsrecords.Missing || f.Status == dnsrecords.Wrong {
				bad++
			}
		}
		if bad > 0 {
			return fmt.Errorf("%s: %d records missing or wrong", domain, bad)
		}
		return nil
	}
	return errors.New(dnsUsage)
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		line := s[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		out = append(out, line)
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// serverCert reads the certificate the server presents (tls_cert, or the
// one made in the data folder).
func serverCert(cfg server.Config) (*x509.Certificate, error) {
	path := cfg.TLSCert
	if path == "" {
		path = filepath.Join(cfg.DataDir, "tls-cert.pem")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no certificate", path)
	}
	return x509.ParseCertificate(block.Bytes)
}
