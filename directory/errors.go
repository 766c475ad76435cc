package directory

import (
	"fmt"
	"strings"
)

// MaxProblems is how many problems an ImportError lists before it only counts.
const MaxProblems = 100

// ImportError lists what is wrong with an import file, one problem per bad
// record (or per header or limit problem), each as "FILE:LINE: what is wrong".
// Nothing of a file with problems may be imported.
type ImportError struct {
	Problems []string // at most MaxProblems, in file order
	More     int      // problems found beyond those listed
}

// Error lists the problems one per line.
func (e *ImportError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n... and %d more", e.More)
	}
	return b.String()
}

// problems collects an ImportError.
type problems struct {
	filename string
	err      ImportError
}

func (p *problems) add(line int, format string, args ...any) {
	if len(p.err.Problems) >= MaxProblems {
		p.err.More++
		return
	}
	p.err.Problems = append(p.err.Problems, fmt.Sprintf("%s:%d: ", p.filename, line)+fmt.Sprintf(format, args...))
}

func (p *problems) any() bool { return len(p.err.Problems) > 0 }

// result returns the ImportError, or nil when there is no problem.
func (p *problems) result() error {
	if !p.any() {
		return nil
	}
	return &p.err
}
