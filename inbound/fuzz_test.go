package inbound

import (
	"bytes"
	"testing"
)

// The header parsers of this package read what strangers send: none may
// panic, and Rewrite keeps the body and never grows a message by more than
// what it adds.
func FuzzRewrite(f *testing.F) {
	f.Add([]byte("Authentication-Results: mx.nhs.test; dmarc=pass\r\nWardmail-Origin: inside\r\nFrom: a@b\r\n\r\nbody\r\n"))
	f.Add([]byte("From: a@b\nSubject: x\n continued\n\nbody"))
	f.Add([]byte(":\r\n\r\n"))
	f.Add([]byte("A: (comment; x) \"q\\\"\" y\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		out := Rewrite(msg, "mx.nhs.test", []byte("X: y\r\n"))
		if len(out) > len(msg)+6 {
			t.Fatalf("grew by %d", len(out)-len(msg))
		}
		_, at := splitHeader(msg)
		if !bytes.HasSuffix(out, msg[at:]) {
			t.Fatal("the body changed")
		}
		_ = ReadOrigin(msg, 0)
		_ = tagSubject(msg, "[EXTERNAL]")
	})
}

func FuzzParseOrigin(f *testing.F) {
	f.Add(`outside; look-alike="a \"b\"; c"; junk="d"`)
	f.Add("inside")
	f.Add(`outside; look-alike="unterminated`)
	f.Fuzz(func(t *testing.T, v string) {
		o := ParseOrigin(v)
		if o.Outside && o.Banner == "" {
			t.Fatal("outside without a banner")
		}
		again := ParseOrigin(o.String())
		if again.Outside != o.Outside || again.LookAlike != o.LookAlike || again.Junk != o.Junk {
			t.Fatalf("round trip: %+v -> %q -> %+v", o, o.String(), again)
		}
	})
}

func FuzzParseResults(f *testing.F) {
	f.Add(`i=1; mx.forward.test; dkim=pass (2048-bit key;  unprotected) header.d=clinic.test; dmarc=pass header.from=clinic.test`)
	f.Add(`x; (((; "a;b"=c`)
	f.Fuzz(func(t *testing.T, v string) {
		_ = parseResults(aarResults(v))
		_ = authservID(v)
		_, _, _ = arcInstance(v, "aar")
		_, _, _ = arcInstance(v, "seal")
		_ = withoutB("ARC-Seal: " + v)
		_, _ = parseKey(v)
	})
}

func FuzzLookAlike(f *testing.F) {
	f.Add("nhs-test.org")
	f.Add("nhs.xn--tst-rdd")
	f.Add("rnrnrn..--")
	f.Fuzz(func(t *testing.T, d string) {
		_ = lookAlikeDomain(d, []string{"nhs.test"})
		_ = normalName(d)
	})
}
