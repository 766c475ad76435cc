package imapd

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A phone idling on its Drafts folder hears of new mail in INBOX as
// STATUS (RFC 5465 5.2): another client (go-imap's) copies a message into
// INBOX and a delivery arrives, and the idling client is told of both
// without leaving IDLE.
func TestNotifyInIdle(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := last(r.cmd("n1", "NOTIFY SET (INBOXES (MessageNew MessageExpunge))")); got != "n1 OK NOTIFY completed." {
		t.Fatalf("NOTIFY: %q", got)
	}
	if got := last(r.cmd("s1", "SELECT Drafts")); !strings.HasPrefix(got, "s1 OK") {
		t.Fatalf("SELECT: %q", got)
	}
	r.send("i1 IDLE\r\n")
	if got := r.line(); got != "+ idling" {
		t.Fatalf("IDLE: %q", got)
	}

	e.deliver(t, e.alice, multipartMsg)
	if got := r.line(); !strings.HasPrefix(got, "* STATUS INBOX (MESSAGES 2 UIDNEXT 3 ") {
		t.Fatalf("after a delivery, in IDLE: %q", got)
	}

	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if got := r.line(); !strings.HasPrefix(got, "* STATUS INBOX (MESSAGES 1 UIDNEXT 3 ") {
		t.Fatalf("after another client's EXPUNGE, in IDLE: %q", got)
	}
	r.send("DONE\r\n")
	if got := r.line(); got != "i1 OK IDLE terminated." {
		t.Fatalf("DONE: %q", got)
	}
}

// The selected mailbox is never reported by STATUS (RFC 5465 5.2): with
// PERSONAL and no SELECTED group, INBOX selected, a delivery to INBOX is
// an EXISTS at the next command, and a delivery elsewhere is a STATUS at
// once.
func TestNotifySelectedNotStatus(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("s1", "SELECT INBOX")
	if got := last(r.cmd("n1", "NOTIFY SET (PERSONAL (MessageNew MessageExpunge))")); got != "n1 OK NOTIFY completed." {
		t.Fatalf("NOTIFY: %q", got)
	}
	c := e.client(t, "alice@nhs.test", nil)
	e.deliver(t, e.alice, simpleMsg)
	app := c.Append("Sent", int64(len(simpleMsg)), nil)
	if _, err := app.Write([]byte(simpleMsg)); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := r.line(); !strings.HasPrefix(got, `* STATUS "Sent" (MESSAGES 1 `) {
		t.Fatalf("after an APPEND to Sent: %q", got)
	}
	got := r.cmd("a1", "NOOP")
	if strings.Join(got, "\n") != "* 1 EXISTS\n* 1 RECENT\na1 OK NOOP completed." {
		t.Fatalf("NOOP: %q", got)
	}
}

// One change that would need more responses than the limit ends NOTIFY
// with NOTIFICATIONOVERFLOW (RFC 5465 5.8); after it, the client is told
// nothing more unasked.
func TestNotifyOverflow(t *testing.T) {
	e := newEnv(t, func(o *envOptions) { o.limits.NotifyBurst = 2 })
	c := e.client(t, "alice@nhs.test", nil)
	for _, n := range []string{"Ward", "Ward/A", "Ward/B"} {
		if err := c.Create(n, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := last(r.cmd("n1", "NOTIFY SET (PERSONAL (MailboxName))")); got != "n1 OK NOTIFY completed." {
		t.Fatalf("NOTIFY: %q", got)
	}
	// Three names change in one commit.
	if err := c.Rename("Ward", "Unit", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if got := r.line(); got != "* OK [NOTIFICATIONOVERFLOW] Too many changes at once; notifications are off." {
		t.Fatalf("after renaming three mailboxes: %q", got)
	}
	if err := c.Create("Later", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if got := r.cmd("a1", "NOOP"); strings.Join(got, "\n") != "a1 OK NOOP completed." {
		t.Fatalf("NOOP after the overflow: %q", got)
	}
	if n := testutil.ToFloat64(e.srv.Metrics().notifications.WithLabelValues("overflow")); n != 1 {
		t.Errorf("overflow metric %v, want 1", n)
	}
}
