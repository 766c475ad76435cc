package outbound

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what a remote server may send back.
const (
	maxReplyLine  = 2048 // RFC 5321 4.5.3.1.5 says 512; servers send longer texts
	maxReplyLines = 100
)

// Reply is one SMTP reply (RFC 5321 4.2).
type Reply struct {
	Code     int
	Enhanced string   // "5.1.1", when the server sends one (RFC 3463)
	Lines    []string // the text of each line, without code and enhanced code
}

// Text is the reply's words on one line.
func (r *Reply) Text() string { return strings.Join(r.Lines, " ") }

// String is the reply as the server wrote it, on one line.
func (r *Reply) String() string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if t := r.Text(); t != "" {
		s += " " + t
	}
	return s
}

// Temporary reports a 4xx reply.
func (r *Reply) Temporary() bool { return r.Code >= 400 && r.Code < 500 }

// Permanent reports a 5xx reply.
func (r *Reply) Permanent() bool { return r.Code >= 500 }

var errBadReply = errors.New("malformed reply")

// readReply reads one reply, multi-line replies included (RFC 5321 4.2.1).
func readReply(br *bufio.Reader) (*Reply, error) {
	r := &Reply{}
	for i := 0; ; i++ {
		if i >= maxReplyLines {
			return nil, fmt.Errorf("%w: more than %d lines", errBadReply, maxReplyLines)
		}
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		code, more, text, err := parseReplyLine(line)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.Code = code
		} else if code != r.Code {
			return nil, fmt.Errorf("%w: code %d within a %d reply", errBadReply, code, r.Code)
		}
		if r.Code >= 200 && r.Code < 600 {
			if e, rest, ok := enhancedCode(text, r.Code); ok {
				if i == 0 {
					r.Enhanced = e
				}
				text = rest
			}
		}
		r.Lines = append(r.Lines, text)
		if !more {
			return r, nil
		}
	}
}

// readLine reads a line of at most maxReplyLine bytes, without its CRLF.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		part, isPrefix, err := br.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, part...)
		if len(b) > maxReplyLine {
			return "", fmt.Errorf("%w: a line longer than %d bytes", errBadReply, maxReplyLine)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// parseReplyLine splits "250-text" or "250 text" (or a bare "250").
func parseReplyLine(line string) (code int, more bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", fmt.Errorf("%w: %q", errBadReply, line)
	}
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return 0, false, "", fmt.Errorf("%w: %q", errBadReply, line)
		}
	}
	code, _ = strconv.Atoi(line[:3])
	if code < 200 || code > 599 {
		return 0, false, "", fmt.Errorf("%w: code %d", errBadReply, code)
	}
	if len(line) == 3 {
		return code, false, "", nil
	}
	switch line[3] {
	case '-':
		more = true
	case ' ':
	default:
		return 0, false, "", fmt.Errorf("%w: %q", errBadReply, line)
	}
	return code, more, line[4:], nil
}

// enhancedCode takes an enhanced status code (RFC 3463: class.subject.detail,
// its class the reply's first digit) off the front of a reply text.
func enhancedCode(text string, code int) (string, string, bool) {
	field, rest, _ := strings.Cut(text, " ")
	parts := strings.Split(field, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(code/100) {
		return "", text, false
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return "", text, false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return "", text, false
			}
		}
	}
	return field, rest, true
}

// remoteQueueID finds the queue id in a 250 reply to DATA, as Postfix
// ("queued as 4XyZ"), Exim ("id=1abc-...") and others write it.
func remoteQueueID(text string) string {
	low := strings.ToLower(text)
	for _, marker := range []string{"queued as ", "id=", "ok id ", "queued ", "ok "} {
		if i := strings.Index(low, marker); i >= 0 {
			f := strings.Fields(text[i+len(marker):])
			if len(f) > 0 {
				id := strings.Trim(f[0], "<>()[],;.")
				if len(id) >= 4 && len(id) <= 64 {
					return id
				}
			}
		}
	}
	return ""
}
