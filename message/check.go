package message

import (
	"bytes"
	"fmt"
)

// DefaultMaxLine is the longest header line RFC 5322 2.1.1 allows, in bytes
// without the CRLF.
const DefaultMaxLine = 998

// maxProblems bounds the problems CheckHeader reports for one message.
const maxProblems = 10

// HeaderError is a reason to refuse a message's header section. Its text is
// a sentence fit for an SMTP reply.
type HeaderError struct {
	Line   int // 1-based line of the header section, 0 for the whole
	Reason string
}

func (e *HeaderError) Error() string {
	if e.Line == 0 {
		return e.Reason
	}
	return fmt.Sprintf("header line %d %s", e.Line, e.Reason)
}

// CheckHeader checks that the header section of body is well-formed enough
// to accept (RFC 5322 2.1, 2.2, 3.6): each line at most maxLine bytes
// without its line ending (maxLine <= 0 means DefaultMaxLine), no NUL, each
// field a name of printable ASCII other than colon followed by a colon,
// continuation lines only after a field, and at least one field. It returns
// the size of the header section (as Summary.HeaderSize) and at most ten
// problems, each a *HeaderError. 8-bit text is allowed (RFC 6532).
func CheckHeader(body []byte, maxLine int) (headerSize int64, problems []error) {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	end := headerEnd(body, 0, len(body))
	add := func(line int, format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, &HeaderError{Line: line, Reason: fmt.Sprintf(format, args...)})
		}
	}
	fields := 0
	n := 0
	for i := 0; i < end; {
		if blankLineAt(body, i, end) > 0 {
			break
		}
		n++
		next := lineEnd(body, i, end)
		line := body[i:next]
		content := bytes.TrimRight(line, "\r\n")
		if len(content) > maxLine {
			add(n, "is %d bytes; the limit is %d", len(content), maxLine)
		}
		if bytes.IndexByte(line, 0) >= 0 {
			add(n, "contains a NUL byte")
		}
		switch {
		case line[0] == ' ' || line[0] == '\t':
			if fields == 0 {
				add(n, "starts with white space but there is no field before it to continue")
			}
		default:
			colon := bytes.IndexByte(content, ':')
			switch {
			case colon < 0:
				add(n, "is not a header field: it has no colon")
			case colon == 0:
				add(n, "has an empty field name")
			default:
				if bad := badNameByte(content[:colon]); bad >= 0 {
					add(n, "has a field name with a character that is not allowed (byte 0x%02x)", bad)
				} else {
					fields++
				}
			}
		}
		i = next
	}
	if fields == 0 {
		add(0, "the message has no header fields")
	}
	return int64(end), problems
}

// badNameByte returns the first byte of name that RFC 5322 3.6.8 ftext does
// not allow (printable ASCII other than colon), or -1.
func badNameByte(name []byte) int {
	for _, c := range name {
		if c <= ' ' || c >= 0x7f {
			return int(c)
		}
	}
	return -1
}
