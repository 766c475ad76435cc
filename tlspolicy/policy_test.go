package tlspolicy_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"wardmail/store"
	"wardmail/store/storetest"
	"wardmail/testnet"
	"wardmail/tlspolicy"
	"wardmail/tlsrpt"
)

// resultFor is what the store kept today about connections to mx.
func resultFor(t *testing.T, st *store.Store, mx string) tlsrpt.Result {
	t.Helper()
	all, err := st.TLSResults(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.MXHost == mx {
			return r
		}
	}
	t.Fatalf("no TLS result was recorded for %s", mx)
	return tlsrpt.Result{}
}

// starttls connects to a scripted host as the outbound client would, and
// makes the handshake with the plan's configuration, reporting the outcome.
func starttls(t *testing.T, plan *tlspolicy.Plan, h *testnet.SMTPHost) (required bool, reason string, err error) {
	t.Helper()
	cfg, required, reason, err := plan.TLS(context.Background(), h.Hostname)
	if err != nil {
		return true, reason, err
	}
	conn, err := net.DialTimeout("tcp", h.SMTPAddr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// go-smtp's client says EHLO, then STARTTLS with cfg.
	c, err := smtp.NewClientStartTLS(conn, cfg)
	if err == nil {
		// The handshake happens with the next command (EHLO again).
		if err = c.Noop(); err != nil {
			_ = c.Close()
		}
	}
	var state *tls.ConnectionState
	if err == nil {
		defer func() { _ = c.Close() }()
		if cs, ok := c.TLSConnectionState(); ok {
			state = &cs
		}
	}
	plan.Report(h.Hostname, state, err)
	return required, reason, err
}

func spkiHash(h *testnet.SMTPHost) []byte {
	sum := sha256.Sum256(h.Cert.Leaf.RawSubjectPublicKeyInfo)
	return sum[:]
}

func TestPolicies(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	stsGood := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.sts.test", TLS: testnet.TLSValid})
	stsBad := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.stsbad.test", TLS: testnet.TLSMismatch})
	stsTesting := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.ststesting.test", TLS: testnet.TLSMismatch})
	daneGood := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.dane.test", TLS: testnet.TLSMismatch})
	daneBad := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.danebad.test", TLS: testnet.TLSValid})
	bogus := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.bogus.test", TLS: testnet.TLSValid})
	daneTA := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.daneta.test", TLS: testnet.TLSValid})
	daneTAWrongName := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.danetaname.test", TLS: testnet.TLSMismatch})
	signed := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.signed.test", TLS: testnet.TLSValid})
	plain := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.plain.test"})
	unusable := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.unusable.test", TLS: testnet.TLSMismatch})
	govMismatch := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.council.gov.test", TLS: testnet.TLSMismatch})
	policy := func(mx string) string { return "version: STSv1\nmode: enforce\nmx: " + mx + "\nmax_age: 86400\n" }
	pSTS := n.StartMTASTS("sts.test", policy("mx.sts.test"))
	pBad := n.StartMTASTS("stsbad.test", policy("mx.stsbad.test"))
	pDANE := n.StartMTASTS("dane.test", policy("mx.dane.test"))
	pTesting := n.StartMTASTS("ststesting.test", "version: STSv1\nmode: testing\nmx: *.ststesting.test\nmax_age: 600\n")

	zone := func(name string, signed bool, h *testnet.SMTPHost, extra ...testnet.Record) testnet.Zone {
		rs := append([]testnet.Record{testnet.MX("@", 10, h.Hostname)}, h.Records()...)
		return testnet.Zone{Name: name, Signed: signed, Records: append(rs, extra...)}
	}
	wrong := sha256.Sum256([]byte("not the key"))
	ca := sha256.Sum256(n.CA.Cert.Raw)
	d := n.StartDNS(
		zone("sts.test", false, stsGood, pSTS.Records()...),
		zone("stsbad.test", false, stsBad, pBad.Records()...),
		zone("ststesting.test", false, stsTesting, pTesting.Records()...),
		zone("dane.test", true, daneGood, append(pDANE.Records(), testnet.TLSA("_25._tcp.mx", 3, 1, 1, spkiHash(daneGood)))...),
		zone("danebad.test", true, daneBad, testnet.TLSA("_25._tcp.mx", 3, 1, 1, wrong[:])),
		testnet.Zone{Name: "bogus.test", Bogus: true, Records: append(bogus.Records(),
			testnet.MX("@", 10, bogus.Hostname), testnet.TLSA("_25._tcp.mx", 3, 1, 1, spkiHash(bogus)))},
		zone("daneta.test", true, daneTA, testnet.TLSA("_25._tcp.mx", 2, 0, 1, ca[:])),
		zone("danetaname.test", true, daneTAWrongName, testnet.TLSA("_25._tcp.mx", 2, 0, 1, ca[:])),
		zone("signed.test", true, signed),
		zone("plain.test", false, plain),
		// Usage 1 (PKIX-EE) is not usable for SMTP (RFC 7672 3.1.3).
		zone("unusable.test", true, unusable, testnet.TLSA("_25._tcp.mx", 1, 1, 1, wrong[:])),
		zone("council.gov.test", false, govMismatch),
	)
	rec := storetest.Open(t, storetest.Options{})
	sec := tlspolicy.New(tlspolicy.Config{Resolver: d.Resolver(), RootCAs: n.CA.Pool(), HTTPSPort: n.HTTPSPort,
		Required: []string{"*.gov.test"}, SMTPPort: n.Port, Results: rec, Cache: rec})
	ctx := context.Background()
	plan := func(domain string, requireTLS bool) *tlspolicy.Plan {
		t.Helper()
		p, err := sec.Plan(ctx, domain, requireTLS)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("MTA-STS enforce, valid certificate", func(t *testing.T) {
		p := plan("sts.test", false)
		if p.AllowMX("mx.elsewhere.test") {
			t.Error("an MX the policy does not name was allowed")
		}
		if !p.AllowMX("mx.sts.test") {
			t.Fatal("the policy's MX was refused")
		}
		required, reason, err := starttls(t, p, stsGood)
		if err != nil || !required || !strings.Contains(reason, "MTA-STS") {
			t.Fatalf("handshake: required=%v reason=%q err=%v", required, reason, err)
		}
		if r := resultFor(t, rec, "mx.sts.test"); !r.Success || r.PolicyType != "sts" || r.MXHost != "mx.sts.test" ||
			!strings.Contains(strings.Join(r.PolicyString, "\n"), "mode: enforce") {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("MTA-STS enforce, mismatching certificate", func(t *testing.T) {
		required, _, err := starttls(t, plan("stsbad.test", false), stsBad)
		if err == nil || !required {
			t.Fatalf("a certificate for wrong.invalid was accepted: required=%v err=%v", required, err)
		}
		if !strings.Contains(err.Error(), "MTA-STS (enforce)") || !strings.Contains(err.Error(), "wrong.invalid") {
			t.Fatalf("the reason does not say why: %v", err)
		}
		if r := resultFor(t, rec, "mx.stsbad.test"); r.Success || r.FailureType != "certificate-host-mismatch" {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("MTA-STS testing: report, deliver", func(t *testing.T) {
		required, _, err := starttls(t, plan("ststesting.test", false), stsTesting)
		if err != nil || required {
			t.Fatalf("testing mode stopped delivery: required=%v err=%v", required, err)
		}
		if r := resultFor(t, rec, "mx.ststesting.test"); r.Success || r.FailureType != "certificate-host-mismatch" || r.PolicyType != "sts" {
			t.Fatalf("result %+v", r)
		}
	})
	// dane.test also publishes an MTA-STS policy in enforce mode, which its
	// certificate (for wrong.invalid) would fail: DANE takes precedence
	// (RFC 8461 2).
	t.Run("DANE-EE match (names not checked), over MTA-STS", func(t *testing.T) {
		required, reason, err := starttls(t, plan("dane.test", false), daneGood)
		if err != nil || !required || !strings.Contains(reason, "DANE") {
			t.Fatalf("required=%v reason=%q err=%v", required, reason, err)
		}
		if r := resultFor(t, rec, "mx.dane.test"); !r.Success || r.PolicyType != "tlsa" {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("DANE-TA: the test CA as trust anchor, names checked", func(t *testing.T) {
		if _, _, err := starttls(t, plan("daneta.test", false), daneTA); err != nil {
			t.Fatalf("a certificate issued by the TLSA's trust anchor was refused: %v", err)
		}
		_, _, err := starttls(t, plan("danetaname.test", false), daneTAWrongName)
		if err == nil || !strings.Contains(err.Error(), "wrong.invalid") {
			t.Fatalf("DANE-TA accepted a certificate for another name: %v", err)
		}
		if r := resultFor(t, rec, "mx.danetaname.test"); r.Success || r.FailureType != "certificate-host-mismatch" {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("DANE wrong TLSA", func(t *testing.T) {
		_, _, err := starttls(t, plan("danebad.test", false), daneBad)
		if err == nil || !strings.Contains(err.Error(), "TLSA") {
			t.Fatalf("a certificate matching no TLSA record was accepted: %v", err)
		}
		if r := resultFor(t, rec, "mx.danebad.test"); r.Success || r.FailureType != "tlsa-invalid" {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("bogus zone defers", func(t *testing.T) {
		_, _, err := starttls(t, plan("bogus.test", false), bogus)
		if err == nil || !strings.Contains(err.Error(), "deferred") {
			t.Fatalf("a bogus zone did not defer: %v", err)
		}
		if r := resultFor(t, rec, "mx.bogus.test"); r.Success || r.FailureType != "dnssec-invalid" {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("no policy: opportunistic", func(t *testing.T) {
		p := plan("plain.test", false)
		cfg, required, _, err := p.TLS(ctx, plain.Hostname)
		if err != nil || required || cfg == nil {
			t.Fatalf("required=%v err=%v", required, err)
		}
	})
	t.Run("REQUIRETLS needs a valid certificate", func(t *testing.T) {
		required, reason, err := starttls(t, plan("stsbad.test", true), stsBad)
		if err == nil || !required {
			t.Fatalf("required=%v reason=%q err=%v", required, reason, err)
		}
		p := plan("signed.test", true)
		if !p.RequireTLS() {
			t.Fatal("the plan lost the message's REQUIRETLS")
		}
		if required, reason, err := starttls(t, p, signed); err != nil || !required || !strings.Contains(reason, "REQUIRETLS") {
			t.Fatalf("REQUIRETLS to a DNSSEC-signed domain with a valid certificate: required=%v reason=%q err=%v", required, reason, err)
		}
		// RFC 8689 4.1: an MX from an unsigned zone, with no MTA-STS, is
		// not trusted for REQUIRETLS: defer.
		if _, required, _, err := plan("plain.test", true).TLS(ctx, plain.Hostname); err == nil || !required || !strings.Contains(err.Error(), "RFC 8689") {
			t.Fatalf("REQUIRETLS to an unsigned domain without MTA-STS: required=%v err=%v", required, err)
		}
		// A policy in testing mode lets other mail go to any MX, but a
		// REQUIRETLS message only to the hosts it names.
		if !plan("ststesting.test", false).AllowMX("mx.elsewhere.test") || plan("ststesting.test", true).AllowMX("mx.elsewhere.test") {
			t.Fatal("REQUIRETLS under an MTA-STS policy in testing mode: an MX the policy does not name was allowed")
		}
		// DNSSEC-signed TLSA records none of which is usable: other mail
		// goes over unauthenticated TLS (RFC 7672 2.2), a REQUIRETLS
		// message only to a certificate that verifies.
		if _, _, err := starttls(t, plan("unusable.test", true), unusable); err == nil || !strings.Contains(err.Error(), "REQUIRETLS") {
			t.Fatalf("REQUIRETLS with unusable TLSA records and a mismatching certificate: %v", err)
		}
		if _, _, err := starttls(t, plan("unusable.test", false), unusable); err != nil {
			t.Fatalf("unusable TLSA records, without REQUIRETLS: %v", err)
		}
	})
	t.Run("TLS-required list with a wildcard", func(t *testing.T) {
		required, reason, err := starttls(t, plan("council.gov.test", false), govMismatch)
		if err == nil || !required || !strings.Contains(err.Error(), "tls_required") {
			t.Fatalf("required=%v reason=%q err=%v", required, reason, err)
		}
	})
	t.Run("a cached policy outlives a restart", func(t *testing.T) {
		// The policy host now serves garbage under the same id, as an
		// attacker blocking the fetch would make it: a restarted server
		// keeps enforcing the policy it had.
		pBad.SetPolicy("1", "<html>blocked</html>")
		restarted := tlspolicy.New(tlspolicy.Config{Resolver: d.Resolver(), RootCAs: n.CA.Pool(), HTTPSPort: n.HTTPSPort,
			SMTPPort: n.Port, Results: rec, Cache: rec})
		p, err := restarted.Plan(ctx, "stsbad.test", false)
		if err != nil {
			t.Fatal(err)
		}
		if p.AllowMX("mx.attacker.test") {
			t.Fatal("after a restart the policy was forgotten: any MX allowed")
		}
		if _, required, _, _ := p.TLS(ctx, stsBad.Hostname); !required {
			t.Fatal("after a restart TLS is no longer required")
		}
	})
	t.Run("policy refreshed when its id changes", func(t *testing.T) {
		pSTS.SetPolicy("2", policy("mx2.sts.test"))
		d.SetZone(zone("sts.test", false, stsGood, pSTS.Records()...))
		p := plan("sts.test", false)
		if p.AllowMX("mx.sts.test") || !p.AllowMX("mx2.sts.test") {
			t.Fatal("the new policy (id 2) was not fetched")
		}
	})
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, host string
		want          bool
	}{
		{"mx.a.test", "MX.a.test.", true}, {"*.a.test", "mx.a.test", true}, {"*.a.test", "x.mx.a.test", false},
		{"*.a.test", "a.test", false}, {"mx.a.test", "mx2.a.test", false},
	} {
		if got := tlspolicy.MatchMX(c.pattern, c.host); got != c.want {
			t.Errorf("MatchMX(%q, %q) = %v", c.pattern, c.host, got)
		}
	}
	list := []string{"*.gov.uk", "nhs.net"}
	for host, want := range map[string]bool{"leeds.gov.uk": true, "gov.uk": false, "nhs.net": true, "x.nhs.net": false, "evilgov.uk": false} {
		if got := tlspolicy.MatchRequired(list, host); got != want {
			t.Errorf("MatchRequired(%q) = %v", host, got)
		}
	}
}

func FuzzParseSTS(f *testing.F) {
	f.Add("version: STSv1\nmode: enforce\nmx: mx.a.test\nmx: *.b.test\nmax_age: 86400\n")
	f.Add("version: STSv1\r\nmode: none\r\nmax_age: 0\r\n")
	f.Add("mode: testing\nmx:\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := tlspolicy.ParseSTS(text)
		if err == nil && (p.Mode == "enforce" || p.Mode == "testing") && len(p.MX) == 0 {
			t.Fatal("a policy with no mx was accepted")
		}
	})
}

// A route to an address (outbound_routes "domain=192.0.2.10:25") has no
// name to publish TLSA records under: the plan does not ask the DNS for
// them, so a resolver that cannot answer does not hold the mail back, and
// STARTTLS stays opportunistic.
func TestAddressRouteAsksNoTLSA(t *testing.T) {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.LocalAddr().String()
	_ = l.Close() // nothing answers there now
	sec := tlspolicy.New(tlspolicy.Config{Resolver: dead})
	for _, host := range []string{"192.0.2.10", "2001:db8::25"} {
		ordinary, err := sec.Plan(context.Background(), "partner.test", false)
		if err != nil {
			t.Fatal(err)
		}
		cfg, required, why, err := ordinary.TLS(context.Background(), host)
		if err != nil || required || cfg == nil {
			t.Errorf("TLS(%s): required %v (%s), err %v; want opportunistic TLS and no DNS", host, required, why, err)
		}
	}
}
