package main_test

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// `wardmail bench signin` runs a real `wardmail serve` in its own process,
// reconnects app-password devices against it over IMAP and SMTP, and reads
// the server's CPU from /proc: every sign-in succeeds and the figures are
// there (their size is for docs/benchmarks.md, not for a test).
func TestBenchSignIn(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "bench", "signin", "--people", "40", "--clients", "4", "--duration", "1s", "--json").Output()
	if err != nil {
		t.Fatalf("bench signin: %v\n%s", err, out)
	}
	var res struct {
		SignIns   int     `json:"signins"`
		Errors    int     `json:"errors"`
		CPUPerSig float64 `json:"server_cpu_per_signin_us"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.SignIns == 0 || res.Errors != 0 || res.CPUPerSig <= 0 {
		t.Errorf("bench signin: %+v", res)
	}
}
