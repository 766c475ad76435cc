package message

import (
	"bytes"
	"testing"
)

func TestCRLF(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Subject: a\r\n\r\nb\r\n", "Subject: a\r\n\r\nb\r\n"},
		{"Subject: a\n\nb\nc", "Subject: a\r\n\r\nb\r\nc"},
		{"\n", "\r\n"},
		{"a\r\nb\nc\r\r\n", "a\r\nb\r\nc\r\r\n"},
		// A binary part keeps its octets; the lines around it are mended.
		{"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: binary\n\n\x00\n\x01\n--b\n\ntext\n--b--\n",
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\n\x01\r\n--b\r\n\r\ntext\r\n--b--\r\n"},
		{"Content-Transfer-Encoding: binary\n\n\n\x00\n", "Content-Transfer-Encoding: binary\r\n\r\n\n\x00\n"},
	} {
		if got := CRLF([]byte(tc.in)); string(got) != tc.want {
			t.Errorf("CRLF(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Nothing to mend: the same bytes, not a copy.
	in := []byte("Subject: a\r\n\r\nb\r\n")
	if out := CRLF(in); &out[0] != &in[0] {
		t.Error("CRLF copied a message that had no bare LF")
	}
}

// FuzzCRLF checks that CRLF leaves no bare LF outside binary parts, changes
// nothing else, and that a second pass changes nothing.
func FuzzCRLF(f *testing.F) {
	for _, m := range []string{simpleMsg, mixedMsg, "Subject: x\n\nbody", "a\r\nb\n",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: binary\n\n\x00\n--b--\n"} {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out := CRLF(body)
		// Only CRs before LFs were added.
		if !bytes.Equal(bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))) {
			t.Fatalf("CRLF changed more than line ends: %q -> %q", body, out)
		}
		if again := CRLF(out); !bytes.Equal(again, out) {
			t.Fatalf("a second pass changed %q -> %q", out, again)
		}
		var keep [][2]int64
		if sum, err := Summarize(body); err == nil {
			binaryBodies(sum.Structure, &keep)
		}
		if len(keep) == 0 && bareLF(out, 0) >= 0 {
			t.Fatalf("bare LF left in %q", out)
		}
	})
}
