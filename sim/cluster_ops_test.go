package sim

import (
	"strings"
	"testing"
)

// A 12 KiB body has the distinct words of real text of that size (some
// hundreds, not the whole vocabulary), and searched words are in some
// bodies but not most.
func TestClinicalBodyVocabulary(t *testing.T) {
	distinct := map[string]bool{}
	for _, w := range strings.Fields(clinicalBody(1, 12<<10)) {
		distinct[w] = true
	}
	if n := len(distinct); n < 300 || n > 1500 {
		t.Errorf("a 12 KiB body has %d distinct words", n)
	}
	hits := 0
	for k := range 200 {
		if strings.Contains(" "+clinicalBody(k, 12<<10)+" ", " "+searchWord(k)+" ") {
			hits++
		}
	}
	if hits == 0 || hits > 150 {
		t.Errorf("the searched word is in %d of 200 bodies", hits)
	}
	t.Logf("%d distinct words in 12 KiB; searched words in %d of 200 bodies", len(distinct), hits)
}
