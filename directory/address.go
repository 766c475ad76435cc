package directory

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on an address, RFC 5321 4.5.3.1 (a path is at most 256 octets
// including the angle brackets, hence 254 for the address itself).
const (
	MaxAddressLen = 254
	MaxLocalLen   = 64
	maxLabelLen   = 63 // RFC 1035 2.3.4
)

// ErrInvalidAddress is wrapped by every error ValidateAddress returns.
var ErrInvalidAddress = errors.New("invalid address")

// ValidateAddress checks that s, once trimmed of surrounding white space, is
// an addr-spec Wardmail accepts, and returns it normalised to lower case, local
// part included: Wardmail treats addresses case-insensitively.
//
// Accepted is RFC 5321 4.1.2's Mailbox with a Dot-string local part (no
// quoted strings) and a domain of at least two labels of ASCII letters, digits
// and hyphens (no address literals, no trailing dot, no internationalised
// names), whose last label is not all digits.
func ValidateAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: %s", ErrInvalidAddress, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return bad("the address is empty")
	}
	if len(s) > MaxAddressLen {
		return bad("the address is longer than %d bytes", MaxAddressLen)
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return bad("the address has no @")
	}
	local, domain := s[:at], s[at+1:]
	if err := checkLocal(local); err != nil {
		return bad("%v", err)
	}
	if err := checkDomain(domain); err != nil {
		return bad("%v", err)
	}
	return toLowerASCII(s), nil
}

// checkLocal checks a Dot-string (RFC 5321 4.1.2): atoms of atext separated
// by single dots.
func checkLocal(local string) error {
	switch {
	case local == "":
		return errors.New("the local part before @ is empty")
	case len(local) > MaxLocalLen:
		return fmt.Errorf("the local part is longer than %d bytes", MaxLocalLen)
	case local[0] == '.' || local[len(local)-1] == '.':
		return errors.New("the local part starts or ends with a dot")
	case strings.Contains(local, ".."):
		return errors.New("the local part has two dots in a row")
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c != '.' && !isAtext(c) {
			return fmt.Errorf("the local part contains %s", describeByte(c))
		}
	}
	return nil
}

// checkDomain checks a Domain (RFC 5321 4.1.2) made of sub-domains
// (Let-dig [Ldh-str]) with at least one dot.
func checkDomain(domain string) error {
	if domain == "" {
		return errors.New("the domain after @ is empty")
	}
	if !strings.Contains(domain, ".") {
		return errors.New("the domain has no dot")
	}
	labels := 0
	var last string
	for label := range strings.SplitSeq(domain, ".") {
		labels++
		last = label
		switch {
		case label == "":
			return errors.New("the domain has an empty label (a leading, trailing or double dot)")
		case len(label) > maxLabelLen:
			return fmt.Errorf("a domain label is longer than %d bytes", maxLabelLen)
		case label[0] == '-' || label[len(label)-1] == '-':
			return errors.New("a domain label starts or ends with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isLetDig(c) && c != '-' {
				return fmt.Errorf("the domain contains %s", describeByte(c))
			}
		}
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return nil
		}
	}
	return errors.New("the top-level domain is all digits")
}

// isAtext reports whether c is atext (RFC 5322 3.2.3).
func isAtext(c byte) bool {
	return isLetDig(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isLetDig reports whether c is an ASCII letter or digit.
func isLetDig(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// describeByte names c for an error message.
func describeByte(c byte) string {
	switch {
	case c == ' ':
		return "a space"
	case c >= 0x80:
		return "a non-ASCII character"
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("the control character %#02x", c)
	}
	return fmt.Sprintf("the character %q", c)
}

// toLowerASCII lower-cases an ASCII string, returning s itself when it has no
// upper-case letter.
func toLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
