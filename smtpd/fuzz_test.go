package smtpd_test

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"wardmail/submit"
)

// replyLine is the shape of every line the server may send (RFC 5321
// 4.2): a three-digit code, a space or hyphen, text.
var replyLine = regexp.MustCompile(`^[2-5][0-9][0-9]([ -].*)?$`)

// FuzzSMTPSession sends arbitrary bytes as a client's side of an inbound
// SMTP session over a real socket. Whatever arrives, the server answers
// only with well-formed reply lines, never panics, and keeps serving the
// next client.
func FuzzSMTPSession(f *testing.F) {
	seeds := []string{
		"EHLO a\r\nMAIL FROM:<x@ext.test>\r\nRCPT TO:<alice@nhs.test>\r\nDATA\r\nFrom: x@ext.test\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n",
		"HELO a\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@nhs.test>\r\nRCPT TO:<alice@nhs.test>\r\nDATA\r\n\r\n.\r\n",
		"EHLO a\r\nMAIL FROM:<x@ext.test> SIZE=99999999999999999999 BODY=8BITMIME SMTPUTF8\r\nQUIT\r\n",
		"EHLO a\r\nAUTH PLAIN AGFsaWNlAHB3\r\nSTARTTLS\r\n",
		"EHLO a\r\nMAIL FROM:<x@ext.test>\r\nRCPT TO:<alice@nhs.test>\r\nBDAT 5 LAST\r\nhello",
		"EHLO a\r\nMAIL FROM:<x@ext.test>\r\nRCPT TO:<alice@nhs.test>\r\nDATA\r\nFrom: =?utf-8?q?\xff?=\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n.\r\n",
		"RCPT TO:<alice@nhs.test>\r\nDATA\r\nVRFY alice\r\nEXPN list\r\nRSET\r\nNOOP\r\nHELP\r\n",
		"EHLO " + strings.Repeat("a", 3000) + "\r\n",
		"\x00\xff\r\n\n\r\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := start(f, submit.Config{})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 64<<10 {
			return
		}
		converse(t, e.inbound, in)
		// The server still serves a well-behaved client afterwards.
		out := converse(t, e.inbound, []byte("NOOP\r\nQUIT\r\n"))
		if !strings.Contains(out, "250 ") {
			t.Fatalf("server stopped answering after the fuzz input:\n%s", out)
		}
		if n := e.metrics.Panics(); n != 0 {
			t.Fatalf("%d panics recovered", n)
		}
	})
}

// converse writes in to a new connection, closes the writing side and
// returns everything the server said, checking each line's form.
func converse(t *testing.T, addr string, in []byte) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.Write(in)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	var all strings.Builder
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			if !strings.HasSuffix(line, "\r\n") || !replyLine.MatchString(strings.TrimSuffix(line, "\r\n")) {
				t.Fatalf("malformed reply line %q", line)
			}
			all.WriteString(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			// A reset after the server closed on a protocol error is fine.
			break
		}
	}
	<-done
	return all.String()
}
