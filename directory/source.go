package directory

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Bounds on an import file.
const (
	MaxLineBytes   = 64 << 10 // one physical line, and one record, without its line break
	MaxFileBytes   = 2 << 30
	MaxRows        = 5_000_000 // records after the header
	maxRecordBytes = MaxLineBytes
)

// maxRows and maxFileBytes are MaxRows and MaxFileBytes, lowered by tests.
var (
	maxRows      = MaxRows
	maxFileBytes = int64(MaxFileBytes)
)

// limitError is a bound that stops the import where it is hit.
type limitError struct {
	line int
	msg  string
}

func (e *limitError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// lineSource feeds encoding/csv one physical line per Read call at most, so
// that it knows exactly which line csv is on, and enforces the bounds on line,
// record and file size before csv buffers anything too large. It also drops a
// UTF-8 byte order mark at the start.
//
// csv reads through a bufio.Reader that refills only when it has no complete
// line; since each of our Reads ends at most at a line break, csv has consumed
// everything we handed out whenever it returns a record. The parser calls
// endRecord then.
type lineSource struct {
	br          *bufio.Reader
	pending     []byte // rest of the current line, aliasing br's buffer
	err         error  // sticky: returned once pending is drained
	line        int    // physical lines handed out so far
	total       int64  // bytes read, BOM and line breaks included
	recordLine  int    // line the current record starts on; 0 before it starts
	recordBytes int
}

func newLineSource(r io.Reader) *lineSource {
	return &lineSource{br: bufio.NewReaderSize(r, MaxLineBytes+2)} // +2 for "\r\n"
}

var bom = []byte("\xEF\xBB\xBF")

// Read implements io.Reader.
func (s *lineSource) Read(p []byte) (int, error) {
	if len(s.pending) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if err := s.next(); err != nil {
			s.err = err
			if len(s.pending) == 0 {
				return 0, err
			}
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// next reads the next physical line into pending. It may return an error with
// a last line in pending (io.EOF after a final line with no line break).
func (s *lineSource) next() error {
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return &limitError{s.line + 1, fmt.Sprintf("the line is longer than %d bytes", MaxLineBytes)}
	}
	if len(line) == 0 {
		return err
	}
	s.line++
	s.total += int64(len(line))
	if s.total > maxFileBytes {
		return &limitError{s.line, fmt.Sprintf("the file is larger than %d bytes", maxFileBytes)}
	}
	if s.line == 1 {
		line = bytes.TrimPrefix(line, bom)
	}
	content := len(line) - len(trailingNewline(line))
	if content > MaxLineBytes {
		return &limitError{s.line, fmt.Sprintf("the line is longer than %d bytes", MaxLineBytes)}
	}
	// encoding/csv skips blank lines between records; they start none.
	if s.recordBytes > 0 || content > 0 {
		if s.recordBytes == 0 {
			s.recordLine = s.line
		}
		s.recordBytes += content
		if s.recordBytes > maxRecordBytes {
			return &limitError{s.recordLine, fmt.Sprintf(
				"the record starting on this line is longer than %d bytes (is a quote left open?)", maxRecordBytes)}
		}
	}
	s.pending = line
	return err
}

// endRecord marks the end of a record: csv has consumed all we handed out.
func (s *lineSource) endRecord() { s.recordBytes, s.recordLine = 0, 0 }

// trailingNewline returns the "\n" or "\r\n" that ends line, if any.
func trailingNewline(line []byte) []byte {
	if bytes.HasSuffix(line, []byte("\r\n")) {
		return line[len(line)-2:]
	}
	if bytes.HasSuffix(line, []byte("\n")) {
		return line[len(line)-1:]
	}
	return nil
}
