package directory_test

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"testing"

	"wardmail/directory"
)

// problemRE is the form of every reported problem.
var problemRE = regexp.MustCompile(`^f\.csv:([1-9][0-9]{0,9}): \S`)

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"email,name,org\na@example.test,Ann,Org\n",
		"\xEF\xBB\xBForg,email,name,role,site,password\r\nOrg,a@example.test,Ann,R,S,long enough password\r\n",
		"email,name,org\n\"a@example.test\",\"Ann, \"\"x\"\"\ny\",Org\nbad,,\n",
		"email,name,org\na@example.test,An\"n,Org\na@example.test,Ann,Org,x\n",
		"email,name,org,foo\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lastLine := 0
		err := directory.ParseCSV(bytes.NewReader(data), "f.csv", func(e directory.Entry) error {
			if e.Line <= lastLine || e.Line < 2 {
				t.Fatalf("entry line %d after line %d", e.Line, lastLine)
			}
			lastLine = e.Line
			if got, err := directory.ValidateAddress(e.Email); err != nil || got != e.Email {
				t.Fatalf("entry with invalid address %q: %v", e.Email, err)
			}
			if e.Name == "" || e.Org == "" {
				t.Fatalf("entry without name or org: %+v", e)
			}
			return nil
		})
		if err == nil {
			return
		}
		var ie *directory.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("error %T %v, want *ImportError", err, err)
		}
		if len(ie.Problems) == 0 || len(ie.Problems) > directory.MaxProblems || ie.More < 0 {
			t.Fatalf("ImportError with %d problems and %d more", len(ie.Problems), ie.More)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, p := range ie.Problems {
			m := problemRE.FindStringSubmatch(p)
			if m == nil {
				t.Fatalf("problem %q does not start with f.csv:LINE: ", p)
			}
			if n, _ := strconv.Atoi(m[1]); n > lines {
				t.Fatalf("problem %q is past the last line, %d", p, lines)
			}
		}
	})
}
