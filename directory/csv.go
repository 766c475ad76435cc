package directory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// Columns of an import file, by header name.
const (
	colEmail = iota
	colName
	colOrg
	colRole
	colSite
	colPassword
	numColumns
)

var columnNames = [numColumns]string{"email", "name", "org", "role", "site", "password"}

const requiredColumns = 3 // email, name, org

// ParseCSV reads a directory import file and calls each with every valid
// entry, in file order. The first line is a header naming the columns in any
// order: email, name and org are required; role, site and password optional;
// names are matched case-insensitively.
//
// Import is all or nothing, so after a bad record ParseCSV keeps reading to
// report every problem, but no longer calls each: the caller, which runs the
// import in one transaction, must roll it back when ParseCSV returns an error.
// The problems come back as an *ImportError. An error returned by each stops
// the parse and is returned wrapped with the file and line; an error reading r
// is returned wrapped with the file name.
//
// Each Entry's strings are its own: ParseCSV keeps only the addresses, for
// finding duplicates. A file is bounded by MaxLineBytes per line or record,
// MaxFileBytes and MaxRows; past a bound the parse stops and reports it.
func ParseCSV(r io.Reader, filename string, each func(Entry) error) error {
	src := newLineSource(r)
	cr := csv.NewReader(src)
	cr.ReuseRecord = true
	cr.LazyQuotes = false
	p := &problems{filename: filename}

	header, err := cr.Read()
	src.endRecord()
	if err == io.EOF {
		p.add(1, "the file is empty; its first line must be a header such as email,name,org")
		return p.result()
	}
	if err != nil {
		if ferr := p.readError(err, header, 0); ferr != nil {
			return ferr
		}
		return p.result()
	}
	headerLine, _ := cr.FieldPos(0)
	cols := p.header(header, headerLine)
	if p.any() {
		return p.result()
	}
	cr.FieldsPerRecord = len(header)

	seen := make(map[string]int) // address -> line
	rows := 0
	for {
		rec, err := cr.Read()
		src.endRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			var le *limitError
			if ferr := p.readError(err, rec, len(header)); ferr != nil {
				return ferr
			} else if errors.As(err, &le) {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if rows++; rows > maxRows {
			p.add(line, "the file has more than %d rows", maxRows)
			break
		}
		e, bad := p.entry(rec, cols, line, seen)
		if bad || p.any() {
			continue
		}
		if err := each(e); err != nil {
			return fmt.Errorf("%s:%d: %w", filename, line, err)
		}
	}
	return p.result()
}

// readError records a csv or limit error as a problem; rec is what csv
// returned with it and fields the number of columns. Any other error is a
// failure to read the file and is returned.
func (p *problems) readError(err error, rec []string, fields int) error {
	var pe *csv.ParseError
	var le *limitError
	switch {
	case errors.As(err, &le):
		p.add(le.line, "%s", le.msg)
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
		p.add(pe.StartLine, "the record has %d fields, the header %d", len(rec), fields)
	case errors.As(err, &pe):
		where := ""
		if pe.StartLine != pe.Line {
			where = fmt.Sprintf(" (in the record starting on line %d)", pe.StartLine)
		}
		p.add(pe.Line, "column %d: %v%s", pe.Column, pe.Err, where)
	default:
		return fmt.Errorf("%s: %w", p.filename, err)
	}
	return nil
}
