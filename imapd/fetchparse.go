package imapd

import (
	"strconv"
	"strings"

	"wardmail/imapd/wire"
)

type itemKind uint8

const (
	itemUID itemKind = iota
	itemFlags
	itemInternalDate
	itemSize
	itemEnvelope
	itemBody          // BODY: the non-extensible structure
	itemBodyStructure // BODYSTRUCTURE
	itemModSeq
	itemSection    // BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT
	itemBinary     // BINARY[...], BINARY.PEEK[...]
	itemBinarySize // BINARY.SIZE[...]
	itemSaveDate   // SAVEDATE (RFC 8514 4.2)
	itemEmailID    // EMAILID (RFC 8474 5.1)
	itemThreadID   // THREADID (RFC 8474 5.2)
	itemPreview    // PREVIEW (RFC 8970 3)
)

// fetchItem is one FETCH data item (RFC 9051 6.4.5).
type fetchItem struct {
	kind   itemKind
	peek   bool   // does not set \Seen
	name   string // the name in the response, e.g. "BODY[HEADER]" or "RFC822.TEXT"
	part   []int  // section part path
	spec   string // "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"
	fields []string
	// partial: <start.count>
	partial      bool
	start, count int64
}

func (it fetchItem) needsBody() bool {
	return it.kind == itemSection || it.kind == itemBinary || it.kind == itemBinarySize || it.kind == itemPreview
}

func (it fetchItem) needsRow() bool {
	switch it.kind {
	case itemUID, itemFlags, itemModSeq:
		return false
	}
	return true
}

// fetchOptions are FETCH modifiers (RFC 7162 3.1.4, 3.2.6).
type fetchOptions struct {
	changedSince uint64
	vanished     bool
}

const maxFetchItems = 100

// parseFetchItems parses the FETCH attribute list or a single item/macro.
func parseFetchItems(a wire.Arg) ([]fetchItem, error) {
	var atoms []wire.Arg
	switch a.Kind {
	case wire.Atom:
		switch strings.ToUpper(a.S) {
		case "ALL":
			return macro("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"), nil
		case "FAST":
			return macro("FLAGS", "INTERNALDATE", "RFC822.SIZE"), nil
		case "FULL":
			return macro("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"), nil
		}
		atoms = []wire.Arg{a}
	case wire.List:
		atoms = a.List
		if len(atoms) == 0 {
			return nil, bad("Empty FETCH item list.")
		}
	default:
		return nil, bad("Invalid FETCH items.")
	}
	if len(atoms) > maxFetchItems {
		return nil, bad("Too many FETCH items.")
	}
	items := make([]fetchItem, 0, len(atoms))
	for k, at := range atoms {
		if at.Kind == wire.List && k > 0 && atoms[k-1].IsAtom("PREVIEW") {
			// PREVIEW's modifiers (RFC 8970 3.1): LAZY lets the server
			// answer NIL when the preview is not at hand; it always is.
			for _, m := range at.List {
				if !m.IsAtom("LAZY") {
					return nil, bad("Unknown PREVIEW modifier.")
				}
			}
			continue
		}
		if at.Kind != wire.Atom {
			return nil, bad("Invalid FETCH item.")
		}
		it, err := parseFetchItem(at.S)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func macro(names ...string) []fetchItem {
	out := make([]fetchItem, len(names))
	for i, n := range names {
		out[i], _ = parseFetchItem(n)
	}
	return out
}

func parseFetchItem(s string) (fetchItem, error) {
	name, rest, hasSection := strings.Cut(s, "[")
	upper := strings.ToUpper(name)
	if !hasSection {
		switch upper {
		case "UID":
			return fetchItem{kind: itemUID}, nil
		case "FLAGS":
			return fetchItem{kind: itemFlags}, nil
		case "INTERNALDATE":
			return fetchItem{kind: itemInternalDate}, nil
		case "SAVEDATE":
			return fetchItem{kind: itemSaveDate}, nil
		case "EMAILID":
			return fetchItem{kind: itemEmailID}, nil
		case "THREADID":
			return fetchItem{kind: itemThreadID}, nil
		case "PREVIEW":
			// Reading the preview does not mark the message read (RFC
			// 8970 3).
			return fetchItem{kind: itemPreview, peek: true}, nil
		case "RFC822.SIZE":
			return fetchItem{kind: itemSize}, nil
		case "ENVELOPE":
			return fetchItem{kind: itemEnvelope}, nil
		case "BODY":
			return fetchItem{kind: itemBody}, nil
		case "BODYSTRUCTURE":
			return fetchItem{kind: itemBodyStructure}, nil
		case "MODSEQ":
			return fetchItem{kind: itemModSeq}, nil
		case "RFC822":
			return fetchItem{kind: itemSection, name: "RFC822"}, nil
		case "RFC822.HEADER":
			return fetchItem{kind: itemSection, name: "RFC822.HEADER", peek: true, spec: "HEADER"}, nil
		case "RFC822.TEXT":
			return fetchItem{kind: itemSection, name: "RFC822.TEXT", spec: "TEXT"}, nil
		}
		return fetchItem{}, bad("Unknown FETCH item %q.", s)
	}
	var it fetchItem
	switch upper {
	case "BODY":
		it.kind = itemSection
	case "BODY.PEEK":
		it.kind, it.peek = itemSection, true
	case "BINARY":
		it.kind = itemBinary
	case "BINARY.PEEK":
		it.kind, it.peek = itemBinary, true
	case "BINARY.SIZE":
		it.kind, it.peek = itemBinarySize, true
	default:
		return fetchItem{}, bad("Unknown FETCH item %q.", s)
	}
	end := strings.LastIndexByte(rest, ']')
	if end < 0 {
		return fetchItem{}, bad("Missing ] in %q.", s)
	}
	section, after := rest[:end], rest[end+1:]
	if err := it.parseSection(section); err != nil {
		return fetchItem{}, err
	}
	if it.kind != itemSection && it.spec != "" {
		return fetchItem{}, bad("BINARY takes only a part number (RFC 3516).")
	}
	if after != "" {
		if it.kind == itemBinarySize {
			return fetchItem{}, bad("BINARY.SIZE takes no partial range.")
		}
		if err := it.parsePartial(after); err != nil {
			return fetchItem{}, err
		}
	}
	prefix := "BODY"
	if it.kind == itemBinary {
		prefix = "BINARY"
	} else if it.kind == itemBinarySize {
		prefix = "BINARY.SIZE"
	}
	it.name = prefix + "[" + it.sectionString() + "]"
	if it.partial {
		it.name += "<" + strconv.FormatInt(it.start, 10) + ">"
	}
	return it, nil
}

// parseSection parses "1.2.HEADER.FIELDS (From To)" (RFC 9051 9 "section-spec").
func (it *fetchItem) parseSection(s string) error {
	if s == "" {
		return nil
	}
	spec := s
	for spec != "" && spec[0] >= '0' && spec[0] <= '9' {
		num, rest, _ := strings.Cut(spec, ".")
		n, err := strconv.ParseUint(num, 10, 31)
		if err != nil || n == 0 || num[0] == '0' {
			return bad("Invalid section part %q.", num)
		}
		if len(it.part) >= 100 {
			return bad("Section part path too long.")
		}
		it.part = append(it.part, int(n))
		spec = rest
		if rest == "" && strings.HasSuffix(s, ".") {
			return bad("Invalid section %q.", s)
		}
	}
	if spec == "" {
		return nil
	}
	word, list, hasList := strings.Cut(spec, " ")
	switch w := strings.ToUpper(word); w {
	case "HEADER", "TEXT":
		if hasList {
			return bad("Invalid section %q.", s)
		}
		it.spec = w
	case "MIME":
		if hasList || len(it.part) == 0 {
			return bad("MIME needs a part number.")
		}
		it.spec = w
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		if !hasList {
			return bad("%s needs a list of field names.", w)
		}
		fields, err := parseFieldList(list)
		if err != nil {
			return err
		}
		it.spec, it.fields = w, fields
	default:
		return bad("Invalid section %q.", s)
	}
	return nil
}

// parseFieldList parses "(From To "X-Y")".
func parseFieldList(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, bad("Expected a parenthesised list of header field names.")
	}
	s = s[1 : len(s)-1]
	var out []string
	for s != "" {
		var f string
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, bad("Unterminated quoted field name.")
			}
			f, s = s[1:1+end], s[2+end:]
		} else {
			f, s, _ = strings.Cut(s, " ")
			if strings.ContainsAny(f, `()"\`) {
				return nil, bad("Invalid header field name %q.", f)
			}
		}
		if f == "" || strings.ContainsAny(f, ": ") {
			return nil, bad("Invalid header field name %q.", f)
		}
		out = append(out, f)
		s = strings.TrimPrefix(s, " ")
	}
	if len(out) == 0 {
		return nil, bad("Empty header field list.")
	}
	return out, nil
}

func (it *fetchItem) parsePartial(s string) error {
	if len(s) < 5 || s[0] != '<' || s[len(s)-1] != '>' {
		return bad("Invalid partial range %q.", s)
	}
	a, b, ok := strings.Cut(s[1:len(s)-1], ".")
	start, err1 := strconv.ParseUint(a, 10, 32)
	count, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil || count == 0 {
		return bad("Invalid partial range %q.", s)
	}
	it.partial, it.start, it.count = true, int64(start), int64(count)
	return nil
}

func (it *fetchItem) sectionString() string {
	var sb strings.Builder
	for i, n := range it.part {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(strconv.Itoa(n))
	}
	if it.spec != "" {
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(it.spec)
	}
	if it.fields != nil {
		sb.WriteString(" (")
		for i, f := range it.fields {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(f)
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// parseFetchOptions parses (CHANGEDSINCE n [VANISHED]).
func parseFetchOptions(a wire.Arg) (fetchOptions, error) {
	var o fetchOptions
	if a.Kind != wire.List {
		return o, bad("FETCH modifiers must be a list.")
	}
	l := a.List
	for i := 0; i < len(l); i++ {
		switch {
		case l[i].IsAtom("CHANGEDSINCE"):
			if i+1 >= len(l) {
				return o, bad("CHANGEDSINCE needs a MODSEQ.")
			}
			i++
			n, err := parseNumber(l[i], 63)
			if err != nil || n == 0 {
				return o, bad("Invalid CHANGEDSINCE value.")
			}
			o.changedSince = n
		case l[i].IsAtom("VANISHED"):
			o.vanished = true
		default:
			return o, bad("Unknown FETCH modifier.")
		}
	}
	if o.vanished && o.changedSince == 0 {
		return o, bad("VANISHED needs CHANGEDSINCE.")
	}
	return o, nil
}
