package outbound

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// Lines that begin with a period are doubled on the wire and the message
// ends with CRLF.CRLF, whatever its last line (RFC 5321 4.5.2).
func TestDotStuffing(t *testing.T) {
	test := func(prefix, body, want string) {
		t.Helper()
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		if err := writeDotStuffed(w, []byte(prefix), []byte(body)); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		if b.String() != want {
			t.Errorf("%q + %q: got %q, want %q", prefix, body, b.String(), want)
		}
	}
	test("", "a\r\n.b\r\n", "a\r\n..b\r\n.\r\n")
	test("DKIM-Signature: x\r\n", ".\r\n", "DKIM-Signature: x\r\n..\r\n.\r\n")
	test("", "no end", "no end\r\n.\r\n")
	test("", ".", "..\r\n.\r\n")
	test("X: a", ".b\r\n", "X: a.b\r\n.\r\n") // a period in mid-line stays single
}

func TestReplyParsing(t *testing.T) {
	r, err := readReply(bufio.NewReader(strings.NewReader("250-mx Hello\r\n250-PIPELINING\r\n250 SIZE 100\r\n")))
	if err != nil || r.Code != 250 || len(r.Lines) != 3 || r.Lines[2] != "SIZE 100" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = readReply(bufio.NewReader(strings.NewReader("550 5.1.1 No such user\r\n")))
	if err != nil || r.Enhanced != "5.1.1" || r.Text() != "No such user" || r.String() != "550 5.1.1 No such user" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := readReply(bufio.NewReader(strings.NewReader("250-a\r\n550 b\r\n"))); err == nil {
		t.Fatal("mixed codes accepted")
	}
	for text, want := range map[string]string{"2.0.0 Ok: queued as 4XyZ12": "4XyZ12", "OK id=1abc-0002Xy-Qa": "1abc-0002Xy-Qa"} {
		if got := remoteQueueID(text); got != want {
			t.Errorf("queue id of %q: %q, want %q", text, got, want)
		}
	}
}
