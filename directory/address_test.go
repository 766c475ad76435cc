package directory_test

import (
	"errors"
	"strings"
	"testing"

	"wardmail/directory"
)

func TestValidateAddress(t *testing.T) {
	good := func(in, want string) {
		t.Helper()
		got, err := directory.ValidateAddress(in)
		if err != nil || got != want {
			t.Errorf("ValidateAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := func(in, why string) {
		t.Helper()
		got, err := directory.ValidateAddress(in)
		if err == nil {
			t.Errorf("ValidateAddress(%q) = %q, want an error", in, got)
			return
		}
		if !errors.Is(err, directory.ErrInvalidAddress) || !strings.Contains(err.Error(), why) {
			t.Errorf("ValidateAddress(%q): %v; want ErrInvalidAddress saying %q", in, err, why)
		}
	}
	good("alice@example.test", "alice@example.test")
	good("  Alice.Smith@Example.GOV.test\t", "alice.smith@example.gov.test")
	good("a!#$%&'*+-/=?^_`{|}~b@x-1.example", "a!#$%&'*+-/=?^_`{|}~b@x-1.example")
	good("a@b.c2", "a@b.c2")
	good(strings.Repeat("l", 64)+"@"+strings.Repeat("d", 63)+"."+strings.Repeat("e", 63)+"."+strings.Repeat("f", 58),
		strings.Repeat("l", 64)+"@"+strings.Repeat("d", 63)+"."+strings.Repeat("e", 63)+"."+strings.Repeat("f", 58))

	bad("", "empty")
	bad("   ", "empty")
	bad("alice", "no @")
	bad("@example.test", "local part before @ is empty")
	bad("alice@", "domain after @ is empty")
	bad("alice@localhost", "no dot")
	bad("a@b@example.test", `the character '@'`)
	bad(".alice@example.test", "starts or ends with a dot")
	bad("alice.@example.test", "starts or ends with a dot")
	bad("al..ice@example.test", "two dots")
	bad(`"al ice"@example.test`, `the character '"'`)
	bad("al ice@example.test", "a space")
	bad("al\x00ice@example.test", "control character 0x00")
	bad("alicé@example.test", "non-ASCII")
	bad("alice@exämple.test", "non-ASCII")
	bad("alice@example..test", "empty label")
	bad("alice@.example.test", "empty label")
	bad("alice@example.test.", "empty label")
	bad("alice@-example.test", "hyphen")
	bad("alice@example-.test", "hyphen")
	bad("alice@ex_ample.test", `the character '_'`)
	bad("alice@[192.0.2.1]", `the character '['`)
	bad("alice@192.0.2.1", "all digits")
	bad(strings.Repeat("l", 65)+"@example.test", "local part is longer than 64")
	bad("a@"+strings.Repeat("d", 64)+".test", "longer than 63")
	bad("a@"+strings.Repeat("d.", 126)+"test", "longer than 254")
}

func FuzzValidateAddress(f *testing.F) {
	for _, s := range []string{"alice@example.test", " A@B.C ", "a@b", "@", "a..b@c.d", "a@[1.2.3.4]", "é@x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := directory.ValidateAddress(s)
		if err != nil {
			if !errors.Is(err, directory.ErrInvalidAddress) {
				t.Fatalf("error %v does not wrap ErrInvalidAddress", err)
			}
			return
		}
		if len(got) > directory.MaxAddressLen || got != strings.ToLower(got) || got != strings.TrimSpace(got) {
			t.Fatalf("ValidateAddress(%q) = %q, not normalised", s, got)
		}
		if again, err := directory.ValidateAddress(got); err != nil || again != got {
			t.Fatalf("ValidateAddress(%q) = %q, %v; not idempotent", got, again, err)
		}
	})
}
