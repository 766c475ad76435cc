package server_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
)

// "TLS-Required: No" (RFC 8689 5): a message that carries it reaches a
// domain whose MTA-STS policy (enforce) or DANE record would defer it for
// a certificate that does not match, still over STARTTLS; the same message
// without the field waits. A domain on the operator's tls_required list
// still gets nothing without a valid certificate, whatever the field says.
func TestTLSRequiredNo(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	sts := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.sts.test", TLS: testnet.TLSMismatch})
	dane := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.dane.test", TLS: testnet.TLSValid})
	listed := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.listed.test", TLS: testnet.TLSMismatch})
	pSTS := n.StartMTASTS("sts.test", "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 86400\n")
	wrong := sha256.Sum256([]byte("not the key"))
	zone := func(name string, signed bool, h *testnet.SMTPHost, extra ...testnet.Record) testnet.Zone {
		rs := append([]testnet.Record{testnet.MX("@", 10, h.Hostname)}, h.Records()...)
		return testnet.Zone{Name: name, Signed: signed, Records: append(rs, extra...)}
	}
	d := n.StartDNS(zone("sts.test", false, sts, pSTS.Records()...),
		zone("dane.test", true, dane, testnet.TLSA("_"+itoa(n.Port)+"._tcp.mx", 3, 1, 1, wrong[:])),
		zone("listed.test", false, listed))
	e := startOutbound(t, n, d, func(cfg *server.Config) {
		trustTestCA(n)(cfg)
		cfg.TLSRequired = []string{"listed.test"}
	})
	e.grantNational("nat@nhs.test")

	optional := "TLS-Required: No\r\n"
	e.mustSubmit("amira@nhs.test", []string{"gp@sts.test"}, "Clinic letter", "Message-ID: <no1@nhs.test>\r\n"+optional)
	e.mustSubmit("amira@nhs.test", []string{"gp@dane.test"}, "Clinic letter", "Message-ID: <no2@nhs.test>\r\n"+optional)
	e.mustSubmit("amira@nhs.test", []string{"gp@listed.test"}, "Clinic letter", "Message-ID: <no3@nhs.test>\r\n"+optional)
	e.mustSubmit("amira@nhs.test", []string{"gp@sts.test"}, "Strict letter", "Message-ID: <no4@nhs.test>\r\n")

	for _, c := range []struct {
		id   string
		host *testnet.SMTPHost
	}{{"<no1@nhs.test>", sts}, {"<no2@nhs.test>", dane}} {
		if r := e.waitQueued(c.id).Rcpts[0]; r.State != store.QueueDelivered || !strings.HasPrefix(r.TLS, "TLSv1.") {
			t.Errorf("%s: %+v, want delivered over TLS", c.id, r)
		}
		got := c.host.Received()
		if len(got) != 1 || got[0].TLS == nil || !strings.Contains(string(got[0].Data), "TLS-Required: No") {
			t.Errorf("%s received %d messages, want one over STARTTLS that still says TLS-Required: No", c.host.Hostname, len(got))
		}
	}
	r := e.waitReason("<no3@nhs.test>")
	if r.State != store.QueueQueued || !strings.Contains(r.LastReply, "tls_required") {
		t.Errorf("listed.test (tls_required): %s %q, want it to wait for the operator's rule", r.State, r.LastReply)
	}
	noneSent(t, listed)
	if r := e.waitReason("<no4@nhs.test>"); r.State != store.QueueQueued || !strings.Contains(r.LastReply, "MTA-STS") {
		t.Errorf("without the field: %s %q, want it to wait for MTA-STS", r.State, r.LastReply)
	}
	if got := sts.Received(); len(got) != 1 {
		t.Errorf("mx.sts.test received %d messages, want only the one with TLS-Required: No", len(got))
	}
}

// REQUIRETLS and "TLS-Required: No" on one message ask for opposite
// things: submission refuses it with a reply that says so.
func TestRequireTLSWithTLSRequiredNoRefused(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	d := n.StartDNS()
	e := startOutbound(t, n, d, nil)
	err := e.submitRequireTLSWith("amira@nhs.test", []string{"gp@ext.test"}, "Both", "<both@nhs.test>", "TLS-Required: No\r\n", nil)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 554 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 10}) ||
		!strings.Contains(se.Message, "TLS-Required: No") || !strings.Contains(se.Message, "REQUIRETLS") {
		t.Fatalf("REQUIRETLS with TLS-Required: No: %v, want 554 5.7.10 naming both", err)
	}
}

// The failure notice of a REQUIRETLS message returns its header only, even
// when RET=FULL asked for all of it (RFC 8689 5): the body that was to
// travel only over verified TLS is not copied into a notice.
func TestRequireTLSFailureNoticeHeadersOnly(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	old := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.old.test", TLS: testnet.TLSValid})
	pOld := n.StartMTASTS("old.test", "version: STSv1\nmode: enforce\nmx: mx.old.test\nmax_age: 86400\n")
	d := n.StartDNS(testnet.Zone{Name: "old.test", Records: append(append(old.Records(), testnet.MX("@", 10, "mx.old.test")), pOld.Records()...)})
	e := startOutbound(t, n, d, func(cfg *server.Config) {
		trustTestCA(n)(cfg)
		cfg.Outbound.Lifetime = 2 * time.Second
	})
	if err := e.submitRequireTLSWith("amira@nhs.test", []string{"gp@old.test"}, "Results", "<rtfull@nhs.test>", "",
		&smtp.MailOptions{RequireTLS: true, Return: smtp.DSNReturnFull}); err != nil {
		t.Fatal(err)
	}
	notice := e.waitNotice("amira@nhs.test", "Undeliverable: Results")
	if !strings.Contains(notice, "text/rfc822-headers") || strings.Contains(notice, "message/rfc822") ||
		strings.Contains(notice, "Patient results") || !strings.Contains(notice, "Subject: Results") {
		t.Errorf("the notice of a REQUIRETLS message must return its header only:\n%s", notice)
	}
	noneSent(t, old)
}

// submitRequireTLSWith is submitRequireTLS with extra header fields and
// MAIL options of the test's choosing (nil: REQUIRETLS alone).
func (e *outEnv) submitRequireTLSWith(from string, to []string, subject, messageID, headers string, mail *smtp.MailOptions) error {
	e.t.Helper()
	if mail == nil {
		mail = &smtp.MailOptions{RequireTLS: true}
	}
	c := e.dialSubmission(from)
	defer c.Close()
	if err := c.Mail(from, mail); err != nil {
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
	if _, err := w.Write([]byte("From: <" + from + ">\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: " + subject +
		"\r\nMessage-ID: " + messageID + "\r\n" + headers + "\r\nPatient results.\r\n")); err != nil {
		return err
	}
	return w.Close()
}
