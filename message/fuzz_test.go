package message

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSummarize checks that any input gives a well-formed Summary: offsets
// in bounds and nested properly, a lossless stored form, and sections that
// can be cut for every part it lists.
func FuzzSummarize(f *testing.F) {
	for _, m := range []string{simpleMsg, altMsg, mixedMsg, rfc822Msg,
		"Subject: x\n\nbody", "Content-Type: multipart/mixed; boundary=a\n\n--a\n\n--a--",
		"Content-Type: multipart/digest; boundary=a\n\n--a\n\nSubject: x\n\n--a--",
	} {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Summarize(body)
		if len(body) == 0 {
			if err == nil {
				t.Fatal("no error for an empty message")
			}
			return
		}
		if err != nil {
			t.Fatalf("Summarize: %v", err)
		}
		if s.Structure.HeaderStart != 0 || s.Structure.BodyStart != s.HeaderSize || s.Structure.End != int64(len(body)) {
			t.Fatalf("top-level offsets %d/%d/%d, header %d, length %d",
				s.Structure.HeaderStart, s.Structure.BodyStart, s.Structure.End, s.HeaderSize, len(body))
		}
		n := 0
		checkSummary(t, s, &n)
		if n > MaxParts {
			t.Fatalf("%d parts", n)
		}

		back, err := Unmarshal(s.Marshal())
		if err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if !reflect.DeepEqual(s, back) {
			t.Fatalf("round trip changed the summary:\n%s\n%s", s.Marshal(), back.Marshal())
		}

		paths := 0
		eachPath(s, nil, func(path []int, p *Part) {
			if paths++; paths > 200 {
				return
			}
			got, err := Section(body, s, path, "", nil, false)
			if err != nil || string(got) != string(body[p.BodyStart:p.End]) {
				t.Fatalf("BODY[%v] = %q, %v; want the part body", path, got, err)
			}
			for _, spec := range []string{"MIME", "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT"} {
				if _, err := Section(body, s, path, spec, []string{"subject", "content-type"}, false); err != nil {
					t.Fatalf("BODY[%v.%s]: %v", path, spec, err)
				}
			}
		})
		for _, spec := range []string{"", "HEADER", "TEXT", "HEADER.FIELDS"} {
			if _, err := Section(body, s, nil, spec, []string{"from"}, true); err != nil {
				t.Fatalf("BODY[%s]: %v", spec, err)
			}
		}
		if text := s.Text(body, 100); len(text) > 100 || !utf8.ValidString(text) {
			t.Fatalf("Text = %q", text)
		}
	})
}

// checkSummary checks the invariants Summarize documents.
func checkSummary(t *testing.T, s *Summary, n *int) {
	t.Helper()
	p := s.Structure
	if p.BodyStart-p.HeaderStart != s.HeaderSize {
		t.Fatalf("header size %d, part header %d-%d", s.HeaderSize, p.HeaderStart, p.BodyStart)
	}
	checkStrings(t, s)
	checkPart(t, p, n)
}

func checkPart(t *testing.T, p *Part, n *int) {
	t.Helper()
	*n++
	if !(0 <= p.HeaderStart && p.HeaderStart <= p.BodyStart && p.BodyStart <= p.End) {
		t.Fatalf("offsets %d/%d/%d out of order", p.HeaderStart, p.BodyStart, p.End)
	}
	if p.Type == "multipart" && len(p.Children) == 0 {
		t.Fatal("multipart without children")
	}
	if p.Type == "message" && (p.Subtype == "rfc822" || p.Subtype == "global") && p.Message == nil {
		t.Fatal("message part without its message")
	}
	prev := p.BodyStart
	for _, c := range p.Children {
		if c.HeaderStart < prev || c.End > p.End {
			t.Fatalf("child %d-%d outside %d-%d or overlapping", c.HeaderStart, c.End, prev, p.End)
		}
		prev = c.End
		checkPart(t, c, n)
	}
	if m := p.Message; m != nil {
		if m.Structure.HeaderStart != p.BodyStart || m.Structure.End != p.End {
			t.Fatalf("enclosed message %d-%d in part body %d-%d", m.Structure.HeaderStart, m.Structure.End, p.BodyStart, p.End)
		}
		checkSummary(t, m, n)
	}
}

// checkStrings checks that every string in the summary is valid UTF-8
// without CR, LF or NUL.
func checkStrings(t *testing.T, s *Summary) {
	t.Helper()
	check := func(what, v string) {
		if !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\x00") {
			t.Fatalf("%s %q", what, v)
		}
	}
	e := s.Envelope
	check("date", e.Date)
	check("subject", e.Subject)
	check("in-reply-to", e.InReplyTo)
	check("message-id", e.MessageID)
	for _, list := range [][]Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
		for _, a := range list {
			check("address", a.Name+a.Mailbox+a.Host+a.Group)
		}
	}
	for _, r := range s.References {
		check("reference", r)
	}
	var part func(p *Part)
	part = func(p *Part) {
		check("type", p.Type+p.Subtype+p.ID+p.Description+p.Encoding+p.MD5+p.Disposition+p.Location)
		for _, kv := range append(p.Params, p.DispParams...) {
			check("param", kv[0]+kv[1])
		}
		for _, l := range p.Language {
			check("language", l)
		}
		for _, c := range p.Children {
			part(c)
		}
	}
	part(s.Structure)
}

// eachPath calls fn with the IMAP part path of every part of s (RFC 9051
// 6.4.5), recursing into enclosed messages.
func eachPath(s *Summary, prefix []int, fn func([]int, *Part)) {
	root := s.Structure
	if len(root.Children) == 0 {
		path := append(prefix[:len(prefix):len(prefix)], 1)
		fn(path, root)
		subParts(root, path, fn)
		return
	}
	for i, c := range root.Children {
		path := append(prefix[:len(prefix):len(prefix)], i+1)
		fn(path, c)
		subParts(c, path, fn)
	}
}

func subParts(p *Part, path []int, fn func([]int, *Part)) {
	if p.Message != nil {
		eachPath(p.Message, path, fn)
		return
	}
	for i, c := range p.Children {
		sub := append(path[:len(path):len(path)], i+1)
		fn(sub, c)
		subParts(c, sub, fn)
	}
}

func TestEachPathMatchesFindPart(t *testing.T) {
	s := mustSummarize(t, rfc822Msg)
	var got []string
	eachPath(s, nil, func(path []int, p *Part) {
		if FindPart(s, path) != p {
			t.Errorf("FindPart(%v) is not the part listed", path)
		}
		got = append(got, fmt.Sprint(path))
	})
	if want := "[1] [2] [2 1] [2 2]"; strings.Join(got, " ") != want {
		t.Errorf("paths %s, want %s", strings.Join(got, " "), want)
	}
}
