package inbound

import (
	"strings"
	"testing"
)

// Only the Authentication-Results claiming our authserv-id and any
// Wardmail-Origin are removed; everything else stays byte for byte.
func TestRewrite(t *testing.T) {
	msg := "Received: from a\r\n\tby b\r\n" +
		"Authentication-Results: MX.nhs.test (forged);\r\n dmarc=pass\r\n" +
		"Authentication-Results: mx.clinic.test; dkim=pass\r\n" +
		"wardmail-origin: inside\r\n" +
		"Subject: hi\r\n\r\nAuthentication-Results: mx.nhs.test; in the body\r\n"
	got := string(Rewrite([]byte(msg), "mx.nhs.test", []byte("Authentication-Results: mx.nhs.test; none\r\n")))
	want := "Authentication-Results: mx.nhs.test; none\r\n" +
		"Received: from a\r\n\tby b\r\n" +
		"Authentication-Results: mx.clinic.test; dkim=pass\r\n" +
		"Subject: hi\r\n\r\nAuthentication-Results: mx.nhs.test; in the body\r\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestOriginRoundTrip(t *testing.T) {
	for _, o := range []Origin{
		{Outside: true},
		{Outside: true, LookAlike: `the sender calls themself "Amira Khan"; beware`},
		{Outside: true, Junk: "it fails DMARC", LookAlike: "x\r\ny"},
	} {
		got := ParseOrigin(o.String())
		if !got.Outside || got.Junk != o.Junk || got.LookAlike != strings.ReplaceAll(o.LookAlike, "\r\n", "  ") || got.Banner == "" {
			t.Errorf("ParseOrigin(%q) = %+v, from %+v", o.String(), got, o)
		}
	}
	if o := ReadOrigin([]byte("From: a@b\r\n\r\nWardmail-Origin: outside\r\n"), 0); o.Outside {
		t.Errorf("a field in the body was read: %+v", o)
	}
	if o := ReadOrigin([]byte("Wardmail-Origin: ???\r\n\r\n"), 0); !o.Outside || o.Banner != OutsideBanner {
		t.Errorf("a damaged field hides the banner: %+v", o)
	}
}

func TestParseResults(t *testing.T) {
	rs := parseResults(`mx.forward.test; dkim=pass (2048-bit key;  unprotected) header.d=clinic.test header.i=@clinic.test; dmarc=pass header.from="clinic.test"; spf`)
	if len(rs) != 2 || rs[0].Method != "dkim" || rs[0].Props["header.d"] != "clinic.test" || rs[1].Props["header.from"] != "clinic.test" {
		t.Fatalf("parseResults = %+v", rs)
	}
}

func TestWithoutB(t *testing.T) {
	for in, want := range map[string]string{
		"ARC-Seal: i=1; a=rsa-sha256; b=abc\r\n def=; cv=none\r\n": "ARC-Seal: i=1; a=rsa-sha256; b=; cv=none\r\n",
		"X: bh=ab=; b = xy=\r\n":                                   "X: bh=ab=; b =\r\n",
	} {
		if got := withoutB(in); got != want {
			t.Errorf("withoutB(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonBody(t *testing.T) {
	body := []byte(" a  b \t\r\nc\r\n\r\n\r\n")
	if got := string(canonBody(body, "relaxed")); got != " a b\r\nc\r\n" {
		t.Errorf("relaxed = %q", got)
	}
	if got := string(canonBody(body, "simple")); got != " a  b \t\r\nc\r\n" {
		t.Errorf("simple = %q", got)
	}
	if got := string(canonBody(nil, "simple")); got != "\r\n" {
		t.Errorf("simple empty = %q", got)
	}
}

func TestMarkJunk(t *testing.T) {
	msg := []byte("Authentication-Results: mx; none\r\nWardmail-Origin: outside; look-alike=\"x\"\r\nSubject: s\r\n\r\nb\r\n")
	got := MarkJunk(msg, "spam score 12")
	o := ReadOrigin(got, 0)
	if o.LookAlike != "x" || o.Junk != "spam score 12" || !o.Strong {
		t.Fatalf("%+v\n%s", o, got)
	}
	if !strings.HasPrefix(string(got), "Authentication-Results: mx; none\r\nWardmail-Origin: ") || !strings.HasSuffix(string(got), "Subject: s\r\n\r\nb\r\n") {
		t.Fatalf("%s", got)
	}
	if o := ReadOrigin(MarkJunk([]byte("Subject: s\r\n\r\nb"), "virus"), 0); o.Junk != "virus" {
		t.Fatalf("%+v", o)
	}
}
