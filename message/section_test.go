package message

import (
	"errors"
	"strings"
	"testing"
)

func TestSection(t *testing.T) {
	type want struct{ spec, bytes string }
	test := func(name, msg string, cases ...want) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			s := mustSummarize(t, msg)
			for _, c := range cases {
				if got := section(t, msg, s, c.spec); got != c.bytes {
					t.Errorf("BODY[%s]\n got %q\nwant %q", c.spec, got, c.bytes)
				}
			}
		})
	}

	simpleHeader := simpleMsg[:strings.Index(simpleMsg, "\r\n\r\n")+4]
	simpleBody := "Hi Bob,\r\nare you free for lunch?\r\n"
	test("simple", simpleMsg,
		want{"", simpleMsg},
		want{"HEADER", simpleHeader},
		want{"TEXT", simpleBody},
		want{"1", simpleBody},
		want{"1.MIME", simpleHeader},
		want{"2", ""},
		want{"1.1", ""},
		want{"1.HEADER", ""},
	)

	test("alternative", altMsg,
		want{"TEXT", altMsg[strings.Index(altMsg, "This is"):]},
		want{"1", "Plain caf\xc3\xa9"},
		want{"1.MIME", "Content-Type: text/plain; charset=utf-8\r\n\r\n"},
		want{"2", "<html><body><p>HTML caf=C3=A9</p></body></html>"},
		want{"2.MIME", "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"},
		want{"3", ""},
		want{"0", ""},
	)

	test("nested", mixedMsg,
		want{"1", "--inner\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--inner\r\nContent-Type: text/html\r\n\r\n<b>see attached</b>\r\n--inner--\r\n"},
		want{"1.MIME", "Content-Type: multipart/alternative; boundary=inner\r\n\r\n"},
		want{"1.1", "see attached"},
		want{"1.2", "<b>see attached</b>"},
		want{"1.2.MIME", "Content-Type: text/html\r\n\r\n"},
		want{"1.3", ""},
		want{"2", "JVBERi0xLjQK"},
		want{"2.1", ""},
	)

	enclosed := rfc822Msg[strings.Index(rfc822Msg, "From: Alice"):strings.Index(rfc822Msg, "\r\n--b1--")]
	enclosedHeader := enclosed[:strings.Index(enclosed, "\r\n\r\n")+4]
	test("message/rfc822", rfc822Msg,
		want{"1", "See below."},
		want{"2", enclosed},
		want{"2.MIME", "Content-Type: message/rfc822\r\n\r\n"},
		want{"2.HEADER", enclosedHeader},
		want{"2.TEXT", enclosed[len(enclosedHeader):]},
		want{"2.1", "Lunch?"},
		want{"2.1.MIME", "Content-Type: text/plain\r\n\r\n"},
		want{"2.2", "<p>Lunch?</p>"},
		want{"2.3", ""},
		want{"1.HEADER", ""},
		want{"1.TEXT", ""},
	)

	// A message/rfc822 whose enclosed message is not multipart: its part 1
	// is the enclosed body (RFC 9051 6.4.5).
	single := crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n--b--\n")
	test("message/rfc822 single part", single,
		want{"1", "Subject: inner\r\n\r\ninner body"},
		want{"1.HEADER", "Subject: inner\r\n\r\n"},
		want{"1.TEXT", "inner body"},
		want{"1.1", "inner body"},
		want{"1.1.MIME", "Subject: inner\r\n\r\n"},
		want{"1.2", ""},
	)

	// A top-level message/rfc822.
	top := crlf("Subject: outer\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n")
	test("top-level message/rfc822", top,
		want{"1", "Subject: inner\r\n\r\ninner body\r\n"},
		want{"1.HEADER", "Subject: inner\r\n\r\n"},
		want{"1.1", "inner body\r\n"},
	)

	test("no closing boundary", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\none\n--b\n\ntwo\n"),
		want{"1", "one"},
		want{"2", "two\r\n"},
		want{"2.MIME", "\r\n"},
	)

	test("wrong boundary", crlf("Content-Type: multipart/mixed; boundary=right\n\n--wrong\n\nhi\n--wrong--\n"),
		want{"1", "--wrong\r\n\r\nhi\r\n--wrong--\r\n"},
		want{"2", ""},
	)

	// The line end before a delimiter belongs to the delimiter, so
	// part 2 is one empty line: a header with no fields and no body.
	test("empty parts", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\n\n--b--\n"),
		want{"1", ""},
		want{"1.MIME", ""},
		want{"2", ""},
		want{"2.MIME", "\r\n"},
	)

	test("part without header", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\njust text\n--b--\n"),
		want{"1", "just text"},
		want{"1.MIME", ""},
	)

	test("boundary at body start, no preamble", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--",
		want{"1", "x"},
	)
}

func TestSectionHeaderFields(t *testing.T) {
	msg := crlf("Received: from a\n\tby b\nSubject: one\nX-Folded: a\n b\nsubject: two\nFrom: f@x\n\nbody\n")
	s := mustSummarize(t, msg)
	test := func(part []int, fields []string, not bool, want string) {
		t.Helper()
		got, err := Section([]byte(msg), s, part, "HEADER.FIELDS", fields, not)
		if err != nil || string(got) != want {
			t.Errorf("fields %q not=%v: got %q, %v; want %q", fields, not, got, err, want)
		}
	}
	test(nil, []string{"SUBJECT", "x-folded"}, false, "Subject: one\r\nX-Folded: a\r\n b\r\nsubject: two\r\n\r\n")
	test(nil, []string{"received", "subject", "x-folded"}, true, "From: f@x\r\n\r\n")
	test(nil, []string{"nonexistent"}, false, "\r\n")
	test(nil, nil, true, msg[:strings.Index(msg, "\r\n\r\n")+4])
	test([]int{1}, []string{"subject"}, false, "")

	got, err := Section([]byte(msg), s, nil, "HEADER.FIELDS.NOT", []string{"subject", "received", "from"}, false)
	if err != nil || string(got) != "X-Folded: a\r\n b\r\n\r\n" {
		t.Errorf("HEADER.FIELDS.NOT: %q, %v", got, err)
	}

	// A header without a final line end still gives well-formed output.
	bare := "Subject: x\nTo: y"
	s = mustSummarize(t, bare)
	got, _ = Section([]byte(bare), s, nil, "HEADER.FIELDS", []string{"to"}, false)
	if string(got) != "To: y\r\n\r\n" {
		t.Errorf("unterminated: %q", got)
	}

	// In an enclosed message.
	s = mustSummarize(t, rfc822Msg)
	got, _ = Section([]byte(rfc822Msg), s, []int{2}, "HEADER.FIELDS", []string{"subject"}, false)
	if string(got) != "Subject: Lunch\r\n\r\n" {
		t.Errorf("2.HEADER.FIELDS: %q", got)
	}
}

func TestSectionErrors(t *testing.T) {
	s := mustSummarize(t, simpleMsg)
	body := []byte(simpleMsg)
	if _, err := Section(body, s, nil, "MIME", nil, false); !errors.Is(err, ErrBadSection) {
		t.Errorf("MIME without part: %v", err)
	}
	if _, err := Section(body, s, []int{1}, "BOGUS", nil, false); !errors.Is(err, ErrBadSection) {
		t.Errorf("unknown spec: %v", err)
	}
	if _, err := Section(body[:10], s, nil, "", nil, false); err == nil {
		t.Error("summary of a longer body: no error")
	}
	if _, err := Section(body, nil, nil, "", nil, false); err == nil {
		t.Error("nil summary: no error")
	}
	// Results are slices of body, capped so appending cannot overwrite it.
	got, _ := Section(body, s, []int{1}, "", nil, false)
	if &got[0] != &body[s.HeaderSize] || cap(got) != len(got) {
		t.Error("BODY[1] is not a capped slice of body")
	}
}
