package smtpd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/smtpd"
	"wardmail/store"
	"wardmail/store/storetest"
	"wardmail/submit"
)

const password = "correct horse battery"

type env struct {
	st         *store.Store
	inbound    string // address of the inbound door
	submission string
	metrics    *smtpd.Metrics
	people     map[string]int64
}

func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func start(t testing.TB, cfg submit.Config) *env {
	t.Helper()
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h, err := auth.HashPassword(auth.TestParams(), password)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, people: map[string]int64{}}
	var recs []store.PersonRecord
	for _, addr := range []string{"alice@nhs.test", "bob@nhs.test", "carol@nhs.test"} {
		recs = append(recs, store.PersonRecord{Email: addr, Name: strings.Split(addr, "@")[0], Org: "Leeds Teaching Hospitals NHS Trust", PasswordHash: h})
	}
	if _, _, err := st.UpsertPeople(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		p, _ := st.PersonByEmail(ctx, r.Email)
		e.people[r.Email] = p.ID
	}
	cfg.Store = st
	cfg.Hostname = "mx.nhs.test"
	pipe := submit.New(cfg)
	login := auth.NewLogin(st, auth.NewHasher(auth.TestParams(), 2, time.Second))
	e.metrics = smtpd.NewMetrics()
	tlsCfg := testTLS(t)
	for _, sub := range []bool{false, true} {
		srv := smtpd.New(smtpd.Config{Pipeline: pipe, Auth: login, Submission: sub, TLS: tlsCfg, Hostname: "mx.nhs.test", Metrics: e.metrics})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
		if sub {
			e.submission = l.Addr().String()
		} else {
			e.inbound = l.Addr().String()
		}
	}
	t.Cleanup(func() {
		if n := e.metrics.Panics(); n != 0 {
			t.Errorf("%d panics recovered in SMTP sessions", n)
		}
	})
	return e
}

func dial(t *testing.T, addr string, starttls bool) *smtp.Client {
	t.Helper()
	var c *smtp.Client
	var err error
	if starttls {
		c, err = smtp.DialStartTLS(addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = smtp.Dial(addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// code returns the SMTP reply code and enhanced code of err ("" for nil).
func code(err error) string {
	var se *smtp.SMTPError
	if err == nil {
		return ""
	}
	if errors.As(err, &se) {
		return strings.TrimSpace(fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2]))
	}
	return err.Error()
}

func inbox(t *testing.T, e *env, addr string) []store.Message {
	t.Helper()
	ctx := context.Background()
	if err := e.st.EnsureMailboxes(ctx, e.people[addr]); err != nil {
		t.Fatal(err)
	}
	mb, err := e.st.MailboxByName(ctx, e.people[addr], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	refs, _, err := e.st.Snapshot(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, r := range refs {
		uids = append(uids, r.UID)
	}
	msgs, err := e.st.Messages(ctx, mb.ID, uids)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func send(c *smtp.Client, from string, to []string, body string) error {
	if err := c.Mail(from, nil); err != nil {
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
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

const plainMsg = "From: Outside Sender <someone@example.org>\r\nTo: alice@nhs.test\r\nSubject: Clinic times\r\nDate: Sun, 22 Nov 2026 09:00:00 +0000\r\n\r\nThe clinic opens at 9.\r\n"

func TestInboundDelivery(t *testing.T) {
	e := start(t, submit.Config{})
	c := dial(t, e.inbound, false)
	if err := send(c, "someone@example.org", []string{"alice@nhs.test", "Bob@NHS.test"}, plainMsg); err != nil {
		t.Fatalf("send: %v", err)
	}
	a, b := inbox(t, e, "alice@nhs.test"), inbox(t, e, "bob@nhs.test")
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("alice has %d, bob has %d messages; want 1 each", len(a), len(b))
	}
	if a[0].ContentID != b[0].ContentID {
		t.Error("the body was stored twice for two recipients")
	}
	body, err := e.st.Body(context.Background(), a[0].ContentID)
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, want := range []string{"Return-Path: <someone@example.org>\r\n", "Received: from client.test", "by mx.nhs.test", "Message-ID: <", "The clinic opens at 9."} {
		if !strings.Contains(s, want) {
			t.Errorf("stored message lacks %q:\n%s", want, s)
		}
	}
	if !strings.HasPrefix(s, "Return-Path:") {
		t.Errorf("Return-Path is not the first header:\n%s", s)
	}
}

func TestInboundRefusals(t *testing.T) {
	e := start(t, submit.Config{MaxMessageBytes: 4096})
	test := func(name string, f func(c *smtp.Client) error, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			c := dial(t, e.inbound, false)
			if got := code(f(c)); !strings.HasPrefix(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	test("unknown local person", func(c *smtp.Client) error {
		return send(c, "x@example.org", []string{"nobody@nhs.test"}, plainMsg)
	}, "550 5.1.1")
	test("no relaying", func(c *smtp.Client) error {
		return send(c, "x@example.org", []string{"someone@elsewhere.org"}, plainMsg)
	}, "554 5.7.1")
	test("too big", func(c *smtp.Client) error {
		return send(c, "x@example.org", []string{"alice@nhs.test"}, plainMsg+strings.Repeat(strings.Repeat("x", 70)+"\r\n", 80))
	}, "552 5.3.4")
	test("line too long", func(c *smtp.Client) error {
		return send(c, "x@example.org", []string{"alice@nhs.test"}, plainMsg+strings.Repeat("x", 2100)+"\r\n")
	}, "500 5.5.6")
	test("malformed header", func(c *smtp.Client) error {
		return send(c, "x@example.org", []string{"alice@nhs.test"}, "From: a@example.org\r\nBad Header Without Colon\r\n\r\nbody\r\n")
	}, "554 5.6.0")
	test("bad date", func(c *smtp.Client) error {
		return send(c, "x@example.org", []string{"alice@nhs.test"}, "From: a@example.org\r\nDate: yesterday-ish\r\n\r\nbody\r\n")
	}, "554 5.6.0")
	test("no From", func(c *smtp.Client) error {
		return send(c, "x@example.org", []string{"alice@nhs.test"}, "Subject: hi\r\n\r\nbody\r\n")
	}, "554 5.6.0")
	if n := len(inbox(t, e, "alice@nhs.test")); n != 0 {
		t.Errorf("refused messages reached the mailbox: %d", n)
	}
}

func TestMailLoopRefused(t *testing.T) {
	e := start(t, submit.Config{})
	c := dial(t, e.inbound, false)
	body := strings.Repeat("Received: from a by b; Tue, 05 Mar 2024 09:00:00 +0000\r\n", 50) +
		"From: x@ext.test\r\nSubject: loop\r\n\r\nround and round\r\n"
	if got := code(send(c, "x@ext.test", []string{"alice@nhs.test"}, body)); got != "554 5.4.6" {
		t.Errorf("a message with 50 Received fields: %q, want 554 5.4.6", got)
	}
	if n := len(inbox(t, e, "alice@nhs.test")); n != 0 {
		t.Errorf("alice has %d messages after a refused loop", n)
	}
}

func TestInboundOffersNoAuth(t *testing.T) {
	e := start(t, submit.Config{})
	for _, tls := range []bool{false, true} {
		c := dial(t, e.inbound, tls)
		if ok, _ := c.Extension("AUTH"); ok {
			t.Errorf("the inbound door advertises AUTH (TLS %v)", tls)
		}
	}
}

func TestTooManyRecipients(t *testing.T) {
	e := start(t, submit.Config{MaxRecipients: 2})
	c := dial(t, e.inbound, false)
	if err := c.Mail("x@example.org", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"alice@nhs.test", "bob@nhs.test"} {
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := code(c.Rcpt("carol@nhs.test", nil)); got != "452 4.5.3" {
		t.Fatalf("third recipient: %q, want 452 4.5.3", got)
	}
}

func TestSubmission(t *testing.T) {
	e := start(t, submit.Config{})

	t.Run("AUTH is offered only after STARTTLS", func(t *testing.T) {
		c := dial(t, e.submission, false)
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("AUTH advertised on a plain-text connection")
		}
		if got := code(c.Mail("alice@nhs.test", nil)); got != "530 5.7.0" {
			t.Errorf("MAIL before AUTH: %q, want 530 5.7.0", got)
		}
		c2 := dial(t, e.submission, true)
		if ok, mechs := c2.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "LOGIN") {
			t.Errorf("AUTH after STARTTLS: %v %q", ok, mechs)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		c := dial(t, e.submission, true)
		if got := code(c.Auth(sasl.NewPlainClient("", "alice@nhs.test", "wrong password!"))); got != "535 5.7.8" {
			t.Errorf("got %q, want 535 5.7.8", got)
		}
	})
	t.Run("sending as someone else", func(t *testing.T) {
		c := dial(t, e.submission, true)
		if err := c.Auth(sasl.NewPlainClient("", "alice@nhs.test", password)); err != nil {
			t.Fatal(err)
		}
		if got := code(c.Mail("bob@nhs.test", nil)); got != "553 5.7.1" {
			t.Errorf("MAIL FROM another person: %q", got)
		}
		c.Reset()
		forged := "From: bob@nhs.test\r\nSubject: x\r\n\r\nhi\r\n"
		if got := code(send(c, "alice@nhs.test", []string{"carol@nhs.test"}, forged)); got != "553 5.7.1" {
			t.Errorf("From header of another person: %q", got)
		}
	})
	t.Run("LOGIN mechanism and a message without Date or Message-ID", func(t *testing.T) {
		c := dial(t, e.submission, true)
		if err := c.Auth(loginClient{"bob@nhs.test", password}); err != nil {
			t.Fatal(err)
		}
		body := "From: Bob <bob@nhs.test>\r\nTo: carol@nhs.test\r\nSubject: Rota\r\n\r\nSee attached.\r\n"
		if err := send(c, "bob@nhs.test", []string{"carol@nhs.test"}, body); err != nil {
			t.Fatal(err)
		}
		msgs := inbox(t, e, "carol@nhs.test")
		if len(msgs) != 1 {
			t.Fatalf("carol has %d messages", len(msgs))
		}
		stored, _ := e.st.Body(context.Background(), msgs[0].ContentID)
		for _, want := range []string{"Date: ", "Message-ID: <", "with ESMTPSA"} {
			if !strings.Contains(string(stored), want) {
				t.Errorf("submitted message lacks %q:\n%s", want, stored)
			}
		}
	})
	t.Run("Bcc recipients get the message and nobody sees the Bcc field", func(t *testing.T) {
		c := dial(t, e.submission, true)
		if err := c.Auth(sasl.NewPlainClient("", "alice@nhs.test", password)); err != nil {
			t.Fatal(err)
		}
		body := "From: alice@nhs.test\r\nTo: bob@nhs.test\r\nBcc: carol@nhs.test,\r\n  nobody@nhs.test\r\nSubject: Blind\r\n\r\nhi\r\n"
		if err := send(c, "alice@nhs.test", []string{"bob@nhs.test", "carol@nhs.test"}, body); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"bob@nhs.test", "carol@nhs.test"} {
			msgs := inbox(t, e, who)
			last := msgs[len(msgs)-1]
			stored, _ := e.st.Body(context.Background(), last.ContentID)
			if !strings.Contains(string(stored), "Subject: Blind") {
				t.Fatalf("%s did not get the message", who)
			}
			if strings.Contains(strings.ToLower(string(stored)), "bcc") || strings.Contains(string(stored), "nobody@") {
				t.Errorf("%s's copy shows the Bcc field:\n%s", who, stored)
			}
		}
	})
	t.Run("other domains are refused clearly", func(t *testing.T) {
		c := dial(t, e.submission, true)
		if err := c.Auth(sasl.NewPlainClient("", "alice@nhs.test", password)); err != nil {
			t.Fatal(err)
		}
		if err := c.Mail("alice@nhs.test", nil); err != nil {
			t.Fatal(err)
		}
		if got := code(c.Rcpt("friend@example.org", nil)); got != "550 5.7.1" {
			t.Errorf("RCPT to another domain: %q", got)
		}
	})
}

// loginClient is the client side of the LOGIN mechanism.
type loginClient struct{ user, pass string }

func (l loginClient) Start() (string, []byte, error) { return "LOGIN", nil, nil }
func (l loginClient) Next(challenge []byte) ([]byte, error) {
	switch string(challenge) {
	case "Username:":
		return []byte(l.user), nil
	case "Password:":
		return []byte(l.pass), nil
	}
	return nil, errors.New("unexpected challenge " + string(challenge))
}
