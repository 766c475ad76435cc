package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// The storm commands, run as an operator would, beside a running server:
// block and unblock a thread, read the board, grant a broadcast quota; every
// change is in the audit trail.
func TestStormCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args[:2:2], append([]string{"--data", data}, args[2:]...)...)...).CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("wardmail %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,org,role\namira@nhs.test,Amira,Leeds Teaching Hospitals NHS Trust,Nurse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(true, "directory", "import", csv)
	cmd, inbound, _ := startServe(t, bin, data)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// A message from outside starts a thread.
	c, err := smtp.Dial(inbound)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("someone@example.org", []string{"amira@nhs.test"}, strings.NewReader(
		"From: someone@example.org\r\nTo: amira@nhs.test\r\nSubject: Car park closed\r\nMessage-ID: <cp@example.org>\r\n\r\nSorry.\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()

	if out := run(true, "admin", "storms"); !strings.Contains(out, "no thread") {
		t.Errorf("empty board: %s", out)
	}
	if out := run(false, "admin", "storm", "block", "<nope@example.org>"); !strings.Contains(out, "no message in thread") {
		t.Errorf("blocking an unknown thread: %s", out)
	}
	if out := run(true, "admin", "storm", "block", "cp@example.org", "--hours", "2", "--reason", "drill"); !strings.Contains(out, "blocked replies") {
		t.Errorf("block: %s", out)
	}
	out := run(true, "admin", "storms")
	if !strings.Contains(out, "blocked") || !strings.Contains(out, "Car park closed") || !strings.Contains(out, "<cp@example.org>") {
		t.Errorf("board: %s", out)
	}
	if out := run(true, "admin", "storms", "--json"); !strings.Contains(out, `"state":"blocked"`) {
		t.Errorf("board JSON: %s", out)
	}
	run(true, "admin", "storm", "unblock", "<cp@example.org>")
	if out := run(true, "admin", "storms"); !strings.Contains(out, "watch") {
		t.Errorf("board after unblock: %s", out)
	}
	run(true, "admin", "broadcast", "grant", "amira@nhs.test", "--per-day", "50000")
	if out := run(true, "admin", "broadcast", "list"); !strings.Contains(out, "amira@nhs.test") || !strings.Contains(out, "50000") {
		t.Errorf("broadcast list: %s", out)
	}
	run(true, "admin", "broadcast", "revoke", "amira@nhs.test")
	out = run(true, "admin", "audit", "--action", "s")
	for _, want := range []string{"storm.block", "storm.unblock", "sender.broadcast.grant", "sender.broadcast.revoke"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %s:\n%s", want, out)
		}
	}
}
