package message

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// Decoding of header text and charsets into UTF-8.
//
// Everything a Summary holds is valid UTF-8 without NUL, CR or LF, so that it
// survives JSON and can be written as an IMAP string. Bytes that are not
// UTF-8 (8-bit headers written by old software, RFC 6532 notwithstanding) are
// read as Windows-1252, the charset such mail is nearly always in.

// DecodeHeader decodes the RFC 2047 encoded words in a header value into
// UTF-8. It never fails: words that are malformed are left as written, words
// in a charset it does not know keep their bytes, and the result is made
// valid UTF-8 as described above.
func DecodeHeader(v string) string {
	v = clean(v)
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return clean(d)
}

// wordDecoder is stateless and safe for concurrent use.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader converts from the named charset. An RFC 2231 language suffix
// ("utf-8*en", RFC 2231 5) is dropped. An unknown charset passes the bytes
// through rather than failing the whole header.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	if isUTF8Label(label) {
		return r, nil
	}
	cr, err := charset.Reader(label, r)
	if err != nil {
		return r, nil
	}
	return cr, nil
}

// isUTF8Label reports whether bytes in this charset need no conversion.
// US-ASCII is included: 8-bit bytes labelled ASCII are repaired by clean.
func isUTF8Label(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968":
		return true
	}
	return false
}

// decodeCharset converts b from the named charset to valid UTF-8, keeping
// line breaks. It reads at most max bytes of output when max > 0.
func decodeCharset(label string, b []byte, max int) string {
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	if !isUTF8Label(label) {
		if r, err := charset.Reader(label, bytes.NewReader(b)); err == nil {
			if max > 0 {
				r = io.LimitReader(r, int64(max))
			}
			// A decoder error mid-way keeps what was decoded before it.
			out, _ := io.ReadAll(r)
			b = out
		}
	}
	return fixUTF8(string(b), true)
}

// clean makes a header value valid UTF-8 (see fixUTF8) and drops NUL, CR and
// LF, which an unfolded value cannot meaningfully contain.
func clean(s string) string {
	return fixUTF8(s, false)
}

// fixUTF8 returns s with each byte that is not part of valid UTF-8 read as
// Windows-1252 and NUL removed; CR and LF are removed too unless keepLines.
func fixUTF8(s string, keepLines bool) string {
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 || (!keepLines && (c == '\r' || c == '\n')) {
			ok = false
			break
		}
	}
	if ok && utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != 0 && (keepLines || (c != '\r' && c != '\n')) {
				sb.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(cp1252(c))
			i++
			continue
		}
		sb.WriteString(s[i : i+n])
		i += n
	}
	return sb.String()
}

// cp1252 maps a byte of Windows-1252 to its code point (WHATWG Encoding:
// the bytes it leaves undefined map to the C1 controls, as in ISO 8859-1).
func cp1252(c byte) rune {
	if c >= 0x80 && c < 0xa0 {
		return cp1252High[c-0x80]
	}
	return rune(c)
}

var cp1252High = [32]rune{
	0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
	0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
}
