package server_test

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
	"wardmail/tlsrpt"
)

// trustTestCA makes the queue check MX certificates and MTA-STS policy
// hosts against the test internet's CA.
func trustTestCA(n *testnet.Net) func(*server.Config) {
	return func(cfg *server.Config) {
		cfg.Outbound.CAFile = n.CAFile()
		cfg.Outbound.MTASTSPort = n.HTTPSPort
	}
}

// waitReason waits until a queued recipient of the message has a last
// answer, and returns the queue record as the national administrators'
// queue view shows it (GET /api/v1/admin/queue/ID calls the queue's Show,
// as `wardmail queue show` does).
func (e *outEnv) waitReason(messageID string) *store.QueuedRcpt {
	e.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ms, err := e.st.QueuedByMessageID(e.ctx, messageID)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ms) == 1 && ms[0].Rcpts[0].LastReply != "" {
			var m store.QueuedMessage
			if code := newAPIClient(e.t, e.srv, "nat@nhs.test").call("GET", "/api/v1/admin/queue/"+ms[0].QueueID, nil, &m); code != 200 {
				e.t.Fatalf("queue show: %d", code)
			}
			return m.Rcpts[0]
		}
	}
	e.t.Fatalf("%s was never tried", messageID)
	return nil
}

// tlsResult is what the store kept today for TLS reports about mx.
func (e *outEnv) tlsResult(mx string) (tlsrpt.Result, bool) {
	e.t.Helper()
	all, err := e.st.TLSResults(e.ctx, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range all {
		if r.MXHost == mx {
			return r, true
		}
	}
	return tlsrpt.Result{}, false
}

// noneSent fails the test when a host saw a message transaction.
func noneSent(t *testing.T, h *testnet.SMTPHost) {
	t.Helper()
	if trs := h.Transactions(); len(trs) != 0 {
		t.Errorf("%s was sent %d transactions (TLS %v): the message must not leave", h.Hostname, len(trs), trs[0].TLS != nil)
	}
}

// A person sends through submission to two domains with MTA-STS policies in
// enforce mode (RFC 8461): one whose MX presents a certificate from the
// test CA for its name gets the message over TLS, and the TLS report
// records a success under its policy; one whose MX presents a certificate
// for another name gets nothing, not even in clear, and the queue view says
// that the policy deferred it.
func TestOutboundMTASTSThroughTheQueue(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	good := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.sts.test", TLS: testnet.TLSValid})
	bad := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.stsbad.test", TLS: testnet.TLSMismatch})
	policy := func(mx string) string { return "version: STSv1\nmode: enforce\nmx: " + mx + "\nmax_age: 86400\n" }
	pGood, pBad := n.StartMTASTS("sts.test", policy("mx.sts.test")), n.StartMTASTS("stsbad.test", policy("mx.stsbad.test"))
	zone := func(name string, h *testnet.SMTPHost, p *testnet.MTASTS) testnet.Zone {
		return testnet.Zone{Name: name, Records: append(append(h.Records(), testnet.MX("@", 10, h.Hostname)), p.Records()...)}
	}
	d := n.StartDNS(zone("sts.test", good, pGood), zone("stsbad.test", bad, pBad))
	e := startOutbound(t, n, d, trustTestCA(n))
	e.grantNational("nat@nhs.test")

	e.mustSubmit("amira@nhs.test", []string{"gp@sts.test"}, "Referral", "Message-ID: <sts1@nhs.test>\r\n")
	e.mustSubmit("amira@nhs.test", []string{"gp@stsbad.test"}, "Referral", "Message-ID: <sts2@nhs.test>\r\n")

	m := e.waitQueued("<sts1@nhs.test>")
	if r := m.Rcpts[0]; r.State != store.QueueDelivered || !strings.HasPrefix(r.TLS, "TLSv1.") || r.MX != "mx.sts.test" {
		t.Fatalf("sts.test: %+v", r)
	}
	if got := good.Received(); len(got) != 1 || got[0].TLS == nil {
		t.Fatalf("mx.sts.test received %+v, want one message over TLS", got)
	}
	if res, ok := e.tlsResult("mx.sts.test"); !ok || res.PolicyType != "sts" || !res.Success {
		t.Errorf("TLS report result for mx.sts.test: %+v (recorded %v), want an MTA-STS success", res, ok)
	}

	r := e.waitReason("<sts2@nhs.test>")
	if r.State != store.QueueQueued || !strings.Contains(r.LastReply, "MTA-STS") || !strings.Contains(r.LastReply, "enforce") ||
		!strings.Contains(r.LastReply, "certificate") {
		t.Fatalf("stsbad.test in the queue view: %s, %q", r.State, r.LastReply)
	}
	noneSent(t, bad)
	if res, ok := e.tlsResult("mx.stsbad.test"); !ok || res.Success || res.FailureType != "certificate-host-mismatch" {
		t.Errorf("TLS report result for mx.stsbad.test: %+v (recorded %v)", res, ok)
	}
}

// DANE (RFC 7672) through the queue: a DNSSEC-signed domain whose MX
// publishes a TLSA record (3 1 1) matching its key gets the message, even
// though the certificate names another host (DANE-EE ignores names); one
// whose TLSA record matches nothing gets nothing, and waits with DANE's
// reason.
func TestOutboundDANEThroughTheQueue(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	good := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.dane.test", TLS: testnet.TLSMismatch})
	bad := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.danebad.test", TLS: testnet.TLSValid})
	spki := sha256.Sum256(good.Cert.Leaf.RawSubjectPublicKeyInfo)
	wrong := sha256.Sum256([]byte("not the key"))
	tlsa := "_" + itoa(n.Port) + "._tcp.mx"
	zone := func(name string, h *testnet.SMTPHost, hash []byte) testnet.Zone {
		return testnet.Zone{Name: name, Signed: true, Records: append(h.Records(), testnet.MX("@", 10, h.Hostname),
			testnet.TLSA(tlsa, 3, 1, 1, hash))}
	}
	d := n.StartDNS(zone("dane.test", good, spki[:]), zone("danebad.test", bad, wrong[:]))
	e := startOutbound(t, n, d, trustTestCA(n))
	e.grantNational("nat@nhs.test")

	e.mustSubmit("amira@nhs.test", []string{"gp@dane.test"}, "Bloods", "Message-ID: <dane1@nhs.test>\r\n")
	e.mustSubmit("amira@nhs.test", []string{"gp@danebad.test"}, "Bloods", "Message-ID: <dane2@nhs.test>\r\n")

	m := e.waitQueued("<dane1@nhs.test>")
	if r := m.Rcpts[0]; r.State != store.QueueDelivered || !strings.HasPrefix(r.TLS, "TLSv1.") {
		t.Fatalf("dane.test: %+v", r)
	}
	if got := good.Received(); len(got) != 1 || got[0].TLS == nil {
		t.Fatalf("mx.dane.test received %+v, want one message over TLS", got)
	}
	if res, ok := e.tlsResult("mx.dane.test"); !ok || res.PolicyType != "tlsa" || !res.Success {
		t.Errorf("TLS report result for mx.dane.test: %+v (recorded %v), want a DANE success", res, ok)
	}

	r := e.waitReason("<dane2@nhs.test>")
	if r.State != store.QueueQueued || !strings.Contains(r.LastReply, "DANE") || !strings.Contains(r.LastReply, "TLSA") {
		t.Fatalf("danebad.test in the queue view: %s, %q", r.State, r.LastReply)
	}
	noneSent(t, bad)
}

// An independent verifier judges our DKIM: a Debian Postfix with OpenDKIM
// receives what the queue sent and reports dkim=pass for both signatures
// (RSA-2048 and Ed25519, RFC 8463) once nhs.test publishes its keys.
func TestOutboundDKIMVerifiedByOpenDKIM(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	peer := n.StartPostfix(testnet.PostfixConfig{Domain: "gp.test"})
	d := n.StartDNS(testnet.Zone{Name: "gp.test", Records: peer.Records()},
		testnet.Zone{Name: "nhs.test", Records: []testnet.Record{testnet.MX("@", 10, "mx.nhs.test"), testnet.A("mx", n.Host())}})
	// nhs.test is named as a local domain, so its keys exist from the
	// first start (they are what an operator publishes).
	e := startOutbound(t, n, d, func(cfg *server.Config) { cfg.LocalDomains = []string{"nhs.test"} })
	keys, err := e.srv.Mail.Keys.Published("nhs.test")
	if err != nil || len(keys) != 2 {
		t.Fatalf("published keys of nhs.test: %d %v", len(keys), err)
	}
	var selectors []string
	for _, k := range keys {
		d.AddRecords("nhs.test", testnet.TXT(k.Selector+"._domainkey", k.Record()))
		selectors = append(selectors, k.Selector)
	}

	e.mustSubmit("amira@nhs.test", []string{"dr.patel@gp.test"}, "Discharge summary", "Message-ID: <dkim1@nhs.test>\r\n")
	got := peer.WaitMessages(t, 1)[0]
	if sigs := got.Header("DKIM-Signature"); len(sigs) != 2 {
		t.Fatalf("%d DKIM-Signature fields arrived, want 2:\n%s", len(sigs), got.Data)
	}
	ar := strings.Join(got.Header("Authentication-Results"), "\n")
	if c := strings.Count(ar, "dkim=pass"); c != 2 {
		t.Errorf("Authentication-Results from OpenDKIM has %d dkim=pass, want 2:\n%s", c, ar)
	}
	if strings.Contains(ar, "dkim=fail") || strings.Contains(ar, "dkim=neutral") || !strings.Contains(ar, "header.d=nhs.test") {
		t.Errorf("Authentication-Results:\n%s", ar)
	}
	for _, s := range selectors {
		if !strings.Contains(ar, s) && !strings.Contains(strings.Join(got.Header("DKIM-Signature"), "\n"), "s="+s) {
			t.Errorf("selector %s is in neither the signatures nor the results", s)
		}
	}
}
