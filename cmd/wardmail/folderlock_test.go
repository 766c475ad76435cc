package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecondServeOnOneFolderRefuses runs `wardmail serve` twice on one data
// folder: the second refuses to start with a sentence naming the first
// process, admin commands keep working beside the running node, and after
// the first is killed with SIGKILL a new one starts (the lock dies with its
// process).
func TestSecondServeOnOneFolderRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,org,role\namira@nhs.test,Amira,Leeds Teaching Hospitals NHS Trust,Nurse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "directory", "import", "--data", data, csv).CombinedOutput(); err != nil {
		t.Fatalf("directory import: %v\n%s", err, out)
	}

	first, _, _ := startServe(t, bin, data)
	defer func() { _ = first.Process.Kill(); _ = first.Wait() }()

	second := exec.Command(bin, "serve", "--data", data, "--hostname", "mx.nhs.test",
		"--smtp", "127.0.0.1:0", "--submission", "127.0.0.1:0", "--imap", "", "--http", "")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = second.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = second.Process.Kill()
		<-done
		t.Fatalf("a second serve on the same folder kept running:\n%s", out)
	}
	if err == nil {
		t.Fatalf("a second serve on the same folder exited 0:\n%s", out)
	}
	want := fmt.Sprintf("pid %d", first.Process.Pid)
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "one node") {
		t.Errorf("the refusal does not name the running process (%s) and why:\n%s", want, out)
	}

	// Admin commands work beside the running node.
	if out, err := exec.Command(bin, "user", "list", "--data", data).CombinedOutput(); err != nil || !strings.Contains(string(out), "amira@nhs.test") {
		t.Errorf("user list beside a running serve: %v\n%s", err, out)
	}

	// The lock goes with the process, however it ends.
	_ = first.Process.Kill()
	_ = first.Wait()
	again, _, _ := startServe(t, bin, data)
	_ = again.Process.Kill()
	_ = again.Wait()
}
