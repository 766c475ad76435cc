package sim_test

import (
	"bytes"
	"strings"
	"testing"

	"wardmail/directory"
	"wardmail/sim"
)

// The generated service is a valid import file, the same for the same seed,
// and shaped like a health service: a heavy tail of organisation sizes.
func TestGeneratedServiceImportsCleanly(t *testing.T) {
	cfg := sim.GenConfig{People: 20000, Orgs: 60, Seed: 42}
	var a, b bytes.Buffer
	orgs, err := sim.WritePeopleCSV(&a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.WritePeopleCSV(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same seed gave two different services")
	}
	n := 0
	perOrg := map[string]int{}
	if err := directory.ParseCSV(bytes.NewReader(a.Bytes()), "gen.csv", func(e directory.Entry) error {
		n++
		perOrg[e.Org]++
		return nil
	}); err != nil {
		t.Fatalf("the generated file does not import: %v", err)
	}
	if n != cfg.People || len(perOrg) != cfg.Orgs {
		t.Fatalf("%d people in %d organisations, want %d in %d", n, len(perOrg), cfg.People, cfg.Orgs)
	}
	largest, smallest := orgs[0].People, orgs[len(orgs)-1].People
	if largest < 10*smallest {
		t.Errorf("organisation sizes are not heavy-tailed: largest %d, smallest %d", largest, smallest)
	}
	if !strings.Contains(orgs[0].Name, "NHS") {
		t.Errorf("the largest organisation is %q, not a trust", orgs[0].Name)
	}
}
