package main_test

import (
	"context"
	"crypto/tls"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
)

// `wardmail user disable` and `user passwd`, run as separate processes on
// the data folder of a running server, end the person's open IMAP
// sessions: the server hears of them through the database.
func TestCLIRevocationReachesRunningServer(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	cfg := server.Defaults()
	cfg.DataDir, cfg.Hostname = data, "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "", "127.0.0.1:0", ""
	ctx := context.Background()
	srv, err := server.Start(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const amira, ben = "amira@nhs.test", "ben@nhs.test"
	var recs []store.PersonRecord
	for _, e := range []string{amira, ben} {
		h, err := auth.HashPassword(auth.TestParams(), "pw-"+e)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.PersonRecord{Email: e, Name: e, Org: "Test Trust", PasswordHash: h})
	}
	if _, _, err := srv.Store.UpsertPeople(ctx, recs); err != nil {
		t.Fatal(err)
	}
	selected := func(user string) *imapclient.Client {
		t.Helper()
		c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if err := c.Login(user, "pw-"+user).Wait(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	run := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("wardmail %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	closed := func(c *imapclient.Client, what string) {
		t.Helper()
		select {
		case <-c.Closed():
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the IMAP session is still open", what)
		}
	}

	a, b := selected(amira), selected(ben)
	run("", "user", "disable", "--data", data, amira)
	closed(a, "after `user disable`")
	if err := b.Noop().Wait(); err != nil {
		t.Errorf("someone else's session after `user disable`: %v", err)
	}
	run("a brand new password 42\n", "user", "passwd", "--data", data, ben)
	closed(b, "after `user passwd`")
}
