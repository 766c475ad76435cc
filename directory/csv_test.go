package directory_test

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"wardmail/directory"
)

// parse runs ParseCSV on text and returns the entries it passed on and the
// problems it reported (nil when it returned nil).
func parse(t *testing.T, text string) ([]directory.Entry, []string) {
	t.Helper()
	var got []directory.Entry
	err := directory.ParseCSV(strings.NewReader(text), "dir.csv", func(e directory.Entry) error {
		got = append(got, e)
		return nil
	})
	if err == nil {
		return got, nil
	}
	var ie *directory.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("ParseCSV error %T %v, want *ImportError", err, err)
	}
	return got, append(ie.Problems, fmt.Sprintf("more=%d", ie.More))
}

// expectProblems checks that text is rejected with exactly want (plus More).
func expectProblems(t *testing.T, text string, want ...string) {
	t.Helper()
	_, got := parse(t, text)
	if got == nil {
		t.Fatalf("ParseCSV accepted %q", text)
	}
	if len(want) == 0 || !strings.HasPrefix(want[len(want)-1], "more=") {
		want = append(want, "more=0")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseGood(t *testing.T) {
	text := "Email, Name ,ORG,role,site,password\r\n" +
		"Alice.Smith@Example.GOV.test,  Alice Smith ,Ministry of Mail,Director,HQ,correct horse battery\r\n" +
		"\r\n" + // blank lines are skipped
		"bob@example.test,Bob,Post Office,,,\r\n"
	got, problems := parse(t, text)
	if problems != nil {
		t.Fatal(problems)
	}
	want := []directory.Entry{
		{Line: 2, Email: "alice.smith@example.gov.test", Name: "Alice Smith", Org: "Ministry of Mail",
			Role: "Director", Site: "HQ", Password: "correct horse battery"},
		{Line: 4, Email: "bob@example.test", Name: "Bob", Org: "Post Office"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n%+v\nwant:\n%+v", got, want)
	}
}

func TestParseColumnOrder(t *testing.T) {
	got, problems := parse(t, "org,email,name\nMinistry,a@example.test,Ann\n")
	if problems != nil {
		t.Fatal(problems)
	}
	if want := (directory.Entry{Line: 2, Email: "a@example.test", Name: "Ann", Org: "Ministry"}); got[0] != want {
		t.Errorf("got %+v, want %+v", got[0], want)
	}
}

func TestParseBOM(t *testing.T) {
	got, problems := parse(t, "\xEF\xBB\xBFemail,name,org\na@example.test,Ann,Org\n")
	if problems != nil {
		t.Fatal(problems)
	}
	if len(got) != 1 || got[0].Email != "a@example.test" {
		t.Errorf("got %+v", got)
	}
	// A BOM anywhere else is data.
	expectProblems(t, "email,name,org\n\xEF\xBB\xBFa@example.test,Ann,Org\n",
		`dir.csv:2: email "\ufeffa@example.test": the local part contains a non-ASCII character`)
}

func TestParseHeaderProblems(t *testing.T) {
	expectProblems(t, "email,name,org,phone,,Name\n",
		`dir.csv:1: unknown column "phone"; the columns are email, name, org, role, site, password`,
		`dir.csv:1: column 5 of the header has no name`,
		`dir.csv:1: column "name" appears twice in the header`)
	expectProblems(t, "email,name\na@example.test,Ann\n",
		`dir.csv:1: the header has no "org" column; email, name and org are required`)
	expectProblems(t, "name\n",
		`dir.csv:1: the header has no "email" column; email, name and org are required`,
		`dir.csv:1: the header has no "org" column; email, name and org are required`)
}

func TestParseEmptyAndHeaderOnly(t *testing.T) {
	for _, text := range []string{"", "\n\n", "\xEF\xBB\xBF"} {
		expectProblems(t, text, "dir.csv:1: the file is empty; its first line must be a header such as email,name,org")
	}
	for _, text := range []string{"email,name,org", "email,name,org\n", "email,name,org\r\n\r\n"} {
		got, problems := parse(t, text)
		if problems != nil || len(got) != 0 {
			t.Errorf("header only %q: entries %v, problems %v", text, got, problems)
		}
	}
}

func TestParseReportsEveryBadRow(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,name,org\n")
	for i := 2; i <= 10; i++ {
		switch i {
		case 5:
			b.WriteString("not-an-address,Eve,Org\n")
		case 9:
			fmt.Fprintf(&b, "p%d@example.test,%s,Org\n", i, strings.Repeat("n", 201))
		default:
			fmt.Fprintf(&b, "p%d@example.test,Person %d,Org\n", i, i)
		}
	}
	got, problems := parse(t, b.String())
	want := []string{
		`dir.csv:5: email "not-an-address": the address has no @`,
		`dir.csv:9: name is longer than 200 characters`,
		"more=0",
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
	// Rows before the first problem were passed on; none after it.
	if len(got) != 3 || got[2].Line != 4 {
		t.Errorf("entries passed on: %+v, want lines 2-4", got)
	}
}

func TestParseFieldProblems(t *testing.T) {
	h := "email,name,org,role,site,password\n"
	test := func(row, want string) {
		t.Helper()
		expectProblems(t, h+row+"\n", want)
	}
	test(`a@example.test,,Org,,,`, `dir.csv:2: name is empty`)
	test(`a@example.test,   ,Org,,,`, `dir.csv:2: name is empty`)
	test(`a@example.test,Ann,,,,`, `dir.csv:2: org is empty`)
	test("a@example.test,Ann\x07,Org,,,", `dir.csv:2: name contains the control character U+0007`)
	test("a@example.test,Ann\u202Enna,Org,,,", `dir.csv:2: name contains the control character U+202E`)
	test("a@example.test,Ann\u200Fnna,Org,,,", `dir.csv:2: name contains the control character U+200F`)
	test("a@example.test,Ann,Org,Nurse\u200E,,", `dir.csv:2: role contains the control character U+200E`)
	test("a@example.test,Ann\x1b[31m,Org,,,", `dir.csv:2: name contains the control character U+001B`)
	test("a@example.test,Ann\xff,Org,,,", `dir.csv:2: name is not valid UTF-8`)
	test("a@example.test,Ann,"+strings.Repeat("o", 201)+",,,", `dir.csv:2: org is longer than 200 characters`)
	test("a@example.test,Ann,Org,"+strings.Repeat("r", 101)+",,", `dir.csv:2: role is longer than 100 characters`)
	test("a@example.test,Ann,Org,,"+strings.Repeat("s", 101)+",", `dir.csv:2: site is longer than 100 characters`)
	test(`a@example.test,Ann,Org,,,short`, `dir.csv:2: password: the password is shorter than 10 characters`)
	test(`a@example.test,Ann,Org,,,Password1234`, `dir.csv:2: password: the password is one of the most commonly used passwords`)
	test(`a@example,,,,,short`,
		`dir.csv:2: email "a@example": the domain has no dot; name is empty; org is empty; password: the password is shorter than 10 characters`)
	test("\"a@example.test\",\"Ann\",Org,,,\"a secret with spaces\"x",
		`dir.csv:2: column 51: extraneous or missing " in quoted-field`)
	test(`a@example.test,Ann,Org`, `dir.csv:2: the record has 3 fields, the header 6`)
	test(`a@example.test,Ann,Org,,,,`, `dir.csv:2: the record has 7 fields, the header 6`)
	test(`a@example.test,An"n,Org,,,`, `dir.csv:2: column 18: bare " in non-quoted-field`)
	// A quoted 200-character name is fine; the name is counted in characters.
	if _, p := parse(t, h+"a@example.test,\""+strings.Repeat("é", 200)+"\",Org,,,\n"); p != nil {
		t.Error(p)
	}
}

func TestParseDuplicate(t *testing.T) {
	expectProblems(t, "email,name,org\na@example.test,A,O\nb@example.test,B,O\n A@Example.TEST ,A2,O\nb@example.test,,O\n",
		`dir.csv:4: email "a@example.test" is a duplicate of line 2`,
		`dir.csv:5: email "b@example.test" is a duplicate of line 3; name is empty`)
}

// TestParseQuotedNewlines checks line numbers stay right when quoted fields
// hold commas, quotes and line breaks and span lines, before and after bad
// records. A line break left inside a name or organisation after trimming is
// a control character, and so a problem.
func TestParseQuotedNewlines(t *testing.T) {
	text := "email,name,org\n" +
		"a@example.test,\"Ann, \"\"the\"\"\nSecond\",\"Org, with comma\"\n" + // lines 2-3
		"b@example.test,Bob,\"Org\non\nthree lines\"\n" + // lines 4-6
		"bad,Carol,Org\n" + // line 7
		"d@example.test,\"Dan\n\",\"\"\n" + // lines 8-9: the name trims to Dan, the org is empty
		"e@example.test,Eve,Org\n" + // line 10
		"f@example.test,\"Fay\",\"a\"b\"\n" // line 11: bad quote
	expectProblems(t, text,
		`dir.csv:2: name contains the control character U+000A`,
		`dir.csv:4: org contains the control character U+000A`,
		`dir.csv:7: email "bad": the address has no @`,
		`dir.csv:8: org is empty`,
		`dir.csv:11: column 24: extraneous or missing " in quoted-field`)

	text = "email,name,org\n" +
		"a@example.test,\"Ann, \"\"the\"\" Second\",\"Org, with comma\"\n" + // line 2
		"b@example.test,\"\nBob\n\",\"Org\"\n" + // lines 3-5
		"\"c@example.test\",Carol,\"\r\n  Org\"\r\n" // lines 6-7
	got, problems := parse(t, text)
	if problems != nil {
		t.Fatal(problems)
	}
	want := []directory.Entry{
		{Line: 2, Email: "a@example.test", Name: `Ann, "the" Second`, Org: "Org, with comma"},
		{Line: 3, Email: "b@example.test", Name: "Bob", Org: "Org"},
		{Line: 6, Email: "c@example.test", Name: "Carol", Org: "Org"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n%+v\nwant:\n%+v", got, want)
	}
}

func TestParseCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,name,org\n")
	for range 130 {
		b.WriteString("bad,Name,Org\n")
	}
	_, problems := parse(t, b.String())
	if len(problems) != 101 || problems[100] != "more=30" || problems[99] != `dir.csv:101: email "bad": the address has no @` {
		t.Errorf("got %d problems, last %q", len(problems), problems[len(problems)-2:])
	}
	err := &directory.ImportError{Problems: []string{"f:2: x", "f:3: y"}, More: 5}
	if got, want := err.Error(), "f:2: x\nf:3: y\n... and 5 more"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseLimits(t *testing.T) {
	h := "email,name,org\n"
	long := strings.Repeat("x", directory.MaxLineBytes)
	expectProblems(t, h+"a@example.test,Ann,Org\nbad,B,O\nb@example.test,"+long+",Org\nc@example.test,C,O\n",
		`dir.csv:3: email "bad": the address has no @`,
		`dir.csv:4: the line is longer than 65536 bytes`)
	// A line of exactly MaxLineBytes is read (and then fails on the name).
	row := "a@example.test,Ann,"
	row += strings.Repeat("o", directory.MaxLineBytes-len(row))
	expectProblems(t, h+row+"\r\n", `dir.csv:2: org is longer than 200 characters`)
	// An unclosed quote swallowing the rest of the file stops at 64 KiB.
	var b strings.Builder
	b.WriteString(h + "a@example.test,\"Ann,Org\n")
	for i := 0; b.Len() < 2*directory.MaxLineBytes; i++ {
		fmt.Fprintf(&b, "p%d@example.test,Person,Org\n", i)
	}
	expectProblems(t, b.String(),
		`dir.csv:2: the record starting on this line is longer than 65536 bytes (is a quote left open?)`)
}

// TestParseRowLimit lowers the row limit, which is otherwise 5 million rows
// and too slow to reach under the race detector.
func TestParseRowLimit(t *testing.T) {
	defer directory.SetMaxRows(10)()
	n := 0
	err := directory.ParseCSV(newGenerator(11, nil), "big.csv", func(directory.Entry) error {
		n++
		return nil
	})
	if want := "big.csv:12: the file has more than 10 rows"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if n != 10 {
		t.Errorf("%d entries passed on, want 10", n)
	}
	if err := directory.ParseCSV(newGenerator(10, nil), "big.csv", func(directory.Entry) error { return nil }); err != nil {
		t.Errorf("10 rows: %v", err)
	}
}

// TestParseFileLimit lowers the file size limit, which is otherwise 2 GiB.
func TestParseFileLimit(t *testing.T) {
	defer directory.SetMaxFileBytes(100)()
	text := "email,name,org\n" + // 15 bytes
		"a@example.test,Ann,Org\n" + // 38
		"bad,Bob,Org\n" + // 50
		"c@example.test,Carol,Org\n" + // 75
		"d@example.test,Dan,Org\n" // 98
	if _, p := parse(t, text); p == nil || len(p) != 2 {
		t.Fatalf("98 bytes: %v", p)
	}
	expectProblems(t, text+"e@example.test,Eve,Org\n",
		`dir.csv:3: email "bad": the address has no @`,
		`dir.csv:6: the file is larger than 100 bytes`)
}

func TestParseCallbackError(t *testing.T) {
	stop := errors.New("database is down")
	err := directory.ParseCSV(strings.NewReader("email,name,org\na@example.test,A,O\nb@example.test,B,O\n"), "dir.csv",
		func(e directory.Entry) error {
			if e.Line == 3 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || err.Error() != "dir.csv:3: database is down" {
		t.Errorf("err = %v, want dir.csv:3 wrapping %v", err, stop)
	}
}

func TestParseReadError(t *testing.T) {
	broken := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("email,name,org\na@example.test,A,O\n"), errReader{broken})
	err := directory.ParseCSV(r, "dir.csv", func(directory.Entry) error { return nil })
	if !errors.Is(err, broken) || !strings.HasPrefix(err.Error(), "dir.csv: ") {
		t.Errorf("err = %v, want dir.csv: wrapping %v", err, broken)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
