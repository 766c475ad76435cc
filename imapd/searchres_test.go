package imapd

import (
	"regexp"
	"strings"
	"testing"
)

// RFC 5182 SEARCHRES, raw (go-imap's client drops SearchOptions.ReturnSave
// when it writes the command): SAVE alone sends no ESEARCH; with MIN or MAX alone
// only those are saved; "$" is empty before any SAVE and after a SAVE that
// failed; expunged messages leave it.
func TestSearchResRaw(t *testing.T) {
	e := newEnv(t)
	for _, s := range []string{"a", "b", "c", "d"} {
		e.deliver(t, e.alice, contextMsg(s, "Tue, 05 Mar 2024 09:00:00 +0000"))
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	for _, tc := range []struct{ cmd, want string }{
		{"SEARCH $", "* SEARCH"},
		{"UID SEARCH RETURN (SAVE) 2:4", "X OK UID SEARCH completed."},
		{"SEARCH $", "* SEARCH 2 3 4"},
		{"SEARCH RETURN (SAVE MIN MAX) 2:4", `* ESEARCH (TAG "X") MIN 2 MAX 4`},
		{"UID SEARCH UID $", "* SEARCH 2 4"},
		{"SEARCH RETURN (SAVE COUNT MIN) 1:3", `* ESEARCH (TAG "X") MIN 1 COUNT 3`},
		{"FETCH $ (UID)", "* 1 FETCH (UID 1)"},
		{"UID SEARCH RETURN (SAVE) 2:3", "X OK UID SEARCH completed."},
		{"COPY $ Archive", "X OK [COPYUID <Archive's UIDVALIDITY> 2:3 1:2] COPY completed."},
		{"SORT RETURN (SAVE) (REVERSE SUBJECT) UTF-8 3:4", "X OK SORT completed."},
		{"SEARCH $", "* SEARCH 3 4"}, // a SORT saves too
		{"UID STORE $ +FLAGS.SILENT (\\Deleted)", "X OK UID STORE completed."},
		{"UID EXPUNGE 3", "* 3 EXPUNGE"},
		{"SEARCH $", "* SEARCH 3"}, // UID 4 is now message 3
		{"SEARCH RETURN (SAVE) FROB", `X BAD Unknown search key "FROB".`},
		{"FETCH $ (UID)", "X OK FETCH completed."},
	} {
		got := r.cmd("X", tc.cmd)
		if strings.HasPrefix(tc.cmd, "COPY") {
			// UIDVALIDITY values are the store's (RFC 9051 2.3.1.1).
			got[0] = regexp.MustCompile(`COPYUID [0-9]+ `).ReplaceAllString(got[0], "COPYUID <Archive's UIDVALIDITY> ")
		}
		if got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
}
