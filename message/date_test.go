package message

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	test := func(in, want string) {
		t.Helper()
		got, err := ParseDate(in)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", in, err)
			return
		}
		if s := got.Format(time.RFC3339); s != want {
			t.Errorf("ParseDate(%q) = %s, want %s", in, s, want)
		}
	}
	test("Mon, 2 Jan 2006 15:04:05 -0700", "2006-01-02T15:04:05-07:00")
	test("Mon, 02 Jan 2006 15:04:05 +0000", "2006-01-02T15:04:05Z")
	test("2 Jan 2006 15:04:05 +0100", "2006-01-02T15:04:05+01:00")
	test("Mon 2 Jan 2006 15:04 +0100", "2006-01-02T15:04:00+01:00")
	test("Monday, 2 January 2006 15:04:05 +0100", "2006-01-02T15:04:05+01:00")
	test("Mon, 2 Jan 06 15:04:05 GMT", "2006-01-02T15:04:05Z")
	test("Mon, 2 Jan 99 15:04:05 UT", "1999-01-02T15:04:05Z")
	test("Mon, 2 Jan 106 15:04:05 Z", "2006-01-02T15:04:05Z")
	test("Mon, 2 Jan 2006 15:04:05 EST", "2006-01-02T15:04:05-05:00")
	test("Mon, 2 Jan 2006 15:04:05 PDT", "2006-01-02T15:04:05-07:00")
	test("Mon, 2 Jan 2006 15:04:05 +0000 (UTC)", "2006-01-02T15:04:05Z")
	test("Mon, 2 Jan 2006 15:04:05 +0100 (CET) ", "2006-01-02T15:04:05+01:00")
	test("(comment) Mon, 2 (another (nested)) Jan 2006 15:04:05 -0700", "2006-01-02T15:04:05-07:00")
	test("Mon,  2 Jan 2006\r\n 15:04:05 -0700", "2006-01-02T15:04:05-07:00")
	test("Mon, 2 Jan 2006 15:04:05 +0100 CET", "2006-01-02T15:04:05+01:00")
	test("Mon, 2 Jan 2006 15:04:05", "2006-01-02T15:04:05Z")
	test("Mon, 2 Jan 2006 15:04:05 A", "2006-01-02T15:04:05Z")
	test("Mon, 2 Jan 2006 15:04:05 +01:00", "2006-01-02T15:04:05+01:00")
	test("Mon, 2 Jan 2006 5:04:05 +0000", "2006-01-02T05:04:05Z")
	test("Sat, 31 Dec 2016 23:59:60 +0000", "2016-12-31T23:59:59Z")
	test("Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z")
	test("Mon Jan  2 15:04:05 2006 -0700", "2006-01-02T15:04:05-07:00")
	test("29 Feb 2024 00:00:00 +0000", "2024-02-29T00:00:00Z")

	for _, bad := range []string{
		"",
		"garbage",
		"yesterday at noon",
		"Mon, 2 Foo 2006 15:04:05 +0000",
		"Mon, 32 Jan 2006 15:04:05 +0000",
		"Mon, 29 Feb 2023 15:04:05 +0000",
		"Mon, 2 Jan 2006 25:04:05 +0000",
		"Mon, 2 Jan 2006 15:60:05 +0000",
		"Mon, 2 Jan 2006 15:04:05 +2500",
		"Mon, 2 Jan 2006 15:04:05 +00000",
		"Mon, 2 Jan 2006 15:04:05 +0000 42",
		"Mon, 2 Jan 2006 1504 +0000",
		"Mon, 2 Jan 1 15:04:05 +0000",
		"Mon, 2 Jan 20066 15:04:05 +0000",
		"Mon, -2 Jan 2006 15:04:05 +0000",
		"2006-01-02T15:04:05Z",
		"Mon, 2 Jan 2006 15:04:05 zone-with-dash",
		"Mon, 2 Jan 2006 15:04:05 Longzonename",
	} {
		if got, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"2 Jan 06 15:04 GMT",
		"Mon Jan  2 15:04:05 2006",
		"Mon, 2 Jan 2006 15:04:05 +0000 (UTC)",
		"(a (b) c) 1 feb 1999 1:2:3 +01:00",
		"garbage",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.Year() < 1900 || d.Year() > 9999 {
			t.Fatalf("ParseDate(%q) = %v: year out of range", s, d)
		}
		// What parses must parse again, to the same instant, when written
		// in the RFC 5322 form.
		again, err := ParseDate(d.Format(time.RFC1123Z))
		if err != nil || !again.Equal(d) {
			t.Fatalf("ParseDate(%q) = %v, but its RFC 1123 form gives %v, %v", s, d, again, err)
		}
	})
}
