package message

import (
	"strings"
	"testing"
)

// crlf turns the LF line ends of a test literal into CRLF, as mail is stored.
func crlf(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// mustSummarize parses a message or fails the test.
func mustSummarize(t testing.TB, msg string) *Summary {
	t.Helper()
	s, err := Summarize([]byte(msg))
	if err != nil {
		t.Fatalf("Summarize: %v", err)
	}
	return s
}

// section is Section for a test, with the path as "1.2" and spec appended
// as IMAP writes it ("1.2.MIME", "HEADER", "2.TEXT").
func section(t testing.TB, body string, s *Summary, spec string, fields ...string) string {
	t.Helper()
	var path []int
	rest := spec
	for rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		n := 0
		for rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			n = n*10 + int(rest[0]-'0')
			rest = rest[1:]
		}
		path = append(path, n)
		rest = strings.TrimPrefix(rest, ".")
	}
	got, err := Section([]byte(body), s, path, rest, fields, false)
	if err != nil {
		t.Fatalf("Section(%q): %v", spec, err)
	}
	return string(got)
}

// shape describes a part tree compactly: "multipart/mixed(text/plain,
// message/rfc822[text/plain])".
func shape(p *Part) string {
	s := p.Type + "/" + p.Subtype
	if len(p.Children) > 0 {
		var cs []string
		for _, c := range p.Children {
			cs = append(cs, shape(c))
		}
		s += "(" + strings.Join(cs, ",") + ")"
	}
	if p.Message != nil {
		s += "[" + shape(p.Message.Structure) + "]"
	}
	return s
}
