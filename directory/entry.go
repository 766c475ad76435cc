package directory

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"wardmail/auth"
	"wardmail/message"
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

// Field is a text field a person or a list has, with its limit. Every door
// that sets one (the CSV import, the admin API, the CLI) checks it with
// CheckText, so a name that reaches the directory is one a terminal, a mail
// header and a web page all show as it is.
type Field struct {
	Name     string // as messages name it: "name", "org", "role", "site", "list name"
	Max      int    // characters
	Required bool
}

// The fields.
var (
	FieldName     = Field{"name", MaxNameChars, true}
	FieldOrg      = Field{"org", MaxOrgChars, true}
	FieldRole     = Field{"role", MaxRoleChars, false}
	FieldSite     = Field{"site", MaxSiteChars, false}
	FieldListName = Field{"list name", MaxListNameChars, true}
)

// MaxListNameChars bounds a list's display name.
const MaxListNameChars = 200

// TextError is a field value CheckText refuses.
type TextError struct {
	Field   string // Field.Name
	Problem string // e.g. "contains the control character U+202E"
}

func (e *TextError) Error() string { return e.Field + " " + e.Problem }

// Sentence is the refusal as a person reads it in the console or the CLI.
func (e *TextError) Sentence() string {
	if strings.HasPrefix(e.Problem, "contains") {
		return fmt.Sprintf("The %s %s: control characters, line breaks, terminal escapes and right-to-left or other direction marks are not allowed, because they change how the %s is shown.", e.Field, e.Problem, e.Field)
	}
	return fmt.Sprintf("The %s %s.", e.Field, e.Problem)
}

// CheckText trims s and checks it is valid UTF-8 of at most f.Max
// characters with no character that changes how the text is shown: control
// characters (C0 and C1, so CR, LF, NUL, BEL and the ESC of terminal escape
// sequences), line and paragraph separators, and the bidirectional
// embeddings, overrides, isolates and marks (Unicode UAX #9, 2.1-2.6: a name
// with U+202E can display as something it is not). The error is a
// *TextError.
func CheckText(f Field, s string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", &TextError{Field: f.Name, Problem: fmt.Sprintf(format, args...)}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		if f.Required {
			return bad("is empty")
		}
		return "", nil
	}
	if !utf8.ValidString(s) {
		return bad("is not valid UTF-8")
	}
	n := 0
	for _, r := range s {
		n++
		if unsafeRune(r) {
			return bad("contains the control character %U", r)
		}
	}
	if n > f.Max {
		return bad("is longer than %d characters", f.Max)
	}
	return s, nil
}

// unsafeRune reports whether r changes how the text around it is shown
// (message.IsDisplayControl: control characters, line and paragraph
// separators, bidirectional controls).
func unsafeRune(r rune) bool { return message.IsDisplayControl(r) || unicode.IsControl(r) }

// ShowText escapes what CheckText refuses (as \u202e, \x1b, \n...), for
// showing text stored before it was checked on a terminal or in a log.
func ShowText(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && unsafeRune(r):
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\a'
			b.WriteString(q[1 : len(q)-1])
			continue
		case r == utf8.RuneError || unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
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
