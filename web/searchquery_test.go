package web

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseQuery(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	test := func(in string, want Query) {
		t.Helper()
		got, err := ParseQuery(in)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", in, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("ParseQuery(%q)\n got %+v\nwant %+v", in, *got, want)
		}
	}
	test("", Query{})
	test("handover Notes", Query{Words: []string{"handover", "notes"}})
	test(`from:Amira to:ben subject:"Ward Round" has:attachment`, Query{From: []string{"amira"}, To: []string{"ben"}, Subject: []string{"ward round"}, HasAttachment: true})
	test(`"bed 12" in:Archive is:unread is:flagged`, Query{Words: []string{"bed 12"}, Folder: "Archive", Unread: true, Flagged: true})
	test("after:2026-01-01 before:2026-02-01", Query{After: day("2026-01-01"), Before: day("2026-02-01")})
	test("ward:3", Query{Words: []string{"ward:3"}})

	bad := func(in, wantErr string) {
		t.Helper()
		_, err := ParseQuery(in)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseQuery(%q) = %v, want an error with %q", in, err, wantErr)
		}
	}
	bad(`subject:"open`, "not closed")
	bad(`"open`, "not closed")
	bad("after:yesterday", "not a date")
	bad("after:2026-02-01 before:2026-01-01", "earlier")
	bad("is:urgent", "is:unread")
	bad("from:", "needs a value")
	bad(strings.Repeat("a ", 40), "more than 32 terms")
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "a b", `from:x subject:"a b" has:attachment`, `"unclosed`, "after:2026-01-01", `x:"`, `:::`, "is:unread in:INBOX"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			return
		}
		for _, w := range q.Words {
			if w == "" {
				t.Fatalf("%q: empty word", s)
			}
		}
		if len(q.Words)+len(q.From)+len(q.To)+len(q.Subject) > maxQueryTerms {
			t.Fatalf("%q: too many terms", s)
		}
	})
}
