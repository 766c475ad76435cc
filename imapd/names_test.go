package imapd

import "testing"

func TestModifiedUTF7(t *testing.T) {
	for _, tc := range []struct{ utf8, mutf7 string }{
		{"INBOX", "INBOX"},
		{"Réunions", "R&AOk-unions"},
		{"A&B", "A&-B"},
		{"日本語", "&ZeVnLIqe-"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"𝄞 music", "&2DTdHg- music"},
	} {
		if got := encodeMUTF7(tc.utf8); got != tc.mutf7 {
			t.Errorf("encode %q: %q, want %q", tc.utf8, got, tc.mutf7)
		}
		if got, ok := decodeMUTF7(tc.mutf7); !ok || got != tc.utf8 {
			t.Errorf("decode %q: %q %v, want %q", tc.mutf7, got, ok, tc.utf8)
		}
	}
	for _, badName := range []string{"&AGE-", "&Jjo", "&2DQ-", "&=-"} {
		if _, ok := decodeMUTF7(badName); ok {
			t.Errorf("decode %q accepted", badName)
		}
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "a/b/c", true},
		{"%", "a/b", false},
		{"%", "a", true},
		{"a/%", "a/b", true},
		{"a/%", "a/b/c", false},
		{"a*c", "a/b/c", true},
		{"a%c", "a/c", false},
		{"INBOX", "INBOX", true},
		{"", "INBOX", false},
		{"%/%", "a/b", true},
	} {
		if got := matchPattern(tc.pattern, tc.name); got != tc.want {
			t.Errorf("match(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}

func TestFormatSet(t *testing.T) {
	if got := formatSet([]uint32{5, 1, 2, 3, 9, 10, 7}); got != "1:3,5,7,9:10" {
		t.Errorf("formatSet: %q", got)
	}
	set, err := parseNumSet("4:2,7,9:*")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[uint32]bool{1: false, 2: true, 4: true, 5: false, 7: true, 12: true} {
		if set.contains(n, 12) != want {
			t.Errorf("contains %d: %v", n, !want)
		}
	}
	for _, badSet := range []string{"", "0", "1:", ",", "1,,2", "a", "4294967296", "+1"} {
		if _, err := parseNumSet(badSet); err == nil {
			t.Errorf("parseNumSet(%q) accepted", badSet)
		}
	}
}
