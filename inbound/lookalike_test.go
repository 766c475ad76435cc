package inbound

import "testing"

// Domains a reader would take for nhs.test are caught; real neighbours are
// not.
func TestLookAlikeDomain(t *testing.T) {
	local := []string{"nhs.test", "leeds.nhs.example"}
	test := func(d, want string) {
		t.Helper()
		if got := lookAlikeDomain(d, local); got != want {
			t.Errorf("lookAlikeDomain(%q) = %q, want %q", d, got, want)
		}
	}
	test("nhs-test.org", "nhs.test")    // the local name inside another
	test("nhs.tesst", "nhs.test")       // one letter added
	test("nhs.tset", "nhs.test")        // two letters swapped
	test("nhs.te5t", "nhs.test")        // a digit for a letter
	test("xn--nhs-tst-x3g.example", "") // unrelated IDN
	test("nhs.xn--tst-rdd", "nhs.test") // nhs.tеst with a Cyrillic е, as DNS carries it
	test("nhs.tеst", "nhs.test")        // a Cyrillic е, as Unicode
	test("leeds-nhs.example", "leeds.nhs.example")
	test("clinic.test", "")
	test("gmail.example", "")
	test("nhs.uk.example", "")
}

func TestEditDistanceAtMostOne(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"abc", "abc", true}, {"abc", "abcd", true}, {"abc", "ab", true}, {"abc", "axc", true},
		{"abc", "bac", true}, {"abc", "cab", false}, {"abc", "a", false}, {"", "a", true}, {"ab", "xy", false},
	} {
		if got := editDistanceAtMostOne(c.a, c.b); got != c.want {
			t.Errorf("editDistanceAtMostOne(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
