package message

import "strings"

// Address lists (RFC 5322 3.4), parsed leniently: whatever a header holds,
// the result is the list a mail client would show. Groups (RFC 5322 3.4,
// "undisclosed-recipients:;") are written as RFC 9051 7.5.2 does: a group
// start Address, its members, a group end Address.

// maxAddresses bounds the addresses kept from one field.
const maxAddresses = 10000

// parseAddressList parses the value of an address field (From, To, ...).
func parseAddressList(v string, b *budget) []Address {
	v = clean(v)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	ap := addrParser{s: v, budget: b}
	return ap.list()
}

type addrParser struct {
	s       string
	budget  *budget
	out     []Address
	inGroup bool

	// The mailbox being read.
	words   []string        // phrase words: atoms and unquoted strings
	raw     strings.Builder // addr-spec text: words without white space or comments
	angle   string          // inside <...>
	inAngle bool            // an angle-addr was seen
	comment string          // the first comment, the name of "a@b (Name)"
}

func (ap *addrParser) list() []Address {
	s := ap.s
	for i := 0; i < len(s) && len(ap.out) < maxAddresses; {
		switch c := s[i]; c {
		case ' ', '\t':
			i++
		case '(':
			var text string
			text, i = readComment(s, i)
			if ap.comment == "" {
				ap.comment = strings.TrimSpace(text)
			}
		case '"':
			var text string
			text, i = readQuoted(s, i)
			ap.words = append(ap.words, text)
			ap.raw.WriteString(text)
		case '<':
			j := i + 1
			for j < len(s) && s[j] != '>' {
				if s[j] == '"' {
					_, j = readQuoted(s, j)
					continue
				}
				j++
			}
			if !ap.inAngle {
				ap.angle, ap.inAngle = s[i+1:min(j, len(s))], true
			}
			i = j + 1
		case ',':
			ap.finish()
			i++
		case ';':
			ap.finish()
			if ap.inGroup {
				ap.out = append(ap.out, Address{GroupEnd: true})
				ap.inGroup = false
			}
			i++
		case ':':
			// RFC 5322 3.4 group: display-name ":" [group-list] ";".
			// A colon after an address has started is just text.
			if !ap.inGroup && !ap.inAngle && !strings.Contains(ap.raw.String(), "@") {
				name := ap.budget.decode(strings.Join(ap.words, " "))
				ap.reset()
				if name != "" {
					ap.out = append(ap.out, Address{Group: name})
					ap.inGroup = true
				}
			} else {
				ap.raw.WriteByte(':')
				ap.words = append(ap.words, ":")
			}
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\"(<,;:", rune(s[j])) {
				j++
			}
			ap.words = append(ap.words, s[i:j])
			ap.raw.WriteString(s[i:j])
			i = j
		}
	}
	ap.finish()
	if ap.inGroup {
		ap.out = append(ap.out, Address{GroupEnd: true})
	}
	return ap.out
}

// finish ends the mailbox being read, if any.
func (ap *addrParser) finish() {
	defer ap.reset()
	var addr, name, route string
	switch {
	case ap.inAngle:
		route, addr = splitRoute(addrSpec(ap.angle))
		name = strings.Join(ap.words, " ")
		if name == "" {
			name = ap.comment
		}
	case len(ap.words) > 1 && bareAddrWord(ap.words) >= 0:
		// "Name a@b" without the angle brackets, as some software writes.
		k := bareAddrWord(ap.words)
		addr = ap.words[k]
		name = strings.Join(append(ap.words[:k:k], ap.words[k+1:]...), " ")
	default:
		// addr-spec, possibly in obsolete form with white space around its
		// dots and at-sign (RFC 5322 4.4). A comment with no address is
		// no mailbox: "group: (foo) ;" is an empty group.
		addr = ap.raw.String()
		if addr == "" {
			return
		}
		name = ap.comment
	}
	if addr == "" && name == "" {
		return
	}
	a := Address{Name: ap.budget.decode(name), Route: route}
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		a.Mailbox, a.Host = unquoteLocal(addr[:at]), addr[at+1:]
	} else {
		a.Mailbox = unquoteLocal(addr)
	}
	if a.Mailbox == "" && a.Host == "" && a.Name == "" {
		return
	}
	ap.out = append(ap.out, a)
}

func (ap *addrParser) reset() {
	ap.words = ap.words[:0]
	ap.raw.Reset()
	ap.angle, ap.inAngle, ap.comment = "", false, ""
}

// bareAddrWord returns the index of the last word that is an addr-spec on
// its own (text on both sides of an at-sign), or -1.
func bareAddrWord(words []string) int {
	for k := len(words) - 1; k >= 0; k-- {
		w := words[k]
		if at := strings.IndexByte(w, '@'); at > 0 && at < len(w)-1 {
			return k
		}
	}
	return -1
}

// splitRoute separates an obsolete source route from the address,
// "@a,@b:user@host" (RFC 5322 4.4 obs-route), which IMAP reports as the
// ENVELOPE's at-domain-list (RFC 3501 7.4.2).
func splitRoute(a string) (route, addr string) {
	if strings.HasPrefix(a, "@") {
		if i := strings.IndexByte(a, ':'); i >= 0 {
			return strings.Trim(a[:i], ","), a[i+1:]
		}
	}
	return "", a
}

// addrSpec returns the text inside angle brackets without its comments and
// folding white space (RFC 5322 3.4.1 allows CFWS around the local part,
// the at-sign and the domain: "<user (c)@ (c) host>" is user@host). Quoted
// strings are kept as written.
func addrSpec(s string) string {
	if !strings.ContainsAny(s, " \t(") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			i++
		case '(':
			_, i = readComment(s, i)
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(s))
			sb.WriteString(s[i:j])
			i = j
		default:
			sb.WriteByte(s[i])
			i++
		}
	}
	return sb.String()
}

// unquoteLocal removes the quoting from a local part: "\"john doe\"" becomes
// "john doe", as IMAP servers report the mailbox.
func unquoteLocal(s string) string {
	if !strings.ContainsAny(s, "\"\\") {
		return s
	}
	var sb strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted && i+1 < len(s):
			i++
			sb.WriteByte(s[i])
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// readQuoted reads the quoted-string starting at s[i] == '"' (RFC 5322
// 3.2.4) and returns its text without quotes or escapes and the offset after
// it. An unterminated string runs to the end.
func readQuoted(s string, i int) (string, int) {
	i++
	start := i
	var sb *strings.Builder
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if sb == nil {
				sb = &strings.Builder{}
				sb.WriteString(s[start:i])
			}
			if i+1 < len(s) {
				i++
				sb.WriteByte(s[i])
			}
			continue
		case '"':
			if sb == nil {
				return s[start:i], i + 1
			}
			return sb.String(), i + 1
		}
		if sb != nil {
			sb.WriteByte(s[i])
		}
	}
	if sb == nil {
		return s[start:], i
	}
	return sb.String(), i
}

// readComment reads the comment starting at s[i] == '(' (RFC 5322 3.2.2,
// nested and with quoted-pairs) and returns its text and the offset after
// it.
func readComment(s string, i int) (string, int) {
	depth := 0
	start := i + 1
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[start:i], i + 1
			}
		}
	}
	return s[min(start, len(s)):], len(s)
}
