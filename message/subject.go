package message

import "strings"

// maxSubject is how much of a subject NormalizeSubject looks at.
const maxSubject = 4096

// NormalizeSubject returns the base subject of RFC 5256 2.1, the key that
// ORDEREDSUBJECT and REFERENCES threading group messages by: encoded words
// decoded, white space folded to single spaces, "Re:", "Fw:", "Fwd:" and
// "[list]" prefixes and "(fwd)" trailers removed, "[Fwd: ...]" unwrapped, and
// the result in lower case (standing in for the i;unicode-casemap
// comparator, RFC 5051). Subjects that agree in their first 4 KB are taken
// to be the same.
func NormalizeSubject(s string) string {
	// (1) Decode, and fold all white space to single spaces. Only the first
	// maxSubject bytes count, which keeps the steps below cheap.
	s = DecodeHeader(s)
	if len(s) > maxSubject {
		s = strings.ToValidUTF8(s[:maxSubject], "")
	}
	s = strings.Join(strings.Fields(s), " ")
	for {
		// (2) Remove trailers: "(fwd)" and white space.
		for {
			t := strings.TrimRight(s, " ")
			if len(t) >= 5 && strings.EqualFold(t[len(t)-5:], "(fwd)") {
				t = t[:len(t)-5]
			} else if t == s {
				break
			}
			s = t
		}
		// (3)-(5) Remove leaders and blobs until none remain.
		for {
			if n := leaderLen(s); n > 0 {
				s = s[n:]
				continue
			}
			// (4) No leader here, so each leading blob would be removed in
			// turn, except one that would leave nothing: do it at once.
			i, last := 0, 0
			for n := blobLen(s); n > 0; n = blobLen(s[i:]) {
				last, i = i, i+n
			}
			if i == 0 || (i == len(s) && last == 0) {
				break
			}
			if i < len(s) {
				s = s[i:]
			} else {
				s = s[last:]
			}
		}
		// (6) "[fwd: subject]" becomes "subject", then again from (2).
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s = s[5 : len(s)-1]
			continue
		}
		return strings.ToLower(s)
	}
}

// leaderLen returns the length of the RFC 5256 subj-leader at the start of
// s, or 0:
//
//	subj-leader = (*subj-blob subj-refwd) / WSP
//	subj-refwd  = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
func leaderLen(s string) int {
	if s != "" && s[0] == ' ' {
		return 1
	}
	i := 0
	for {
		n := blobLen(s[i:])
		if n == 0 {
			break
		}
		i += n
	}
	switch {
	case hasPrefixFold(s[i:], "re"):
		i += 2
	case hasPrefixFold(s[i:], "fwd"):
		i += 3
	case hasPrefixFold(s[i:], "fw"):
		i += 2
	default:
		return 0
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	i += blobLen(s[i:])
	if i < len(s) && s[i] == ':' {
		return i + 1
	}
	return 0
}

// blobLen returns the length of the subj-blob ("[" *BLOBCHAR "]" *WSP, where
// BLOBCHAR is any character but "[" and "]") at the start of s, or 0.
func blobLen(s string) int {
	if s == "" || s[0] != '[' {
		return 0
	}
	j := strings.IndexAny(s[1:], "[]")
	if j < 0 || s[1+j] != ']' {
		return 0
	}
	i := j + 2
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
