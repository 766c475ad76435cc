package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"wardmail/tlsrpt"
)

const tlsrptUsage = `usage:
  wardmail tlsrpt import --data DIR FILE...   keep TLS reports (RFC 8460) about our domains: report mails, .json or .json.gz files`

// runTLSRPT imports TLS reports received elsewhere (a mailbox outside
// Wardmail, or files), so that administrators see them in the console.
func runTLSRPT(args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New(tlsrptUsage)
	}
	fs := flag.NewFlagSet("tlsrpt import", flag.ExitOnError)
	at := storeFlags(fs, "")
	files := parseMixed(fs, args[1:])
	if len(files) == 0 {
		return errors.New(tlsrptUsage)
	}
	ctx := context.Background()
	st, err := openStore(ctx, *at)
	if err != nil {
		return err
	}
	defer st.Close()
	ours := func(d string) bool { ok, err := st.IsLocalDomain(ctx, d); return err == nil && ok }
	for _, f := range files {
		b, err := readLimited(f)
		if err != nil {
			return err
		}
		var rec tlsrpt.Received
		switch {
		case strings.HasSuffix(f, ".json.gz") || strings.HasSuffix(f, ".gz"):
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if b, err = io.ReadAll(io.LimitReader(zr, 20<<20)); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			fallthrough
		case strings.HasSuffix(f, ".json"):
			if _, rec, err = tlsrpt.ParseReport(b); err == nil {
				err = tlsrpt.Keep(ctx, st, ours, rec)
			}
		default:
			rec, err = tlsrpt.Receive(ctx, st, ours, b)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Printf("%s: %s about %s, %d successful and %d failed sessions\n", f, rec.Organization, rec.PolicyDomain, rec.Successes, rec.Failures)
	}
	return nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 10<<20+1))
	if err == nil && len(b) > 10<<20 {
		err = fmt.Errorf("%s is larger than 10 MiB", path)
	}
	return b, err
}
