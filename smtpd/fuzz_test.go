package smtpd_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
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

// FuzzSubmissionDSN sends arbitrary DSN parameters (RFC 3461: ENVID, RET
// on MAIL; NOTIFY, ORCPT on RCPT) from a signed-in sender. Every answer is
// a well-formed 250 or 5xx reply (never an internal error), nothing
// panics, and the session still takes the next command.
func FuzzSubmissionDSN(f *testing.F) {
	for _, s := range [][2]string{
		{"ENVID=abc RET=HDRS", "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40ext.test"},
		{"ENVID=" + strings.Repeat("a", 101), "NOTIFY=NEVER,DELAY"},
		{"RET=FULL ENVID=+", "ORCPT=utf-8;\\x{E9}@ext.test"},
		{"ENVID=a+2Bb+3D", "ORCPT=x400;" + strings.Repeat("+41", 200)},
		{"RET=", "NOTIFY="},
	} {
		f.Add(s[0], s[1])
	}
	e := start(f, submit.Config{})
	f.Fuzz(func(t *testing.T, mail, rcpt string) {
		if strings.ContainsAny(mail+rcpt, "\r\n") || len(mail)+len(rcpt) > 1500 {
			return
		}
		c, r, w := signedIn(t, e.submission)
		defer c.Close()
		for _, line := range []string{"MAIL FROM:<alice@nhs.test> " + mail, "RCPT TO:<gp@ext.test> " + rcpt, "RSET", "NOOP"} {
			fmt.Fprintf(w, "%s\r\n", line)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			reply := readReplyLines(t, r)
			if !strings.HasPrefix(reply, "2") && !strings.HasPrefix(reply, "5") {
				t.Fatalf("%q: %q", line, reply)
			}
		}
		if n := e.metrics.Panics(); n != 0 {
			t.Fatalf("%d panics recovered", n)
		}
	})
}

// signedIn opens a submission session over STARTTLS, signed in as alice.
func signedIn(t *testing.T, addr string) (net.Conn, *bufio.Reader, *bufio.Writer) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) string {
		fmt.Fprintf(w, "%s\r\n", line)
		_ = w.Flush()
		return readReplyLines(t, r)
	}
	readReplyLines(t, r)
	say("EHLO fuzz.test")
	if got := say("STARTTLS"); !strings.HasPrefix(got, "220") {
		t.Fatal(got)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
	say("EHLO fuzz.test")
	auth := base64.StdEncoding.EncodeToString([]byte("\x00alice@nhs.test\x00" + password))
	if got := say("AUTH PLAIN " + auth); !strings.HasPrefix(got, "235") {
		t.Fatal(got)
	}
	return tc, r, w
}

// readReplyLines reads one reply and checks the form of each line.
func readReplyLines(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var all []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading a reply: %v (so far %q)", err, all)
		}
		if !strings.HasSuffix(line, "\r\n") || !replyLine.MatchString(strings.TrimSuffix(line, "\r\n")) {
			t.Fatalf("malformed reply line %q", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		all = append(all, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(all, "\n")
		}
	}
}
