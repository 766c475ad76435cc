package message

import (
	"bytes"
	"errors"
	"slices"
	"strings"
)

// Limits on the structure Summarize builds from one message.
const (
	// MaxDepth is how deep multiparts and enclosed messages nest before
	// further nesting is treated as a leaf.
	MaxDepth = 50
	// MaxParts is the most Part values one message can produce.
	MaxParts = 10000
	// maxReferences bounds the References kept; see parseReferences.
	maxReferences = 1000
)

// ErrEmpty is returned by Summarize for an empty message.
var ErrEmpty = errors.New("message: the message is empty")

// Summarize parses a message (RFC 5322, MIME RFC 2045-2049) into its Summary.
// Lines may end in CRLF or a bare LF.
//
// It accepts anything a mail client would display and fails only for an
// empty message. Malformed input degrades rather than fails:
//   - a Content-Type that is missing or has no valid type/subtype means
//     text/plain; charset=us-ascii (RFC 2045 5.2), or message/rfc822 inside
//     multipart/digest (RFC 2046 5.1.5);
//   - a multipart without a boundary, whose boundary never occurs, or that is
//     nested deeper than MaxDepth, past MaxParts or past the bound on bytes
//     searched for boundaries (8 times the message size plus 16 MB, which
//     only hostile input reaches) becomes a text/plain; charset=us-ascii
//     leaf, so every multipart Part has at least one child;
//   - a message/rfc822 or message/global part that cannot be parsed in place
//     (transfer-encoded in base64 or quoted-printable, or past the limits)
//     becomes an application/octet-stream leaf, so every such Part has its
//     Message;
//   - a missing final boundary ends the last part at the end of its parent;
//   - a body part whose first line is not a header field has no header;
//   - header text is made valid UTF-8 (see DecodeHeader);
//   - of a header field only the first 64 KB are read (1 MB for address
//     lists, which keep at most 10,000 addresses; References keeps at most
//     1,000 ids), and past 4 MB of header text decoded from encoded words
//     or RFC 2231 charsets, the rest of the message's header text is only
//     made valid UTF-8.
//
// Offsets in the Summary (and in enclosed Summaries) are positions in body.
func Summarize(body []byte) (*Summary, error) {
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	p := parser{b: body, searchBudget: searchFactor*len(body) + searchSlack, decode: decodeBudget}
	return p.message(0, len(body), 0), nil
}

// Each multipart searches its whole body for its boundary, so nesting makes
// the same bytes searched once per level. The bytes searched are bounded to
// searchFactor times the message plus searchSlack; real mail, even a large
// attachment under a few levels of nesting, stays far below.
const (
	searchFactor = 8
	searchSlack  = 16 << 20
)

// parser carries the body and what has been spent of the limits.
type parser struct {
	b            []byte
	parts        int    // Part values made
	searchBudget int    // bytes multiparts may still search for boundaries
	decode       budget // for decoding header text
}

// message summarises the message in b[start:end].
func (p *parser) message(start, end, depth int) *Summary {
	hEnd := headerEnd(p.b, start, end)
	h := readHeaders(p.b[start:hEnd])
	s := &Summary{
		Envelope:   h.envelope(&p.decode),
		References: parseReferences(h[hReferences]),
		HeaderSize: int64(hEnd - start),
	}
	s.Structure = p.part(start, hEnd, end, &h, depth, false)
	s.HasAttachment = hasAttachment(s.Structure)
	return s
}

// envelope builds the RFC 9051 7.5.2 envelope from the header fields.
func (h *headers) envelope(b *budget) Envelope {
	e := Envelope{
		Date:      clean(h[hDate]),
		Subject:   b.decode(h[hSubject]),
		From:      parseAddressList(h[hFrom], b),
		Sender:    parseAddressList(h[hSender], b),
		ReplyTo:   parseAddressList(h[hReplyTo], b),
		To:        parseAddressList(h[hTo], b),
		Cc:        parseAddressList(h[hCc], b),
		Bcc:       parseAddressList(h[hBcc], b),
		InReplyTo: clean(h[hInReplyTo]),
		MessageID: clean(h[hMessageID]),
	}
	// RFC 9051 7.5.2: the server fills Sender and Reply-To from From.
	if len(e.Sender) == 0 {
		e.Sender = slices.Clone(e.From)
	}
	if len(e.ReplyTo) == 0 {
		e.ReplyTo = slices.Clone(e.From)
	}
	return e
}

// part describes the part whose header is b[hs:bs] (already read into h)
// and whose body is b[bs:end].
func (p *parser) part(hs, bs, end int, h *headers, depth int, inDigest bool) *Part {
	p.parts++
	pt := &Part{HeaderStart: int64(hs), BodyStart: int64(bs), End: int64(end)}
	typ, sub, params, ok := parseMediaType(h[hContentType], &p.decode)
	switch {
	case ok:
		pt.Type, pt.Subtype, pt.Params = typ, sub, params
	case inDigest:
		pt.Type, pt.Subtype = "message", "rfc822"
	default:
		pt.setDefaultType()
	}
	pt.Encoding = strings.ToLower(firstWord(h[hEncoding]))
	pt.ID = clean(h[hContentID])
	pt.Description = p.decode.decode(h[hDescription])
	pt.MD5 = clean(h[hMD5])
	pt.Location = clean(strings.Join(strings.Fields(h[hLocation]), "")) // RFC 2557 4.4.2
	pt.Language = parseLanguage(h[hLanguage])
	if v := h[hDisposition]; v != "" {
		pt.Disposition, pt.DispParams = parseDisposition(v, &p.decode)
	}

	switch {
	case pt.Type == "multipart":
		boundary := pt.Param("boundary")
		if boundary != "" && depth < MaxDepth && p.searchBudget >= end-bs {
			p.searchBudget -= end - bs
			pt.Children = p.multipart(bs, end, boundary, depth+1, pt.Subtype == "digest")
		}
		if len(pt.Children) == 0 {
			pt.setDefaultType()
		}
	case pt.Type == "message" && (pt.Subtype == "rfc822" || pt.Subtype == "global"):
		if depth < MaxDepth && p.parts < MaxParts && !isEncoded(pt.Encoding) {
			pt.Message = p.message(bs, end, depth+1)
		} else {
			pt.Type, pt.Subtype = "application", "octet-stream"
		}
	}
	if pt.Type == "text" || pt.Message != nil {
		pt.Lines = countLines(p.b[bs:end])
	}
	return pt
}

// setDefaultType makes the part text/plain; charset=us-ascii (RFC 2045 5.2).
func (pt *Part) setDefaultType() {
	pt.Type, pt.Subtype = "text", "plain"
	pt.Params = [][2]string{{"charset", "us-ascii"}}
	pt.Children = nil
}

// isEncoded reports whether a transfer encoding hides the bytes of the body,
// so that an enclosed message cannot be parsed in place (RFC 2046 5.2.1
// forbids it, but it happens).
func isEncoded(enc string) bool {
	return enc == "base64" || enc == "quoted-printable"
}

// multipart finds the body parts of the multipart body b[bs:end] (RFC 2046
// 5.1.1). The CRLF before each delimiter belongs to the delimiter, so a part
// ends before it; preamble and epilogue belong to no part.
func (p *parser) multipart(bs, end int, boundary string, depth int, digest bool) []*Part {
	nlDelim := []byte("\n--" + boundary)
	var children []*Part
	partStart := -1
	for pos := bs; pos <= end; {
		l, next, closing, ok := p.findDelimiter(pos, end, nlDelim)
		if !ok {
			break
		}
		if partStart >= 0 {
			pe := l
			if pe > partStart && p.b[pe-1] == '\n' {
				pe--
				if pe > partStart && p.b[pe-1] == '\r' {
					pe--
				}
			}
			children = append(children, p.bodyPart(partStart, pe, depth, digest))
		}
		if closing || p.parts >= MaxParts {
			return children
		}
		partStart, pos = next, next
	}
	if partStart >= 0 {
		// No close delimiter: the last part runs to the end of the parent.
		children = append(children, p.bodyPart(partStart, end, depth, digest))
	}
	return children
}

// findDelimiter finds the first delimiter line at or after pos, which is
// the start of a line. l is where its "--" is and next where the line after
// it starts. A line is a delimiter when "--boundary" is followed by "--"
// (closing), or by optional white space and the end of the line (RFC 2046
// 5.1.1 transport padding).
func (p *parser) findDelimiter(pos, end int, nlDelim []byte) (l, next int, closing, ok bool) {
	b := p.b
	delim := nlDelim[1:]
	first := true
	for pos < end {
		if first && bytes.HasPrefix(b[pos:end], delim) {
			l = pos
		} else {
			i := bytes.Index(b[pos:end], nlDelim)
			if i < 0 {
				return 0, 0, false, false
			}
			l = pos + i + 1
		}
		first = false
		after := l + len(delim)
		if after+2 <= end && b[after] == '-' && b[after+1] == '-' {
			return l, lineEnd(b, after, end), true, true
		}
		j := after
		for j < end && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j == end {
			return l, end, false, true
		}
		if n := blankLineAt(b, j, end); n > 0 {
			return l, j + n, false, true
		}
		pos = l
	}
	return 0, 0, false, false
}

// bodyPart describes the body part b[start:end] of a multipart.
func (p *parser) bodyPart(start, end, depth int, digest bool) *Part {
	hEnd := start
	// RFC 2046 5.1.1: a part without header fields starts with a blank
	// line. One that starts with text instead is taken to have no header
	// rather than to have a header of garbage.
	if blankLineAt(p.b, start, end) > 0 || looksLikeField(p.b, start, end) {
		hEnd = headerEnd(p.b, start, end)
	}
	h := readHeaders(p.b[start:hEnd])
	return p.part(start, hEnd, end, &h, depth, digest)
}

// countLines counts the lines of a body as IMAP BODYSTRUCTURE reports them
// (RFC 9051 7.5.2): line ends, plus a last line without one.
func countLines(b []byte) int64 {
	n := int64(bytes.Count(b, []byte{'\n'}))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// firstWord returns the first word of v, ignoring any comment after it:
// "7bit (was 8bit)" gives "7bit".
func firstWord(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t("); i >= 0 {
		v = v[:i]
	}
	return clean(v)
}

// parseLanguage splits a Content-Language value (RFC 3282) into its tags.
func parseLanguage(v string) []string {
	var tags []string
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if len(tags) == maxParams {
			break
		}
		tags = append(tags, clean(t))
	}
	return tags
}

// parseReferences returns the message ids of a References field (RFC 5322
// 3.6.4), with their angle brackets, in order. Text outside angle brackets
// is ignored. Of a list longer than maxReferences, the first id (the thread
// root) and the last maxReferences-1 (the nearest ancestors) are kept: those
// are the ones threading (RFC 5256) needs.
func parseReferences(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			break
		}
		if id := v[i : i+j+1]; len(id) > 2 {
			ids = append(ids, clean(strings.Join(strings.Fields(id), "")))
		}
		v = v[i+j+1:]
	}
	if len(ids) > maxReferences {
		ids = append(ids[:1], ids[len(ids)-maxReferences+1:]...)
	}
	return ids
}

// hasAttachment reports whether the tree has a part with disposition
// attachment or a named part that is not text or multipart.
func hasAttachment(pt *Part) bool {
	if pt.Disposition == "attachment" {
		return true
	}
	if pt.Type != "text" && pt.Type != "multipart" && (pt.Param("name") != "" || dispParam(pt, "filename") != "") {
		return true
	}
	for _, c := range pt.Children {
		if hasAttachment(c) {
			return true
		}
	}
	return pt.Message != nil && pt.Message.HasAttachment
}

func dispParam(pt *Part, name string) string {
	for _, kv := range pt.DispParams {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}
