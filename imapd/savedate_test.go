package imapd

import (
	"strings"
	"testing"
	"time"
)

// RFC 8514 SAVEDATE: FETCH SAVEDATE is when the message was saved in this
// mailbox, which for a copy is the moment of the COPY while its internal
// date stays the original's (5 March 2024 here); SEARCH SAVEDBEFORE,
// SAVEDON, SAVEDSINCE compare it, SAVEDATESUPPORTED is true of every message.
func TestSaveDate(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, multipartMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(got, " SAVEDATE ") {
		t.Errorf("CAPABILITY: %q", got)
	}
	r.cmd("S", "SELECT INBOX")
	r.cmd("C", "COPY 2 Archive")
	r.cmd("S", "EXAMINE Archive")
	today := time.Now().UTC()
	got := r.cmd("F", "FETCH 1 (INTERNALDATE SAVEDATE)")[0]
	want := `* 1 FETCH (INTERNALDATE "05-Mar-2024 10:00:00 +0000" SAVEDATE "` + today.Format("02-Jan-2006")
	if !strings.HasPrefix(got, want) {
		t.Errorf("FETCH SAVEDATE:\n got %q\nwant %q...", got, want)
	}
	day := today.Format("2-Jan-2006")
	for _, tc := range []struct{ cmd, want string }{
		{"SEARCH SAVEDON " + day, "* SEARCH 1"},
		{"SEARCH SAVEDSINCE " + day + " ON 5-Mar-2024", "* SEARCH 1"},
		{"SEARCH SAVEDBEFORE " + day, "* SEARCH"},
		{"SEARCH SAVEDBEFORE 1-Jan-2100 NOT SAVEDSINCE 1-Jan-2100", "* SEARCH 1"},
		{"SEARCH SAVEDATESUPPORTED", "* SEARCH 1"},
		{"SEARCH SAVEDON 31-Feb-2024", `X BAD Invalid date "31-Feb-2024": use d-Mon-yyyy.`},
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
}
