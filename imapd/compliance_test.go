package imapd

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// Cases found by Dovecot's imaptest compliance suite, each checked against
// the RFC section that decides it.

// RFC 3501 7.1.5 / RFC 9051 6.1.3: after BYE in answer to LOGOUT, only the
// tagged OK follows, even when the mailbox changed meanwhile.
func TestLogoutNothingAfterBye(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := last(r.cmd("S1", "SELECT INBOX")); !strings.HasPrefix(got, "S1 OK") {
		t.Fatalf("select: %q", got)
	}
	// Another session changes flags, expunges and delivers: all queued
	// for this session's next sync.
	other := e.client(t, "alice@nhs.test", nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	e.deliver(t, e.alice, multipartMsg)
	got := r.cmd("L2", "LOGOUT")
	if len(got) != 2 || !strings.HasPrefix(got[0], "* BYE ") || !strings.HasPrefix(got[1], "L2 OK") {
		t.Errorf("LOGOUT answered %q; want only BYE and the tagged OK", got)
	}
}
