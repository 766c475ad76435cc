package mail_test

import (
	"strings"
	"testing"

	"wardmail/mail"
)

// FuzzCanonicalFlag: whatever a client names, a flag accepted is stable
// (canonicalising it again gives it back) and a system flag comes back in
// its one spelling.
func FuzzCanonicalFlag(f *testing.F) {
	for _, s := range []string{`\Seen`, `\sEEN`, `\Recent`, `\Bogus`, "$Label1", "", `\`, "a]b", strings.Repeat("k", 101)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := mail.CanonicalFlag(s)
		if !ok || got == "" {
			return
		}
		if again, ok := mail.CanonicalFlag(got); !ok || again != got {
			t.Fatalf("CanonicalFlag(%q) = %q, then %q", s, got, again)
		}
		if strings.HasPrefix(got, `\`) && !strings.EqualFold(got, s) {
			t.Fatalf("system flag %q from %q", got, s)
		}
		if !strings.HasPrefix(got, `\`) && mail.ValidKeyword(got) && (len(got) > mail.MaxKeywordLen || strings.ContainsAny(got, `\]*%`)) {
			t.Fatalf("keyword %q accepted", got)
		}
	})
}
