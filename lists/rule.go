// Package lists holds what distribution lists mean, apart from how they are
// stored: the rule language of dynamic lists, scopes, and the posting
// decision (who may post, what is held, what is refused).
//
// The rule language is deliberately small:
//
//	rule    = or
//	or      = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "*" | "(" or ")" | attr op value | attr "in" "(" value { "," value } ")"
//	attr    = "org" | "role" | "site"
//	op      = "=" | "!="
//	value   = a double-quoted string; \" and \\ escape
//
// Comparisons ignore case and surrounding space. "*" is everyone. A rule is
// always evaluated inside its list's scope (see Scope): whatever the rule says,
// it never matches anyone outside the scope.
package lists

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Attrs are the directory attributes a rule can test.
type Attrs struct {
	Org, Role, Site string
}

func (a Attrs) get(attr string) string {
	switch attr {
	case "org":
		return a.Org
	case "role":
		return a.Role
	default:
		return a.Site
	}
}

// Rule is a parsed dynamic-list rule.
type Rule struct {
	src  string
	root node
}

// String returns the rule as written.
func (r *Rule) String() string { return r.src }

// Match reports whether a person's attributes satisfy the rule. It does not
// know the scope: callers test the scope first (Scope.Contains).
func (r *Rule) Match(a Attrs) bool { return r.root.eval(a) }

// Attrs returns the attributes the rule tests with "=" or "in", and their
// values, so callers can warn about values nobody has (a mistyped
// organisation or role).
func (r *Rule) Values() map[string][]string {
	out := map[string][]string{}
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case *cmpNode:
			out[n.attr] = append(out[n.attr], n.values...)
		case *notNode:
			walk(n.x)
		case *binNode:
			walk(n.l)
			walk(n.r)
		}
	}
	walk(r.root)
	return out
}

// MatchesEveryone reports whether the rule is "*" alone or equivalent at the
// top (an "or" with "*"), which callers may want to confirm explicitly.
func (r *Rule) MatchesEveryone() bool {
	var all func(n node) bool
	all = func(n node) bool {
		switch n := n.(type) {
		case allNode:
			return true
		case *binNode:
			if n.or {
				return all(n.l) || all(n.r)
			}
			return all(n.l) && all(n.r)
		}
		return false
	}
	return all(r.root)
}

type node interface{ eval(Attrs) bool }

type allNode struct{}

func (allNode) eval(Attrs) bool { return true }

type cmpNode struct {
	attr   string
	negate bool
	values []string // normalised
}

func (n *cmpNode) eval(a Attrs) bool {
	v := normalise(a.get(n.attr))
	for _, w := range n.values {
		if v == w {
			return !n.negate
		}
	}
	return n.negate
}

type notNode struct{ x node }

func (n *notNode) eval(a Attrs) bool { return !n.x.eval(a) }

type binNode struct {
	or   bool
	l, r node
}

func (n *binNode) eval(a Attrs) bool {
	if n.or {
		return n.l.eval(a) || n.r.eval(a)
	}
	return n.l.eval(a) && n.r.eval(a)
}

func normalise(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Limits on what a rule may be.
const (
	MaxRuleBytes = 4096
	maxDepth     = 32
	maxValues    = 1000
)

// RuleError is a parse error with the position (1-based column, in
// characters) where it was found.
type RuleError struct {
	Col int
	Msg string
}

func (e *RuleError) Error() string { return fmt.Sprintf("rule, column %d: %s", e.Col, e.Msg) }

// ParseRule parses a rule.
func ParseRule(src string) (*Rule, error) {
	if len(src) > MaxRuleBytes {
		return nil, &RuleError{1, fmt.Sprintf("the rule is %d bytes; the limit is %d", len(src), MaxRuleBytes)}
	}
	if !utf8.ValidString(src) {
		return nil, &RuleError{1, "the rule is not valid UTF-8"}
	}
	p := &parser{src: src}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if len(p.toks) == 1 {
		return nil, &RuleError{1, `the rule is empty: write * for everyone in the scope, or a test such as role = "Nurse"`}
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, fmt.Sprintf("unexpected %s: expected and, or, or the end of the rule", t))
	}
	return &Rule{src: strings.TrimSpace(src), root: n}, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tStar
	tLParen
	tRParen
	tComma
	tEq
	tNe
	tWord
	tString
)

type token struct {
	kind tokKind
	text string // the word, or the unquoted string
	col  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of rule"
	case tString:
		return fmt.Sprintf("%q", t.text)
	case tWord:
		return fmt.Sprintf("word %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) lex() error {
	s := p.src
	colAt := func(i int) int { return utf8.RuneCountInString(s[:i]) + 1 }
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		start := colAt(i)
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i += size
		case r == '*' || r == '(' || r == ')' || r == ',' || r == '=':
			kind := map[rune]tokKind{'*': tStar, '(': tLParen, ')': tRParen, ',': tComma, '=': tEq}[r]
			p.toks = append(p.toks, token{kind, string(r), start})
			i++
		case r == '!':
			if i+1 < len(s) && s[i+1] == '=' {
				p.toks = append(p.toks, token{tNe, "!=", start})
				i += 2
				continue
			}
			return &RuleError{start, `"!" must be followed by "=" (write != for "is not")`}
		case r == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				r, size := utf8.DecodeRuneInString(s[i:])
				i += size
				if r == '"' {
					closed = true
					break
				}
				b.WriteRune(r)
			}
			if !closed {
				return &RuleError{start, "a quoted value is not closed: add the closing \""}
			}
			p.toks = append(p.toks, token{tString, b.String(), start})
		case r == '\'':
			return &RuleError{start, `values are written in double quotes, as in org = "Leeds Teaching Hospitals NHS Trust"`}
		case isWordRune(r):
			j := i
			for j < len(s) && isWordRune(rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, token{tWord, strings.ToLower(s[i:j]), start})
			i = j
		default:
			return &RuleError{start, fmt.Sprintf("unexpected character %q", r)}
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, col: colAt(len(s)) + 0})
	return nil
}

func isWordRune(r rune) bool {
	return r == '_' || r == '-' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, msg string) error { return &RuleError{t.col, msg} }

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tWord && t.text == w
}

func (p *parser) or(depth int) (node, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		p.next()
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &binNode{or: true, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and(depth int) (node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &binNode{l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.peek(), fmt.Sprintf("the rule nests deeper than %d levels", maxDepth))
	}
	if p.isWord("not") {
		p.next()
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	}
	return p.primary(depth)
}

func (p *parser) primary(depth int) (node, error) {
	t := p.next()
	switch t.kind {
	case tStar:
		return allNode{}, nil
	case tLParen:
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(c, fmt.Sprintf("expected ) to close the ( at column %d, found %s", t.col, c))
		}
		return n, nil
	case tWord:
		switch t.text {
		case "org", "role", "site":
		case "organisation", "organization":
			return nil, p.errAt(t, fmt.Sprintf("unknown attribute %q: write org", t.text))
		default:
			return nil, p.errAt(t, fmt.Sprintf("unknown attribute %q: a rule can test org, role and site", t.text))
		}
		op := p.next()
		switch {
		case op.kind == tEq || op.kind == tNe:
			v := p.next()
			if v.kind != tString {
				return nil, p.errAt(v, fmt.Sprintf("expected a quoted value after %s %s, found %s", t.text, op.text, v))
			}
			return &cmpNode{attr: t.text, negate: op.kind == tNe, values: []string{normalise(v.text)}}, nil
		case op.kind == tWord && op.text == "in":
			open := p.next()
			if open.kind != tLParen {
				return nil, p.errAt(open, fmt.Sprintf(`expected ( after "in", found %s`, open))
			}
			n := &cmpNode{attr: t.text}
			for {
				v := p.next()
				if v.kind != tString {
					return nil, p.errAt(v, fmt.Sprintf("expected a quoted value in the list after %s in, found %s", t.text, v))
				}
				if len(n.values) >= maxValues {
					return nil, p.errAt(v, fmt.Sprintf("more than %d values in one list", maxValues))
				}
				n.values = append(n.values, normalise(v.text))
				sep := p.next()
				if sep.kind == tRParen {
					return n, nil
				}
				if sep.kind != tComma {
					return nil, p.errAt(sep, fmt.Sprintf("expected , or ) in the list of values, found %s", sep))
				}
			}
		default:
			return nil, p.errAt(op, fmt.Sprintf(`expected =, != or "in" after %s, found %s`, t.text, op))
		}
	case tEOF:
		return nil, p.errAt(t, "the rule ends too early: expected *, ( or a test such as role = \"Nurse\"")
	}
	return nil, p.errAt(t, fmt.Sprintf("unexpected %s: expected *, ( or a test such as role = \"Nurse\"", t))
}
