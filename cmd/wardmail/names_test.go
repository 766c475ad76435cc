package main_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Names with control characters, line breaks, terminal escapes or
// direction overrides are refused by `wardmail user add` and `wardmail list
// create` with the sentence the CSV import gives, so `wardmail user list`
// shows every name as it is.
func TestUserAndListNamesRefuseControlCharacters(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args[:2:2], append([]string{"--data", data}, args[2:]...)...)...)
		cmd.Stdin = strings.NewReader("\n") // no password
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("wardmail %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	const org = "Leeds Teaching Hospitals NHS Trust"
	run(true, "user", "add", "--email", "amira@nhs.test", "--name", "Amira Khan", "--org", org)
	for _, c := range []struct{ flag, value, want string }{
		{"--name", "Ann\u202Enna", "name contains the control character U+202E"},
		{"--name", "Evil\x1b[2J\x1b[31mAdmin", "name contains the control character U+001B"},
		{"--name", "Two\r\nLines", "name contains the control character U+000D"},
		{"--name", "Bell\x07", "name contains the control character U+0007"},
		{"--role", "Nurse\u2067", "role contains the control character U+2067"},
		{"--site", "\u200FLGI", "site contains the control character U+200F"},
		{"--org", org + "\u202A", "org contains the control character U+202A"},
	} {
		args := []string{"user", "add", "--email", "bad@nhs.test", "--name", "Bad", "--org", org}
		for i := range args {
			if args[i] == c.flag {
				args[i+1] = c.value
			}
		}
		if c.flag == "--role" || c.flag == "--site" {
			args = append(args, c.flag, c.value)
		}
		if out := run(false, args...); !strings.Contains(out, c.want) {
			t.Errorf("user add %s %q: %s", c.flag, c.value, out)
		}
	}
	out := run(true, "user", "list")
	if strings.ContainsAny(out, "\x1b\x07\r\u202E\u202A\u200F\u2067") || strings.Contains(out, "bad@nhs.test") {
		t.Errorf("user list shows a refused person or a control character:\n%q", out)
	}
	if !strings.Contains(out, "Amira Khan") {
		t.Errorf("user list:\n%s", out)
	}
	out = run(false, "list", "create", "--address", "ward@nhs.test", "--name", "Ward\u202E7", "--owner", "amira@nhs.test", "--members", "amira@nhs.test")
	if !strings.Contains(out, "list name contains the control character U+202E") {
		t.Errorf("list create with U+202E in the name: %s", out)
	}
}
