package sim

import "testing"

func TestParseProcStat(t *testing.T) {
	// A command name with a space and a parenthesis, as proc(5) allows.
	line := "4242 (wardmail (x) y) S 17 4242 4242 0 -1 4194560 5000 0 0 0 250 75 12 3 20 0 9 0 100 1000000 2048 18446744073709551615"
	got, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if got.self != 3.25 || got.children != 0.15 || got.ppid != 17 || got.rssPages != 2048 {
		t.Fatalf("parsed %+v", got)
	}
	for _, bad := range []string{"", "1 (x S 1", "1 (x) S 1 2 3", "1 (x) S z 1 1 0 -1 0 0 0 0 0 a 1 1 1 20 0 9 0 100 1 2"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add("4242 (wardmail) S 17 4242 4242 0 -1 4194560 5000 0 0 0 250 75 12 3 20 0 9 0 100 1000000 2048 0")
	f.Add("1 ((() R 0")
	f.Fuzz(func(t *testing.T, line string) {
		_, _ = parseProcStat(line) // any line: an error, never a panic
	})
}
