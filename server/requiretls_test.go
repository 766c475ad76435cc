package server_test

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
)

// submitRequireTLS sends a message through the submission door with
// MAIL FROM:<from> REQUIRETLS (RFC 8689), as a mail client would. go-smtp's
// client refuses to when the server does not advertise REQUIRETLS.
func (e *outEnv) submitRequireTLS(from string, to []string, subject, messageID string) error {
	e.t.Helper()
	c, err := smtp.DialStartTLS(e.srv.Addrs["submission"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", from, "pw-"+from)); err != nil {
		e.t.Fatal(err)
	}
	if err := c.Mail(from, &smtp.MailOptions{RequireTLS: true}); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\nPatient results.\r\n", from, strings.Join(to, ", "), subject, messageID)
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// waitNotice waits for a notice in a person's INBOX whose text holds want.
func (e *outEnv) waitNotice(email, want string) string {
	e.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, msg := range e.inboxTexts(email) {
			if strings.Contains(msg, want) {
				return msg
			}
		}
	}
	e.t.Fatalf("no notice with %q reached %s", want, email)
	return ""
}

// A person asks for REQUIRETLS on a message (RFC 8689): it reaches a
// domain whose MX comes from DNSSEC or MTA-STS, over TLS with a verified
// certificate, to a server that offers REQUIRETLS, and the parameter goes
// on. Where any of that is missing it is never sent, not even in clear:
// it waits, then fails with a notice that says why (5.7.10). Mail without
// REQUIRETLS to the same domains still goes.
func TestRequireTLSPerMessage(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	// trust.test: MTA-STS enforce, valid certificate, REQUIRETLS offered.
	trust := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.trust.test", TLS: testnet.TLSValid, RequireTLS: true})
	// signed.test: DNSSEC-signed MX, valid certificate, REQUIRETLS offered.
	signed := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.signed.test", TLS: testnet.TLSValid, RequireTLS: true})
	// old.test: MTA-STS enforce and a valid certificate, but no REQUIRETLS.
	old := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.old.test", TLS: testnet.TLSValid})
	// clear.test: DNSSEC-signed, no STARTTLS at all.
	clear := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.clear.test"})
	// unsigned.test: valid certificate and REQUIRETLS, but its MX is
	// neither DNSSEC-signed nor named by an MTA-STS policy.
	unsigned := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.unsigned.test", TLS: testnet.TLSValid, RequireTLS: true})
	policy := func(mx string) string { return "version: STSv1\nmode: enforce\nmx: " + mx + "\nmax_age: 86400\n" }
	pTrust := n.StartMTASTS("trust.test", policy("mx.trust.test"))
	pOld := n.StartMTASTS("old.test", policy("mx.old.test"))
	zone := func(name string, signed bool, h *testnet.SMTPHost, extra ...testnet.Record) testnet.Zone {
		rs := append([]testnet.Record{testnet.MX("@", 10, h.Hostname)}, h.Records()...)
		return testnet.Zone{Name: name, Signed: signed, Records: append(rs, extra...)}
	}
	d := n.StartDNS(zone("trust.test", false, trust, pTrust.Records()...), zone("signed.test", true, signed),
		zone("old.test", false, old, pOld.Records()...), zone("clear.test", true, clear), zone("unsigned.test", false, unsigned))
	e := startOutbound(t, n, d, func(cfg *server.Config) {
		cfg.Outbound.CAFile = n.CAFile()
		cfg.Outbound.MTASTSPort = n.HTTPSPort
		cfg.Outbound.Lifetime = 6 * time.Second
	})

	send := func(to, subject, id string) {
		t.Helper()
		if err := e.submitRequireTLS("amira@nhs.test", []string{to}, subject, id); err != nil {
			t.Fatalf("submitting %s with REQUIRETLS: %v", subject, err)
		}
	}
	send("gp@trust.test", "Results for trust", "<rt1@nhs.test>")
	send("gp@signed.test", "Results for signed", "<rt2@nhs.test>")
	send("gp@old.test", "Results for old", "<rt3@nhs.test>")
	send("gp@clear.test", "Results for clear", "<rt4@nhs.test>")
	send("gp@unsigned.test", "Results for unsigned", "<rt5@nhs.test>")
	// The same destination without REQUIRETLS: delivered as before.
	e.mustSubmit("amira@nhs.test", []string{"gp@old.test"}, "Rota", "Message-ID: <rt6@nhs.test>\r\n")

	for _, c := range []struct {
		id   string
		host *testnet.SMTPHost
	}{{"<rt1@nhs.test>", trust}, {"<rt2@nhs.test>", signed}} {
		m := e.waitQueued(c.id)
		if r := m.Rcpts[0]; r.State != store.QueueDelivered || !strings.HasPrefix(r.TLS, "TLS") {
			t.Fatalf("%s: %+v", c.id, r)
		}
		got := c.host.Received()
		if len(got) != 1 || got[0].TLS == nil || !got[0].RequireTLS {
			t.Fatalf("%s: %s received %d transactions (want one over TLS with REQUIRETLS): %+v", c.id, c.host.Hostname, len(got), got)
		}
	}
	if m := e.waitQueued("<rt6@nhs.test>"); m.Rcpts[0].State != store.QueueDelivered {
		t.Fatalf("the message without REQUIRETLS: %+v", m.Rcpts[0])
	}
	for _, c := range []struct {
		id, why string
		host    *testnet.SMTPHost
	}{
		{"<rt3@nhs.test>", "does not offer REQUIRETLS", old},
		{"<rt4@nhs.test>", "does not offer STARTTLS", clear},
		{"<rt5@nhs.test>", "not DNSSEC-signed", unsigned},
	} {
		m := e.waitQueued(c.id)
		r := m.Rcpts[0]
		if r.State != store.QueueFailed || !strings.Contains(r.LastReply, "5.7.10") || !strings.Contains(r.LastReply, c.why) {
			t.Errorf("%s: %s after %d attempts: %q", c.id, r.State, r.Attempts, r.LastReply)
		}
		if r.Attempts < 2 {
			t.Errorf("%s: failed after %d attempts; it should have waited and retried", c.id, r.Attempts)
		}
		for _, tr := range c.host.Transactions() {
			if tr.RequireTLS || strings.Contains(string(tr.Data), "Patient results") {
				t.Errorf("%s: %s was sent the message (TLS %v)", c.id, c.host.Hostname, tr.TLS != nil)
			}
		}
	}
	if got := old.Received(); len(got) != 1 || !strings.Contains(string(got[0].Data), "Subject: Rota") {
		t.Errorf("mx.old.test received %d messages, want only the one without REQUIRETLS", len(got))
	}
	notice := e.waitNotice("amira@nhs.test", "Undeliverable: Results for old")
	for _, want := range []string{"Status: 5.7.10", "does not offer REQUIRETLS", "gp@old.test", "RFC 8689"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the notice lacks %q:\n%s", want, notice)
		}
	}
}

// The submission door offers REQUIRETLS only inside TLS (RFC 8689 4.1).
func TestRequireTLSAdvertisedOnlyOverTLS(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "", ""}}, nil)
	c, err := smtp.Dial(e.srv.Addrs["submission"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("REQUIRETLS"); ok {
		t.Error("REQUIRETLS is advertised before STARTTLS")
	}
	ct, err := smtp.DialStartTLS(e.srv.Addrs["submission"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ct.Close()
	if ok, _ := ct.Extension("REQUIRETLS"); !ok {
		t.Error("REQUIRETLS is not advertised after STARTTLS")
	}
}
