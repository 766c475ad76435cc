package imapd

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// contextMsg is a message with a subject and a date, for sorting.
func contextMsg(subject, date string) string {
	return "From: carol@nhs.test\r\nTo: alice@nhs.test\r\nSubject: " + subject + "\r\nDate: " + date + "\r\n\r\nbody\r\n"
}

// RFC 5267 3 ESORT and 4.4 PARTIAL: SORT answers with ESEARCH in sort order
// when asked with RETURN, and both commands return a window of positions.
func TestESort(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, contextMsg("b", "Tue, 05 Mar 2024 09:00:00 +0000"))
	e.deliver(t, e.alice, contextMsg("c", "Mon, 04 Mar 2024 09:00:00 +0000"))
	e.deliver(t, e.alice, contextMsg("a", "Wed, 06 Mar 2024 09:00:00 +0000"))
	e.deliver(t, e.alice, contextMsg("d", "Thu, 07 Mar 2024 09:00:00 +0000"))
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(got, " ESORT CONTEXT=SEARCH CONTEXT=SORT ") {
		t.Errorf("CAPABILITY: %q", got)
	}
	r.cmd("S", "SELECT INBOX")
	for _, tc := range []struct{ cmd, want string }{
		// MIN and MAX are the first and last in sort order; ALL keeps it.
		{"UID SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL", `* ESEARCH (TAG "X") UID MIN 3 MAX 4 COUNT 4 ALL 3,1:2,4`},
		{"SORT RETURN () (REVERSE DATE) UTF-8 ALL", `* ESEARCH (TAG "X") ALL 4,3,1:2`},
		{"SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT x", `* ESEARCH (TAG "X") COUNT 0`},
		{"SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL", `* ESEARCH (TAG "X") PARTIAL (2:3 1,3)`},
		{"SEARCH RETURN (PARTIAL 3:9) ALL", `* ESEARCH (TAG "X") PARTIAL (3:9 3:4)`},
		{"UID SEARCH RETURN (PARTIAL 5:6) ALL", `* ESEARCH (TAG "X") UID PARTIAL (5:6 NIL)`},
		{"SEARCH RETURN (PARTIAL 0:3) ALL", `X BAD PARTIAL needs a range low:high of positions from 1.`},
		// Without RETURN, SORT answers as RFC 5256 says.
		{"SORT (SUBJECT) UTF-8 ALL", `* SORT 3 1 2 4`},
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
}

// RFC 5267 4.3: a SEARCH or SORT with RETURN (UPDATE) is kept up to date
// while the mailbox stays selected; ADDTO and REMOVEFROM say what entered
// and left the result, with positions for SORT; CANCELUPDATE stops it.
func TestSearchContextUpdates(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, contextMsg("b", "Tue, 05 Mar 2024 09:00:00 +0000"))
	e.deliver(t, e.alice, contextMsg("d", "Thu, 07 Mar 2024 09:00:00 +0000"))
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("E", "ENABLE IMAP4rev2") // no \Recent to report
	r.cmd("S", "SELECT INBOX")
	other := e.raw(t)
	other.login("alice@nhs.test")
	other.cmd("S", "SELECT INBOX")

	got := r.cmd("U1", "UID SEARCH RETURN (UPDATE) UNSEEN")
	if want := []string{`* ESEARCH (TAG "U1") UID ADDTO (0 1:2)`, "U1 OK UID SEARCH completed."}; !slices.Equal(got, want) {
		t.Errorf("initial UPDATE search: %q", got)
	}
	got = r.cmd("U2", "SORT RETURN (ALL UPDATE) (SUBJECT) UTF-8 UNSEEN")
	if got[0] != `* ESEARCH (TAG "U2") ALL 1:2` {
		t.Errorf("initial UPDATE sort: %q", got)
	}

	// Another session reads message 1; a new message "a" and one "c"
	// arrive unseen.
	other.cmd("F", "STORE 1 +FLAGS (\\Seen)")
	e.deliver(t, e.alice, contextMsg("c", "Wed, 06 Mar 2024 09:00:00 +0000"))
	e.deliver(t, e.alice, contextMsg("a", "Mon, 04 Mar 2024 09:00:00 +0000"))
	got = r.cmd("N", "NOOP")
	want := []string{
		`* 1 FETCH (UID 1 FLAGS (\Seen))`,
		`* 4 EXISTS`,
		`* ESEARCH (TAG "U1") UID REMOVEFROM (0 1)`,
		`* ESEARCH (TAG "U1") UID ADDTO (0 3:4)`,
		// The sort result was b d; without b and with c and a it is a c d:
		// a enters at position 1, c at position 2.
		`* ESEARCH (TAG "U2") REMOVEFROM (1 1)`,
		`* ESEARCH (TAG "U2") ADDTO (1 4 2 3)`,
		"N OK NOOP completed.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("after changes:\n got %q\nwant %q", got, want)
	}

	// The session's own STORE is reported too; an expunged message is not
	// removed again (its EXPUNGE says it).
	got = r.cmd("T", "STORE 2 +FLAGS.SILENT (\\Seen \\Deleted)")
	if want := []string{
		`* ESEARCH (TAG "U1") UID REMOVEFROM (0 2)`,
		`* ESEARCH (TAG "U2") REMOVEFROM (3 2)`,
		"T OK STORE completed.",
	}; !slices.Equal(got, want) {
		t.Errorf("own STORE:\n got %q\nwant %q", got, want)
	}
	if got := r.cmd("E", "EXPUNGE"); !slices.Equal(got, []string{"* 2 EXPUNGE", "E OK EXPUNGE completed."}) {
		t.Errorf("EXPUNGE: %q", got)
	}

	if got := r.cmd("C", `CANCELUPDATE "U1" "U9"`); last(got) != `C BAD No search with tag "U9" is being kept up to date.` {
		t.Errorf("CANCELUPDATE of an unknown tag: %q", got)
	}
	if got := r.cmd("C", `CANCELUPDATE "U1"`); last(got) != "C OK CANCELUPDATE completed." {
		t.Errorf("CANCELUPDATE: %q", got)
	}
	other.cmd("F", "UID STORE 3 +FLAGS (\\Seen)")
	got = r.cmd("N", "NOOP")
	if want := []string{`* 2 FETCH (UID 3 FLAGS (\Seen))`, `* ESEARCH (TAG "U2") REMOVEFROM (2 2)`, "N OK NOOP completed."}; !slices.Equal(got, want) {
		t.Errorf("after CANCELUPDATE:\n got %q\nwant %q", got, want)
	}

	// A session keeps at most maxContexts searches up to date.
	for i := 0; i < maxContexts; i++ {
		got = r.cmd(fmt.Sprintf("K%d", i), "SEARCH RETURN (COUNT UPDATE) ALL")
	}
	if got[0] != `* NO [NOUPDATE "K7"] Too many searches are kept up to date; this one is not.` {
		t.Errorf("past the limit: %q", got)
	}
	// Leaving the mailbox ends them.
	r.cmd("S", "SELECT INBOX")
	if got := r.cmd("C", `CANCELUPDATE "U2"`); !strings.HasPrefix(last(got), "C BAD") {
		t.Errorf("CANCELUPDATE after SELECT: %q", got)
	}
}
