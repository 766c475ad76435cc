package postgres

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func FuzzParseKeys(f *testing.F) {
	f.Add("1,2,-3")
	f.Add("")
	f.Add("9223372036854775807,x")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := parseKeys(s)
		if err != nil {
			return
		}
		var parts []string
		for _, k := range keys {
			parts = append(parts, strconv.FormatInt(k, 10))
		}
		again, err := parseKeys(strings.Join(parts, ","))
		if err != nil || !slices.Equal(keys, again) {
			t.Fatalf("%q: %v then %v, %v", s, keys, again, err)
		}
	})
}
