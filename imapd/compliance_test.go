package imapd

import (
	"fmt"
	"slices"
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

// RFC 3516 4.4 and RFC 9051 9: a message appended with a literal8 may hold
// NUL bytes, which no literal may carry. BODY[] of such a part sends it in
// base64 (as stored), never NUL in a literal nor a literal8; BINARY[] gives
// the original bytes back in a literal8 (RFC 3516 4.2).
func TestAppendBinaryLiteral8(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t)
	r.login("alice@nhs.test")
	msg := "From: user@domain.org\r\n" +
		"Date: Sat, 24 Mar 2007 23:00:00 +0200\r\n" +
		"Mime-Version: 1.0\r\n" +
		"Content-Type: application/octet-stream\r\n" +
		"Content-Transfer-Encoding: binary\r\n" +
		"\r\n" +
		"\x00\xe4\r\n\r\n"
	r.send(fmt.Sprintf("A1 APPEND INBOX ~{%d+}\r\n%s\r\n", len(msg), msg))
	if got := last(r.until("A1")); !strings.HasPrefix(got, "A1 OK") {
		t.Fatalf("append: %q", got)
	}
	r.cmd("S1", "SELECT INBOX")
	got := r.cmd("F1", "FETCH 1 (BODY.PEEK[1])")
	want := "* 1 FETCH (BODY[1] {8}\r\nAOQNCg0K)"
	if got[0] != want {
		t.Errorf("BODY[1] of a binary part: %q, want %q", got[0], want)
	}
	got = r.cmd("F2", "FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])")
	want = "* 1 FETCH (BINARY.SIZE[1] 6 BINARY[1] ~{6}\r\n\x00\xe4\r\n\r\n)"
	if got[0] != want {
		t.Errorf("BINARY[1]: %q, want %q", got[0], want)
	}
	got = r.cmd("F3", "FETCH 1 (BODY.PEEK[])")
	if strings.IndexByte(got[0], 0) >= 0 || !strings.Contains(got[0], "Content-Transfer-Encoding: base64\r\n\r\nAOQNCg0K") {
		t.Errorf("BODY[] of a message appended in binary: %q", got[0])
	}
}

// RFC 3501 7.2.6 (RFC 9051 7.3.5): a keyword new to the mailbox is
// announced in FLAGS (and PERMANENTFLAGS) before a FETCH shows it, also
// when another session set it.
func TestNewKeywordAnnouncedBeforeUse(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S1", "SELECT INBOX")
	other := e.client(t, "alice@nhs.test", nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"$Urgent"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	got := r.cmd("N1", "NOOP")
	want := []string{
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Urgent)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Urgent \*)] Flags allowed.`,
		`* 1 FETCH (UID 1 FLAGS ($Urgent \Recent))`,
		`N1 OK NOOP completed.`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("NOOP after another session set a new keyword:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Known now: not announced again.
	if got := r.cmd("N2", "STORE 1 -FLAGS ($Urgent)"); len(got) != 2 {
		t.Errorf("STORE of a known keyword: %q", got)
	}
}

// RFC 3501 2.3.2: \Recent belongs to the first session that sees a message
// (SELECT; EXAMINE only looks, 6.3.2). SELECT reports the count and the
// first unseen message (6.3.1), FETCH FLAGS and SEARCH RECENT/NEW/OLD
// (6.4.4) show it, STATUS RECENT counts messages no session has seen
// (6.3.10), and new messages, a COPY into the mailbox included, are
// reported with "* n RECENT" after EXISTS (7.3.2). IMAP4rev2 has no \Recent
// (RFC 9051 appendix E) and claims none.
func TestRecentBelongsToOneSession(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, multipartMsg)
	has := func(got []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%q lacks %q", got, w)
			}
		}
	}
	rev2 := e.raw(t)
	rev2.login("alice@nhs.test")
	rev2.cmd("E", "ENABLE IMAP4rev2")
	if got := rev2.cmd("S", "SELECT INBOX"); slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, "RECENT") || strings.Contains(l, "UNSEEN") }) {
		t.Errorf("IMAP4rev2 SELECT: %q", got)
	}

	a, b := e.raw(t), e.raw(t)
	a.login("alice@nhs.test")
	b.login("alice@nhs.test")
	has(a.cmd("X1", "EXAMINE INBOX"), "* 2 RECENT", "* OK [UNSEEN 1] First unseen.")
	has(a.cmd("X2", "FETCH 1 FLAGS"), `* 1 FETCH (FLAGS (\Recent))`)
	has(b.cmd("T1", "STATUS INBOX (RECENT)"), "* STATUS INBOX (RECENT 2)")
	has(a.cmd("X3", "SELECT INBOX"), "* 2 RECENT", "* OK [UNSEEN 1] First unseen.")
	has(b.cmd("T2", "STATUS INBOX (RECENT MESSAGES)"), "* STATUS INBOX (RECENT 0 MESSAGES 2)")
	has(b.cmd("T3", "SELECT INBOX"), "* 0 RECENT")
	has(b.cmd("T4", "FETCH 1:2 FLAGS"), `* 1 FETCH (FLAGS ())`, `* 2 FETCH (FLAGS ())`)
	has(a.cmd("X4", "FETCH 1:2 FLAGS"), `* 1 FETCH (FLAGS (\Recent))`, `* 2 FETCH (FLAGS (\Recent))`)
	a.cmd("X5", `STORE 1 +FLAGS.SILENT (\Seen)`)
	has(a.cmd("X6", "SEARCH RECENT"), "* SEARCH 1 2")
	has(a.cmd("X7", "SEARCH NEW"), "* SEARCH 2")
	has(a.cmd("X8", "SEARCH OLD"), "* SEARCH")
	has(b.cmd("T5", "SEARCH OLD"), "* SEARCH 1 2")
	has(b.cmd("T6", "SEARCH RECENT"), "* SEARCH")

	// A copy into the mailbox is new: the session that takes it in first
	// owns it and is told how many messages are now recent.
	got := b.cmd("T7", "COPY 1 INBOX")
	got = append(got, a.cmd("X9", "NOOP")...)
	got = append(got, b.cmd("T8", "NOOP")...)
	has(got, "* 3 EXISTS")
	aRecent, bRecent := slices.Contains(got, "* 3 RECENT"), slices.Contains(got, "* 1 RECENT")
	if aRecent == bRecent {
		t.Errorf("exactly one session should own the copy: %q", got)
	}
	if n := strings.Count(strings.Join(got, "\n"), "RECENT"); n != 2 {
		t.Errorf("RECENT reported %d times: %q", n, got)
	}
	// The IMAP4rev2 session claimed nothing and shows no RECENT.
	if got := rev2.cmd("N", "NOOP"); slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, "RECENT") }) {
		t.Errorf("IMAP4rev2 NOOP: %q", got)
	}
}
