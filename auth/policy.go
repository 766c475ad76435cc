package auth

import (
	_ "embed"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
)

// Limits on a new password's length.
const (
	MinPasswordChars = 10   // characters (runes), not bytes
	MaxPasswordBytes = 1024 // bytes
)

// Errors returned by CheckPasswordPolicy. Their text is a sentence fit to show
// the person choosing the password.
var (
	ErrPasswordNotUTF8  = errors.New("the password is not valid UTF-8")
	ErrPasswordTooShort = errors.New("the password is shorter than 10 characters")
	ErrPasswordTooLong  = errors.New("the password is longer than 1024 bytes")
	ErrPasswordCommon   = errors.New("the password is one of the most commonly used passwords")
	ErrPasswordAppShape = errors.New("the password looks like an app password (wm-xxxxxxxx-...); choose another")
)

//go:embed common-passwords.txt
var commonPasswordsFile string

// commonPasswords is the embedded list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 1500)
	for line := range strings.Lines(commonPasswordsFile) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		set[line] = struct{}{}
	}
	return set
})

// CheckPasswordPolicy reports whether pw may be set as a new password: valid
// UTF-8, at least 10 characters, at most 1024 bytes, and not on the embedded
// list of common passwords (compared case-insensitively). It does not apply
// to verifying existing passwords.
func CheckPasswordPolicy(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return ErrPasswordNotUTF8
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordTooLong
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		return ErrPasswordTooShort
	}
	if _, ok := commonPasswords()[strings.ToLower(pw)]; ok {
		return ErrPasswordCommon
	}
	if _, ok := ParseAppPassword(pw); ok {
		return ErrPasswordAppShape
	}
	return nil
}
