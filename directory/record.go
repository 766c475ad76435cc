package directory

import (
	"fmt"
	"strings"
)

// header maps each column name to its index in the records (-1 when absent)
// and records a problem for every column that is unknown, repeated, unnamed
// or missing.
func (p *problems) header(names []string, line int) [numColumns]int {
	var cols [numColumns]int
	for i := range cols {
		cols[i] = -1
	}
	for i, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		c := indexOf(columnNames[:], name)
		switch {
		case name == "":
			p.add(line, "column %d of the header has no name", i+1)
		case c < 0:
			p.add(line, "unknown column %s; the columns are %s", quote(name), strings.Join(columnNames[:], ", "))
		case cols[c] >= 0:
			p.add(line, "column %q appears twice in the header", name)
		default:
			cols[c] = i
		}
	}
	for c := range requiredColumns {
		if cols[c] < 0 {
			p.add(line, "the header has no %q column; email, name and org are required", columnNames[c])
		}
	}
	return cols
}

// entry validates one record. It records a problem listing everything wrong
// with the record, and reports whether there was one. A valid address is
// remembered in seen even when the record is bad, so that a later duplicate of
// it is reported too.
func (p *problems) entry(rec []string, cols [numColumns]int, line int, seen map[string]int) (Entry, bool) {
	field := func(c int) string {
		if cols[c] < 0 {
			return ""
		}
		return rec[cols[c]]
	}
	var why []string
	bad := func(format string, args ...any) { why = append(why, fmt.Sprintf(format, args...)) }
	e := Entry{Line: line, Password: field(colPassword)}

	raw := field(colEmail)
	if email, err := ValidateAddress(raw); err != nil {
		bad("email %s: %s", quote(strings.TrimSpace(raw)), strings.TrimPrefix(err.Error(), ErrInvalidAddress.Error()+": "))
	} else if first, dup := seen[email]; dup {
		bad("email %s is a duplicate of line %d", quote(email), first)
	} else {
		// A copy, so that seen does not keep the whole record's memory alive.
		e.Email = strings.Clone(email)
		seen[e.Email] = line
	}

	var err error
	for _, f := range []struct {
		col   int
		dst   *string
		field Field
	}{
		{colName, &e.Name, FieldName},
		{colOrg, &e.Org, FieldOrg},
		{colRole, &e.Role, FieldRole},
		{colSite, &e.Site, FieldSite},
	} {
		if *f.dst, err = CheckText(f.field, field(f.col)); err != nil {
			bad("%v", err)
		}
	}
	if err := checkPassword(e.Password); err != nil {
		// Never the password itself: the message may be logged.
		bad("password: %v", err)
	}
	if why != nil {
		p.add(line, "%s", strings.Join(why, "; "))
		return Entry{}, true
	}
	return e, false
}

// indexOf returns the index of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
