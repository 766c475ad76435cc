package directory

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"wardmail/auth"
)

// Entry is one person of the directory, as read from one CSV record.
type Entry struct {
	Line     int    // line of the file the record starts on, for messages
	Email    string // normalised by ValidateAddress
	Name     string // display name, trimmed
	Org      string // organisation, trimmed
	Role     string // optional, trimmed
	Site     string // optional, trimmed
	Password string // optional initial password, exactly as in the file
}

// Limits on the text fields, in characters.
const (
	MaxNameChars = 200
	MaxOrgChars  = 200
	MaxRoleChars = 100
	MaxSiteChars = 100
)

// checkText trims s and checks it is valid UTF-8 of at most max characters
// with no control characters and no bidirectional embedding, override or
// isolate characters (those can make a name display as something it is not).
func checkText(s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", errors.New("is empty")
		}
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", errors.New("is not valid UTF-8")
	}
	n := 0
	for _, r := range s {
		n++
		if unicode.IsControl(r) || isBidiControl(r) {
			return "", fmt.Errorf("contains the control character %U", r)
		}
	}
	if n > max {
		return "", fmt.Errorf("is longer than %d characters", max)
	}
	return s, nil
}

// isBidiControl reports whether r is a bidirectional embedding, override or
// isolate (Unicode UAX #9, 2.1-2.4).
func isBidiControl(r rune) bool {
	return '\u202A' <= r && r <= '\u202E' || '\u2066' <= r && r <= '\u2069'
}

// quote shows a field's value in a message, shortened when long.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		return fmt.Sprintf("%q…", string(r[:max]))
	}
	return fmt.Sprintf("%q", s)
}

// checkPassword applies the password policy to a password from the file;
// an empty field means no password.
func checkPassword(pw string) error {
	if pw == "" {
		return nil
	}
	return auth.CheckPasswordPolicy(pw)
}
