package auth_test

import (
	"errors"
	"strings"
	"testing"

	"wardmail/auth"
)

func TestCheckPasswordPolicy(t *testing.T) {
	tests := []struct {
		pw   string
		want error
	}{
		{"", auth.ErrPasswordTooShort},
		{"short", auth.ErrPasswordTooShort},
		{"123456789", auth.ErrPasswordTooShort},
		{"éééééééé", auth.ErrPasswordTooShort}, // 16 bytes but 8 characters
		{"password1234", auth.ErrPasswordCommon},
		{"PassWord1234", auth.ErrPasswordCommon},
		{"qwertyuiop", auth.ErrPasswordCommon},
		{"1234567890", auth.ErrPasswordCommon},
		{"iloveyou123", auth.ErrPasswordCommon},
		{strings.Repeat("x", 1025), auth.ErrPasswordTooLong},
		{"valid-looking\xffpassword", auth.ErrPasswordNotUTF8},
		{"correct horse battery staple", nil},
		{"éééééééééé", nil},
		{"Tr0ub4dor&3x", nil},
		{strings.Repeat("xy", 512), nil},
	}
	for _, tt := range tests {
		if err := auth.CheckPasswordPolicy(tt.pw); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("CheckPasswordPolicy(%.20q) = %v, want %v", tt.pw, err, tt.want)
		}
	}
}

// TestCommonPasswordsFile checks the embedded list is well formed: every
// entry is lower case and long enough to pass the length rule, so none is
// dead weight.
func TestCommonPasswordsFile(t *testing.T) {
	n := 0
	for _, line := range strings.Split(auth.CommonPasswordsFile(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if line != strings.ToLower(line) || strings.TrimSpace(line) != line {
			t.Errorf("entry %q is not trimmed lower case", line)
		}
		if err := auth.CheckPasswordPolicy(line); !errors.Is(err, auth.ErrPasswordCommon) {
			t.Errorf("entry %q: CheckPasswordPolicy = %v, want ErrPasswordCommon", line, err)
		}
	}
	if n < 1000 {
		t.Errorf("list has %d entries, want at least 1000", n)
	}
}
