package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"wardmail/store"
)

// appendTo files a message in one of a person's folders over IMAP, as a mail
// client saves what it sent.
func (e *listEnv) appendTo(c *imapclient.Client, folder, raw string) {
	e.t.Helper()
	if err := c.Create(folder, nil).Wait(); err != nil && !strings.Contains(err.Error(), "exists") {
		e.t.Fatalf("CREATE %s: %v", folder, err)
	}
	cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
	if _, err := cmd.Write([]byte(raw)); err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		e.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		e.t.Fatalf("APPEND to %s: %v", folder, err)
	}
}

// folderSubjects lists the subjects in one folder over IMAP.
func (e *listEnv) folderSubjects(email, folder string) []string {
	e.t.Helper()
	c := e.imap(email, nil)
	defer c.Logout()
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		e.t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		e.t.Fatal(err)
	}
	out := []string{}
	for _, m := range msgs {
		out = append(out, m.Envelope.Subject)
	}
	return out
}

// A purge removes the senders' own copies too: a client's APPEND to Sent (or
// any folder) has other bytes than what the recipients got, and the same
// Message-ID. Other people's messages with that Message-ID stay.
func TestPurgeRemovesSendersCopies(t *testing.T) {
	e, call := consoleEnv(t)
	e.staticList("ward@nhs.test", "n0@nhs.test", "n0@nhs.test", "n1@nhs.test", "n2@nhs.test")
	e.mustSubmit("n0@nhs.test", []string{"ward@nhs.test"}, "test email", "Message-ID: <oops@nhs.test>\r\n")
	e.mustSubmit("n1@nhs.test", []string{"ward@nhs.test"}, "Re: test email", "Message-ID: <reply@nhs.test>\r\nIn-Reply-To: <oops@nhs.test>\r\nReferences: <oops@nhs.test>\r\n")
	saved := func(from, subject, id string) string {
		return fmt.Sprintf("From: <%s>\r\nTo: ward@nhs.test\r\nBcc: someone@nhs.test\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\nHello, as saved.\r\n", from, subject, id)
	}
	n0 := e.imap("n0@nhs.test", nil)
	e.appendTo(n0, "Sent", saved("n0@nhs.test", "test email", "<oops@nhs.test>"))
	e.appendTo(n0, "Sent", saved("n0@nhs.test", "another", "<other@nhs.test>"))
	e.appendTo(n0, "Filed", saved("n0@nhs.test", "test email", "<oops@nhs.test>"))
	n1 := e.imap("n1@nhs.test", nil)
	e.appendTo(n1, "Sent", saved("n1@nhs.test", "Re: test email", "<reply@nhs.test>"))
	// Someone who sent nothing in the thread keeps a message that happens to
	// carry the same Message-ID.
	dev := e.imap("dev@nhs.test", nil)
	e.appendTo(dev, "Sent", saved("dev@nhs.test", "not theirs", "<oops@nhs.test>"))

	// n0 watches Sent in an open session.
	expunged := make(chan uint32, 8)
	watcher := e.imap("n0@nhs.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { expunged <- seq }}})
	if sel, err := watcher.Select("Sent", nil).Wait(); err != nil || sel.NumMessages != 2 {
		t.Fatalf("n0 SELECT Sent: %v %v", sel, err)
	}

	// The dry run counts and removes nothing.
	var res store.PurgeResult
	if code := call("nat1@nhs.test", "POST", "/api/v1/admin/purge", map[string]any{"thread": "<oops@nhs.test>", "dry_run": true}, &res); code != 200 ||
		!res.DryRun || res.Submissions != 2 || res.SenderCopies != 3 || res.SenderMailboxes != 3 || res.Pending+res.Removed != 6 {
		t.Errorf("dry run: %d %+v; want 2 submissions, 6 pending or taken in (members who signed in take in at LOGIN), 3 senders' copies in 3 folders", code, res)
	}
	if got := e.folderSubjects("n0@nhs.test", "Sent"); len(got) != 2 {
		t.Fatalf("after the dry run n0's Sent holds %q", got)
	}
	res = store.PurgeResult{}
	if code := call("nat1@nhs.test", "POST", "/api/v1/admin/purge", map[string]any{"thread": "<oops@nhs.test>"}, &res); code != 200 ||
		res.DryRun || res.SenderCopies != 3 || res.SenderMailboxes != 3 || res.Pending+res.Removed != 6 {
		t.Errorf("purge: %d %+v; want 6 pending or taken in, 3 senders' copies in 3 folders", code, res)
	}
	if err := watcher.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if len(expunged) != 1 {
		t.Errorf("n0's open session on Sent saw %d EXPUNGEs, want 1", len(expunged))
	}
	for _, c := range []struct {
		who, folder string
		want        []string
	}{
		{"n0@nhs.test", "Sent", []string{"another"}}, {"n0@nhs.test", "Filed", []string{}}, {"n1@nhs.test", "Sent", []string{}},
		{"n2@nhs.test", "INBOX", []string{}}, {"dev@nhs.test", "Sent", []string{"not theirs"}},
	} {
		if got := e.folderSubjects(c.who, c.folder); !equal(got, c.want) {
			t.Errorf("%s's %s after the purge: %q, want %q", c.who, c.folder, got, c.want)
		}
	}
	audit, _ := e.st.AuditLog(e.ctx, store.AuditQuery{ActionPrefix: "message.purge"})
	if len(audit) != 1 || !strings.Contains(audit[0].Detail, `"sender_copies":3`) {
		t.Errorf("audit: %+v", audit)
	}
}
