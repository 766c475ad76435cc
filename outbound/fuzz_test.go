package outbound

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzReply: any bytes a remote server sends give a reply or an error,
// never a panic, and never more than the limits allow.
func FuzzReply(f *testing.F) {
	for _, s := range []string{
		"250 OK\r\n",
		"250-mx.example Hello\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
		"550 5.1.1 <x@y> No such user\r\n",
		"451-4.3.0 first\r\n451 4.3.0 second\r\n",
		"250\r\n",
		"25",
		"999 nonsense\r\n",
		"250-a\r\n251 b\r\n",
		strings.Repeat("x", 5000) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := readReply(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 || len(r.Lines) > maxReplyLines {
			t.Fatalf("reply %+v", r)
		}
		_ = r.String()
		_ = remoteQueueID(r.Text())
	})
}

// FuzzParseDSN: a notice from another server, however malformed, is read
// or refused without a panic.
func FuzzParseDSN(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <1@x>\r\n\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: text/plain\r\n\r\nhello\r\n"))
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status; boundary=\"\"\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDSN(b)
		if err == nil && len(d.Rcpts) > maxDSNRcpts {
			t.Fatalf("%d recipients", len(d.Rcpts))
		}
	})
}

// FuzzXtext: decoding arbitrary text never panics, what decodes encodes
// back to canonical xtext that decodes to the same value, and every
// string survives encoding (RFC 3461 4).
func FuzzXtext(f *testing.F) {
	for _, s := range []string{"", "abc", "a+2Bb", "a+3Db", "+", "+2", "+zz", "a b", "x=y", "\xff\x00", "+41+42"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := XtextEncode(s)
		if dec, err := XtextDecode(enc); len(enc) <= maxXtext && (err != nil || dec != s) {
			t.Fatalf("XtextDecode(XtextEncode(%q)) = %q, %v", s, dec, err)
		}
		dec, err := XtextDecode(s)
		if err != nil {
			return
		}
		if again, err := XtextDecode(XtextEncode(dec)); len(XtextEncode(dec)) <= maxXtext && (err != nil || again != dec) {
			t.Fatalf("round trip of %q: %q, %v", dec, again, err)
		}
	})
}
