package outbound

import (
	"errors"
	"strings"
)

// XtextEncode writes s as xtext (RFC 3461 4): printable US-ASCII but "+"
// and "=" as is, every other byte as "+" and two upper-case hex digits.
func XtextEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '!' && c <= '~' && c != '+' && c != '=' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('+')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// maxXtext bounds what XtextDecode reads: the longest DSN parameter
// (ORCPT, RFC 3461 4.2) is 500 characters.
const maxXtext = 1000

var errXtext = errors.New("not xtext (RFC 3461 4)")

// XtextDecode reads xtext. It refuses characters that xtext does not
// allow, a "+" without two upper-case hex digits, and anything longer
// than 1000 characters.
func XtextDecode(s string) (string, error) {
	if len(s) > maxXtext {
		return "", errXtext
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) {
				return "", errXtext
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", errXtext
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		case c >= '!' && c <= '~' && c != '=':
			b.WriteByte(c)
		default:
			return "", errXtext
		}
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
