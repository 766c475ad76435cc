package inbound

import (
	"testing"

	"github.com/emersion/go-msgauth/dmarc"
)

// Relaxed alignment accepts any domain of the same organisational domain
// (found with the Public Suffix List); strict alignment only the same
// domain (RFC 7489 3.1).
func TestAlignment(t *testing.T) {
	for _, c := range []struct {
		a, b    string
		mode    dmarc.AlignmentMode
		aligned bool
	}{
		{"mail.clinic.test", "clinic.test", dmarc.AlignmentRelaxed, true},
		{"mail.clinic.test", "clinic.test", dmarc.AlignmentStrict, false},
		{"Clinic.Test.", "clinic.test", dmarc.AlignmentStrict, true},
		{"bounce.leeds.nhs.uk", "leeds.nhs.uk", dmarc.AlignmentRelaxed, true}, // nhs.uk is a public suffix
		{"york.nhs.uk", "leeds.nhs.uk", dmarc.AlignmentRelaxed, false},
		{"a.example.co.uk", "b.example.co.uk", dmarc.AlignmentRelaxed, true},
		{"example.co.uk", "other.co.uk", dmarc.AlignmentRelaxed, false},
		{"", "clinic.test", dmarc.AlignmentRelaxed, false},
	} {
		if got := aligned(c.a, c.b, c.mode); got != c.aligned {
			t.Errorf("aligned(%q, %q, %s) = %v", c.a, c.b, c.mode, got)
		}
	}
	if got := orgDomain("x.y.leeds.nhs.uk"); got != "leeds.nhs.uk" {
		t.Errorf("orgDomain = %q", got)
	}
}
