package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func newTestReader(input string) (*Reader, *bytes.Buffer) {
	var conts bytes.Buffer
	r := NewReader(bufio.NewReader(strings.NewReader(input)), Limits{MaxLine: 1024, MaxDepth: 4, MaxArgs: 50})
	r.LiteralLimit = func(cmd string) int64 {
		if cmd == "APPEND" {
			return 100
		}
		return 10
	}
	r.Continue = func() error { conts.WriteString("+\n"); return nil }
	return r, &conts
}

func TestReadCommand(t *testing.T) {
	r, conts := newTestReader("a1 uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10>)\r\n" +
		"a2 LOGIN {5}\r\nalice \"pa\\\"ss\"\r\n" +
		"a3 APPEND INBOX (\\Seen) {3+}\r\nabc\r\n" +
		"a4 NOOP\n")
	cmd, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Tag != "a1" || cmd.Name != "FETCH" || !cmd.UID || len(cmd.Args) != 2 || cmd.Args[0].S != "1:*" ||
		cmd.Args[1].Kind != List || cmd.Args[1].List[1].S != `BODY.PEEK[HEADER.FIELDS (From "To")]<0.10>` {
		t.Errorf("fetch: %+v", cmd)
	}
	cmd, err = r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Name != "LOGIN" || string(cmd.Args[0].B) != "alice" || cmd.Args[1].S != `pa"ss` || conts.String() != "+\n" {
		t.Errorf("login: %+v, continuations %q", cmd, conts.String())
	}
	cmd, err = r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Name != "APPEND" || cmd.Args[1].List[0].S != `\Seen` || string(cmd.Args[2].B) != "abc" || conts.String() != "+\n" {
		t.Errorf("append: %+v", cmd)
	}
	if cmd, err = r.ReadCommand(); err != nil || cmd.Name != "NOOP" || cmd.Tag != "a4" {
		t.Errorf("noop with bare LF: %+v %v", cmd, err)
	}
	if _, err = r.ReadCommand(); !errors.Is(err, io.EOF) {
		t.Errorf("at end: %v", err)
	}
}

func TestReadCommandErrors(t *testing.T) {
	test := func(input, wantMsg string, fatal bool) {
		t.Helper()
		r, conts := newTestReader(input + "a9 NOOP\r\n")
		_, err := r.ReadCommand()
		var we *Error
		if !errors.As(err, &we) || we.Msg != wantMsg || we.Fatal != fatal {
			t.Errorf("%q: %v (%+v), want %q fatal=%v", input, err, we, wantMsg, fatal)
			return
		}
		if strings.Contains(wantMsg, "over the limit") && conts.Len() != 0 {
			t.Errorf("%q: continuation sent for a refused literal", input)
		}
		if !fatal {
			if cmd, err := r.ReadCommand(); err != nil || cmd.Tag != "a9" {
				t.Errorf("%q: next command %+v %v", input, cmd, err)
			}
		}
	}
	test("a1 NOOP (((((x)))))\r\n", "Lists nested too deeply.", false)
	test("a1 LOGIN {11}\r\n", "Literal of 11 bytes is over the limit of 10 bytes.", false)
	test("a1 APPEND x {101+}\r\n", "Literal of 101 bytes is over the limit of 100 bytes.", true)
	test("a1 X \"abc\r\n", "Unterminated quoted string.", false)
	test("a1 X {3}x\r\n", "A literal must end its line.", false)
	test("a1 X (a\" {3+}\r\nabc\r\n", "Expected a space between arguments.", false)
	test("a1 X "+strings.Repeat("a ", 60)+"\r\n", "Too many arguments.", false)
	test("a1 X "+strings.Repeat("a", 1100)+"\r\n", "Line too long.", true)
	test("a1\r\n", "Missing command name.", false)
	test("+ X\r\n", "Missing or invalid command tag.", false)
	test("a1 X ~{2}\r\nab (BODY\r\n", "Missing closing parenthesis.", false)
	test("a1 X a[(b]\r\n", "Expected a space between arguments.", false)
}

// RFC 3501 9: ATOM-CHAR is any CHAR but atom-specials, and "[" is not one;
// only "]" (resp-specials) is excluded. A "[" that opens no section is part
// of the atom, whatever follows it.
func TestAtomWithOpenBracket(t *testing.T) {
	test := func(line string, want ...string) {
		t.Helper()
		r, _ := newTestReader(line + "\r\n")
		cmd, err := r.ReadCommand()
		if err != nil {
			t.Errorf("%q: %v", line, err)
			return
		}
		var got []string
		for _, a := range cmd.Args {
			got = append(got, a.S)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%q: args %q, want %q", line, got, want)
		}
	}
	test("a SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}", "!#$&'+,-.0123456789:;<=>?@^_`|[}")
	test("a SELECT a[b c[d", "a[b", "c[d")
	test("a FETCH 1 BODY[HEADER.FIELDS (From)]<0.5>", "1", "BODY[HEADER.FIELDS (From)]<0.5>")
	test("a X "+strings.Repeat("[", 500), strings.Repeat("[", 500))
}

func TestWriterStrings(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(bufio.NewWriter(&buf))
	w.String(`a"b\c`).SP().String("x\r\ny").SP().Text("Café").SP().NString("")
	w.UTF8 = true
	w.SP().Text("Café")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `"a\"b\\c" {4}` + "\r\nx\r\ny " + `"=?utf-8?q?Caf=C3=A9?=" NIL "Café"`
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// FuzzParseCommand feeds arbitrary input to the command reader: it must
// return commands or errors, never panic, and respect its limits.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"a1 NOOP\r\n",
		"a1 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n",
		"a2 LOGIN {5}\r\nalice {3+}\r\npwd\r\n",
		"a3 SEARCH CHARSET UTF-8 (OR FROM \"a\\\"b\" NOT SEEN) 1:5,7\r\n",
		"a4 APPEND INBOX (\\Seen) \"05-Mar-2024 10:00:00 +0000\" ~{2+}\r\n\x00\x01\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _ := newTestReader(string(data))
		for i := 0; i < 100; i++ {
			cmd, err := r.ReadCommand()
			if err != nil {
				var we *Error
				if errors.As(err, &we) {
					if we.Msg == "" || we.Tag == "" {
						t.Fatalf("error without text or tag: %+v", we)
					}
					if we.Fatal {
						return
					}
					continue
				}
				return // I/O: end of input
			}
			if cmd.Tag == "" || cmd.Name == "" || cmd.Name != strings.ToUpper(cmd.Name) {
				t.Fatalf("bad command %+v", cmd)
			}
			if n := countArgs(cmd.Args, 1); n > 50 {
				t.Fatalf("%d arguments", n)
			}
		}
	})
}

func countArgs(args []Arg, depth int) int {
	if depth > 5 {
		panic("nesting over the limit")
	}
	n := len(args)
	for _, a := range args {
		if a.Kind == Literal && len(a.B) > 100 {
			panic("literal over the limit")
		}
		n += countArgs(a.List, depth+1)
	}
	return n
}

// TestLiteralClosesList: a literal that ends a list leaves ")" at the start
// of the next line (APPEND UTF8 (~{n}), CATENATE (TEXT {n})); reading it
// once looked before the line's start and panicked.
func TestLiteralClosesList(t *testing.T) {
	r, _ := newTestReader("a1 APPEND INBOX UTF8 (~{3+}\r\nabc)\r\n")
	cmd, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if l := cmd.Args[2]; l.Kind != List || len(l.List) != 1 || string(l.List[0].B) != "abc" || !l.List[0].Literal8 {
		t.Errorf("UTF8 (~{3}): %+v", cmd.Args)
	}
}
