package imapd

import (
	"strings"
	"time"

	"wardmail/imapd/wire"
)

// searchKey is one node of a SEARCH criteria tree (RFC 9051 6.4.4).
type searchKey struct {
	op    string // SAVED ("$", RFC 5182), ALL, NONE, RECENT, AND, OR, NOT, SEQ, UID, FLAG, NOFLAG, BEFORE, ON, SINCE, SENTBEFORE, SENTON, SENTSINCE, LARGER, SMALLER, FROM, TO, CC, BCC, SUBJECT, HEADER, BODY, TEXT, MODSEQ
	set   numSet
	flag  string
	day   int // yyyymmdd
	n     uint64
	field string // HEADER field name
	value string // lower-cased needle
	kids  []*searchKey
	saved map[uint32]bool // for SAVED, filled in before evaluation
	// index is, for BODY and TEXT, the UIDs whose bodies the word index
	// leaves possible (narrowText); nil when it was not asked.
	index map[uint32]bool
}

// searchNeeds says what evaluating a tree reads beyond the session's cache.
type searchNeeds struct{ row, body bool }

func (k *searchKey) needs(n *searchNeeds) {
	switch k.op {
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE", "LARGER", "SMALLER", "FROM", "TO", "CC", "BCC", "SUBJECT",
		"OLDER", "YOUNGER", "EMAILID", "THREADID":
		n.row = true
	case "HEADER", "BODY", "TEXT":
		n.row, n.body = true, true
	}
	for _, kid := range k.kids {
		kid.needs(n)
	}
}

const maxSearchDepth = 16

type searchParser struct {
	args []wire.Arg
	pos  int
	keys int
}

// parseSearchKeys parses the criteria (after RETURN and CHARSET) into one
// AND node.
func parseSearchKeys(args []wire.Arg) (*searchKey, error) {
	p := &searchParser{args: args}
	root := &searchKey{op: "AND"}
	for p.pos < len(p.args) {
		k, err := p.key(p.args, 0)
		if err != nil {
			return nil, err
		}
		root.kids = append(root.kids, k)
	}
	if len(root.kids) == 0 {
		return nil, bad("SEARCH needs criteria.")
	}
	return root, nil
}

// key parses one search key from args at p.pos; a parenthesised list is
// parsed with a sub-parser over its members.
func (p *searchParser) key(args []wire.Arg, depth int) (*searchKey, error) {
	if depth > maxSearchDepth {
		return nil, bad("Search criteria nested too deeply.")
	}
	p.keys++
	if p.keys > 1000 {
		return nil, bad("Too many search keys.")
	}
	a := args[p.pos]
	p.pos++
	if a.Kind == wire.List {
		sub := &searchParser{args: a.List, keys: p.keys}
		and := &searchKey{op: "AND"}
		for sub.pos < len(sub.args) {
			k, err := sub.key(sub.args, depth+1)
			if err != nil {
				return nil, err
			}
			and.kids = append(and.kids, k)
		}
		p.keys = sub.keys
		if len(and.kids) == 0 {
			return nil, bad("Empty parenthesised search criteria.")
		}
		return and, nil
	}
	if a.Kind != wire.Atom {
		return nil, bad("Expected a search key.")
	}
	str := func() (string, error) {
		if p.pos >= len(args) {
			return "", bad("%s needs a value.", strings.ToUpper(a.S))
		}
		s, ok := args[p.pos].AString()
		if !ok {
			return "", bad("%s needs a string.", strings.ToUpper(a.S))
		}
		p.pos++
		return s, nil
	}
	date := func() (int, error) {
		s, err := str()
		if err != nil {
			return 0, err
		}
		t, err := time.Parse("_2-Jan-2006", s)
		if err != nil {
			return 0, bad("Invalid date %q: use d-Mon-yyyy.", s)
		}
		return dayNumber(t), nil
	}
	num := func() (uint64, error) {
		if p.pos >= len(args) {
			return 0, bad("%s needs a number.", strings.ToUpper(a.S))
		}
		n, err := parseNumber(args[p.pos], 63)
		p.pos++
		return n, err
	}
	switch name := strings.ToUpper(a.S); name {
	case "ALL":
		return &searchKey{op: "ALL"}, nil
	// RFC 3501 6.4.4: RECENT, NEW (recent and unseen) and OLD (not
	// recent). An IMAP4rev2 session owns no \Recent, so nothing is.
	case "RECENT":
		return &searchKey{op: "RECENT"}, nil
	case "NEW":
		return &searchKey{op: "AND", kids: []*searchKey{{op: "RECENT"}, {op: "NOFLAG", flag: `\Seen`}}}, nil
	case "OLD":
		return &searchKey{op: "NOT", kids: []*searchKey{{op: "RECENT"}}}, nil
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN":
		return &searchKey{op: "FLAG", flag: `\` + name[:1] + strings.ToLower(name[1:])}, nil
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		return &searchKey{op: "NOFLAG", flag: `\` + name[2:3] + strings.ToLower(name[3:])}, nil
	case "KEYWORD", "UNKEYWORD":
		f, err := str()
		if err != nil {
			return nil, err
		}
		op := "FLAG"
		if name == "UNKEYWORD" {
			op = "NOFLAG"
		}
		return &searchKey{op: op, flag: f}, nil
	// RFC 8514 4.3: the save date, and SAVEDATESUPPORTED, true of every
	// message here since every mailbox keeps save dates.
	case "SAVEDATESUPPORTED":
		return &searchKey{op: "ALL"}, nil
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE":
		d, err := date()
		if err != nil {
			return nil, err
		}
		return &searchKey{op: name, day: d}, nil
	case "LARGER", "SMALLER":
		n, err := num()
		if err != nil {
			return nil, err
		}
		return &searchKey{op: name, n: n}, nil
	// RFC 5032 WITHIN: the internal date against an interval in seconds
	// (nz-number) before the moment of evaluation, so a search kept up to
	// date (RFC 5267) moves with the clock at each evaluation.
	case "OLDER", "YOUNGER":
		n, err := num()
		if err != nil || n == 0 || n > 1<<32-1 {
			return nil, bad("%s needs a number of seconds from 1.", name)
		}
		return &searchKey{op: name, n: n}, nil
	case "FROM", "TO", "CC", "BCC", "SUBJECT", "BODY", "TEXT":
		s, err := str()
		if err != nil {
			return nil, err
		}
		return &searchKey{op: name, value: strings.ToLower(s)}, nil
	// RFC 8474 6: the messages with an EMAILID or THREADID.
	case "EMAILID", "THREADID":
		id, err := str()
		if err != nil {
			return nil, err
		}
		return &searchKey{op: name, value: id}, nil
	case "HEADER":
		f, err := str()
		if err != nil {
			return nil, err
		}
		s, err := str()
		if err != nil {
			return nil, err
		}
		if f == "" || strings.ContainsAny(f, ": \t") {
			return nil, bad("Invalid header field name.")
		}
		return &searchKey{op: name, field: f, value: strings.ToLower(s)}, nil
	case "UID":
		s, err := str()
		if err != nil {
			return nil, err
		}
		set, err := parseNumSet(s)
		if err != nil {
			return nil, err
		}
		if set.isSaved() {
			return &searchKey{op: "SAVED"}, nil
		}
		return &searchKey{op: "UID", set: set}, nil
	case "NOT":
		if p.pos >= len(args) {
			return nil, bad("NOT needs a key.")
		}
		k, err := p.key(args, depth+1)
		if err != nil {
			return nil, err
		}
		return &searchKey{op: "NOT", kids: []*searchKey{k}}, nil
	case "OR":
		if p.pos+1 >= len(args) {
			return nil, bad("OR needs two keys.")
		}
		k1, err := p.key(args, depth+1)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(args) {
			return nil, bad("OR needs two keys.")
		}
		k2, err := p.key(args, depth+1)
		if err != nil {
			return nil, err
		}
		return &searchKey{op: "OR", kids: []*searchKey{k1, k2}}, nil
	case "MODSEQ":
		// MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162
		// 3.1.5); metadata entries are accepted and ignored: every flag
		// change bumps the one MODSEQ.
		if p.pos+2 < len(args) && args[p.pos].IsString() {
			p.pos += 2
		}
		n, err := num()
		if err != nil {
			return nil, bad("MODSEQ needs a number.")
		}
		return &searchKey{op: "MODSEQ", n: n}, nil
	default:
		if c := a.S[0]; c == '*' || c == '$' || (c >= '1' && c <= '9') {
			set, err := parseNumSet(a.S)
			if err != nil {
				return nil, err
			}
			if set.isSaved() {
				return &searchKey{op: "SAVED"}, nil
			}
			return &searchKey{op: "SEQ", set: set}, nil
		}
		return nil, bad("Unknown search key %q.", a.S)
	}
}

// dayNumber turns a date into yyyymmdd, for comparisons that disregard time
// and time zone (RFC 9051 6.4.4).
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}
