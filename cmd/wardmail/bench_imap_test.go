package main_test

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// `wardmail bench imap-stress` drives a real `wardmail serve` in its own
// process with clients that share mailboxes: every command of the mix is
// run and no client sees a protocol error (a BAD, a response after BYE, an
// unexpected NO). The figures are for docs/benchmarks.md, not for a test.
func TestBenchIMAPStress(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "bench", "imap-stress", "--clients", "4", "--duration", "2s", "--seed", "10", "--dovecot=false", "--json").Output()
	if err != nil {
		t.Fatalf("bench imap-stress: %v\n%s", err, out)
	}
	var res struct {
		Runs []struct {
			Ops                         int `json:"operations"`
			Bad, AfterBye, UnexpectedNo int
			LastError                   string
			Commands                    map[string]struct{ Count int }
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res.Runs) != 1 {
		t.Fatalf("runs: %s", out)
	}
	r := res.Runs[0]
	if r.Bad+r.AfterBye+r.UnexpectedNo != 0 {
		t.Errorf("protocol errors: %+v", r)
	}
	for _, c := range []string{"LOGIN", "LIST", "STATUS", "SELECT", "FETCH", "STORE", "EXPUNGE", "APPEND", "LOGOUT"} {
		if r.Commands[c].Count == 0 {
			t.Errorf("no %s in the run: %+v", c, r.Commands)
		}
	}
}
