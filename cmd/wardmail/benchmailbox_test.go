package main_test

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// `wardmail bench mailbox` fills a folder that `wardmail demo` then serves
// (make bench-ui); a small run checks its figures add up.
func TestBenchMailbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	out, err := exec.Command(bin, "bench", "mailbox", "--data", t.TempDir(), "--count", "500", "--json").Output()
	if err != nil {
		t.Fatalf("bench mailbox: %v\n%s", err, out)
	}
	var res struct {
		Messages      int
		Conversations int
		PageP50Ms     map[string]float64 `json:"page_p50_ms"`
		SearchHits    map[string]int     `json:"search_hits"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// One message in five replies to the one five before it.
	// Every message says "ward"; none is number 73512.
	if res.Messages != 500 || res.Conversations != 400 || len(res.PageP50Ms) != 1 ||
		res.SearchHits["ward"] != 500 || res.SearchHits["rev"] != 500 || res.SearchHits["73512"] != 0 {
		t.Errorf("figures: %+v", res)
	}
}
