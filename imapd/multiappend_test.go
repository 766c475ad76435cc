package imapd

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// appendLit is a message small enough to write inline as a literal.
func appendLit(subject string) string {
	return "Subject: " + subject + "\r\n\r\nbody of " + subject + "\r\n"
}

// TestMultiAppend: several messages in one APPEND are stored together and
// APPENDUID names them as a UID set (RFC 3502 3, RFC 4315 3).
func TestMultiAppend(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t)
	r.login("alice@nhs.test")
	if caps := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(caps+" ", " MULTIAPPEND ") {
		t.Fatalf("MULTIAPPEND not advertised: %q", caps)
	}
	a, b, c := appendLit("one"), appendLit("two"), appendLit("three")
	r.send(fmt.Sprintf("A1 APPEND Archive (\\Seen) {%d+}\r\n%s {%d+}\r\n%s (\\Flagged) \"05-Mar-2024 10:00:00 +0000\" {%d+}\r\n%s\r\n",
		len(a), a, len(b), b, len(c), c))
	got := last(r.until("A1"))
	m := regexp.MustCompile(`^A1 OK \[APPENDUID [0-9]+ 1:3\] APPEND completed\.$`).MatchString(got)
	if !m {
		t.Fatalf("APPEND of three: %q", got)
	}
	r.cmd("E", "ENABLE IMAP4rev2") // no \Recent in the flags
	r.cmd("S", "SELECT Archive")
	fetched := strings.Join(r.cmd("F", "FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), "\n")
	for _, want := range []string{
		`* 1 FETCH (UID 1 FLAGS (\Seen) INTERNALDATE `,
		`* 2 FETCH (UID 2 FLAGS () INTERNALDATE `,
		`* 3 FETCH (UID 3 FLAGS (\Flagged) INTERNALDATE "05-Mar-2024 10:00:00 +0000"`,
		"Subject: one", "Subject: two", "Subject: three",
	} {
		if !strings.Contains(fetched, want) {
			t.Errorf("FETCH lacks %q:\n%s", want, fetched)
		}
	}
}

// TestMultiAppendAtomic: when one message of a MULTIAPPEND cannot be
// stored, none is (RFC 3502 3: "all or none").
func TestMultiAppendAtomic(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t)
	r.login("alice@nhs.test")
	a := appendLit("good")
	// The second message is empty: it cannot be stored.
	r.send(fmt.Sprintf("A1 APPEND Archive {%d+}\r\n%s {0+}\r\n\r\n", len(a), a))
	if got := last(r.until("A1")); !strings.HasPrefix(got, "A1 NO [CANNOT]") {
		t.Fatalf("APPEND with a bad second message: %q", got)
	}
	// A flag list after the last message is not a message: BAD, nothing stored.
	r.send(fmt.Sprintf("A2 APPEND Archive {%d+}\r\n%s (\\Seen)\r\n", len(a), a))
	if got := last(r.until("A2")); !strings.HasPrefix(got, "A2 BAD ") {
		t.Fatalf("APPEND ending in flags: %q", got)
	}
	st := r.cmd("S", "STATUS Archive (MESSAGES UIDNEXT)")
	if st[0] != `* STATUS "Archive" (MESSAGES 0 UIDNEXT 1)` {
		t.Errorf("after refused APPENDs: %q", st)
	}
}

// TestMultiAppendTotalLimit: each literal may be up to APPENDLIMIT, but all
// of them together are bounded too, since the server holds them until the
// last arrives.
func TestMultiAppendTotalLimit(t *testing.T) {
	e := newEnv(t, func(o *envOptions) { o.limits.MaxLiteral = 100; o.limits.MaxAppendTotal = 100 })
	r := e.raw(t)
	r.login("alice@nhs.test")
	body := appendLit(strings.Repeat("x", 20)) // 63 bytes
	r.send(fmt.Sprintf("A1 APPEND Archive {%d}\r\n", len(body)))
	if l := r.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("continuation: %q", l)
	}
	r.send(fmt.Sprintf("%s {%d}\r\n", body, len(body)))
	if l := r.line(); l != "A1 NO [TOOBIG] The command's literals are over the limit of 100 bytes in all." {
		t.Errorf("second literal over the total: %q", l)
	}
	if st := r.cmd("S", "STATUS Archive (MESSAGES)"); st[0] != `* STATUS "Archive" (MESSAGES 0)` {
		t.Errorf("after refused APPEND: %q", st)
	}
}
