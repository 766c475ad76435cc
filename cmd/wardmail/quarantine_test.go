package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"wardmail/scan/scantest"
)

// The quarantine commands beside a running `wardmail serve` whose clamd
// quarantines malware: list what is held, refuse a local administrator's
// release of malware, release as the operator, and find it all in the
// audit trail.
func TestQuarantineCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	clam := scantest.Clamd(t, "")
	bin := buildBinary(t)
	data := t.TempDir()
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args[:3:3], append([]string{"--data", data}, args[3:]...)...)...).CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("wardmail %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,org,role\namira@nhs.test,Amira,Leeds Teaching Hospitals NHS Trust,Nurse\n"+
		"loc@nhs.test,Lee,Leeds Teaching Hospitals NHS Trust,IT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "directory", "import", "--data", data, csv).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "admin", "grant", "--data", data, "loc@nhs.test", "--role", "local", "--org", "Leeds Teaching Hospitals NHS Trust").CombinedOutput(); err != nil {
		t.Fatalf("grant: %v\n%s", err, out)
	}
	cmd, inbound, _ := startServeWith(t, bin, data, fmt.Sprintf("clamd_addr = %s\nmalware_action = quarantine\n", clam.Addr))
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	if out := run(true, "admin", "quarantine", "list"); !strings.Contains(out, "empty") {
		t.Errorf("empty quarantine: %s", out)
	}
	c, err := smtp.Dial(inbound)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("someone@example.org", []string{"amira@nhs.test"}, strings.NewReader(
		"From: someone@example.org\r\nTo: amira@nhs.test\r\nSubject: Test results\r\nMessage-ID: <m1@example.org>\r\n\r\n"+scantest.EICAR+"\r\n")); err != nil {
		t.Fatalf("the message was not accepted into the quarantine: %v", err)
	}
	_ = c.Close()

	out := run(true, "admin", "quarantine", "list")
	if !strings.Contains(out, "malware") || !strings.Contains(out, "someone@example.org") || !strings.Contains(out, `"Test results"`) || !strings.Contains(out, "amira@nhs.test") {
		t.Fatalf("list: %s", out)
	}
	var msgs []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(run(true, "admin", "quarantine", "list", "--json")), &msgs); err != nil || len(msgs) != 1 {
		t.Fatalf("list --json: %v %+v", err, msgs)
	}
	id := fmt.Sprint(msgs[0].ID)
	if out := run(false, "admin", "quarantine", "release", id, "--by", "loc@nhs.test"); !strings.Contains(out, "only a national administrator") {
		t.Errorf("local release of malware: %s", out)
	}
	if out := run(true, "admin", "quarantine", "release", id); !strings.Contains(out, "released to amira@nhs.test") {
		t.Errorf("release: %s", out)
	}
	if out := run(false, "admin", "quarantine", "delete", id); !strings.Contains(out, "already been released") {
		t.Errorf("deleting a released message: %s", out)
	}
	if out := run(true, "admin", "quarantine", "list"); !strings.Contains(out, "empty") {
		t.Errorf("after release: %s", out)
	}
	if out := run(true, "admin", "quarantine", "list", "--all"); !strings.Contains(out, "amira@nhs.test (released)") {
		t.Errorf("list --all: %s", out)
	}
	audit, err := exec.Command(bin, "admin", "audit", "--data", data, "--action", "quarantine.").CombinedOutput()
	if err != nil || !strings.Contains(string(audit), "quarantine.release") || !strings.Contains(string(audit), "cli:") {
		t.Errorf("audit: %v %s", err, audit)
	}
}
