package message

import (
	"reflect"
	"strings"
	"testing"
)

// Messages used by several tests, written with LF and stored with CRLF.
var (
	simpleMsg = crlf(`Return-Path: <alice@example.org>
From: "Alice Example" <alice@example.org>
To: bob@example.com, "Carol (work)" <carol@example.net>
Subject: Lunch
 tomorrow?
Date: Mon, 2 Jan 2006 15:04:05 -0700
Message-ID: <1234@example.org>

Hi Bob,
are you free for lunch?
`)

	altMsg = crlf(`From: alice@example.org
To: bob@example.com
Subject: alternative
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="==alt=="

This is a multi-part message in MIME format.
--==alt==
Content-Type: text/plain; charset=utf-8

Plain caf` + "\xc3\xa9" + `
--==alt==
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><body><p>HTML caf=C3=A9</p></body></html>
--==alt==--
epilogue
`)

	mixedMsg = crlf(`From: alice@example.org
Subject: report
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain

see attached
--inner
Content-Type: text/html

<b>see attached</b>
--inner--

--outer
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64
Content-ID: <pdf1@example.org>
Content-Description: The report
Content-Language: en, de
Content-Location: http://example.org/
 report.pdf
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

JVBERi0xLjQK
--outer--
`)

	rfc822Msg = crlf(`From: bob@example.com
Subject: Fwd: Lunch
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain

See below.
--b1
Content-Type: message/rfc822

From: Alice <alice@example.org>
Subject: Lunch
Content-Type: multipart/alternative; boundary="b2"

--b2
Content-Type: text/plain

Lunch?
--b2
Content-Type: text/html

<p>Lunch?</p>
--b2--

--b1--
`)
)

func TestSummarizeSimple(t *testing.T) {
	s := mustSummarize(t, simpleMsg)
	want := Envelope{
		Date:    "Mon, 2 Jan 2006 15:04:05 -0700",
		Subject: "Lunch tomorrow?",
		From:    []Address{{Name: "Alice Example", Mailbox: "alice", Host: "example.org"}},
		Sender:  []Address{{Name: "Alice Example", Mailbox: "alice", Host: "example.org"}},
		ReplyTo: []Address{{Name: "Alice Example", Mailbox: "alice", Host: "example.org"}},
		To: []Address{
			{Mailbox: "bob", Host: "example.com"},
			{Name: "Carol (work)", Mailbox: "carol", Host: "example.net"},
		},
		MessageID: "<1234@example.org>",
	}
	if !reflect.DeepEqual(s.Envelope, want) {
		t.Errorf("envelope\n got %+v\nwant %+v", s.Envelope, want)
	}
	p := s.Structure
	if shape(p) != "text/plain" || p.Param("charset") != "us-ascii" {
		t.Errorf("structure %s %v, want text/plain; charset=us-ascii", shape(p), p.Params)
	}
	hdrEnd := strings.Index(simpleMsg, "\r\n\r\n") + 4
	if s.HeaderSize != int64(hdrEnd) || p.HeaderStart != 0 || p.BodyStart != int64(hdrEnd) || p.End != int64(len(simpleMsg)) {
		t.Errorf("offsets hs=%d part=%d/%d/%d", s.HeaderSize, p.HeaderStart, p.BodyStart, p.End)
	}
	if p.Lines != 2 || p.Size() != int64(len("Hi Bob,\r\nare you free for lunch?\r\n")) {
		t.Errorf("lines %d size %d", p.Lines, p.Size())
	}
	if s.HasAttachment {
		t.Error("HasAttachment for a plain message")
	}
}

func TestSummarizeStructure(t *testing.T) {
	test := func(name, msg, wantShape string, check func(t *testing.T, s *Summary)) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			s := mustSummarize(t, msg)
			if got := shape(s.Structure); got != wantShape {
				t.Errorf("shape %s, want %s", got, wantShape)
			}
			if check != nil {
				check(t, s)
			}
		})
	}

	test("alternative", altMsg, "multipart/alternative(text/plain,text/html)", func(t *testing.T, s *Summary) {
		plain, html := s.Structure.Children[0], s.Structure.Children[1]
		if plain.Param("charset") != "utf-8" || plain.Lines != 1 {
			t.Errorf("plain %v lines %d", plain.Params, plain.Lines)
		}
		if html.Encoding != "quoted-printable" {
			t.Errorf("html encoding %q", html.Encoding)
		}
		if s.Structure.Param("boundary") != "==alt==" {
			t.Errorf("boundary %q", s.Structure.Param("boundary"))
		}
	})

	test("nested with attachment", mixedMsg, "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)", nil)

	test("attachment fields", mixedMsg, "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)", func(t *testing.T, s *Summary) {
		if !s.HasAttachment {
			t.Error("HasAttachment false")
		}
		pdf := s.Structure.Children[1]
		want := &Part{
			Type: "application", Subtype: "pdf",
			Params:      [][2]string{{"name", "report.pdf"}},
			ID:          "<pdf1@example.org>",
			Description: "The report",
			Encoding:    "base64",
			MD5:         "Q2hlY2sgSW50ZWdyaXR5IQ==",
			Disposition: "attachment",
			DispParams:  [][2]string{{"filename", "report.pdf"}},
			Language:    []string{"en", "de"},
			Location:    "http://example.org/report.pdf",
			HeaderStart: pdf.HeaderStart, BodyStart: pdf.BodyStart, End: pdf.End,
		}
		if !reflect.DeepEqual(pdf, want) {
			t.Errorf("pdf part\n got %+v\nwant %+v", pdf, want)
		}
	})

	test("rfc822", rfc822Msg, "multipart/mixed(text/plain,message/rfc822[multipart/alternative(text/plain,text/html)])", func(t *testing.T, s *Summary) {
		m := s.Structure.Children[1]
		if m.Message.Envelope.Subject != "Lunch" || m.Message.Envelope.From[0].Name != "Alice" {
			t.Errorf("enclosed envelope %+v", m.Message.Envelope)
		}
		if m.Lines != 13 {
			t.Errorf("message/rfc822 lines %d, want 13", m.Lines)
		}
		if m.Message.Structure.HeaderStart != m.BodyStart || m.Message.Structure.End != m.End {
			t.Errorf("enclosed offsets %+v within %+v", m.Message.Structure, m)
		}
	})

	test("no content-type", "Subject: x\n\nbody\n", "text/plain", func(t *testing.T, s *Summary) {
		if s.Structure.Param("charset") != "us-ascii" {
			t.Errorf("params %v", s.Structure.Params)
		}
	})
	test("unparsable content-type", "Content-Type: text\n\nbody\n", "text/plain", nil)
	test("bad type chars", "Content-Type: te xt/pl@in\n\nbody\n", "text/plain", nil)
	test("type in upper case", "Content-Type: TEXT/HTML; CHARSET=UTF-8\n\nbody\n", "text/html", func(t *testing.T, s *Summary) {
		if s.Structure.Param("charset") != "UTF-8" {
			t.Errorf("params %v", s.Structure.Params)
		}
	})
	test("multipart without boundary", "Content-Type: multipart/mixed\n\n--x\n\nhi\n--x--\n", "text/plain", nil)
	test("wrong boundary", crlf("Content-Type: multipart/mixed; boundary=right\n\n--wrong\nContent-Type: text/html\n\nhi\n--wrong--\n"), "text/plain", func(t *testing.T, s *Summary) {
		if s.Structure.Lines != 5 {
			t.Errorf("lines %d", s.Structure.Lines)
		}
	})
	test("no closing boundary", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\none\n--b\n\ntwo\n"), "multipart/mixed(text/html,text/plain)", nil)
	test("boundary with padding", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b  \n\none\n--b--  \n"), "multipart/mixed(text/plain)", nil)
	test("boundary prefix of another", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--bb\ntwo\n--b--\n"), "multipart/mixed(text/plain)", nil)
	test("digest defaults", crlf("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody one\n--d\nContent-Type: text/plain\n\nnot a message\n--d--\n"),
		"multipart/digest(message/rfc822[text/plain],text/plain)", func(t *testing.T, s *Summary) {
			if got := s.Structure.Children[0].Message.Envelope.Subject; got != "one" {
				t.Errorf("digest message subject %q", got)
			}
		})
	test("encoded message/rfc822", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeAoKeQo=\n--b--\n"),
		"multipart/mixed(application/octet-stream)", nil)
	test("message/global", crlf("Content-Type: message/global\n\nSubject: caf\xc3\xa9\n\nx\n"), "message/global[text/plain]", func(t *testing.T, s *Summary) {
		if got := s.Structure.Message.Envelope.Subject; got != "café" {
			t.Errorf("subject %q", got)
		}
	})
	test("part without header", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\njust text, no header\n--b--\n"), "multipart/mixed(text/plain)", nil)
	test("empty parts", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\n--b--\n"), "multipart/mixed(text/plain,text/plain)", nil)
	test("header only, no blank line", "Subject: only\r\nFrom: a@b", "text/plain", func(t *testing.T, s *Summary) {
		if s.HeaderSize != int64(len("Subject: only\r\nFrom: a@b")) || s.Structure.Size() != 0 {
			t.Errorf("header size %d body %d", s.HeaderSize, s.Structure.Size())
		}
		if s.Envelope.From[0].Host != "b" {
			t.Errorf("from %+v", s.Envelope.From)
		}
	})
	test("starts with blank line", "\r\nbody", "text/plain", func(t *testing.T, s *Summary) {
		if s.HeaderSize != 2 || s.Structure.Lines != 1 {
			t.Errorf("header size %d lines %d", s.HeaderSize, s.Structure.Lines)
		}
	})
	test("garbage and 8-bit header", "\x00garbage line\nSubject: caf\xe9 \x00ok\n\tmore\n continuation\nX-Bin\xff: y\n\nbody", "text/plain", func(t *testing.T, s *Summary) {
		if s.Envelope.Subject != "café ok\tmore continuation" {
			t.Errorf("subject %q", s.Envelope.Subject)
		}
	})
}

func TestSummarizeBareLF(t *testing.T) {
	lf := strings.ReplaceAll(rfc822Msg, "\r\n", "\n")
	s := mustSummarize(t, lf)
	if got, want := shape(s.Structure), "multipart/mixed(text/plain,message/rfc822[multipart/alternative(text/plain,text/html)])"; got != want {
		t.Fatalf("shape %s, want %s", got, want)
	}
	check := func(spec, want string) {
		t.Helper()
		if got := section(t, lf, s, spec); got != want {
			t.Errorf("BODY[%s] = %q, want %q", spec, got, want)
		}
	}
	check("1", "See below.")
	check("1.MIME", "Content-Type: text/plain\n\n")
	check("2.HEADER", "From: Alice <alice@example.org>\nSubject: Lunch\nContent-Type: multipart/alternative; boundary=\"b2\"\n\n")
	check("2.1", "Lunch?")
	check("2.2", "<p>Lunch?</p>")
	if s.Structure.Children[0].Lines != 1 {
		t.Errorf("lines %d", s.Structure.Children[0].Lines)
	}
}

func TestSummarizeEncodedWords(t *testing.T) {
	test := func(header, wantSubject, wantName string) {
		t.Helper()
		s := mustSummarize(t, crlf("Subject: "+header+"\nFrom: "+header+" <a@example.org>\n\nx\n"))
		if s.Envelope.Subject != wantSubject {
			t.Errorf("subject %q: got %q, want %q", header, s.Envelope.Subject, wantSubject)
		}
		if got := s.Envelope.From[0].Name; got != wantName {
			t.Errorf("name %q: got %q, want %q", header, got, wantName)
		}
	}
	test("=?utf-8?q?caf=C3=A9?=", "café", "café")
	test("=?UTF-8?B?Y2Fmw6k=?=", "café", "café")
	test("=?iso-8859-1?q?caf=E9?=", "café", "café")
	test("=?ISO-8859-1?B?Y2Fm6Q==?=", "café", "café")
	test("=?utf-8?q?a?= =?utf-8?q?b?=", "ab", "ab")
	test("=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "€", "€")
	test("=?windows-1252?q?=80?=", "€", "€")
	test("=?koi8-r?b?8NLJ18XU?=", "Привет", "Привет")
	test("=?x-unknown?q?abc?=", "abc", "abc")
	test("=?utf-8?q?broken", "=?utf-8?q?broken", "=?utf-8?q?broken")
	test("\"=?utf-8?q?quoted?=\"", "\"quoted\"", "quoted")
	test("=?utf-8*en?q?lang?=", "lang", "lang")
}

func TestSummarizeParams(t *testing.T) {
	test := func(ct, name, want string) {
		t.Helper()
		s := mustSummarize(t, crlf("Content-Type: "+ct+"\n\nx\n"))
		if got := s.Structure.Param(name); got != want {
			t.Errorf("%s: %s = %q, want %q (params %q)", ct, name, got, want, s.Structure.Params)
		}
	}
	test("application/pdf; name*=utf-8''%E2%82%AC%20rates.pdf", "name", "€ rates.pdf")
	test("application/pdf; name*=iso-8859-1'en'caf%E9.txt", "name", "café.txt")
	test("application/pdf;\n name*0*=utf-8''%E2%82%AC%20;\n name*1=\"long name\";\n name*2*=%2Epdf", "name", "€ long name.pdf")
	test("application/pdf; name*1=\"b\"; name*0=\"a\"", "name", "ab")
	test("application/pdf; name=\"plain\"; name*=utf-8''better", "name", "better")
	test("application/pdf; name*0=\"a\"; name*2=\"c\"", "name", "a")
	test("application/pdf; name=\"=?utf-8?b?w6k=?=.pdf\"", "name", "é.pdf")
	test("application/pdf; name=My Report 2024.pdf", "name", "My Report 2024.pdf")
	test("application/pdf; name=\"semi;colon\"; x=1", "x", "1")
	test("application/pdf; name=\"semi;colon\"; x=1", "name", "semi;colon")
	test("application/pdf; name=\"esc\\\"aped\"", "name", "esc\"aped")
	test("application/pdf; name=\"unterminated", "name", "unterminated")
	test("application/pdf; ; =novalue; noequals; a=1", "a", "1")
	test("text/plain; charset=utf-8 (comment)", "charset", "utf-8")
	test("application/pdf; name=My Report (1).pdf", "name", "My Report (1).pdf")

	s := mustSummarize(t, crlf("Content-Type: application/octet-stream\nContent-Disposition: attachment;\n filename*=utf-8''%C3%A9t%C3%A9.pdf\n\nx\n"))
	if got := dispParam(s.Structure, "filename"); got != "été.pdf" || s.Structure.Disposition != "attachment" {
		t.Errorf("disposition %q filename %q", s.Structure.Disposition, got)
	}
}

func TestSummarizeAddresses(t *testing.T) {
	test := func(v string, want ...Address) {
		t.Helper()
		got := parseAddressList(v, nil)
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q\n got %+v\nwant %+v", v, got, want)
		}
	}
	a := func(name, mailbox, host string) Address { return Address{Name: name, Mailbox: mailbox, Host: host} }
	test("alice@example.org", a("", "alice", "example.org"))
	test("Alice <alice@example.org>", a("Alice", "alice", "example.org"))
	test(`"Doe, John" <john@x.org>, jane@y.org`, a("Doe, John", "john", "x.org"), a("", "jane", "y.org"))
	test("john@x.org (John Doe)", a("John Doe", "john", "x.org"))
	test(`"john doe"@x.org`, a("", "john doe", "x.org"))
	test("John Q. Public <john.q.public@example.com>", a("John Q. Public", "john.q.public", "example.com"))
	// RFC 3501 7.4.2: the source route is the ENVELOPE's adl.
	test("<@route1,@route2:user@host>", Address{Route: "@route1,@route2", Mailbox: "user", Host: "host"})
	// RFC 5322 3.4.1: comments and folding white space around the parts
	// of an addr-spec are not part of it.
	test("<user-from (comment)@ (comment) domain.org>", a("", "user-from", "domain.org"))
	test(`Name <"a b" (c) @host>`, a("Name", "a b", "host"))
	// RFC 5322 3.4: a group holding only a comment is empty.
	test("group:;, group2: (foo) ;", Address{Group: "group"}, Address{GroupEnd: true}, Address{Group: "group2"}, Address{GroupEnd: true})
	test("john . doe @ example . com", a("", "john.doe", "example.com"))
	test("John Doe john@example.com", a("John Doe", "john", "example.com"))
	test("localpart", a("", "localpart", ""))
	test("", []Address{}...)
	test(" , ,, ")
	test("<>")
	test("undisclosed-recipients:;", Address{Group: "undisclosed-recipients"}, Address{GroupEnd: true})
	test("Friends: a@b.c, \"B\" <b@c.d>;, e@f.g",
		Address{Group: "Friends"}, a("", "a", "b.c"), a("B", "b", "c.d"), Address{GroupEnd: true}, a("", "e", "f.g"))
	test("Unclosed: a@b.c", Address{Group: "Unclosed"}, a("", "a", "b.c"), Address{GroupEnd: true})
	test("=?utf-8?q?Gr=C3=BCppe?=: a@b.c;", Address{Group: "Grüppe"}, a("", "a", "b.c"), Address{GroupEnd: true})
	test("a@b.c; stray", a("", "a", "b.c"), a("", "stray", ""))
	test("Broken <a@b.c", a("Broken", "a", "b.c"))
	test("=?iso-8859-1?q?J=F6rg?= <j@x.de>", a("Jörg", "j", "x.de"))
	test("J\xf6rg <j@x.de>", a("Jörg", "j", "x.de"))
}

func TestSummarizeReferences(t *testing.T) {
	s := mustSummarize(t, crlf("References: <a@x>\n <b@x> garbage (c) <c\n @x>\nIn-Reply-To:  <c@x> \n\nbody"))
	if want := []string{"<a@x>", "<b@x>", "<c@x>"}; !reflect.DeepEqual(s.References, want) {
		t.Errorf("references %q, want %q", s.References, want)
	}
	if s.Envelope.InReplyTo != "<c@x>" {
		t.Errorf("in-reply-to %q", s.Envelope.InReplyTo)
	}
	var b strings.Builder
	b.WriteString("References:")
	for i := 0; i < 1500; i++ {
		b.WriteString(" <" + strings.Repeat("x", i%7) + "@y>\r\n")
	}
	b.WriteString("\r\nbody")
	s = mustSummarize(t, b.String())
	if len(s.References) != maxReferences || s.References[0] != "<@y>" {
		t.Errorf("%d references, first %q", len(s.References), s.References[0])
	}
}

func TestSummarizeMissingSender(t *testing.T) {
	s := mustSummarize(t, crlf("From: a@b.c\nSender: s@b.c\n\nx"))
	if s.Envelope.Sender[0].Mailbox != "s" || s.Envelope.ReplyTo[0].Mailbox != "a" {
		t.Errorf("envelope %+v", s.Envelope)
	}
	s = mustSummarize(t, crlf("Subject: no from\n\nx"))
	if s.Envelope.From != nil || s.Envelope.Sender != nil || s.Envelope.ReplyTo != nil {
		t.Errorf("envelope %+v", s.Envelope)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if _, err := Summarize(nil); err != ErrEmpty {
		t.Errorf("Summarize(nil) error %v, want ErrEmpty", err)
	}
}

func TestSummarizeLimits(t *testing.T) {
	// 60 nested multiparts: the ones past MaxDepth become leaves.
	var b strings.Builder
	for i := 0; i < 60; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=b" + itoa(i) + "\r\n\r\n--b" + itoa(i) + "\r\n")
	}
	b.WriteString("\r\ninnermost\r\n")
	s := mustSummarize(t, b.String())
	depth := 0
	for p := s.Structure; len(p.Children) > 0; p = p.Children[0] {
		depth++
	}
	if depth != MaxDepth {
		t.Errorf("depth %d, want %d", depth, MaxDepth)
	}

	// More parts than MaxParts.
	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < MaxParts+10; i++ {
		b.WriteString("--b\r\n\r\npart\r\n")
	}
	b.WriteString("--b--\r\n")
	s = mustSummarize(t, b.String())
	if n := countParts(s.Structure); n != MaxParts {
		t.Errorf("%d parts, want %d", n, MaxParts)
	}
}

func countParts(p *Part) int {
	n := 1
	for _, c := range p.Children {
		n += countParts(c)
	}
	if p.Message != nil {
		n += countParts(p.Message.Structure)
	}
	return n
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestHasAttachment(t *testing.T) {
	test := func(part string, want bool) {
		t.Helper()
		s := mustSummarize(t, crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b\n"+part+"\n\ndata\n--b--\n"))
		if s.HasAttachment != want {
			t.Errorf("%q: HasAttachment %v, want %v", part, s.HasAttachment, want)
		}
	}
	test("Content-Type: image/png", false)
	test("Content-Type: image/png; name=a.png", true)
	test("Content-Type: text/plain\nContent-Disposition: attachment", true)
	test("Content-Type: text/plain; name=notes.txt", false)
	test("Content-Type: application/zip\nContent-Disposition: inline; filename=a.zip", true)
	test("Content-Type: message/rfc822\n\nContent-Type: image/png; name=b.png", true)
}
