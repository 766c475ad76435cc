package message

import (
	"strconv"
	"strings"
)

// Content-Type and Content-Disposition values: a token (or type/subtype) and
// parameters (RFC 2045 5.1, RFC 2183 2), with RFC 2231 continuations and
// charset encoding, parsed leniently.

// Bounds on what one header field can make us hold.
const (
	maxParams   = 100  // parameters per field
	maxSections = 1000 // RFC 2231 continuation sections per parameter
)

// parseMediaType parses a Content-Type value. ok is false when there is no
// valid type/subtype, in which case RFC 2045 5.2 says to use the default.
func parseMediaType(v string, b *budget) (typ, sub string, params [][2]string, ok bool) {
	head, rest, _ := strings.Cut(v, ";")
	t, s, found := strings.Cut(head, "/")
	if !found {
		return "", "", nil, false
	}
	typ = strings.ToLower(strings.TrimSpace(t))
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t("); i >= 0 { // a comment after the subtype
		s = s[:i]
	}
	sub = strings.ToLower(s)
	if !isToken(typ) || !isToken(sub) {
		return "", "", nil, false
	}
	return typ, sub, parseParams(rest, b), true
}

// parseDisposition parses a Content-Disposition value (RFC 2183).
func parseDisposition(v string, b *budget) (disp string, params [][2]string) {
	head, rest, _ := strings.Cut(v, ";")
	disp = strings.ToLower(strings.TrimSpace(head))
	if !isToken(disp) {
		disp = ""
	}
	return disp, parseParams(rest, b)
}

// isToken reports whether s is an RFC 2045 5.1 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// rawParam is a parameter as written, before RFC 2231 reassembly.
type rawParam struct {
	name  string // lower case, including any "*n*" suffix
	value string // unquoted
}

// splitParams splits "; a=1; b="x;y"" into parameters. A parameter without
// "=" is skipped; a value that is neither a token nor a quoted-string (a
// file name with spaces, say) runs to the next semicolon.
func splitParams(s string) []rawParam {
	var ps []rawParam
	for i := 0; i < len(s) && len(ps) < maxParams; {
		for i < len(s) && (s[i] == ';' || s[i] == ' ' || s[i] == '\t') {
			i++
		}
		j := i
		for j < len(s) && s[j] != '=' && s[j] != ';' {
			j++
		}
		if j >= len(s) || s[j] == ';' {
			i = j
			continue
		}
		name := clean(strings.ToLower(strings.TrimSpace(s[i:j])))
		j++
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		var value string
		if j < len(s) && s[j] == '"' {
			value, j = readQuoted(s, j)
			for j < len(s) && s[j] != ';' {
				j++
			}
		} else {
			k := j
			for k < len(s) && s[k] != ';' {
				k++
			}
			value = strings.TrimSpace(s[j:k])
			j = k
			// A token followed by a comment: "utf-8 (legacy)".
			if c := strings.IndexAny(value, " \t("); c > 0 && isToken(value[:c]) &&
				strings.HasPrefix(strings.TrimSpace(value[c:]), "(") {
				value = value[:c]
			}
		}
		if name != "" {
			ps = append(ps, rawParam{name, value})
		}
		i = j
	}
	return ps
}

// parseParams parses the parameters after a type or disposition: names in
// lower case, values joined from RFC 2231 continuations, converted from their
// RFC 2231 charset, RFC 2047 encoded words decoded (not standard in
// parameters, but common in file names), all in UTF-8. The first occurrence
// of a name wins, except that an RFC 2231 value beats a plain one, as RFC 2231
// 4 intends.
func parseParams(s string, b *budget) [][2]string {
	raw := splitParams(s)
	if len(raw) == 0 {
		return nil
	}
	var out [][2]string
	index := func(name string) int {
		for i, kv := range out {
			if kv[0] == name {
				return i
			}
		}
		return -1
	}
	var extended []string // names that use RFC 2231 syntax
	for _, p := range raw {
		base, _, isExt := strings.Cut(p.name, "*")
		if isExt {
			if !contains(extended, base) {
				extended = append(extended, base)
			}
			if index(base) < 0 {
				out = append(out, [2]string{base, ""})
			}
			continue
		}
		if index(base) < 0 {
			out = append(out, [2]string{base, b.decode(p.value)})
		}
	}
	for _, base := range extended {
		if v, ok := joinRFC2231(raw, base, b); ok {
			out[index(base)][1] = v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// joinRFC2231 reassembles the parameter base from its RFC 2231 sections:
// "base*" alone (RFC 2231 4), or "base*0", "base*1*", ... (RFC 2231 3, 4.1).
// Sections are taken in order from 0 until one is missing. The charset comes
// from the first section when it is encoded.
func joinRFC2231(raw []rawParam, base string, b *budget) (string, bool) {
	type section struct {
		value   string
		encoded bool
		ok      bool
	}
	var secs []section
	for _, p := range raw {
		b, suffix, ok := strings.Cut(p.name, "*")
		if !ok || b != base {
			continue
		}
		n, encoded := 0, false
		switch {
		case suffix == "":
			encoded = true
		default:
			num, star := strings.CutSuffix(suffix, "*")
			v, err := strconv.Atoi(num)
			if err != nil || v < 0 || v >= maxSections {
				continue
			}
			n, encoded = v, star
		}
		for len(secs) <= n {
			secs = append(secs, section{})
		}
		if !secs[n].ok {
			secs[n] = section{p.value, encoded, true}
		}
	}
	if len(secs) == 0 || !secs[0].ok {
		return "", false
	}
	var buf []byte
	label := ""
	for i, s := range secs {
		if !s.ok {
			break
		}
		v := s.value
		if s.encoded {
			if i == 0 {
				// charset'language'text
				if cs, rest, ok := strings.Cut(v, "'"); ok {
					if _, text, ok := strings.Cut(rest, "'"); ok {
						label, v = cs, text
					}
				}
			}
			buf = percentDecode(buf, v)
		} else {
			buf = append(buf, v...)
		}
	}
	if !b.spend(len(buf)) {
		label = ""
	}
	return clean(decodeCharset(label, buf, 0)), true
}

// percentDecode appends s to dst with %XX escapes decoded (RFC 2231 4). A
// malformed escape is kept as written.
func percentDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
