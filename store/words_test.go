package store_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"wardmail/store"
)

func TestWords(t *testing.T) {
	test := func(text string, max int, want string) {
		t.Helper()
		if got := strings.Join(store.Words(text, max), " "); got != want {
			t.Errorf("Words(%q, %d) = %q, want %q", text, max, got, want)
		}
	}
	test("Heparin 5,000 units; HEPARIN again: bed 7.", 0, "heparin 000 units again bed")
	test("Ärztin übergibt Station 3b", 0, "ärztin übergibt station 3b")
	test("amira.khan@nhs.test", 0, "amira khan nhs test")
	test("one two three four", 2, "one two")
	test("İSTANBUL Straße", 0, "istanbul straße")
	test(strings.Repeat("x", 41)+" ok", 0, "ok")
}

// FuzzWords: every word is lower-case letters and digits, 2 to 40 runes,
// found in the lower-cased text, once.
func FuzzWords(f *testing.F) {
	f.Add("Heparin 5,000 units; bed 7.", 3)
	f.Add("ÄÖÜ ǅ ΣΑΣ \xff\xfe x", 0)
	f.Fuzz(func(t *testing.T, text string, max int) {
		words := store.Words(text, max)
		if max > 0 && len(words) > max {
			t.Fatalf("%d words, max %d", len(words), max)
		}
		seen := map[string]bool{}
		for _, w := range words {
			n := utf8.RuneCountInString(w)
			if n < store.WordMin || n > store.WordMax || seen[w] {
				t.Fatalf("word %q (%d runes, seen %v)", w, n, seen[w])
			}
			seen[w] = true
			for _, r := range w {
				if !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
					t.Fatalf("word %q holds %q", w, r)
				}
			}
		}
	})
}
