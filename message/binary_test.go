package message

import (
	"bytes"
	"testing"
)

// RFC 3516 4.4: binary parts appended with a literal8 are kept in base64, so
// no NUL is left for BODY[] to send, and decoding gives the bytes back.
func TestEncodeBinaryParts(t *testing.T) {
	msg := crlf("From: a@b\nContent-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n\nhello\n"+
		"--X\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n") +
		"\x00\x01\xff\r\n" + crlf("--X--\n")
	sum, err := Summarize([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	out, changed := EncodeBinaryParts([]byte(msg), sum)
	if !changed {
		t.Fatal("not changed")
	}
	if bytes.IndexByte(out, 0) >= 0 {
		t.Errorf("NUL left: %q", out)
	}
	sum2, err := Summarize(out)
	if err != nil {
		t.Fatal(err)
	}
	p := FindPart(sum2, []int{2})
	if p == nil || p.Encoding != "base64" {
		t.Fatalf("part 2 after encoding: %+v\n%s", p, out)
	}
	if got := DecodeTransfer("base64", out[p.BodyStart:p.End], 0); string(got) != "\x00\x01\xff" {
		t.Errorf("decoded %q", got)
	}
	if p1 := FindPart(sum2, []int{1}); string(out[p1.BodyStart:p1.End]) != "hello" {
		t.Errorf("part 1 changed: %q", out[p1.BodyStart:p1.End])
	}
	if _, changed := EncodeBinaryParts([]byte(crlf(simpleMsg)), sum); changed {
		t.Error("a message without NUL changed")
	}
}

// FuzzEncodeBinaryParts: whatever the message, the result parses and holds
// no NUL in a leaf part with an identity transfer encoding.
func FuzzEncodeBinaryParts(f *testing.F) {
	f.Add([]byte("Content-Transfer-Encoding: binary\r\n\r\n\x00a"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\n\n\x00\n--a--"))
	f.Add([]byte(rfc822Msg + "\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		sum, err := Summarize(body)
		if err != nil {
			return
		}
		out, _ := EncodeBinaryParts(body, sum)
		sum2, err := Summarize(out)
		if err != nil {
			t.Fatalf("result does not parse: %v", err)
		}
		var walk func(p *Part)
		walk = func(p *Part) {
			for _, c := range p.Children {
				walk(c)
			}
			if p.Message != nil && p.Message.Structure != nil {
				walk(p.Message.Structure)
			}
			identity := p.Encoding == "" || p.Encoding == "7bit" || p.Encoding == "8bit" || p.Encoding == "binary"
			if len(p.Children) == 0 && p.Message == nil && identity && bytes.IndexByte(out[p.BodyStart:p.End], 0) >= 0 {
				t.Fatalf("NUL left in a %q part", p.Encoding)
			}
		}
		walk(sum2.Structure)
	})
}
