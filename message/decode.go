package message

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
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

// budget bounds the work of decoding the header text of one message:
// encoded words (RFC 2047) and RFC 2231 charsets, which cost some 14 ns a
// byte when a header is nothing but short words. Each decoding charges its
// length plus decodeCallCost; once the budget is spent, text is only made
// valid UTF-8. A nil *budget is unlimited.
type budget int

const (
	decodeBudget   = 4 << 20
	decodeCallCost = 64
)

// spend charges n bytes of decoding, reporting false when that is more
// than is left.
func (b *budget) spend(n int) bool {
	if b == nil {
		return true
	}
	n += decodeCallCost
	if int(*b) < n {
		return false
	}
	*b -= budget(n)
	return true
}

// decode is DecodeHeader within the budget.
func (b *budget) decode(v string) string {
	if !strings.Contains(v, "=?") || !b.spend(len(v)) {
		return clean(v)
	}
	return DecodeHeader(v)
}

// wordDecoder is stateless and safe for concurrent use.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader converts an encoded word's text from the named charset. It
// converts at once and returns a *bytes.Reader, whose WriteTo spares
// mime.WordDecoder a 32 KB copy buffer per word; with go-message's
// charset.Reader (a transform.Reader) a header of many short words in, say,
// KOI8-R cost over a second per megabyte. An unknown charset passes the
// bytes through rather than failing the whole header.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	var in []byte
	if br, ok := r.(*bytes.Reader); ok {
		in = make([]byte, br.Len())
		_, _ = br.Read(in)
	} else {
		in, _ = io.ReadAll(r)
	}
	return bytes.NewReader(convertCharset(label, in)), nil
}

// convertCharset converts b from the named charset to UTF-8 (not yet made
// valid: see fixUTF8). An unknown charset, or one that fails, leaves b as
// it is.
func convertCharset(label string, b []byte) []byte {
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i] // RFC 2231 5: "utf-8*en"
	}
	if isUTF8Label(label) {
		return b
	}
	enc := lookupCharset(label)
	if enc == nil {
		return b
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}

// lookupCharset finds a charset by name the way go-message's charset
// package does (IANA MIME names, then "cs" aliases, then WHATWG labels), or
// returns nil.
func lookupCharset(label string) encoding.Encoding {
	label = strings.ToLower(strings.TrimSpace(label))
	switch label {
	case "ansi_x3.110-1983":
		return charmap.ISO8859_1 // RFC 1345, mostly ISO 8859-1
	case "x-utf_8j":
		return unicode.UTF8
	}
	if e, err := ianaindex.MIME.Encoding(label); err == nil && e != nil {
		return e
	}
	if e, err := ianaindex.MIME.Encoding("cs" + label); err == nil && e != nil {
		return e
	}
	if e, err := htmlindex.Get(label); err == nil && e != nil {
		return e
	}
	return nil
}

// isUTF8Label reports whether bytes in this charset need no conversion.
// US-ASCII is included: 8-bit bytes labelled ASCII are repaired by fixUTF8.
func isUTF8Label(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968":
		return true
	}
	return false
}

// decodeCharset converts b from the named charset to valid UTF-8, keeping
// line breaks, and cuts it to at most max bytes when max > 0.
func decodeCharset(label string, b []byte, max int) string {
	out := convertCharset(label, b)
	if max > 0 {
		out = cutBytes(out, max)
	}
	return fixUTF8(string(out), true)
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
			sb.WriteRune(charmap.Windows1252.DecodeByte(c))
			i++
			continue
		}
		sb.WriteString(s[i : i+n])
		i += n
	}
	return sb.String()
}
