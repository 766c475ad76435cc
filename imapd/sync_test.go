package imapd

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// A delivery reaches an IDLE session as EXISTS, pushed by the store's hub.
func TestIdleSeesDelivery(t *testing.T) {
	e := newEnv(t)
	exists := make(chan uint32, 10)
	c := e.client(t, "alice@nhs.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	e.deliverAsync(t, e.alice, simpleMsg)
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EXISTS within 5 s of delivery")
	}
	// Another person's mail does not wake this session.
	e.deliver(t, e.bob, simpleMsg)
	e.deliverAsync(t, e.alice, simpleMsg)
	select {
	case n := <-exists:
		if n != 2 {
			t.Errorf("second EXISTS %d", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no second EXISTS")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
}

// Changes made by one session reach another: flags as FETCH, removals as
// EXPUNGE, but not while answering FETCH (RFC 9051 7.5.1).
func TestSecondSessionSeesChanges(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		e.deliver(t, e.alice, simpleMsg)
	}
	var mu sync.Mutex
	var events []string
	b := e.client(t, "alice@nhs.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) {
			mu.Lock()
			events = append(events, fmt.Sprintf("EXPUNGE %d", seq))
			mu.Unlock()
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			buf, err := msg.Collect()
			if err != nil {
				return
			}
			mu.Lock()
			events = append(events, fmt.Sprintf("FETCH %d %v", buf.SeqNum, buf.Flags))
			mu.Unlock()
		},
	}})
	if _, err := b.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	a := e.client(t, "alice@nhs.test", nil)
	if _, err := a.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := a.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	// imapclient hands unsolicited FETCH to the handler on a goroutine.
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) > 0
	})
	mu.Lock()
	got := slices.Clone(events)
	events = nil
	mu.Unlock()
	// b selected first, so it owns the messages' \Recent.
	if !slices.Equal(got, []string{`FETCH 2 [\Seen \Recent]`}) {
		t.Errorf("after flag change: %q", got)
	}

	if err := a.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	// FETCH must not bring the EXPUNGE; the message stays numbered.
	msgs, err := b.Fetch(imap.SeqSetNum(3), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].UID != 3 {
		t.Fatalf("FETCH 3 before EXPUNGE is reported: %v %+v", err, msgs)
	}
	mu.Lock()
	got = slices.Clone(events)
	mu.Unlock()
	for _, ev := range got {
		if strings.HasPrefix(ev, "EXPUNGE") {
			t.Errorf("EXPUNGE sent during FETCH: %q", got)
		}
	}
	if err := b.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got = slices.Clone(events)
	mu.Unlock()
	if !slices.Contains(got, "EXPUNGE 1") {
		t.Errorf("after NOOP: %q", got)
	}
	if n := b.Mailbox().NumMessages; n != 2 {
		t.Errorf("session B counts %d messages", n)
	}
}

// SELECT with QRESYNC reports expunged UIDs as VANISHED (EARLIER) and
// changed messages as FETCH with MODSEQ (RFC 7162 3.2.5).
func TestQresyncSelect(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.deliver(t, e.alice, simpleMsg)
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	got := r.cmd("E", "ENABLE QRESYNC")
	if got[0] != "* ENABLED QRESYNC" {
		t.Errorf("ENABLE: %q", got)
	}
	got = r.cmd("S", "SELECT INBOX")
	uv := ""
	for _, l := range got {
		if strings.HasPrefix(l, "* OK [UIDVALIDITY ") {
			uv = strings.Fields(l)[3]
			uv = strings.TrimSuffix(uv, "]")
		}
	}
	if !slices.Contains(got, "* OK [HIGHESTMODSEQ 6] Highest MODSEQ.") {
		t.Fatalf("SELECT: %q", got)
	}
	r.cmd("U", "UNSELECT")

	// Another session changes things: flags on 2, removes 3 and 4.
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagAnswered}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(3, 4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}

	got = r.cmd("S", "SELECT INBOX (QRESYNC ("+uv+" 6 1:5))")
	want := []string{
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* 3 EXISTS`,
		`* 0 RECENT`,
		`* OK [UNSEEN 1] First unseen.`,
		`* OK [UIDVALIDITY ` + uv + `] UIDs valid.`,
		`* OK [UIDNEXT 6] Predicted next UID.`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags allowed.`,
		`* OK [HIGHESTMODSEQ 9] Highest MODSEQ.`,
		mailboxIDLine(got),
		`* VANISHED (EARLIER) 3:4`,
		`* 2 FETCH (UID 2 FLAGS (\Answered) MODSEQ (7))`,
		`S OK [READ-WRITE] SELECT completed.`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("QRESYNC SELECT:\n got %q\nwant %q", got, want)
	}
	// A wrong UIDVALIDITY gets a plain SELECT.
	got = r.cmd("S2", "SELECT INBOX (QRESYNC (12345 6))")
	if got[0] != "* OK [CLOSED] Previous mailbox closed." || slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, "VANISHED") }) {
		t.Errorf("QRESYNC with wrong UIDVALIDITY: %q", got)
	}
	// UID FETCH CHANGEDSINCE with VANISHED.
	got = r.cmd("F", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 6 VANISHED)")
	want = []string{
		`* VANISHED (EARLIER) 3:4`,
		`* 2 FETCH (UID 2 FLAGS (\Answered) MODSEQ (7))`,
		`F OK UID FETCH completed.`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("CHANGEDSINCE VANISHED:\n got %q\nwant %q", got, want)
	}
	// With QRESYNC, another session's expunge arrives as VANISHED.
	if err := c.Store(imap.UIDSetNum(5), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	got = r.cmd("N", "NOOP")
	want = []string{`* VANISHED 5`, `N OK NOOP completed.`}
	if !slices.Equal(got, want) {
		t.Errorf("NOOP after expunge:\n got %q\nwant %q", got, want)
	}
}

// Server.Close says BYE to connected clients.
func TestCloseSaysBye(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	done := make(chan error, 1)
	go func() { done <- e.srv.Close() }()
	if l := r.line(); l != "* BYE Server shutting down." {
		t.Errorf("on Close: %q", l)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mailboxIDLine is the MAILBOXID line of a SELECT's answer when it has the
// form RFC 8474 4 gives (the id is the store's, unrelated to UIDVALIDITY).
func mailboxIDLine(lines []string) string {
	re := regexp.MustCompile(`^\* OK \[MAILBOXID \(M[0-9]+\)\] Mailbox id\.$`)
	for _, l := range lines {
		if re.MatchString(l) {
			return l
		}
	}
	return "* OK [MAILBOXID (M<id>)] Mailbox id."
}
