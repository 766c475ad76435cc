package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store/storetest"
)

// Two servers on one PostgreSQL database, as two nodes behind a balancer:
// a client in IDLE on node A is told of mail that arrives through node B.
func TestIdleOnOneNodeHearsMailDeliveredThroughAnother(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("several nodes share a database only on PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	dir, db := t.TempDir(), storetest.Database(t)
	start := func() *server.Server {
		cfg := server.Defaults()
		cfg.DataDir, cfg.Database, cfg.Hostname = dir, db, "mx.nhs.test"
		cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", ""
		srv, err := server.Start(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	a, b := start(), start()
	seedPeople(t, a, "amira@nhs.test", "ben@nhs.test")

	exists := make(chan uint32, 4)
	ic, err := imapclient.DialStartTLS(a.Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS, UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login("ben@nhs.test", "pw-ben@nhs.test").Wait(); err != nil {
		t.Fatal(err)
	}
	if sel, err := ic.Select("INBOX", nil).Wait(); err != nil || sel.NumMessages != 0 {
		t.Fatalf("SELECT: %v %v", sel, err)
	}
	idle, err := ic.Idle()
	if err != nil {
		t.Fatal(err)
	}

	c, err := smtp.DialStartTLS(b.Addrs["submission"], clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "amira@nhs.test", "pw-amira@nhs.test")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("amira@nhs.test", []string{"ben@nhs.test"}, strings.NewReader("From: amira@nhs.test\r\nTo: ben@nhs.test\r\nSubject: through node B\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("IDLE on node A: EXISTS %d, want 1", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Ben's IDLE session on node A was never told of the mail delivered through node B")
	}
	_ = idle.Close()
	_ = idle.Wait()
}
