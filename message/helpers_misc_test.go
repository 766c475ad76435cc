package message

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNormalizeSubject(t *testing.T) {
	test := func(in, want string) {
		t.Helper()
		if got := NormalizeSubject(in); got != want {
			t.Errorf("NormalizeSubject(%q) = %q, want %q", in, got, want)
		}
	}
	test("Hello", "hello")
	test("Re: Hello", "hello")
	test("RE: re: Fwd: FW: hello", "hello")
	test("Re : Hello", "hello")
	test("Re[2]: Hello", "hello")
	test("[list] Re: Hello", "hello")
	test("Re: [list] Hello", "hello")
	test("[list]", "[list]")
	test("[a] [b]", "[b]")
	test("[a] [b] text", "text")
	test("Hello (fwd)", "hello")
	test("Hello (FWD) (fwd)  ", "hello")
	test("[Fwd: Hello]", "hello")
	test("Re: [Fwd: Re: Hello (fwd)]", "hello")
	test("  Hello \t  world\r\n again ", "hello world again")
	test("=?utf-8?q?Re=3A_Caf=C3=A9?=", "café")
	test("Reply: about", "reply: about")
	test("Re:", "")
	test("", "")
	test("Fwd:Re:Fw:  x", "x")

	long := strings.Repeat("[Fwd: ", 5000) + "x" + strings.Repeat("]", 5000)
	start := time.Now()
	NormalizeSubject(long)
	NormalizeSubject(strings.Repeat("[a]", 100000))
	if d := time.Since(start); d > time.Second {
		t.Errorf("pathological subjects took %v", d)
	}
}

func TestReceivedHeader(t *testing.T) {
	at := time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("", -7*3600))
	got := ReceivedHeader("client.example", "192.0.2.1", "mx.wardmail.example", "ESMTPS", "abc123", "bob@example.com", at)
	want := "Received: from client.example ([192.0.2.1])\r\n" +
		"\tby mx.wardmail.example with ESMTPS id abc123\r\n" +
		"\tfor <bob@example.com>;\r\n" +
		"\tMon, 02 Jan 2006 15:04:05 -0700\r\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	got = ReceivedHeader("", "2001:db8::1", "", "", "", "", at)
	if want := "Received: from [IPv6:2001:db8::1];\r\n\tMon, 02 Jan 2006 15:04:05 -0700\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	// Client-supplied text cannot end the field or inject another.
	got = ReceivedHeader("evil\r\nX-Injected: yes", "192.0.2.1", "mx", "SMTP", "", "a>; b@c\r\n", at)
	if strings.Count(got, "\r\n") != 4 || strings.Contains(got, "\r\nX-Injected") || strings.Contains(got, "a>;") {
		t.Errorf("injection not prevented: %q", got)
	}
	// The result is a well-formed header field.
	s := mustSummarize(t, got+"\r\nbody")
	if v := HeaderValue([]byte(got+"\r\n"), 0, "received"); !strings.HasPrefix(v, "from evil__X-Injected:_yes") {
		t.Errorf("parsed back as %q (summary header %d)", v, s.HeaderSize)
	}
	if _, problems := CheckHeader([]byte(got+"\r\n"), 0); problems != nil {
		t.Errorf("CheckHeader: %v", problems)
	}

	if got := ReturnPath("a@b.c"); got != "Return-Path: <a@b.c>\r\n" {
		t.Errorf("ReturnPath = %q", got)
	}
	if got := ReturnPath(""); got != "Return-Path: <>\r\n" {
		t.Errorf("ReturnPath null = %q", got)
	}
}

func TestNewMessageID(t *testing.T) {
	re := regexp.MustCompile(`^<[A-Z2-7]{26}@mx\.example>$`)
	a, b := NewMessageID("mx.example"), NewMessageID("mx.example")
	if !re.MatchString(a) || a == b {
		t.Errorf("ids %q %q", a, b)
	}
	if id := NewMessageID(""); !strings.HasSuffix(id, "@localhost>") {
		t.Errorf("empty host: %q", id)
	}
}

func TestCheckHeader(t *testing.T) {
	test := func(msg string, wantSize int, want ...string) {
		t.Helper()
		size, problems := CheckHeader([]byte(msg), 0)
		var got []string
		for _, p := range problems {
			var he *HeaderError
			if !errors.As(p, &he) {
				t.Errorf("%T is not a *HeaderError", p)
			}
			got = append(got, p.Error())
		}
		if size != int64(wantSize) || !reflect.DeepEqual(got, want) {
			t.Errorf("CheckHeader(%.40q) = %d, %q; want %d, %q", msg, size, got, wantSize, want)
		}
	}
	test("Subject: ok\r\nFrom: a@b\r\n\r\nbody", 26)
	test("Subject: ok\nFrom: a@b\n\nbody", 23)
	test("Subject: caf\xc3\xa9\r\n folded\r\n\r\n", 27)
	test("Subject: x\r\nX-Long: "+strings.Repeat("a", 1200)+"\r\n\r\n", 1224,
		"header line 2 is 1208 bytes; the limit is 998")
	test("Subject: a\x00b\r\n\r\n", 16, "header line 1 contains a NUL byte")
	test(" leading\r\nSubject: x\r\n\r\n", 24,
		"header line 1 starts with white space but there is no field before it to continue")
	test("no colon here\r\nSubject: x\r\n\r\n", 29, "header line 1 is not a header field: it has no colon")
	test(": empty\r\n\r\n", 11, "header line 1 has an empty field name", "the message has no header fields")
	test("Bad Name: x\r\n\r\n", 15,
		"header line 1 has a field name with a character that is not allowed (byte 0x20)",
		"the message has no header fields")
	test("\r\nbody only", 2, "the message has no header fields")
	test("", 0, "the message has no header fields")

	var many strings.Builder
	for i := 0; i < 50; i++ {
		many.WriteString("bad line\r\n")
	}
	if _, problems := CheckHeader([]byte(many.String()), 0); len(problems) != maxProblems {
		t.Errorf("%d problems, want %d", len(problems), maxProblems)
	}
	if _, problems := CheckHeader([]byte("Subject: 12345\r\n\r\n"), 10); len(problems) != 1 {
		t.Errorf("maxLine 10: %v", problems)
	}
}

func TestHeaderValue(t *testing.T) {
	msg := []byte(crlf("Subject: first\n  folded\nsubject: second\nX-Empty:\n\nSubject: body\n"))
	if got := HeaderValue(msg, 0, "SUBJECT"); got != "first  folded" {
		t.Errorf("got %q", got)
	}
	if got := HeaderValue(msg, 0, "x-empty"); got != "" {
		t.Errorf("got %q", got)
	}
	if got := HeaderValue(msg, 5, "subject"); got != "" {
		t.Errorf("limited header: got %q", got)
	}
	if got := HeaderValue(msg, 0, "missing"); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestDecodeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                              "plain",
		"=?utf-8?q?a_b?=":                    "a b",
		"caf\xe9":                            "café",
		"\x93quoted\x94":                     "\u201cquoted\u201d",
		"=?utf-8?b?invalid base64?=":         "=?utf-8?b?invalid base64?=",
		"=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=": "テスト",
		"a\x00b\r\nc":                        "abc",
		"=?utf-8?q?=FF?=":                    "ÿ",
	} {
		if got := DecodeHeader(in); got != want {
			t.Errorf("DecodeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMarshal(t *testing.T) {
	for _, msg := range []string{simpleMsg, altMsg, mixedMsg, rfc822Msg} {
		s := mustSummarize(t, msg)
		b := s.Marshal()
		back, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, back) {
			t.Errorf("round trip changed the summary:\n%s\n%s", b, back.Marshal())
		}
	}
	for _, bad := range []string{
		``, `{`, `[]`, `{}`, `{"s":null}`,
		`{"hs":5,"s":{"t":"text","st":"plain","hs":0,"bs":4,"e":10}}`,
		`{"hs":0,"s":{"t":"text","st":"plain","hs":0,"bs":4,"e":2}}`,
		`{"hs":0,"s":{"t":"multipart","st":"mixed","hs":0,"bs":0,"e":2,"c":[null]}}`,
	} {
		if _, err := Unmarshal([]byte(bad)); err == nil {
			t.Errorf("Unmarshal(%s): no error", bad)
		}
	}
}

func TestText(t *testing.T) {
	test := func(msg string, limit int, want string) {
		t.Helper()
		s := mustSummarize(t, msg)
		if got := s.Text([]byte(msg), limit); got != want {
			t.Errorf("Text(%d)\n got %q\nwant %q", limit, got, want)
		}
	}
	test(simpleMsg, 1000, "Hi Bob,\r\nare you free for lunch?\r\n")
	test(simpleMsg, 5, "Hi Bo")
	test(simpleMsg, 0, "")
	test(altMsg, 1000, "Plain café")
	test(mixedMsg, 1000, "see attached")
	test(rfc822Msg, 1000, "See below.\nLunch?")

	html := crlf("Content-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" +
		"<html><head><style>p {color: red}</style><script>alert(1)</script></head>\n<body><!-- hidden --><p>Caf=E9 &amp; cr=\n=E8me</p><br>next&nbsp;line</body></html>\n")
	test(html, 1000, "Café & crème\nnext line")

	b64 := crlf("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nw6l0w6kg\nw6l0w6k=\n")
	test(b64, 1000, "été été")
	test(b64, 3, "ét") // cut on a rune boundary
	koi := "Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4"
	test(koi, 1000, "Привет")
	latin := "Content-Type: text/plain\r\n\r\ncaf\xe9"
	test(latin, 1000, "café")
	test(crlf("Content-Type: image/png\n\nxxxx"), 1000, "")
}

func TestDecodeTransfer(t *testing.T) {
	for _, c := range []struct{ enc, in, want string }{
		{"quoted-printable", "a=3Db=\r\nc=\nd= \r\ne", "a=bcde"},
		{"quoted-printable", "100% = stray =zz", "100% = stray =zz"},
		{"quoted-printable", "end=", "end"},
		// RFC 2045 6.7 rule 3: trailing white space is transport padding,
		// unless encoded or before a soft line break.
		{"quoted-printable", "hello  \r\nfoo\t \t= \r\n=62\r\nx=20\r\nlast \t", "hello\r\nfoo\t \tb\r\nx \r\nlast"},
		{"base64", "aGVs\r\nbG8=\r\nignored", "hello"},
		{"base64", "aGV!!sbG8", "hello"},
		{"base64", "aGVsbG8", "hello"},
		{"base64", "a", ""},
		{"7bit", "as is", "as is"},
	} {
		if got := string(DecodeTransfer(c.enc, []byte(c.in), 0)); got != c.want {
			t.Errorf("%s %q = %q, want %q", c.enc, c.in, got, c.want)
		}
	}
	if got := DecodeTransfer("base64", []byte(strings.Repeat("QUFB", 1000)), 10); string(got) != "AAAAAAAAAA" {
		t.Errorf("bounded base64: %q", got)
	}
	// Cutting does not leave half a UTF-8 sequence.
	if got := DecodeTransfer("quoted-printable", []byte("a=C3=A9=C3=A9"), 4); string(got) != "aé" {
		t.Errorf("bounded quoted-printable: %q", got)
	}
	if got := DecodeTransfer("base64", []byte("w6nDqcOp"), 5); string(got) != "éé" {
		t.Errorf("bounded base64 UTF-8: %q", got)
	}
	if got := cutBytes([]byte("ab€"), 4); string(got) != "ab" {
		t.Errorf("cutBytes: %q", got)
	}
}

func TestDecodeBudget(t *testing.T) {
	b := budget(decodeCallCost + 30)
	if got := b.decode("=?utf-8?q?caf=C3=A9?="); got != "café" {
		t.Errorf("within budget: %q", got)
	}
	if got := b.decode("=?utf-8?q?caf=C3=A9?="); got != "=?utf-8?q?caf=C3=A9?=" {
		t.Errorf("past budget: %q", got)
	}
	if got := b.decode("caf\xe9"); got != "café" {
		t.Errorf("plain text past budget: %q", got)
	}
	var unlimited *budget
	if got := unlimited.decode("=?utf-8?q?x?="); got != "x" {
		t.Errorf("nil budget: %q", got)
	}
}

func TestRemoveHeader(t *testing.T) {
	in := "From: a@x\r\nBcc: secret@x,\r\n  other@x\r\nTo: b@x\r\nbcc: again@x\r\n\r\nBcc: in the body stays\r\n"
	got := string(RemoveHeader([]byte(in), 0, "Bcc"))
	want := "From: a@x\r\nTo: b@x\r\n\r\nBcc: in the body stays\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	same := []byte("From: a@x\r\n\r\nbody")
	if got := RemoveHeader(same, 0, "Bcc"); &got[0] != &same[0] {
		t.Fatal("a message without the field was copied")
	}
}
