package message

import (
	"encoding/base64"
	"unicode/utf8"
)

// Content-Transfer-Encoding decoding (RFC 2045 6), lenient: what cannot be
// decoded is skipped or kept as written, never an error, because mail with
// broken encodings is still mail a user wants to search.

// DecodeTransfer decodes a body in the transfer encoding enc (lower case),
// producing at most max bytes when max > 0. Encodings other than base64 and
// quoted-printable are returned as they are.
func DecodeTransfer(enc string, b []byte, max int) []byte {
	switch enc {
	case "base64":
		return decodeBase64(b, max)
	case "quoted-printable":
		return decodeQP(b, max)
	}
	if max > 0 && len(b) > max {
		return cutBytes(b, max)
	}
	return b
}

// cutBytes returns b cut to at most n bytes. When it cuts, it also drops a
// UTF-8 sequence left incomplete at the end (the text may be in another
// charset, but a few bytes less of a text that is cut anyway do no harm).
func cutBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return dropIncomplete(b[:n])
}

// dropIncomplete drops a UTF-8 sequence left incomplete at the end of b.
func dropIncomplete(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return b
}

// decodeBase64 decodes base64 text (RFC 2045 6.8), ignoring characters
// outside the alphabet (line breaks, and garbage) and stopping at padding.
func decodeBase64(b []byte, max int) []byte {
	want := len(b)
	if max > 0 {
		want = min(want, (max/3+1)*4)
	}
	clean := make([]byte, 0, want)
	for _, c := range b {
		if len(clean) == want {
			break
		}
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			want = len(clean)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1] // a lone sextet carries no whole byte
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	out = out[:n]
	if max > 0 {
		out = cutBytes(out, max)
	}
	return out
}

// decodeQP decodes quoted-printable text (RFC 2045 6.7). "=XX" becomes the
// byte, "=" at the end of a line joins it to the next, and any other "=" is
// kept as written. White space written as itself at the end of a line is
// transport padding and is removed (rule 3); encoded white space (=20)
// and white space before a soft line break stay.
func decodeQP(b []byte, max int) []byte {
	size := len(b)
	if max > 0 {
		size = min(size, max)
	}
	out := make([]byte, 0, size)
	keep := 0 // out[:keep] is not trailing white space of the line
	for i := 0; i < len(b); i++ {
		if max > 0 && len(out) >= max {
			return dropIncomplete(out)
		}
		c := b[i]
		if c != '=' {
			switch c {
			case '\r', '\n':
				out = out[:keep]
			case ' ', '\t':
				out = append(out, c)
				continue
			}
			out = append(out, c)
			keep = len(out)
			continue
		}
		switch {
		case i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		case i+1 < len(b) && b[i+1] == '\n':
			i++
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			i += 2
		default:
			// Soft break with white space before the line end
			// (RFC 2045 6.7 rule 3 allows it), or a stray "=".
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			if n := blankLineAt(b, j, len(b)); n > 0 {
				i = j + n - 1
			} else if j == len(b) {
				i = j
			} else {
				out = append(out, c)
			}
		}
		keep = len(out)
	}
	return out[:keep]
}
