package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What an operator meets on the first day: `directory import` finds the
// same data folder as `serve` without --data, and `serve --help` says the
// HTTP door is the webmail.
func TestFirstDayCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,org\namira@nhs.test,Amira Khan,Leeds Teaching Hospitals NHS Trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "directory", "import", "people.csv")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("directory import without --data: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "wardmail.db")); err != nil {
		t.Errorf("directory import without --data did not use ./data as serve does: %v", err)
	}
	cmd = exec.Command(bin, "user", "list", "--data", filepath.Join(dir, "data"))
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "amira@nhs.test") {
		t.Errorf("the imported person is not in ./data: %v\n%s", err, out)
	}

	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	if !strings.Contains(string(out), "webmail") {
		t.Errorf("serve --help does not say where the webmail is:\n%s", out)
	}
}
