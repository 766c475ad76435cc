package store

import (
	"fmt"
	"strconv"
	"strings"
)

// The rolling-upgrade rule (docs/upgrades.md): while nodes of two releases
// share a database, a migration step only adds (tables, columns with a
// default or nullable, indexes); what removes or changes something the
// previous release may use is a contract step, marked as such, that runs in
// a later release once no node that uses it is alive. This file holds the
// two parsers: a step's marker, and the check that an unmarked step only
// adds.

// StepRule is what a migration step's first line declares.
type StepRule struct {
	// Contract: the step removes or changes something (drops a column,
	// renames, retypes, tightens a constraint).
	Contract bool
	// After is, for a contract step, the schema step from which no node
	// uses what it removes: nodes knowing fewer steps must be gone before
	// it runs, and may not start on the database after it.
	After int
}

// contractMarker begins a contract step: "-- wardmail:contract after=N".
const contractMarker = "-- wardmail:contract"

// maxStep bounds the step numbers a marker may name.
const maxStep = 1 << 20

// ParseStepRule reads a step's marker. A step with none is an expand step;
// a line beginning "-- wardmail:" that is not a well-formed marker is an
// error, so a typo never turns a contract step into an unchecked one.
func ParseStepRule(step string) (StepRule, error) {
	for _, line := range strings.Split(step, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "-- wardmail:") {
			return StepRule{}, nil
		}
		rest, ok := strings.CutPrefix(line, contractMarker+" after=")
		if !ok {
			return StepRule{}, fmt.Errorf("store: unknown migration marker %q (want %q)", line, contractMarker+" after=N")
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > maxStep {
			return StepRule{}, fmt.Errorf("store: migration marker %q: after= wants a schema step from 1 to %d", line, maxStep)
		}
		return StepRule{Contract: true, After: n}, nil
	}
	return StepRule{}, nil
}

// ExpandOnly reports, for a step that is not marked as a contract step,
// the first statement that would break a node of the previous release
// still running on the database: a DROP, a RENAME, a TRUNCATE, a column's
// type changed, NOT NULL set on a column or added without a default, a
// constraint or unique index added to a table this step did not create.
// It returns "" when the step only adds.
func ExpandOnly(step string) string {
	created := map[string]bool{}
	for _, st := range sqlStatements(step) {
		if len(st) == 0 {
			continue
		}
		show := func(n int) string { return strings.Join(st[:min(n, len(st))], " ") }
		has := func(w string) bool {
			for _, x := range st {
				if x == w {
					return true
				}
			}
			return false
		}
		switch st[0] {
		case "DROP", "TRUNCATE":
			return show(3)
		case "CREATE":
			if i := indexOf(st, "TABLE"); i > 0 && i < len(st)-1 {
				created[tableName(st[i+1:])] = true
			}
			if len(st) > 1 && st[1] == "UNIQUE" {
				if on := indexOf(st, "ON"); on > 0 && on < len(st)-1 && !created[tableName(st[on+1:])] {
					return "CREATE UNIQUE INDEX on an existing table"
				}
			}
		case "ALTER":
			switch {
			case has("RENAME"):
				return show(3) + " ... RENAME"
			case has("DROP"):
				return show(3) + " ... DROP"
			case indexOf(st[1:], "ALTER") >= 0 && has("TYPE"):
				return show(3) + " ... TYPE (a column's type changed)"
			case indexOf(st[1:], "ALTER") >= 0 && has("SET") && has("NOT") && has("NULL"):
				return show(3) + " ... SET NOT NULL"
			}
			if len(st) > 2 && st[1] == "TABLE" && !created[tableName(st[2:])] {
				for _, w := range []string{"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "REFERENCES"} {
					if has(w) {
						return show(3) + " ... " + w + " (a constraint on existing rows)"
					}
				}
				if has("ADD") && has("NOT") && has("NULL") && !has("DEFAULT") {
					return show(3) + " ... NOT NULL without a DEFAULT"
				}
			}
		}
	}
	return ""
}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if x == w {
			return i
		}
	}
	return -1
}

// tableName is the name after CREATE TABLE or ON, past IF NOT EXISTS and
// ONLY, without a schema, as the tokenizer spelled it.
func tableName(words []string) string {
	for len(words) > 0 && (words[0] == "IF" || words[0] == "NOT" || words[0] == "EXISTS" || words[0] == "ONLY") {
		words = words[1:]
	}
	if len(words) == 0 {
		return ""
	}
	name := words[0]
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// sqlStatements splits SQL into statements of upper-cased words. Comments
// and string literals are left out (a DROP inside a literal is data);
// quoted names become words of their own; punctuation separates words.
func sqlStatements(sql string) [][]string {
	var out [][]string
	var cur []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			cur = append(cur, strings.ToUpper(word.String()))
			word.Reset()
		}
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			flush()
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			flush()
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += 2 + end + 1
			}
		case c == '\'':
			flush()
			for i++; i < len(sql); i++ {
				if sql[i] == '\'' {
					if i+1 < len(sql) && sql[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case c == '$':
			// PostgreSQL's dollar quoting: $tag$ ... $tag$ is a literal.
			flush()
			end := strings.IndexByte(sql[i+1:], '$')
			if end < 0 {
				continue
			}
			tag := sql[i : i+end+2]
			if !validDollarTag(tag) {
				continue
			}
			closing := strings.Index(sql[i+len(tag):], tag)
			if closing < 0 {
				i = len(sql)
			} else {
				i += len(tag) + closing + len(tag) - 1
			}
		case c == '"':
			flush()
			end := strings.IndexByte(sql[i+1:], '"')
			if end < 0 {
				i = len(sql)
				continue
			}
			word.WriteString(sql[i+1 : i+1+end])
			i += end + 1
			flush()
		case c == ';':
			flush()
			out = append(out, cur)
			cur = nil
		case c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			word.WriteByte(c)
		default:
			flush()
		}
	}
	flush()
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// validDollarTag reports whether tag is $$ or $name$.
func validDollarTag(tag string) bool {
	if len(tag) < 2 || tag[0] != '$' || tag[len(tag)-1] != '$' {
		return false
	}
	for i := 1; i < len(tag)-1; i++ {
		c := tag[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 1 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
