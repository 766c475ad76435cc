package server_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// lineConn is a raw protocol client: it writes lines and reads the
// server's, each read bounded so a test never hangs.
type lineConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func rawDial(t *testing.T, addr string) *lineConn {
	t.Helper()
	nc := dialFrom(t, "127.0.0.1", addr)
	t.Cleanup(func() { nc.Close() })
	return &lineConn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *lineConn) send(s string) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := io.WriteString(c.nc, s)
	return err
}

// line returns the next line, or "" and the error (io.EOF when the server
// closed the connection).
func (c *lineConn) line() (string, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(l, "\r\n"), nil
}

func (c *lineConn) want(prefix string) {
	c.t.Helper()
	l, err := c.line()
	if err != nil || !strings.HasPrefix(l, prefix) {
		c.t.Fatalf("got %q, %v; want %s...", l, err, prefix)
	}
}

// smtpReply reads one (possibly multi-line) SMTP reply and returns its
// last line.
func (c *lineConn) smtpReply() (string, error) {
	for {
		l, err := c.line()
		if err != nil || len(l) < 4 || l[3] != '-' {
			return l, err
		}
	}
}

// A client that keeps a session busy (a NOOP every 50 ms, well inside the
// idle timeout) is cut at the session's time limit: inbound SMTP always,
// submission and IMAP until the client signs in. A signed-in session is
// not cut by it.
func TestSessionTimeLimits(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startDoorServer(t, map[string]string{"smtp_session_limit": "1s", "preauth_session_limit": "1s"}, amira)
	noopUntilCut := func(door string, c *lineConn, noop string, ok func(string) bool) (string, int) {
		t.Helper()
		for i := range 400 {
			if err := c.send(noop); err != nil {
				return "write: " + err.Error(), i
			}
			var l string
			var err error
			if strings.HasPrefix(noop, "a ") {
				l, err = c.line()
			} else {
				l, err = c.smtpReply()
			}
			if err != nil {
				return err.Error(), i
			}
			if !ok(l) {
				return l, i
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: 400 NOOPs over 20 s and the session is still open", door)
		return "", 0
	}
	smtpOK := func(l string) bool { return strings.HasPrefix(l, "250 ") }
	for _, door := range []string{"smtp", "submission"} {
		c := rawDial(t, srv.Addrs[door])
		c.want("220 ")
		last, n := noopUntilCut(door, c, "NOOP\r\n", smtpOK)
		if !strings.HasPrefix(last, "421 ") {
			t.Errorf("%s: after %d NOOPs: %q, want a 421", door, n, last)
		}
		// Closed: an orderly close, or a reset when the server closed with a
		// NOOP that crossed the 421 still unread (RFC 5321 4.1.1.5: either
		// way the session is over).
		if l, err := c.line(); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: after the 421: %q %v, want the connection closed", door, l, err)
		}
	}
	c := rawDial(t, srv.Addrs["imap"])
	c.want("* OK ")
	imapOK := func(l string) bool { return l == "a OK NOOP completed." }
	last, n := noopUntilCut("imap", c, "a NOOP\r\n", imapOK)
	if !strings.HasPrefix(last, "* BYE ") || !strings.Contains(last, "Sign in within 1s") {
		t.Errorf("imap: after %d NOOPs: %q, want BYE saying to sign in within 1s", n, last)
	}

	// Signed in, the pre-authentication limit no longer applies.
	sub, err := smtp.NewClientStartTLS(dialFrom(t, "127.0.0.1", srv.Addrs["submission"]), clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Auth(sasl.NewPlainClient("", amira, "pw-"+amira)); err != nil {
		t.Fatal(err)
	}
	ic, err := imapclient.NewStartTLS(dialFrom(t, "127.0.0.1", srv.Addrs["imap"]), &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(amira, "pw-"+amira).Wait(); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // 1.5 s and more
		if err := sub.Noop(); err != nil {
			t.Fatalf("signed-in submission NOOP %d: %v", i, err)
		}
		if err := ic.Noop().Wait(); err != nil {
			t.Fatalf("signed-in IMAP NOOP %d: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A message dribbled a byte at a time is cut once it falls behind the
// minimum rate, with a 421 and the connection closed; one sent at a normal
// pace is delivered.
func TestSlowMessageIsCut(t *testing.T) {
	srv := startDoorServer(t, map[string]string{"smtp_data_timeout": "200ms", "smtp_data_min_rate": "100"}, "amira@nhs.test")
	c := rawDial(t, srv.Addrs["smtp"])
	c.want("220 ")
	for _, cmd := range []string{"EHLO relay.example.org\r\n", "MAIL FROM:<x@example.org>\r\n", "RCPT TO:<amira@nhs.test>\r\n", "DATA\r\n"} {
		if err := c.send(cmd); err != nil {
			t.Fatal(err)
		}
		if l, err := c.smtpReply(); err != nil || (l[0] != '2' && l[0] != '3') {
			t.Fatalf("%q: %q %v", cmd, l, err)
		}
	}
	if err := c.send("From: x@example.org\r\nSubject: a normal pace\r\n\r\nfine\r\n.\r\n"); err != nil {
		t.Fatal(err)
	}
	if l, err := c.smtpReply(); !strings.HasPrefix(l, "250 ") {
		t.Fatalf("a message at a normal pace: %q %v", l, err)
	}
	for _, cmd := range []string{"MAIL FROM:<x@example.org>\r\n", "RCPT TO:<amira@nhs.test>\r\n", "DATA\r\n"} {
		if err := c.send(cmd); err != nil {
			t.Fatal(err)
		}
		if _, err := c.smtpReply(); err != nil {
			t.Fatal(err)
		}
	}
	replies := make(chan string, 1)
	go func() {
		l, err := c.smtpReply()
		if err != nil {
			l = err.Error()
		}
		replies <- l
	}()
	body := "From: x@example.org\r\nSubject: dribbled\r\n\r\n" + strings.Repeat("slow ", 100)
	var reply string
dribble:
	for i := range len(body) {
		select {
		case reply = <-replies:
			break dribble
		default:
		}
		if err := c.send(body[i : i+1]); err != nil {
			reply = <-replies
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(reply, "421 4.4.2 ") || !strings.Contains(reply, "too slowly") {
		t.Fatalf("a dribbled message: %q, want 421 4.4.2 ... too slowly before the body ends", reply)
	}
	if l, err := c.line(); err != io.EOF {
		t.Errorf("after the 421: %q %v, want the connection closed", l, err)
	}
}

// A request body dribbled to the (unauthenticated) sign-in endpoint is cut
// once it falls behind the minimum rate: the server answers or closes
// before the body is complete.
func TestDribbledRequestBodyIsCut(t *testing.T) {
	srv := startDoorServer(t, map[string]string{"http_body_timeout": "300ms", "http_body_min_rate": "100"}, "amira@nhs.test")
	tc := tls.Client(dialFrom(t, "127.0.0.1", srv.Addrs["http"]), clientTLS)
	defer tc.Close()
	body := `{"email":"amira@nhs.test","password":"` + strings.Repeat("x", 150) + `"}`
	if _, err := fmt.Fprintf(tc, "POST /api/v1/session HTTP/1.1\r\nHost: mx.nhs.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)); err != nil {
		t.Fatal(err)
	}
	ended := make(chan string, 1)
	go func() {
		_ = tc.SetReadDeadline(time.Now().Add(30 * time.Second))
		l, err := bufio.NewReader(tc).ReadString('\n')
		if err != nil {
			l = err.Error()
		}
		ended <- l
	}()
	for i := range len(body) {
		select {
		case l := <-ended:
			t.Logf("cut after %d of %d bytes: %q", i, len(body), l)
			return
		default:
		}
		if _, err := io.WriteString(tc, body[i:i+1]); err != nil {
			t.Logf("cut after %d of %d bytes: %v", i, len(body), err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the whole body was dribbled (%d bytes at 20 a second) and the server waited: %q", len(body), <-ended)
}

// After a 421 (too many refused recipients) the server closes the
// connection at once: nothing the client pipelined after is answered.
func TestConnectionClosesRightAfter421(t *testing.T) {
	srv := startDoorServer(t, nil, "amira@nhs.test")
	c := rawDial(t, srv.Addrs["smtp"])
	c.want("220 ")
	if err := c.send("EHLO relay.example.org\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.smtpReply(); err != nil {
		t.Fatal(err)
	}
	var pipelined strings.Builder
	pipelined.WriteString("MAIL FROM:<x@example.org>\r\n")
	for i := range 250 {
		fmt.Fprintf(&pipelined, "RCPT TO:<nobody-%d@nhs.test>\r\n", i)
	}
	if err := c.send(pipelined.String()); err != nil {
		t.Fatal(err)
	}
	var replies []string
	for {
		l, err := c.smtpReply()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("after %d replies: %v, want EOF", len(replies), err)
			}
			break
		}
		replies = append(replies, l)
	}
	n := len(replies)
	if n < 2 || !strings.HasPrefix(replies[n-1], "421 4.7.0 ") {
		t.Fatalf("%d replies, the last %q; want the last to be the 421", n, replies[max(n-1, 0)])
	}
	for i, r := range replies[:n-1] {
		if strings.HasPrefix(r, "421") {
			t.Fatalf("reply %d of %d after the 421: %q", n-1-i, n, replies[n-1])
		}
	}
}

// TLS 1.2 is offered with forward-secret AEAD suites only: a client that
// knows only CBC suites cannot connect; TLS 1.3 and 1.2 with GCM can.
func TestTLS12OffersOnlyAEADSuites(t *testing.T) {
	srv := startDoorServer(t, nil)
	cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}
	for _, door := range []string{"http", "submissions", "imaps"} {
		for _, tc := range []struct {
			name string
			cfg  *tls.Config
			ok   bool
		}{
			{"TLS 1.2 CBC only", &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: cbc}, false},
			{"TLS 1.2 GCM", &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
			{"TLS 1.3", &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}, true},
		} {
			c, err := tls.Dial("tcp", srv.Addrs[door], tc.cfg)
			if err == nil {
				c.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("%s, %s: err = %v, want success %v", door, tc.name, err, tc.ok)
			}
		}
	}
}

// A message with bare LF line ends, by SMTP or IMAP APPEND, is stored and
// served with CRLF (RFC 5322 2.1), its size counted in CRLF; a part in
// Content-Transfer-Encoding binary keeps its bytes.
func TestBareLFStoredAsCRLF(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startDoorServer(t, nil, amira)
	c := rawDial(t, srv.Addrs["smtp"])
	c.want("220 ")
	for _, cmd := range []string{"EHLO relay.example.org\r\n", "MAIL FROM:<x@example.org>\r\n", "RCPT TO:<amira@nhs.test>\r\n", "DATA\r\n",
		"From: x@example.org\nSubject: bare LF\n\nline one\nline two\r\nline three\r\n.\r\n"} {
		if err := c.send(cmd); err != nil {
			t.Fatal(err)
		}
		if l, err := c.smtpReply(); err != nil || (l[0] != '2' && l[0] != '3') {
			t.Fatalf("%q: %q %v", cmd, l, err)
		}
	}
	ic, err := imapclient.NewStartTLS(dialFrom(t, "127.0.0.1", srv.Addrs["imap"]), &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(amira, "pw-"+amira).Wait(); err != nil {
		t.Fatal(err)
	}
	const binaryPart = "\x01\x02\nnot\na line\n\xff"
	appended := "From: amira@nhs.test\nSubject: appended\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nsome text\nmore text\n" +
		"--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n" + binaryPart + "\n--b--\n"
	cmd := ic.Append("INBOX", int64(len(appended)), nil)
	if _, err := cmd.Write([]byte(appended)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	whole := &imap.FetchItemBodySection{Peek: true}
	part1 := &imap.FetchItemBodySection{Part: []int{1}, Peek: true}
	part2 := &imap.FetchItemBodySection{Part: []int{2}, Peek: true}
	msgs, err := ic.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{whole, part1, part2}}).Collect()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("FETCH: %v, %d messages", err, len(msgs))
	}
	for i, m := range msgs {
		b := m.FindBodySection(whole)
		if int64(len(b)) != m.RFC822Size {
			t.Errorf("message %d: RFC822.SIZE %d, BODY[] %d bytes", i+1, m.RFC822Size, len(b))
		}
		text := b
		if i == 1 {
			text = bytes.Replace(b, []byte(binaryPart), nil, 1)
		}
		if bytes.Contains(bytes.ReplaceAll(text, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("message %d served with bare LF: %q", i+1, b)
		}
	}
	if !bytes.Contains(msgs[0].FindBodySection(whole), []byte("\r\n\r\nline one\r\nline two\r\nline three\r\n")) {
		t.Errorf("SMTP message: %q", msgs[0].FindBodySection(whole))
	}
	if got := msgs[1].FindBodySection(part1); string(got) != "some text\r\nmore text" {
		t.Errorf("APPEND text part: %q", got)
	}
	if got := msgs[1].FindBodySection(part2); string(got) != binaryPart {
		t.Errorf("APPEND binary part: %q, want %q as sent", got, binaryPart)
	}
}
