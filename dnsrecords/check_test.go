package dnsrecords_test

import (
	"context"
	"strings"
	"testing"

	"wardmail/dkimsign"
	"wardmail/dnsrecords"
	"wardmail/testnet"
	"wardmail/tlspolicy"
)

func setup(t *testing.T, n *testnet.Net, domain string) dnsrecords.Setup {
	t.Helper()
	keys := dkimsign.Open(t.TempDir(), nil)
	if err := keys.Ensure(domain); err != nil {
		t.Fatal(err)
	}
	pub, err := keys.Published(domain)
	if err != nil {
		t.Fatal(err)
	}
	s := dnsrecords.Setup{Domain: domain, MXHost: "mx." + domain, MTASTSMode: "enforce"}
	for _, k := range pub {
		s.DKIM = append(s.DKIM, dnsrecords.DKIMKey{Selector: k.Selector, Record: k.Record()})
	}
	cert, err := n.CA.Issue("mx." + domain)
	if err != nil {
		t.Fatal(err)
	}
	s.Cert = cert.Leaf
	return s
}

// zone turns the printed records into the test DNS's records, with the MX
// host's address.
func zone(n *testnet.Net, s dnsrecords.Setup, skip func(dnsrecords.Record) bool) []testnet.Record {
	out := []testnet.Record{testnet.A(s.MXHost, n.Host())}
	for _, r := range s.Records() {
		if skip != nil && skip(r) {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(r.Name, s.Domain), ".")
		if name == "" {
			name = "@"
		}
		if r.Type == "TLSA" {
			name = r.Name + "."
		}
		out = append(out, testnet.Record{Name: name, Type: r.Type, Data: r.Value})
	}
	return out
}

func TestCheckCorrectAndBrokenZones(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	good := setup(t, n, "good.test")
	bad := setup(t, n, "broken.test")
	other := setup(t, n, "broken.test") // another server's keys
	badRecords := zone(n, bad, func(r dnsrecords.Record) bool {
		return r.Type == "MX" || r.Name == "_smtp._tls.broken.test" || r.Type == "TLSA" ||
			r.Name == "_dmarc.broken.test" || r.Name == "_mta-sts.broken.test" || r.Name == "broken.test" ||
			strings.Contains(r.Name, "._domainkey.")
	})
	badRecords = append(badRecords,
		testnet.TXT("@", "v=spf1 mx ~all"),
		testnet.TXT("_dmarc", "v=DMARC1; p=none; rua=mailto:x@broken.test"),
		testnet.TXT("_mta-sts", "v=STSv1; id=old1"),
		testnet.TXT(other.DKIM[0].Selector+"._domainkey", other.DKIM[0].Record),
		testnet.TXT(bad.DKIM[1].Selector+"._domainkey", bad.DKIM[1].Record),
		testnet.Record{Name: "_25._tcp.mx", Type: "TLSA", Data: "3 1 1 " + strings.Repeat("ab", 32)},
	)
	d := n.StartDNS(testnet.Zone{Name: "good.test", Signed: true, Records: zone(n, good, nil)},
		testnet.Zone{Name: "broken.test", Signed: true, Records: badRecords})
	ctx := context.Background()

	for _, f := range dnsrecords.Check(ctx, d.Resolver(), good) {
		if f.Status != dnsrecords.OK {
			t.Errorf("correct zone: %s", f)
		}
	}
	got := map[string]dnsrecords.Finding{}
	for _, f := range dnsrecords.Check(ctx, d.Resolver(), bad) {
		got[f.Check] = f
	}
	for check, want := range map[string]string{
		"MX":                           "missing",
		"SPF":                          "wrong:does not end in -all",
		"DMARC":                        "wrong:p=none",
		"MTA-STS":                      "wrong:id=old1",
		"TLS-RPT":                      "missing:_smtp._tls.broken.test",
		"DKIM " + bad.DKIM[0].Selector: "wrong:not this server's",
		"DKIM " + bad.DKIM[1].Selector: "ok",
		"TLSA":                         "wrong:matches this server's key",
	} {
		status, detail, _ := strings.Cut(want, ":")
		f := got[check]
		if f.Status != status || !strings.Contains(f.Detail, detail) {
			t.Errorf("%s: got %q %q, want %s containing %q", check, f.Status, f.Detail, status, detail)
		}
	}
}

// The policy the HTTPS door serves is one our own MTA-STS client accepts,
// and its id is the one printed for the _mta-sts record.
func TestServedPolicyIsFetchable(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	s := setup(t, n, "good.test")
	web := n.StartHTTPS("mta-sts.good.test", dnsrecords.PolicyHandler(func(d string) (dnsrecords.Setup, bool) {
		return s, d == "good.test"
	}))
	d := n.StartDNS(testnet.Zone{Name: "good.test", Records: append(zone(n, s, func(r dnsrecords.Record) bool { return r.Type == "CNAME" }),
		testnet.A("mta-sts", web.Addr))})
	sec := tlspolicy.New(tlspolicy.Config{Resolver: d.Resolver(), RootCAs: n.CA.Pool(), HTTPSPort: n.HTTPSPort})
	p, err := sec.Plan(context.Background(), "good.test", false)
	if err != nil {
		t.Fatal(err)
	}
	if p.AllowMX("mx.other.test") || !p.AllowMX("mx.good.test") {
		t.Fatal("the served policy was not fetched in enforce mode")
	}
}
