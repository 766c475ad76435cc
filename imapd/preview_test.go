package imapd

import (
	"strings"
	"testing"
)

// RFC 8970 PREVIEW: the start of a message's readable text, white space
// folded, at most 256 characters, without marking the message read;
// (LAZY) is accepted.
func TestPreview(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, multipartMsg)
	e.deliver(t, e.alice, "From: a@nhs.test\r\nSubject: long\r\n\r\n"+strings.Repeat("word ", 100)+"\r\n")
	e.deliver(t, e.alice, "From: a@nhs.test\r\nSubject: html\r\nContent-Type: text/html\r\n\r\n<p>Clinic <b>moved</b></p>\r\n\r\n<p>to Tuesday</p>\r\n")
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(got, " PREVIEW ") {
		t.Errorf("CAPABILITY: %q", got)
	}
	r.cmd("E", "ENABLE IMAP4rev2")
	r.cmd("S", "SELECT INBOX")
	long := strings.Repeat("word ", 52)[:256] // cut inside a word, as RFC 8970 allows
	for _, tc := range []struct{ cmd, want string }{
		{"FETCH 1 (PREVIEW)", `* 1 FETCH (PREVIEW "See you on ward 7.")`},
		{"FETCH 2 (PREVIEW (LAZY))", `* 2 FETCH (PREVIEW "The scan is clear. Regards")`},
		{"FETCH 3 (PREVIEW)", `* 3 FETCH (PREVIEW "` + long + `")`},
		{"FETCH 4 (PREVIEW)", `* 4 FETCH (PREVIEW "Clinic moved to Tuesday")`},
		{"FETCH 1:4 (FLAGS)", `* 1 FETCH (FLAGS ())`}, // not marked read
		{"FETCH 1 (PREVIEW (FAST))", "X BAD Unknown PREVIEW modifier."},
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
}
