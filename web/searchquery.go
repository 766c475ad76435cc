package web

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"wardmail/mail"
)

// Query is a parsed search, as a person types it in the search box:
//
//	from:amira to:ben subject:"ward round" has:attachment in:inbox
//	after:2026-01-01 before:2026-02-01 is:unread is:flagged handover notes
//
// Terms are ANDed. Plain words (and "quoted phrases") match the subject,
// the addresses or the text of the message. Matching ignores case. What a
// query finds is the mail service's (mail.Query, mail.Service.Search).
type Query = mail.Query

// maxQuery bounds the length of a query and the number of its terms.
const (
	maxQuery      = 1000
	maxQueryTerms = 32
)

// ParseQuery parses a search query. Errors are sentences for the person.
func ParseQuery(s string) (*Query, error) {
	if len(s) > maxQuery {
		return nil, fmt.Errorf("the search is longer than %d characters", maxQuery)
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) > maxQueryTerms {
		return nil, fmt.Errorf("the search has more than %d terms", maxQueryTerms)
	}
	q := &Query{}
	for _, t := range toks {
		key, val, ok := "", t.text, false
		if !t.quoted {
			if i := strings.IndexByte(t.text, ':'); i > 0 {
				key, val, ok = strings.ToLower(t.text[:i]), t.text[i+1:], true
			}
		}
		if ok && t.valueQuoted {
			val = t.value
		}
		if !ok {
			q.Words = append(q.Words, strings.ToLower(val))
			continue
		}
		if val == "" {
			return nil, fmt.Errorf("%s: needs a value after the colon", key)
		}
		lv := strings.ToLower(val)
		switch key {
		case "from":
			q.From = append(q.From, lv)
		case "to", "cc":
			q.To = append(q.To, lv)
		case "subject":
			q.Subject = append(q.Subject, lv)
		case "in", "folder":
			q.Folder = val
		case "has":
			if lv != "attachment" && lv != "attachments" {
				return nil, fmt.Errorf("has: only knows has:attachment")
			}
			q.HasAttachment = true
		case "is":
			switch lv {
			case "unread":
				q.Unread = true
			case "flagged", "starred":
				q.Flagged = true
			default:
				return nil, fmt.Errorf("is: knows is:unread and is:flagged, not is:%s", truncate(val, 20))
			}
		case "after", "since":
			d, err := parseDay(val)
			if err != nil {
				return nil, err
			}
			q.After = d
		case "before":
			d, err := parseDay(val)
			if err != nil {
				return nil, err
			}
			q.Before = d
		default:
			// "ward:3" is a word, not an unknown operator.
			q.Words = append(q.Words, strings.ToLower(t.text))
		}
	}
	if !q.After.IsZero() && !q.Before.IsZero() && !q.After.Before(q.Before) {
		return nil, fmt.Errorf("the after: date must be earlier than the before: date")
	}
	return q, nil
}

func parseDay(v string) (time.Time, error) {
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: write it as 2026-01-31", truncate(v, 20))
	}
	return d, nil
}

type token struct {
	text        string // the whole term, quotes removed for a quoted phrase
	quoted      bool   // the whole term was "quoted"
	value       string // for key:"quoted value", the value
	valueQuoted bool
}

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		r := rune(s[i])
		if r < 0x80 && unicode.IsSpace(r) {
			i++
			continue
		}
		if s[i] == '"' {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("a quotation mark is not closed")
			}
			if phrase := strings.TrimSpace(s[i+1 : i+1+j]); phrase != "" {
				out = append(out, token{text: phrase, quoted: true})
			}
			i += j + 2
			continue
		}
		start := i
		for i < len(s) && !(s[i] < 0x80 && unicode.IsSpace(rune(s[i]))) && s[i] != '"' {
			i++
		}
		word := s[start:i]
		if i < len(s) && s[i] == '"' && strings.HasSuffix(word, ":") {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("a quotation mark is not closed")
			}
			out = append(out, token{text: word + s[i+1:i+1+j], value: s[i+1 : i+1+j], valueQuoted: true})
			i += j + 2
			continue
		}
		if word != "" {
			out = append(out, token{text: word})
		}
	}
	return out, nil
}
