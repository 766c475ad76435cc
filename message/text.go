package message

import (
	"html"
	"strings"
	"unicode/utf8"
)

// Text returns the readable text of the message in body, for IMAP SEARCH
// BODY and TEXT (RFC 9051 6.4.4): its text parts and those of enclosed
// messages, in order, transfer-decoded (RFC 2045 6), converted to UTF-8 from
// their charsets, HTML crudely reduced to its text, separated by newlines,
// cut to at most limit bytes. Of a multipart/alternative only one
// alternative is read, text/plain by preference. Headers are not included.
// limit <= 0 gives "".
func (s *Summary) Text(body []byte, limit int) string {
	if limit <= 0 || s == nil || s.Structure == nil {
		return ""
	}
	w := textWriter{body: body, limit: limit}
	w.part(s.Structure, 0)
	return w.sb.String()
}

type textWriter struct {
	body  []byte
	limit int
	sb    strings.Builder
}

func (w *textWriter) part(p *Part, depth int) {
	if w.sb.Len() >= w.limit || depth > 2*MaxDepth+2 {
		return
	}
	switch {
	case len(p.Children) > 0:
		if p.Subtype == "alternative" {
			w.part(pickAlternative(p.Children), depth+1)
			return
		}
		for _, c := range p.Children {
			w.part(c, depth+1)
		}
	case p.Message != nil && p.Message.Structure != nil:
		w.part(p.Message.Structure, depth+1)
	case p.Type == "text":
		if p.BodyStart < 0 || p.BodyStart > p.End || p.End > int64(len(w.body)) {
			return
		}
		room := w.limit - w.sb.Len()
		isHTML := p.Subtype == "html"
		// Decode a bounded amount: enough for room bytes of text even when
		// the charset or the markup makes the text shorter than its source.
		factor := 4
		if isHTML {
			factor = 16
		}
		want := 0 // no bound
		if room < (1<<31)/factor {
			want = room * factor
		}
		dec := DecodeTransfer(p.Encoding, w.body[p.BodyStart:p.End], want)
		text := decodeCharset(p.Param("charset"), dec, want)
		if isHTML {
			text = stripHTML(text)
		}
		w.add(text)
	}
}

// add appends text after a newline, cut to the limit on a rune boundary.
func (w *textWriter) add(text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if w.sb.Len() > 0 {
		w.sb.WriteByte('\n')
	}
	room := w.limit - w.sb.Len()
	if len(text) > room {
		cut := max(room, 0)
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	w.sb.WriteString(text)
}

// pickAlternative chooses the alternative (RFC 2046 5.1.4) to read:
// text/plain, else text/html, else a multipart (multipart/related around
// HTML, say), else the last.
func pickAlternative(alts []*Part) *Part {
	for _, want := range []string{"plain", "html"} {
		for _, c := range alts {
			if c.Type == "text" && c.Subtype == want {
				return c
			}
		}
	}
	for _, c := range alts {
		if len(c.Children) > 0 {
			return c
		}
	}
	return alts[len(alts)-1]
}

// stripHTML reduces HTML to its text: tags, comments, scripts and styles
// removed, block tags turned into line breaks, character references
// decoded, white space folded. It is not an HTML parser, only good enough
// to search.
func stripHTML(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) / 2)
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			sb.WriteString(s[i : i+j])
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		name := tagName(s[i+1:])
		if name == "script" || name == "style" {
			end := indexFold(s[i+1:], "</"+name)
			if end < 0 {
				break
			}
			i += 1 + end // at the closing tag, dropped below
			continue
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		switch strings.TrimPrefix(name, "/") {
		case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr":
			sb.WriteByte('\n')
		case "td", "th":
			sb.WriteByte(' ')
		}
		i += j + 1
	}
	return foldSpace(html.UnescapeString(sb.String()))
}

// tagName returns the lower-case name of the tag whose text (after "<")
// starts s, with a leading "/" for a closing tag.
func tagName(s string) string {
	j := 0
	if j < len(s) && s[j] == '/' {
		j++
	}
	for j < len(s) && j < 16 && (isAlpha(s[j:j+1]) || ('0' <= s[j] && s[j] <= '9')) {
		j++
	}
	return strings.ToLower(s[:j])
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); {
		j := strings.IndexByte(s[i:], sub[0])
		if j < 0 {
			return -1
		}
		i += j
		if i+len(sub) <= len(s) && strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
		i++
	}
	return -1
}

// foldSpace folds runs of spaces and tabs to one space and runs of blank
// lines to one line break, and trims each line.
func foldSpace(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(line)
	}
	return sb.String()
}
