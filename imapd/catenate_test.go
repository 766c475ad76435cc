package imapd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"wardmail/imapd/wire"
)

// TestCatenateOtherPerson: a CATENATE URL reaches the signed-in person's
// own mailboxes only; Bob's INBOX, named by its exact UIDVALIDITY and UID,
// is BADURL for Alice and nothing is stored.
func TestCatenateOtherPerson(t *testing.T) {
	e := newEnv(t)
	uid := e.deliver(t, e.bob, simpleMsg)
	e.deliver(t, e.alice, multipartMsg)
	mb, err := e.store.MailboxByName(context.Background(), e.bob, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	url := fmt.Sprintf("/INBOX;UIDVALIDITY=%d/;UID=%d", mb.UIDValidity(), uid)
	if got := last(r.cmd("A", `APPEND Drafts CATENATE (URL "`+url+`")`)); got != "A NO [BADURL "+url+"] The URL names no message of yours." {
		t.Errorf("Bob's message by URL: %q", got)
	}
	if got := r.cmd("S", "STATUS Drafts (MESSAGES)")[0]; got != `* STATUS "Drafts" (MESSAGES 0)` {
		t.Errorf("Drafts: %q", got)
	}
}

// FuzzCatenate runs the CATENATE part parser and the IMAP URL parser over
// what the wire reader accepts: they answer or refuse, never panic, and a
// URL they accept names a mailbox, a UIDVALIDITY and a UID.
func FuzzCatenate(f *testing.F) {
	for _, s := range []string{
		"a APPEND Drafts CATENATE (TEXT {3+}\r\nabc URL \"/INBOX;UIDVALIDITY=1/;UID=2/;SECTION=1.HEADER\")\r\n",
		"a APPEND Drafts CATENATE (URL \"/R%C3%A9union;UIDVALIDITY=42/;UID=7/;SECTION=HEADER.FIELDS%20(From%20To)\")\r\n",
		"a APPEND Drafts CATENATE (URL /a;UIDVALIDITY=1/;UID=1 TEXT ~{1+}\r\nx)\r\n",
		"a APPEND Drafts CATENATE (URL \"imap://x/INBOX;UIDVALIDITY=1/;UID=1\")\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := wire.NewReader(bufio.NewReader(bytes.NewReader(data)), wire.Limits{MaxLine: 4096, MaxDepth: 8, MaxArgs: 400})
		r.LiteralLimit = func(string) int64 { return 1024 }
		cmd, err := r.ReadCommand()
		if err != nil {
			return
		}
		for i, a := range cmd.Args {
			if !a.IsAtom("CATENATE") || i+1 >= len(cmd.Args) || cmd.Args[i+1].Kind != wire.List {
				continue
			}
			parts, err := parseCatParts(cmd.Args[i+1].List)
			if err != nil {
				if _, ok := err.(*respError); !ok {
					t.Fatalf("error that is not an answer: %v", err)
				}
				continue
			}
			for _, p := range parts {
				if !p.isURL {
					continue
				}
				u, err := parseIMAPURL(p.url)
				if err == nil && (u.mailbox == "" || u.uidValidity == 0 || u.uid == 0 || !strings.HasPrefix(p.url, "/")) {
					t.Fatalf("accepted %q as %+v", p.url, u)
				}
				if err == nil && u.section != "" {
					var it fetchItem
					_ = it.parseSection(u.section)
				}
			}
		}
	})
}
