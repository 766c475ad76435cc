package dnsrecords

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/miekg/dns"

	"wardmail/netdns"
)

// Status of one check.
const (
	OK      = "ok"
	Missing = "missing"
	Wrong   = "wrong"
	Warning = "warning"
)

// Finding is one line of a check.
type Finding struct {
	Check  string `json:"check"` // MX, SPF, DKIM wm…r, DMARC, MTA-STS, TLS-RPT, TLSA
	Status string `json:"status"`
	Detail string `json:"detail"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%-8s %-18s %s", strings.ToUpper(f.Status), f.Check, f.Detail)
}

// tags reads a tag=value; record (DKIM, DMARC, MTA-STS, TLS-RPT).
func tags(rec string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Split(rec, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.Join(strings.Fields(v), "")
		}
	}
	return out
}

// withPrefix returns the TXT records at name starting with prefix.
func withPrefix(ctx context.Context, resolver, name, prefix string) ([]string, error) {
	txt, _, err := netdns.LookupTXT(ctx, resolver, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range txt {
		if strings.HasPrefix(strings.ToLower(t), strings.ToLower(prefix)) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Check looks up what the domain publishes, through the resolver, and says
// for each record what is missing or wrong.
func Check(ctx context.Context, resolver string, s Setup) []Finding {
	var out []Finding
	add := func(check, status, format string, args ...any) {
		out = append(out, Finding{Check: check, Status: status, Detail: fmt.Sprintf(format, args...)})
	}
	d := s.Domain
	one := func(check, name, prefix, want string) (string, bool) {
		recs, err := withPrefix(ctx, resolver, name, prefix)
		switch {
		case err != nil:
			add(check, Wrong, "%s could not be looked up: %v", name, err)
		case len(recs) == 0:
			add(check, Missing, "no %s record at %s; publish: %s", prefix, name, want)
		case len(recs) > 1:
			add(check, Wrong, "%d %s records at %s; there must be exactly one: %s", len(recs), prefix, name, want)
		default:
			return recs[0], true
		}
		return "", false
	}

	// MX (RFC 5321 5.1).
	if a, err := netdns.Lookup(ctx, resolver, d, dns.TypeMX); err != nil {
		add("MX", Wrong, "could not be looked up: %v", err)
	} else if len(a.RRs) == 0 {
		add("MX", Missing, "no MX record; publish: %s. MX 10 %s.", d, s.MXHost)
	} else {
		var hosts []string
		found := false
		for _, rr := range a.RRs {
			h := strings.TrimSuffix(rr.(*dns.MX).Mx, ".")
			hosts = append(hosts, h)
			found = found || strings.EqualFold(h, s.MXHost)
		}
		if found {
			add("MX", OK, "%s", strings.Join(hosts, ", "))
		} else {
			add("MX", Wrong, "MX names %s, not this server (%s)", strings.Join(hosts, ", "), s.MXHost)
		}
	}

	// SPF (RFC 7208): one record, ending in -all.
	if rec, ok := one("SPF", d, "v=spf1", s.SPF()); ok {
		switch {
		case strings.HasSuffix(rec, "-all"):
			add("SPF", OK, "%s", rec)
		case strings.HasSuffix(rec, "~all") || strings.HasSuffix(rec, "?all") || strings.HasSuffix(rec, "+all"):
			add("SPF", Wrong, "%q does not end in -all: mail from elsewhere is not refused", rec)
		default:
			add("SPF", Warning, "%q has no -all; the standard asks for a hard fail", rec)
		}
	}

	// DKIM (RFC 6376 3.6.1): each live key published as made.
	for _, k := range s.DKIM {
		name := k.Selector + "._domainkey." + d
		check := "DKIM " + k.Selector
		if rec, ok := one(check, name, "v=DKIM1", k.Record); ok {
			if tags(rec)["p"] == tags(k.Record)["p"] {
				add(check, OK, "key published")
			} else {
				add(check, Wrong, "the key at %s is not this server's; publish: %s", name, k.Record)
			}
		}
	}

	// DMARC (RFC 7489 6.3): p=reject, with aggregate reports.
	if rec, ok := one("DMARC", "_dmarc."+d, "v=DMARC1", s.DMARC()); ok {
		t := tags(rec)
		switch {
		case t["p"] != "reject":
			add("DMARC", Wrong, "p=%s; the standard asks p=reject: %s", t["p"], s.DMARC())
		case t["pct"] != "" && t["pct"] != "100":
			add("DMARC", Wrong, "pct=%s applies the policy to part of the mail only", t["pct"])
		case t["rua"] == "":
			add("DMARC", Warning, "p=reject but no rua: nobody receives aggregate reports")
		default:
			add("DMARC", OK, "%s", rec)
		}
	}

	// MTA-STS (RFC 8461 3.1): the id of the policy this server serves.
	if rec, ok := one("MTA-STS", "_mta-sts."+d, "v=STSv1", "v=STSv1; id="+s.PolicyID()); ok {
		switch id := tags(rec)["id"]; {
		case id != s.PolicyID():
			add("MTA-STS", Wrong, "id=%s is not the served policy's id %s: senders keep their cached policy; publish: v=STSv1; id=%s", id, s.PolicyID(), s.PolicyID())
		case s.MTASTSMode != "" && s.MTASTSMode != "enforce":
			add("MTA-STS", Warning, "published, but the policy's mode is %s; the standard asks enforce (mta_sts_mode)", s.MTASTSMode)
		default:
			add("MTA-STS", OK, "%s", rec)
		}
	}

	// TLS-RPT (RFC 8460 3).
	if rec, ok := one("TLS-RPT", "_smtp._tls."+d, "v=TLSRPTv1", s.TLSRPT()); ok {
		if tags(rec)["rua"] == "" {
			add("TLS-RPT", Wrong, "%q has no rua", rec)
		} else {
			add("TLS-RPT", OK, "%s", rec)
		}
	}

	// DANE (RFC 7672), optional.
	if want := s.TLSA(); want != "" {
		port := s.SMTPPort
		if port == 0 {
			port = 25
		}
		rs, secure, err := netdns.LookupTLSA(ctx, resolver, s.MXHost, port)
		switch {
		case err != nil:
			add("TLSA", Wrong, "%v", err)
		case !secure:
			add("TLSA", Warning, "%s is not in a DNSSEC-signed zone (or has no TLSA): no DANE (optional)", s.MXHost)
		case len(rs) == 0:
			add("TLSA", Warning, "no TLSA record for %s (optional); publish: _%d._tcp.%s. TLSA %s", s.MXHost, port, s.MXHost, want)
		default:
			match := false
			for _, r := range rs {
				match = match || (r.Usage == 3 && r.Selector == 1 && r.Matching == 1 && "3 1 1 "+hex.EncodeToString(r.Data) == want)
			}
			if match {
				add("TLSA", OK, "matches this server's key")
			} else {
				add("TLSA", Wrong, "no TLSA record of %s matches this server's key: senders using DANE will defer mail; publish: %s", s.MXHost, want)
			}
		}
	}
	return out
}

// PolicyHandler serves https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC
// 8461 3.3) for the domains setup knows, by the request's Host; other hosts
// get 404.
func PolicyHandler(setup func(domain string) (Setup, bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, ok := strings.Cut(host, ":"); ok {
			host = h
		}
		domain, ok := strings.CutPrefix(strings.TrimSuffix(host, "."), "mta-sts.")
		var s Setup
		if ok {
			s, ok = setup(domain)
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(bytes.TrimSpace([]byte(s.Policy())))
		_, _ = w.Write([]byte("\r\n"))
	})
}
