package imapd

import (
	"strconv"
	"strings"
	"testing"
)

// RFC 5032 WITHIN: OLDER and YOUNGER compare the internal date with an
// interval in seconds before now. The delivered messages are dated 5 March
// 2024; the appended one is dated now.
func TestWithin(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(got, " WITHIN ") {
		t.Errorf("CAPABILITY: %q", got)
	}
	r.send("A APPEND INBOX {" + strconv.Itoa(len(simpleMsg)) + "+}\r\n" + simpleMsg + "\r\n")
	r.until("A")
	r.cmd("S", "EXAMINE INBOX")
	for _, tc := range []struct{ cmd, want string }{
		{"SEARCH YOUNGER 3600", "* SEARCH 3"},
		{"SEARCH OLDER 3600", "* SEARCH 1 2"},
		{"SEARCH NOT YOUNGER 86400 OLDER 86400", "* SEARCH 1 2"},
		{"UID SEARCH YOUNGER 1 OLDER 1", "* SEARCH"},
		{"SEARCH YOUNGER 0", "X BAD YOUNGER needs a number of seconds from 1."},
		{"SEARCH OLDER 4294967296", "X BAD OLDER needs a number of seconds from 1."},
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
}
