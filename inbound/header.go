package inbound

import (
	"bytes"
	"strings"
)

// Field names this package writes. Any arriving copy of OriginField, and any
// Authentication-Results that claims our authserv-id, is removed before ours
// are added (RFC 8601 5: a receiver must not trust results it did not make).
const (
	AuthResultsField = "Authentication-Results"
	OriginField      = "Wardmail-Origin"
)

// maxFields bounds how many header fields are looked at; a header with more
// is treated as ending there (the submit pipeline has already checked the
// header's shape and line lengths).
const maxFields = 2000

// field is one header field of a raw message: its name and the whole field
// (name, colon, value and continuation lines, with the final CRLF).
type field struct {
	name string
	raw  []byte
}

// splitHeader returns the header fields of msg and the offset where the body
// starts (after the blank line, or len(msg) when there is none). It accepts
// CRLF or bare LF line ends; a line that is neither a field nor a
// continuation ends the header, as RFC 5322 2.2 would have it.
func splitHeader(msg []byte) ([]field, int) {
	var out []field
	i := 0
	for i < len(msg) && len(out) < maxFields {
		if msg[i] == '\n' {
			return out, i + 1
		}
		if msg[i] == '\r' && i+1 < len(msg) && msg[i+1] == '\n' {
			return out, i + 2
		}
		colon := bytes.IndexByte(msg[i:], ':')
		nl := bytes.IndexByte(msg[i:], '\n')
		if colon <= 0 || (nl >= 0 && nl < colon) || bytes.ContainsAny(msg[i:i+colon], " \t") {
			return out, i
		}
		start := i
		for {
			nl := bytes.IndexByte(msg[i:], '\n')
			if nl < 0 {
				i = len(msg)
				break
			}
			i += nl + 1
			if i >= len(msg) || (msg[i] != ' ' && msg[i] != '\t') {
				break
			}
		}
		out = append(out, field{name: string(msg[start : start+colon]), raw: msg[start:i]})
	}
	return out, i
}

// value returns a field's value, unfolded (RFC 5322 2.2.3) and trimmed.
func (f field) value() string {
	v := f.raw[len(f.name)+1:]
	s := strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(string(v))
	return strings.TrimSpace(s)
}

// headerValues returns the values of every field called name.
func headerValues(fields []field, name string) []string {
	var out []string
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			out = append(out, f.value())
		}
	}
	return out
}

// authservID returns the authserv-id an Authentication-Results value starts
// with (RFC 8601 2.2), lower-cased, or "" when there is none.
func authservID(v string) string {
	v = stripComments(v)
	v = strings.TrimSpace(v)
	end := strings.IndexAny(v, "; \t")
	if end < 0 {
		end = len(v)
	}
	return strings.ToLower(strings.TrimSpace(v[:end]))
}

// stripComments removes RFC 5322 comments (parenthesised, nestable, with
// quoted pairs) outside quoted strings.
func stripComments(s string) string {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (depth > 0 || quoted) && i+1 < len(s):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
		case quoted:
			if c == '"' {
				quoted = false
			}
			b.WriteByte(c)
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '"':
			quoted = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Rewrite returns msg without the fields that only Wardmail may write (an
// Authentication-Results naming authservID, any Wardmail-Origin) and with
// add on top. The rest of the message is untouched, byte for byte, so the
// DKIM signatures of the sender still verify.
func Rewrite(msg []byte, authservID string, add []byte) []byte {
	fields, _ := splitHeader(msg)
	var cut [][2]int
	if len(add) == 0 && !hasOurs(fields, authservID) {
		return msg // nothing to do: no copy
	}
	for _, f := range fields {
		drop := strings.EqualFold(f.name, OriginField) ||
			(strings.EqualFold(f.name, AuthResultsField) && sameAuthserv(f.value(), authservID))
		if drop {
			start := cap(msg) - cap(f.raw)
			cut = append(cut, [2]int{start, start + len(f.raw)})
		}
	}
	out := make([]byte, 0, len(msg)+len(add))
	out = append(out, add...)
	prev := 0
	for _, c := range cut {
		out = append(out, msg[prev:c[0]]...)
		prev = c[1]
	}
	return append(out, msg[prev:]...)
}

// sameAuthserv compares an Authentication-Results value's authserv-id with
// ours, without regard to case or a trailing dot.
func sameAuthserv(v, id string) bool {
	a := strings.TrimSuffix(authservID(v), ".")
	return a != "" && a == strings.TrimSuffix(strings.ToLower(id), ".")
}

func hasOurs(fields []field, authservID string) bool {
	for _, f := range fields {
		if strings.EqualFold(f.name, OriginField) || (strings.EqualFold(f.name, AuthResultsField) && sameAuthserv(f.value(), authservID)) {
			return true
		}
	}
	return false
}
