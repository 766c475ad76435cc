package main_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
	"wardmail/store/storetest"
)

// `wardmail migrate` moves a populated installation (mail delivered by SMTP,
// a folder of its own with flags and keywords set over IMAP, a list post)
// to PostgreSQL; a server on PostgreSQL then shows every mailbox through IMAP
// with the same UIDVALIDITY, UIDs, flags and messages, and goes on
// numbering where SQLite stopped.
func TestMigrateToPostgresKeepsUIDs(t *testing.T) {
	dsn := storetest.Database(t)
	if dsn == "" {
		t.Skip("needs PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	ctx := context.Background()
	start := func(database string) *server.Server {
		t.Helper()
		cfg := server.Defaults()
		cfg.DataDir, cfg.Hostname, cfg.Database = data, "mx.nhs.test", database
		cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", ""
		cfg.PostTrickle = 0
		srv, err := server.Start(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start("")
	const amira, ben = "amira@nhs.test", "ben@nhs.test"
	var recs []store.PersonRecord
	for _, e := range []string{amira, ben} {
		h, err := auth.HashPassword(auth.TestParams(), "pw-"+e)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.PersonRecord{Email: e, Name: e, Org: "Leeds Teaching Hospitals NHS Trust", PasswordHash: h})
	}
	if _, _, err := srv.Store.UpsertPeople(ctx, recs); err != nil {
		t.Fatal(err)
	}
	send := func(srv *server.Server, subject string, to ...string) {
		t.Helper()
		c, err := smtp.DialStartTLS(srv.Addrs["submission"], &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", amira, "pw-"+amira)); err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprintf("From: <%s>\r\nTo: %s\r\nSubject: %s\r\n\r\nHello.\r\n", amira, strings.Join(to, ", "), subject)
		if err := c.SendMail(amira, to, strings.NewReader(msg)); err != nil {
			t.Fatalf("sending %q: %v", subject, err)
		}
	}
	for i := 0; i < 5; i++ {
		send(srv, fmt.Sprintf("Ward round %d", i), ben)
	}
	p, _ := srv.Store.PersonByEmail(ctx, amira)
	if _, err := srv.Store.CreateList(ctx, "test", store.ListSpec{Address: "ward@nhs.test", Name: "Ward", Kind: store.ListStatic,
		Owners: []int64{p.ID}, Members: func() []int64 {
			q, _ := srv.Store.PersonByEmail(ctx, ben)
			return []int64{p.ID, q.ID}
		}()}); err != nil {
		t.Fatal(err)
	}
	send(srv, "To the ward", "ward@nhs.test")

	imapOf := func(srv *server.Server, user string) *imapclient.Client {
		t.Helper()
		c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login(user, "pw-"+user).Wait(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := imapOf(srv, ben)
	if err := c.Create("Rota", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(2, 4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagSeen, imap.FlagFlagged, "$Important"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.UIDSetNum(5), "Rota").Wait(); err != nil {
		t.Fatal(err)
	}
	_ = c.Logout().Wait()

	// What each person's mailboxes look like through IMAP.
	view := func(srv *server.Server, user string) []string {
		t.Helper()
		c := imapOf(srv, user)
		defer func() { _ = c.Logout().Wait() }()
		boxes, err := c.List("", "*", nil).Collect()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range boxes {
			sel, err := c.Select(b.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s uidvalidity=%d uidnext=%d messages=%d", b.Mailbox, sel.UIDValidity, sel.UIDNext, sel.NumMessages))
			if sel.NumMessages == 0 {
				continue
			}
			var all imap.SeqSet
			all.AddRange(1, sel.NumMessages)
			msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				flags := make([]string, 0, len(m.Flags))
				for _, f := range m.Flags {
					if f != `\Recent` {
						flags = append(flags, string(f))
					}
				}
				slices.Sort(flags)
				out = append(out, fmt.Sprintf("  %d %q %v", m.UID, m.Envelope.Subject, flags))
			}
		}
		return out
	}
	before := append(view(srv, ben), view(srv, amira)...)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(bin, "migrate", "--from", data, "--to", dsn).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "counts and checksums agree") {
		t.Fatalf("wardmail migrate: %v\n%s", err, out)
	}
	// A second run refuses: the database is no longer empty.
	if out, err := exec.Command(bin, "migrate", "--from", data, "--to", dsn).CombinedOutput(); err == nil || !strings.Contains(string(out), "already holds") {
		t.Errorf("a second migrate into the same database: %v\n%s", err, out)
	}

	pg := start(dsn)
	defer pg.Close()
	after := append(view(pg, ben), view(pg, amira)...)
	if !slices.Equal(before, after) {
		t.Errorf("mailboxes through IMAP before the move:\n%s\nafter, on PostgreSQL:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	// New mail is numbered where SQLite stopped, in a new row of its own.
	send(pg, "After the move", ben)
	c = imapOf(pg, ben)
	defer func() { _ = c.Logout().Wait() }()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Fetch(imap.SeqSetNum(sel.NumMessages), &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil || len(got) != 1 || got[0].Envelope.Subject != "After the move" || got[0].UID != 7 {
		t.Errorf("the first message after the move: %+v %v (want UID 7: five messages and a list post came before)", got, err)
	}
}
