package web_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"wardmail/auth"
	"wardmail/directory"
	"wardmail/sim"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// BenchmarkSuggest measures directory autocomplete through the HTTP API
// (TLS, session cookie, JSON) over a generated national directory, and
// reports the latency percentiles of the first suggestions. The directory
// size is WARDMAIL_SUGGEST_PEOPLE (default 100,000; the figure in
// docs/benchmarks.md uses 1,200,000). The generated database is kept in the
// temporary folder and reused by later runs.
//
//	WARDMAIL_SUGGEST_PEOPLE=1200000 go test ./web/ -run '^$' -bench Suggest -benchtime 20000x
func BenchmarkSuggest(b *testing.B) {
	people := 100000
	if v := os.Getenv("WARDMAIL_SUGGEST_PEOPLE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		people = n
	}
	dir := filepath.Join(os.TempDir(), "wardmail-bench-suggest-"+strconv.Itoa(people))
	ctx := context.Background()
	if _, err := os.Stat(filepath.Join(dir, "ready")); errors.Is(err, fs.ErrNotExist) {
		_ = os.RemoveAll(dir)
		st, err := sqlite.Open(ctx, dir, sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var csv bytes.Buffer
		if _, err := sim.WritePeopleCSV(&csv, sim.GenConfig{People: people, Orgs: 250, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := directory.Import(ctx, st, &csv, "people.csv", auth.TestParams()); err != nil {
			b.Fatal(err)
		}
		b.Logf("imported %d people in %s", people, time.Since(t0).Round(time.Millisecond))
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ts := startWebIn(b, dir)
	h, err := auth.HashPassword(auth.TestParams(), "pw-bench@nhs.test")
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := ts.Store.UpsertPeople(ctx, []store.PersonRecord{{Email: "bench@nhs.test", Name: "Bench Mark", Org: "Bench", PasswordHash: h}}); err != nil {
		b.Fatal(err)
	}
	c := ts.signIn("bench@nhs.test")
	// What people type: two to six letters of a first name, a last name or
	// an address.
	prefixes := []string{"am", "ami", "amira", "kh", "kha", "khan", "ol", "oliv", "sm", "smit", "smith", "pa", "pat", "patel",
		"jo", "jon", "jones", "mo", "moh", "moham", "sa", "sar", "sarah.", "wi", "will", "wil", "ta", "tay", "ev", "eva", "no",
		"now", "ha", "han", "hannah", "da", "dav", "davies", "le", "lee", "a", "z", "zz", "x"}
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := prefixes[i%len(prefixes)]
		t0 := time.Now()
		resp := c.raw("GET", "/api/v1/directory/suggest?q="+url.QueryEscape(q), nil)
		var out struct{ People []struct{ Email string } }
		readJSONBody(b, resp, &out)
		lat = append(lat, time.Since(t0))
		if resp.StatusCode != 200 {
			b.Fatalf("suggest %q: %d", q, resp.StatusCode)
		}
		if len(out.People) > 0 {
			found++
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(found)/float64(b.N), "answered-fraction")
}
