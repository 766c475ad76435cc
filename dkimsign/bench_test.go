package dkimsign_test

import (
	"context"
	"strings"
	"testing"

	"wardmail/dkimsign"
)

// BenchmarkSign is the cost of both signatures on a 2 KB message: what the
// outbound queue pays per message (not per recipient).
func BenchmarkSign(b *testing.B) {
	keys := dkimsign.Open(b.TempDir(), nil)
	if err := keys.Ensure("nhs.test"); err != nil {
		b.Fatal(err)
	}
	msg := []byte(message + strings.Repeat("A line of the referral letter, as a clinician writes it.\r\n", 34))
	s := dkimsign.Signer{Keys: keys}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := s.Sign(ctx, "nhs.test", msg); err != nil {
			b.Fatal(err)
		}
	}
}
