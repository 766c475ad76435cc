package inbound

import (
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// confusables maps characters that people read as another to the one they
// read (a small part of Unicode's confusables table, UTS #39, for the Latin
// letters of domain names: Cyrillic and Greek look-alikes, digits read as
// letters).
var confusables = map[rune]string{
	'а': "a", 'е': "e", 'о': "o", 'р': "p", 'с': "c", 'у': "y", 'х': "x", 'і': "i", 'ј': "j",
	'ѕ': "s", 'ԁ': "d", 'ɡ': "g", 'һ': "h", 'ӏ': "l", 'ո': "n", 'ս': "u", 'ԛ': "q", 'ԝ': "w",
	'α': "a", 'ο': "o", 'ν': "v", 'τ': "t", 'κ': "k", 'ι': "i", 'ρ': "p", 'ε': "e",
	'0': "o", '1': "l", '5': "s", '3': "e", 'ı': "i", 'ℓ': "l",
}

// skeleton reduces a domain to what a reader sees: Unicode labels decoded
// (RFC 5891), case and accents folded, look-alike characters mapped, "rn"
// read as "m", and dots, hyphens and underscores dropped, so that
// nhs-test.org, nhs.tesst and nhs.tеst (Cyrillic е) come close to nhs.test.
func skeleton(domain string) string {
	if u, err := idna.ToUnicode(domain); err == nil {
		domain = u
	}
	domain = norm.NFKD.String(strings.ToLower(domain))
	var b strings.Builder
	for _, r := range domain {
		switch {
		case unicode.Is(unicode.Mn, r), r == '.', r == '-', r == '_':
		case confusables[r] != "":
			b.WriteString(confusables[r])
		default:
			b.WriteRune(r)
		}
	}
	return strings.ReplaceAll(b.String(), "rn", "m")
}

// lookAlikeDomain reports which local domain the outside domain d looks like,
// or "". A domain looks like a local one when their skeletons are equal,
// differ by one edit (a letter added, dropped, changed or two swapped), or
// when the local one's skeleton is inside d's (nhs-test.org holds nhstest).
func lookAlikeDomain(d string, local []string) string {
	sd := skeleton(d)
	for _, l := range local {
		sl := skeleton(l)
		if len(sl) < 4 {
			continue // too short for a comparison to mean anything
		}
		if sd == sl || strings.Contains(sd, sl) || editDistanceAtMostOne(sd, sl) {
			return l
		}
	}
	return ""
}

// editDistanceAtMostOne reports whether a and b differ by at most one
// insertion, deletion, substitution or transposition of adjacent letters.
func editDistanceAtMostOne(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	if len(ra)-len(rb) > 1 {
		return false
	}
	i := 0
	for i < len(rb) && ra[i] == rb[i] {
		i++
	}
	if i == len(rb) {
		return true // equal, or one letter added at the end
	}
	if len(ra) == len(rb) {
		if string(ra[i+1:]) == string(rb[i+1:]) {
			return true // one letter changed
		}
		// two adjacent letters swapped
		return i+1 < len(ra) && ra[i] == rb[i+1] && ra[i+1] == rb[i] && string(ra[i+2:]) == string(rb[i+2:])
	}
	return string(ra[i+1:]) == string(rb[i:]) // one letter added
}

// normalName folds a display name for comparison with the directory: case,
// accents and spacing, and look-alike letters.
func normalName(s string) string {
	s = norm.NFKD.String(strings.ToLower(s))
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsSpace(r) || r == '"' || r == '\'':
			space = b.Len() > 0
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			if c := confusables[r]; c != "" && !unicode.IsDigit(r) {
				b.WriteString(c)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// LookAlike returns the local domain that domain d looks like without being
// it (or one of its subdomains), or "". The audience preview uses it to warn
// a person writing to nhs-test.org that it is not nhs.test.
func LookAlike(d string, local []string) string {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if isLocalDomain(d, local) {
		return ""
	}
	return lookAlikeDomain(d, local)
}
