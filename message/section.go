package message

import (
	"bytes"
	"errors"
	"fmt"
)

// Section extraction for IMAP FETCH BODY[section] (RFC 9051 6.4.5).

// ErrBadSection is returned by Section for a section specifier that RFC 9051
// 6.4.5 does not allow.
var ErrBadSection = errors.New("message: invalid section")

// Section returns the bytes of BODY[section] where the section is the part
// path part (empty for the whole message) and the specifier spec, one of
// "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT" and "MIME".
//
// Parts are numbered as RFC 9051 6.4.5 says: a message that is not multipart
// has only part 1, its body; the parts of a message/rfc822 part are those of
// the message it encloses, and HEADER and TEXT after its number refer to
// that message. A part that does not exist, or HEADER/TEXT on a part that is
// not a message, gives an empty result and no error, as IMAP servers answer.
//
// For HEADER.FIELDS the result is the fields whose names (compared without
// regard to case) are in fields, as written with their continuation lines
// and in their original order, followed by an empty line (CRLF). With not
// set, or spec "HEADER.FIELDS.NOT", it is the fields whose names are not in
// fields.
//
// The result is a slice of body except for HEADER.FIELDS(.NOT). Section
// fails with ErrBadSection for an unknown spec or MIME without a part, and
// with another error when s does not describe body.
func Section(body []byte, s *Summary, part []int, spec string, fields []string, not bool) ([]byte, error) {
	if s == nil || s.Structure == nil {
		return nil, errors.New("message: no summary")
	}
	var p *Part
	if len(part) > 0 {
		if p = FindPart(s, part); p == nil {
			return []byte{}, nil
		}
	}
	msg := s
	switch spec {
	case "":
		if p == nil {
			return cut(body, s.Structure.HeaderStart, s.Structure.End)
		}
		return cut(body, p.BodyStart, p.End)
	case "MIME":
		if p == nil {
			return nil, fmt.Errorf("%w: MIME needs a part number", ErrBadSection)
		}
		return cut(body, p.HeaderStart, p.BodyStart)
	case "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT":
		if p != nil {
			if p.Message == nil || p.Message.Structure == nil {
				return []byte{}, nil
			}
			msg = p.Message
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrBadSection, spec)
	}
	root := msg.Structure
	switch spec {
	case "TEXT":
		return cut(body, root.BodyStart, root.End)
	case "HEADER":
		return cut(body, root.HeaderStart, root.HeaderStart+msg.HeaderSize)
	}
	hdr, err := cut(body, root.HeaderStart, root.HeaderStart+msg.HeaderSize)
	if err != nil {
		return nil, err
	}
	return headerFields(hdr, fields, not || spec == "HEADER.FIELDS.NOT"), nil
}

// cut returns body[start:end], or an error when the offsets do not fit body
// (a summary of another message, or corrupt).
func cut(body []byte, start, end int64) ([]byte, error) {
	if start < 0 || start > end || end > int64(len(body)) {
		return nil, fmt.Errorf("message: section %d-%d is outside the %d-byte body; the summary does not match it", start, end, len(body))
	}
	return body[start:end:end], nil
}

// FindPart resolves a part path as RFC 9051 6.4.5 numbers parts (the
// numbering Section uses), or returns nil.
func FindPart(s *Summary, path []int) *Part {
	var cur *Part // nil: at the level of message msg
	msg := s
	for _, n := range path {
		if n < 1 {
			return nil
		}
		if cur != nil {
			switch {
			case len(cur.Children) > 0:
				if n > len(cur.Children) {
					return nil
				}
				cur = cur.Children[n-1]
				continue
			case cur.Message != nil:
				msg, cur = cur.Message, nil
			default:
				return nil
			}
		}
		root := msg.Structure
		switch {
		case root == nil:
			return nil
		case len(root.Children) > 0:
			if n > len(root.Children) {
				return nil
			}
			cur = root.Children[n-1]
		case n == 1:
			cur = root
		default:
			return nil
		}
	}
	return cur
}

// headerFields returns the fields of hdr whose names are (or with not, are
// not) in names, then an empty line.
func headerFields(hdr []byte, names []string, not bool) []byte {
	want := make([][]byte, len(names))
	for i, n := range names {
		want[i] = []byte(n)
	}
	var out []byte
	eachField(hdr, func(f field) bool {
		match := false
		for _, n := range want {
			if bytes.EqualFold(f.name, n) {
				match = true
				break
			}
		}
		if match != not {
			out = append(out, f.raw...)
			if f.raw[len(f.raw)-1] != '\n' {
				out = append(out, '\r', '\n')
			}
		}
		return true
	})
	return append(out, '\r', '\n')
}
