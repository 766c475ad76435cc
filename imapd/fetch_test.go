package imapd

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The exact BODYSTRUCTURE, BODY and ENVELOPE of the multipart test message.
const (
	wantBodyStructure = `BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 27 2 NIL NIL NIL NIL)` +
		`("APPLICATION" "PDF" ("NAME" "scan.pdf") NIL NIL "BASE64" 16 NIL ("ATTACHMENT" ("FILENAME" "scan.pdf")) NIL NIL)` +
		` "MIXED" ("BOUNDARY" "XX") NIL NIL NIL)`
	wantBody     = `BODY (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 27 2)("APPLICATION" "PDF" ("NAME" "scan.pdf") NIL NIL "BASE64" 16) "MIXED")`
	wantEnvelope = `ENVELOPE ("Wed, 06 Mar 2024 14:30:00 +0100" "=?utf-8?q?Scan_r=C3=A9sults?=" (("Dr Who" NIL "who" "nhs.test")) ` +
		`(("Dr Who" NIL "who" "nhs.test")) (("Dr Who" NIL "who" "nhs.test")) (("Alice" NIL "alice" "nhs.test")("Bob" NIL "bob" "nhs.test")) ` +
		`((NIL NIL "ward7" "nhs.test")) NIL NIL "<scan@nhs.test>")`
)

func TestFetchGolden(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, multipartMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	got := r.cmd("F1", "FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE)")
	// The first session to select the new message owns its \Recent.
	want := `* 1 FETCH (UID 1 FLAGS (\Recent) INTERNALDATE "05-Mar-2024 10:00:00 +0000" RFC822.SIZE 531 ` +
		wantEnvelope + " " + wantBody + " " + wantBodyStructure + ")"
	if got[0] != want {
		t.Errorf("FETCH\n got %s\nwant %s", got[0], want)
	}
	got = r.cmd("F2", "FETCH 1 (BODY.PEEK[1]<4.4> BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[HEADER.FIELDS (Subject)])")
	want = "* 1 FETCH (BODY[1]<4> {4}\r\nscan BINARY[2] ~{12}\r\n%PDF-1.4\n\x00\x01\x02 BINARY.SIZE[2] 12 " +
		"BODY[HEADER.FIELDS (Subject)] {42}\r\nSubject: =?utf-8?q?Scan_r=C3=A9sults?=\r\n\r\n)"
	if got[0] != want {
		t.Errorf("FETCH sections\n got %q\nwant %q", got[0], want)
	}
	// IMAP4rev2 clients get UTF-8 in quoted strings.
	r.cmd("E", "ENABLE IMAP4rev2")
	if got := r.cmd("F3", "FETCH 1 ENVELOPE"); !strings.Contains(got[0], `"Scan résults"`) {
		t.Errorf("rev2 envelope: %q", got[0])
	}
}

func TestFetchItems(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, multipartMsg)
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	text := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true}
	part1 := &imap.FetchItemBodySection{Part: []int{1}, Peek: true}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	fields := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID", "To"}, Peek: true}
	notFields := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFieldsNot: []string{"Content-Type", "MIME-Version", "Date", "Cc", "Subject", "From", "To"}, Peek: true}
	partial := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 6, Size: 6}}
	mime2 := &imap.FetchItemBodySection{Part: []int{2}, Specifier: imap.PartSpecifierMIME, Peek: true}
	bin := &imap.FetchItemBinarySection{Part: []int{2}, Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{text, part1, header, fields, notFields, partial, mime2},
		BinarySection: []*imap.FetchItemBinarySection{bin},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.UID != 1 || m.RFC822Size != int64(len(multipartMsg)) || !m.InternalDate.Equal(time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("UID %d size %d date %v", m.UID, m.RFC822Size, m.InternalDate)
	}
	if m.Envelope.Subject != "Scan résults" || m.Envelope.From[0].Addr() != "who@nhs.test" || len(m.Envelope.To) != 2 || m.Envelope.MessageID != "scan@nhs.test" {
		t.Errorf("envelope %+v", m.Envelope)
	}
	mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || len(mp.Children) != 2 || !strings.EqualFold(mp.Subtype, "mixed") {
		t.Fatalf("body structure %#v", m.BodyStructure)
	}
	if d := mp.Children[1].Disposition(); d == nil || !strings.EqualFold(d.Value, "attachment") || d.Params["filename"] != "scan.pdf" {
		t.Errorf("attachment disposition %+v", d)
	}
	checks := []struct {
		name string
		got  []byte
		want string
	}{
		{"TEXT", m.FindBodySection(text), multipartMsg[strings.Index(multipartMsg, "\r\n\r\n")+4:]},
		{"1", m.FindBodySection(part1), "The scan is clear.\r\nRegards"},
		{"HEADER", m.FindBodySection(header), multipartMsg[:strings.Index(multipartMsg, "\r\n\r\n")+4]},
		{"HEADER.FIELDS", m.FindBodySection(fields), "To: Alice <alice@nhs.test>, Bob <bob@nhs.test>\r\nMessage-ID: <scan@nhs.test>\r\n\r\n"},
		{"HEADER.FIELDS.NOT", m.FindBodySection(notFields), "Message-ID: <scan@nhs.test>\r\n\r\n"},
		{"<6.6>", m.FindBodySection(partial), multipartMsg[6:12]},
		{"2.MIME", m.FindBodySection(mime2), "Content-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\n\r\n"},
		{"BINARY[2]", m.FindBinarySection(bin), "%PDF-1.4\n\x00\x01\x02"},
	}
	for _, ck := range checks {
		if !bytes.Equal(ck.got, []byte(ck.want)) {
			t.Errorf("%s: got %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	if !slices.Equal(m.Flags, []imap.Flag{`\Recent`}) {
		t.Errorf("PEEK fetches set flags: %v", m.Flags)
	}
}

// BODY[] sets \Seen and reports it; BODY.PEEK[] does not (RFC 9051 6.4.5).
func TestFetchSetsSeen(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, simpleMsg+"second\r\n")
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	flagsOf := func(seq uint32) []imap.Flag {
		t.Helper()
		msgs, err := c.Fetch(imap.SeqSetNum(seq), &imap.FetchOptions{Flags: true}).Collect()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("fetch flags: %v %d", err, len(msgs))
		}
		return msgs[0].Flags
	}
	if _, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect(); err != nil {
		t.Fatal(err)
	}
	if f := flagsOf(1); !slices.Equal(f, []imap.Flag{`\Recent`}) {
		t.Errorf("after BODY.PEEK[]: %v", f)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !slices.Equal(msgs[0].Flags, []imap.Flag{imap.FlagSeen, `\Recent`}) {
		t.Errorf("BODY[] response flags: %+v", msgs)
	}
	if f := flagsOf(2); !slices.Equal(f, []imap.Flag{imap.FlagSeen, `\Recent`}) {
		t.Errorf("after BODY[]: %v", f)
	}
	// EXAMINE is read-only: BODY[] does not set \Seen there.
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect(); err != nil {
		t.Fatal(err)
	}
	if f := flagsOf(1); len(f) != 0 {
		t.Errorf("BODY[] under EXAMINE set %v", f)
	}
}

func TestFetchErrors(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	for _, tc := range []struct{ cmd, want string }{
		{"FETCH 2 FLAGS", "X BAD Message number 2 does not exist: the mailbox holds 1 messages."},
		{"FETCH 1 (FLAGS", "X BAD Missing closing parenthesis."},
		{"FETCH 1 (FROB)", `X BAD Unknown FETCH item "FROB".`},
		{"FETCH 0 FLAGS", `X BAD Invalid number "0" in sequence set.`},
		{"FETCH 1 BODY[1.MIME", `X BAD Missing ] in "BODY[1.MIME".`},
		{"FETCH 1 BINARY[HEADER]", `X BAD BINARY takes only a part number (RFC 3516).`},
	} {
		if got := last(r.cmd("X", tc.cmd)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	// UID FETCH of a UID that does not exist is empty and OK.
	if got := r.cmd("X", "UID FETCH 99 FLAGS"); len(got) != 1 || got[0] != "X OK UID FETCH completed." {
		t.Errorf("UID FETCH 99: %q", got)
	}
	if got := r.cmd("X", "UID FETCH 1:* (FLAGS)"); got[0] != `* 1 FETCH (UID 1 FLAGS (\Recent))` {
		t.Errorf("UID FETCH 1:*: %q", got)
	}
}

var _ = imapclient.Options{}

func TestFetchMacrosAndRFC822(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("I", `ID ("name" "test")`); got[0] != `* ID ("name" "Wardmail")` {
		t.Errorf("ID: %q", got)
	}
	r.cmd("S", "EXAMINE INBOX")
	env := `ENVELOPE ("Tue, 05 Mar 2024 09:00:00 +0000" "Ward round at 9" (("Carol Jones" NIL "carol" "nhs.test")) ` +
		`(("Carol Jones" NIL "carol" "nhs.test")) (("Carol Jones" NIL "carol" "nhs.test")) (("Alice" NIL "alice" "nhs.test")) NIL NIL NIL "<round@nhs.test>")`
	// EXAMINE claims no \Recent, but shows it on messages no session
	// has seen (RFC 3501 6.3.2).
	fast := `FLAGS (\Recent) INTERNALDATE "05-Mar-2024 10:00:00 +0000" RFC822.SIZE 181`
	for _, tc := range []struct{ cmd, want string }{
		{"FETCH 1 FAST", "* 1 FETCH (" + fast + ")"},
		{"FETCH 1 ALL", "* 1 FETCH (" + fast + " " + env + ")"},
		{"FETCH 1 FULL", "* 1 FETCH (" + fast + " " + env + ` BODY ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 20 1))`},
		{"FETCH 1 (RFC822.SIZE RFC822.TEXT)", "* 1 FETCH (RFC822.SIZE 181 RFC822.TEXT {20}\r\nSee you on ward 7.\r\n)"},
		{"FETCH 1 RFC822", "* 1 FETCH (RFC822 {181}\r\n" + simpleMsg + ")"},
		{"FETCH 1 (BODY[TEXT]<100.5>)", "* 1 FETCH (BODY[TEXT]<100> {0}\r\n)"},
		{"FETCH 1 (BODY.PEEK[1])", "* 1 FETCH (BODY[1] {20}\r\nSee you on ward 7.\r\n)"},
		{"FETCH 1 (BODY.PEEK[2])", "* 1 FETCH (BODY[2] {0}\r\n)"},
		{"CHECK", "X OK CHECK completed."},
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got[0], tc.want)
		}
	}
}
