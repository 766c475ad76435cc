package server_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
)

// dsnRcpt is a recipient with its RCPT parameters (RFC 3461 4.1, 4.2).
type dsnRcpt struct {
	addr   string
	notify []smtp.DSNNotify
	orcpt  string // an rfc822 address, or ""
}

// submitDSN sends a message through the submission door with DSN
// parameters, as a mail client that asks for notices would.
func (e *outEnv) submitDSN(from string, mail *smtp.MailOptions, to []dsnRcpt, subject, messageID, headers string) {
	e.t.Helper()
	c := e.dialSubmission(from)
	defer c.Close()
	if err := c.Mail(from, mail); err != nil {
		e.t.Fatalf("MAIL: %v", err)
	}
	var names []string
	for _, r := range to {
		opts := &smtp.RcptOptions{Notify: r.notify}
		if r.orcpt != "" {
			opts.OriginalRecipientType, opts.OriginalRecipient = smtp.DSNAddressTypeRFC822, r.orcpt
		}
		if err := c.Rcpt(r.addr, opts); err != nil {
			e.t.Fatalf("RCPT %s: %v", r.addr, err)
		}
		names = append(names, r.addr)
	}
	w, err := c.Data()
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(w, "From: <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n%s\r\nThe body: ward 7 discharge plan.\r\n",
		from, strings.Join(names, ", "), subject, messageID, headers)
	if err := w.Close(); err != nil {
		e.t.Fatalf("DATA: %v", err)
	}
	if err := c.Quit(); err != nil {
		e.t.Fatal(err)
	}
}

// dialSubmission signs a person in on the submission door (STARTTLS).
func (e *outEnv) dialSubmission(from string) *smtp.Client {
	e.t.Helper()
	c, err := smtp.DialStartTLS(e.srv.Addrs["submission"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", from, "pw-"+from)); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// noticeWith returns the INBOX message of a person that holds want, or "".
func (e *outEnv) noticeWith(email, want string) string {
	for _, msg := range e.inboxTexts(email) {
		if strings.Contains(msg, want) {
			return msg
		}
	}
	return ""
}

// The DSN parameters a person gives go on to a next hop that offers DSN
// (RFC 3461 4): ENVID (xtext on the wire, the same value at the other
// end), RET, NOTIFY and ORCPT per recipient. That hop now reports
// delivery, so Wardmail itself sends no notice for NOTIFY=SUCCESS.
func TestDSNParametersPassedOn(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.dsn.test", DSN: true})
	d := n.StartDNS(testnet.Zone{Name: "dsn.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.dsn.test"))})
	e := startOutbound(t, n, d, nil)

	e.submitDSN("amira@nhs.test", &smtp.MailOptions{EnvelopeID: "case 42+a=b", Return: smtp.DSNReturnHeaders},
		[]dsnRcpt{{"gp@dsn.test", []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure}, "gp@dsn.test"},
			{"nurse@dsn.test", nil, ""}}, "Referral", "<dsn1@nhs.test>", "")
	m := e.waitQueued("<dsn1@nhs.test>")
	if m.Rcpts[0].State != store.QueueDelivered {
		t.Fatalf("queue record: %+v", m.Rcpts[0])
	}
	trs := host.Transactions()
	if len(trs) != 1 {
		t.Fatalf("%d transactions", len(trs))
	}
	tr := trs[0]
	if tr.EnvID != "case 42+a=b" || tr.Ret != "HDRS" {
		t.Errorf("MAIL FROM at the next hop: ENVID %q RET %q", tr.EnvID, tr.Ret)
	}
	for i, to := range tr.To {
		want := map[string][2]string{"gp@dsn.test": {"SUCCESS,FAILURE", "RFC822;gp@dsn.test"}, "nurse@dsn.test": {"", ""}}[to]
		if tr.Notify[i] != want[0] || tr.ORcpt[i] != want[1] {
			t.Errorf("RCPT %s at the next hop: NOTIFY %q ORCPT %q, want %q", to, tr.Notify[i], tr.ORcpt[i], want)
		}
	}
	// The outcome and any notice are one commit: none now means none.
	if msg := e.noticeWith("amira@nhs.test", "Delivered: Referral"); msg != "" {
		t.Errorf("a notice from Wardmail although the next hop reports deliveries itself:\n%s", msg)
	}
}

// NOTIFY=SUCCESS to a server that does not offer DSN: once it says 250,
// the sender hears that the message was relayed (RFC 3464 Action:
// relayed), with their ENVID and ORCPT in the report.
func TestDSNNotifySuccessRelayed(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.plain.test"})
	d := n.StartDNS(testnet.Zone{Name: "plain.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.plain.test"))})
	e := startOutbound(t, n, d, nil)

	e.submitDSN("amira@nhs.test", &smtp.MailOptions{EnvelopeID: "ref-77"},
		[]dsnRcpt{{"gp@plain.test", []smtp.DSNNotify{smtp.DSNNotifySuccess}, "GP@plain.test"}}, "Bloods", "<dsn2@nhs.test>", "")
	notice := e.waitNotice("amira@nhs.test", "Delivered: Bloods")
	for _, want := range []string{"was accepted by the mail server", "gp@plain.test", "does not report deliveries",
		"Original-Envelope-Id: ref-77", "Original-Recipient: rfc822;GP@plain.test", "Action: relayed", "Status: 2.0.0",
		"Remote-MTA: dns; mx.plain.test", "text/rfc822-headers"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the notice lacks %q:\n%s", want, notice)
		}
	}
	if strings.Contains(notice, "ward 7 discharge plan") {
		t.Errorf("a success notice returns the body:\n%s", notice)
	}
}

// NOTIFY=NEVER: a failure is not told. RET=FULL: the failure notice
// returns the whole message; RET=HDRS (and no RET) only its header.
func TestDSNNotifyNeverAndReturn(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.gone.test", Reject: true})
	d := n.StartDNS(testnet.Zone{Name: "gone.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.gone.test"))})
	e := startOutbound(t, n, d, nil)

	e.submitDSN("amira@nhs.test", nil, []dsnRcpt{{"a@gone.test", []smtp.DSNNotify{smtp.DSNNotifyNever}, ""}}, "Never", "<never@nhs.test>", "")
	e.submitDSN("amira@nhs.test", &smtp.MailOptions{Return: smtp.DSNReturnFull}, []dsnRcpt{{"b@gone.test", nil, ""}}, "Full", "<full@nhs.test>", "")
	e.submitDSN("amira@nhs.test", &smtp.MailOptions{Return: smtp.DSNReturnHeaders}, []dsnRcpt{{"c@gone.test", nil, ""}}, "Hdrs", "<hdrs@nhs.test>", "")

	full := e.waitNotice("amira@nhs.test", "Undeliverable: Full")
	if !strings.Contains(full, "Content-Type: message/rfc822") || !strings.Contains(full, "ward 7 discharge plan") {
		t.Errorf("RET=FULL: the notice does not return the message:\n%s", full)
	}
	hdrs := e.waitNotice("amira@nhs.test", "Undeliverable: Hdrs")
	if !strings.Contains(hdrs, "text/rfc822-headers") || strings.Contains(hdrs, "ward 7 discharge plan") ||
		!strings.Contains(hdrs, "Subject: Hdrs") {
		t.Errorf("RET=HDRS: the notice must return the header only:\n%s", hdrs)
	}
	if strings.Contains(hdrs, "Original-Envelope-Id") {
		t.Errorf("Original-Envelope-Id without an ENVID:\n%s", hdrs)
	}
	if r := e.waitQueued("<never@nhs.test>").Rcpts[0]; r.State != store.QueueFailed {
		t.Fatalf("NOTIFY=NEVER recipient: %+v", r)
	}
	if msg := e.noticeWith("amira@nhs.test", "Undeliverable: Never"); msg != "" {
		t.Errorf("NOTIFY=NEVER, yet a notice:\n%s", msg)
	}
}

// NOTIFY=DELAY asks for the delay notice; NOTIFY=FAILURE alone does not
// get one, however long the message waits.
func TestDSNNotifyDelay(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.slow.test", TempFail: 1 << 20})
	d := n.StartDNS(testnet.Zone{Name: "slow.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.slow.test"))})
	e := startOutbound(t, n, d, func(cfg *server.Config) { cfg.Outbound.DelayNotice = 300 * time.Millisecond })

	e.submitDSN("amira@nhs.test", nil, []dsnRcpt{{"a@slow.test", []smtp.DSNNotify{smtp.DSNNotifyFailure}, ""}}, "Quiet", "<quiet@nhs.test>", "")
	e.submitDSN("amira@nhs.test", nil, []dsnRcpt{{"b@slow.test", []smtp.DSNNotify{smtp.DSNNotifyDelayed}, ""}}, "Told", "<told@nhs.test>", "")
	notice := e.waitNotice("amira@nhs.test", "Delayed: Told")
	if !strings.Contains(notice, "Action: delayed") {
		t.Errorf("the delay notice:\n%s", notice)
	}
	// Wait until the queue has passed the quiet one's delay-notice point.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ms, err := e.st.QueuedByMessageID(e.ctx, "<quiet@nhs.test>")
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 1 && ms[0].Rcpts[0].DelayNotified {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the quiet message never reached its delay-notice time")
		}
	}
	if msg := e.noticeWith("amira@nhs.test", "Delayed: Quiet"); msg != "" {
		t.Errorf("NOTIFY=FAILURE only, yet a delay notice:\n%s", msg)
	}
}

// Bad DSN parameters get a clear 501 at submission, and the session goes
// on: an ENVID over RFC 3461's 100 characters, NOTIFY=NEVER with another
// value, an unknown RET, malformed xtext, an ORCPT over 500 characters.
func TestDSNBadParameters(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	d := n.StartDNS()
	e := startOutbound(t, n, d, nil)
	conn, r, w := e.rawSubmission("amira@nhs.test")
	defer conn.Close()
	cmd := func(line string) string {
		t.Helper()
		fmt.Fprintf(w, "%s\r\n", line)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return readSMTPReply(t, r)
	}
	for _, c := range []struct{ line, want string }{
		{"MAIL FROM:<amira@nhs.test> ENVID=" + strings.Repeat("x", 101), "501 5.5.4 ENVID is 101 characters long"},
		{"MAIL FROM:<amira@nhs.test> RET=SOME", "501 5.5.4"},
		{"MAIL FROM:<amira@nhs.test> ENVID=a+2", "501 5.5.4"},
		{"MAIL FROM:<amira@nhs.test> ENVID=ok+2Bfine RET=hdrs", "250"},
		{"RCPT TO:<gp@ext.test> NOTIFY=NEVER,SUCCESS", "501 5.5.4"},
		{"RCPT TO:<gp@ext.test> ORCPT=rfc822;" + strings.Repeat("y", 500), "501 5.5.4 ORCPT is"},
		{"RCPT TO:<gp@ext.test> ORCPT=rfc822;gp+40ext.test NOTIFY=success,delay", "250"},
	} {
		if got := cmd(c.line); !strings.HasPrefix(got, c.want) {
			t.Errorf("%.60s...: %q, want %q", c.line, got, c.want)
		}
	}
}

// rawSubmission signs in on the submission door over STARTTLS and returns
// the connection for commands typed by hand.
func (e *outEnv) rawSubmission(email string) (net.Conn, *bufio.Reader, *bufio.Writer) {
	t := e.t
	t.Helper()
	c, err := net.Dial("tcp", e.srv.Addrs["submission"])
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) string {
		fmt.Fprintf(w, "%s\r\n", line)
		_ = w.Flush()
		return readSMTPReply(t, r)
	}
	readSMTPReply(t, r)
	say("EHLO client.test")
	if got := say("STARTTLS"); !strings.HasPrefix(got, "220") {
		t.Fatal(got)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
	if ehlo := say("EHLO client.test"); !strings.Contains(ehlo, "DSN") {
		t.Fatalf("the submission door does not offer DSN:\n%s", ehlo)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + email + "\x00pw-" + email))
	if got := say("AUTH PLAIN " + auth); !strings.HasPrefix(got, "235") {
		t.Fatal(got)
	}
	return tc, r, w
}

// readSMTPReply reads one reply, its lines joined by newlines.
func readSMTPReply(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var lines []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading a reply: %v (so far %q)", err, lines)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}
