package wire

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parser turns one command, line by line and literal by literal, into
// arguments (RFC 9051 9: command, astring, literal, list).
type parser struct {
	r         *Reader
	line      []byte
	pos       int
	cmd       *Command
	args      int
	litBytes  int64 // literal bytes read so far in this command
	atLineEnd bool  // the error happened after the whole command was read
	// openBracket: a "[" of this command was not a section, so the
	// following ones are atom characters too.
	openBracket bool
}

func (p *parser) tag() string {
	if p.cmd == nil || p.cmd.Tag == "" {
		return "*"
	}
	return p.cmd.Tag
}

func (p *parser) bad(format string, a ...any) error {
	return &Error{Tag: p.tag(), Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) eol() bool { return p.pos >= len(p.line) }

func (p *parser) command() (*Command, error) {
	p.cmd = &Command{}
	tag := p.atom(isTagChar)
	if tag == "" {
		return nil, p.bad("Missing or invalid command tag.")
	}
	p.cmd.Tag = tag
	if !p.sp() {
		return nil, p.bad("Missing command name.")
	}
	name := p.atom(isAlnum)
	if name == "" {
		return nil, p.bad("Missing or invalid command name.")
	}
	p.cmd.Name = strings.ToUpper(name)
	if p.cmd.Name == "UID" {
		if !p.sp() {
			return nil, p.bad("UID needs a command.")
		}
		sub := p.atom(isAlnum)
		if sub == "" {
			return nil, p.bad("UID needs a command.")
		}
		p.cmd.UID = true
		p.cmd.Name = strings.ToUpper(sub)
	}
	if p.eol() {
		return p.cmd, nil
	}
	if !p.sp() {
		return nil, p.bad("Unexpected character after the command name.")
	}
	args, err := p.list(0, false)
	if err != nil {
		return nil, err
	}
	p.cmd.Args = args
	return p.cmd, nil
}

func (p *parser) sp() bool {
	if p.pos < len(p.line) && p.line[p.pos] == ' ' {
		p.pos++
		return true
	}
	return false
}

// list reads arguments separated by single spaces up to the end of the line
// (top level) or to the closing parenthesis (nested).
func (p *parser) list(depth int, nested bool) ([]Arg, error) {
	var out []Arg
	for {
		if p.eol() {
			if nested {
				return nil, p.bad("Missing closing parenthesis.")
			}
			return out, nil
		}
		if nested && p.line[p.pos] == ')' {
			// After a literal the line starts afresh: nothing precedes ")".
			if len(out) > 0 && p.pos > 0 && p.line[p.pos-1] == ' ' {
				return nil, p.bad("Space before closing parenthesis.")
			}
			p.pos++
			return out, nil
		}
		if len(out) > 0 {
			if !p.sp() {
				if p.line[p.pos] >= 0x80 {
					return nil, p.bad("8-bit text must be sent as a quoted string or a literal.")
				}
				return nil, p.bad("Expected a space between arguments.")
			}
			if p.eol() {
				return nil, p.bad("Trailing space.")
			}
		}
		p.args++
		if p.args > p.r.lim.MaxArgs {
			return nil, p.bad("Too many arguments.")
		}
		a, err := p.arg(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
}

func (p *parser) arg(depth int) (Arg, error) {
	c := p.line[p.pos]
	switch {
	case c == '(':
		if depth+1 > p.r.lim.MaxDepth {
			return Arg{}, p.bad("Lists nested too deeply.")
		}
		p.pos++
		l, err := p.list(depth+1, true)
		if err != nil {
			return Arg{}, err
		}
		return Arg{Kind: List, List: l}, nil
	case c == '"':
		s, err := p.quoted()
		return Arg{Kind: Quoted, S: s}, err
	case c == '{' || (c == '~' && p.pos+1 < len(p.line) && p.line[p.pos+1] == '{'):
		b, err := p.literal()
		return Arg{Kind: Literal, B: b, Literal8: c == '~'}, err
	case c == ')':
		return Arg{}, p.bad("Unexpected closing parenthesis.")
	}
	s, err := p.atomArg(depth)
	if err != nil {
		return Arg{}, err
	}
	if s == "" {
		if c >= 0x80 {
			return Arg{}, p.bad("8-bit text must be sent as a quoted string or a literal.")
		}
		return Arg{}, p.bad("Unexpected character %q.", c)
	}
	return Arg{Kind: Atom, S: s}, nil
}

// atomArg reads an atom that may contain a bracketed section with spaces,
// lists and quoted strings inside (BODY[HEADER.FIELDS (From "To")]<0.10>).
// A "[" that no "]" closes is an ordinary ATOM-CHAR (RFC 3501 9 excludes
// only resp-specials "]"): "SELECT a[b" names the mailbox "a[b".
func (p *parser) atomArg(depth int) (string, error) {
	start := p.pos
	for p.pos < len(p.line) {
		c := p.line[p.pos]
		if c == '[' && !p.openBracket {
			open := p.pos
			closed, err := p.bracket(depth + 1)
			if err != nil {
				return "", err
			}
			if !closed {
				// No later "[" of the command is a section either, and
				// not looking again keeps the line's scan linear.
				p.openBracket = true
				p.pos = open + 1
			}
			continue
		}
		if !isAtomChar(c) {
			break
		}
		p.pos++
	}
	return string(p.line[start:p.pos]), nil
}

// bracket skips a [...] group, which may hold spaces, nested lists and
// quoted strings but not literals. It reports false, with the position
// anywhere, when the group is not closed on this line or holds what a
// section cannot; the error is for nesting past the limit only.
func (p *parser) bracket(depth int) (bool, error) {
	if depth > p.r.lim.MaxDepth {
		return false, p.bad("Brackets nested too deeply.")
	}
	p.pos++ // '['
	parens := 0
	for p.pos < len(p.line) {
		switch c := p.line[p.pos]; {
		case c == ']' && parens == 0:
			p.pos++
			return true, nil
		case c == '(':
			parens++
			if depth+parens > p.r.lim.MaxDepth {
				return false, p.bad("Lists nested too deeply.")
			}
			p.pos++
		case c == ')':
			if parens == 0 {
				return false, nil
			}
			parens--
			p.pos++
		case c == '"':
			if !p.skipQuoted() {
				return false, nil
			}
		case c == '{' || c < 0x20 || c >= 0x7f:
			return false, nil
		default:
			p.pos++
		}
	}
	return false, nil
}

// skipQuoted moves past a quoted string, reporting false when it is not
// well formed.
func (p *parser) skipQuoted() bool {
	_, err := p.quoted()
	return err == nil
}

func (p *parser) quoted() (string, error) {
	p.pos++ // opening quote
	var sb strings.Builder
	for p.pos < len(p.line) {
		c := p.line[p.pos]
		switch c {
		case '"':
			p.pos++
			return sb.String(), nil
		case '\\':
			if p.pos+1 >= len(p.line) {
				return "", p.bad("Unterminated quoted string.")
			}
			n := p.line[p.pos+1]
			if n != '"' && n != '\\' {
				return "", p.bad("Invalid escape in quoted string.")
			}
			sb.WriteByte(n)
			p.pos += 2
		case 0, '\r':
			return "", p.bad("Invalid character in quoted string.")
		default:
			sb.WriteByte(c)
			p.pos++
		}
	}
	return "", p.bad("Unterminated quoted string.")
}

// literal reads {n}, {n+} or ~{n} at the end of a line, then the n bytes and
// the next line, which continues the command.
func (p *parser) literal() ([]byte, error) {
	if p.line[p.pos] == '~' {
		p.pos++
	}
	end := bytes.IndexByte(p.line[p.pos:], '}')
	if end < 0 || p.pos+end+1 != len(p.line) {
		return nil, p.bad("A literal must end its line.")
	}
	spec := string(p.line[p.pos+1 : p.pos+end])
	nonSync := strings.HasSuffix(spec, "+")
	spec = strings.TrimSuffix(spec, "+")
	n, err := strconv.ParseInt(spec, 10, 64)
	if err != nil || n < 0 || len(spec) == 0 || spec[0] == '+' || spec[0] == '-' {
		return nil, p.bad("Invalid literal size.")
	}
	p.pos = len(p.line)
	p.atLineEnd = true // nothing left to skip on this line
	limit := int64(p.r.lim.MaxLine)
	if p.r.LiteralLimit != nil {
		limit = p.r.LiteralLimit(p.cmd.Name)
	}
	if n > limit {
		return nil, &Error{Tag: p.tag(), Code: "TOOBIG", No: true, Fatal: nonSync,
			Msg: fmt.Sprintf("Literal of %d bytes is over the limit of %d bytes.", n, limit)}
	}
	if p.r.CommandLimit != nil {
		if all := p.r.CommandLimit(p.cmd.Name); p.litBytes+n > all {
			return nil, &Error{Tag: p.tag(), Code: "TOOBIG", No: true, Fatal: nonSync,
				Msg: fmt.Sprintf("The command's literals are over the limit of %d bytes in all.", all)}
		}
	}
	p.litBytes += n
	if !nonSync && p.r.Continue != nil {
		if err := p.r.Continue(); err != nil {
			return nil, err
		}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(p.r.br, b); err != nil {
		return nil, err
	}
	next, err := p.r.readLine()
	if err != nil {
		return nil, err
	}
	p.line, p.pos, p.atLineEnd = next, 0, false
	return b, nil
}

// skipRest discards the rest of a refused command: the current line and,
// when it ends in a non-synchronising literal, that literal and the lines
// after it. A synchronising literal ends the command: the client waits for a
// continuation it will not get.
func (p *parser) skipRest() error {
	line := p.line
	for {
		m := literalAtEnd(line)
		if m < 0 {
			return nil
		}
		limit := int64(p.r.lim.MaxLine)
		if p.r.LiteralLimit != nil {
			limit = p.r.LiteralLimit("")
		}
		if int64(m) > limit {
			return &Error{Tag: p.tag(), Code: "TOOBIG", Msg: "Literal over the limit.", Fatal: true}
		}
		if _, err := io.CopyN(io.Discard, p.r.br, int64(m)); err != nil {
			return err
		}
		next, err := p.r.readLine()
		if err != nil {
			return err
		}
		line = next
	}
}

// literalAtEnd returns n when line ends in {n+}, and -1 otherwise.
func literalAtEnd(line []byte) int {
	if len(line) < 4 || !bytes.HasSuffix(line, []byte("+}")) {
		return -1
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return -1
	}
	n, err := strconv.Atoi(string(line[open+1 : len(line)-2]))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// atom reads the longest run of bytes accepted by ok.
func (p *parser) atom(ok func(byte) bool) string {
	start := p.pos
	for p.pos < len(p.line) && ok(p.line[p.pos]) {
		p.pos++
	}
	return string(p.line[start:p.pos])
}

// isAtomChar accepts ATOM-CHAR plus what the grammar lets appear in atom
// position: list-wildcards (* %), resp-specials (]) and the backslash of
// flags.
func isAtomChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '"':
		return false
	}
	return true
}

// isTagChar accepts tag characters (RFC 9051 9: ASTRING-CHAR except "+").
func isTagChar(c byte) bool {
	return isAtomChar(c) && c != '+' && c != '*' && c != '%' && c != '\\'
}

func isAlnum(c byte) bool {
	return ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}
