package imapd

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"wardmail/imapd/wire"
	"wardmail/mail"
	"wardmail/message"
)

// catPart is one part of a CATENATE (RFC 4469 5): text sent in a literal,
// or a URL naming a message or a section of one.
type catPart struct {
	text  []byte
	url   string
	isURL bool
}

// maxCatParts bounds the parts of one CATENATE.
const maxCatParts = 100

// parseCatParts reads the list after CATENATE (RFC 4469 5): cat-part
// *(SP cat-part), each "TEXT" SP literal or "URL" SP astring.
func parseCatParts(l []wire.Arg) ([]catPart, error) {
	if len(l) == 0 || len(l)%2 != 0 {
		return nil, bad("CATENATE takes TEXT literals and URLs in pairs.")
	}
	if len(l) > 2*maxCatParts {
		return nil, bad("CATENATE takes at most %d parts.", maxCatParts)
	}
	out := make([]catPart, 0, len(l)/2)
	for i := 0; i < len(l); i += 2 {
		switch v := l[i+1]; {
		case l[i].IsAtom("TEXT") && v.Kind == wire.Literal:
			out = append(out, catPart{text: v.B})
		case l[i].IsAtom("URL"):
			s, ok := v.AString()
			if !ok {
				return nil, bad("URL takes a string.")
			}
			out = append(out, catPart{url: s, isURL: true})
		default:
			return nil, bad("A CATENATE part is TEXT {literal} or URL \"url\".")
		}
	}
	return out, nil
}

// imapURL is the part of an IMAP URL (RFC 5092) that CATENATE takes: a
// message, by mailbox, UIDVALIDITY and UID, and optionally a section.
type imapURL struct {
	mailbox     string
	uidValidity uint32
	uid         uint32
	section     string
}

// parseIMAPURL reads an absolute-path IMAP URL (RFC 5092 2, "imessagepart"
// without a server): /MAILBOX;UIDVALIDITY=N/;UID=M[/;SECTION=S]. The
// UIDVALIDITY is required, so a URL never names another message after the
// mailbox was recreated. Server-qualified URLs and URLAUTH are not taken:
// parts come from the signed-in person's own mailboxes only.
func parseIMAPURL(s string) (imapURL, error) {
	var u imapURL
	if !strings.HasPrefix(s, "/") {
		return u, errors.New("only /MAILBOX;UIDVALIDITY=N/;UID=M URLs are supported")
	}
	path, rest, ok := strings.Cut(s[1:], "/;UID=")
	if !ok {
		return u, errors.New("no ;UID=")
	}
	encMailbox, validity, ok := strings.Cut(path, ";UIDVALIDITY=")
	if !ok {
		return u, errors.New("no ;UIDVALIDITY=")
	}
	uidStr, section, hasSection := strings.Cut(rest, "/;SECTION=")
	var err error
	if u.mailbox, err = url.PathUnescape(encMailbox); err != nil || u.mailbox == "" {
		return u, errors.New("bad mailbox")
	}
	v, err := strconv.ParseUint(validity, 10, 32)
	if err != nil || v == 0 {
		return u, errors.New("bad UIDVALIDITY")
	}
	n, err := strconv.ParseUint(uidStr, 10, 32)
	if err != nil || n == 0 {
		return u, errors.New("bad UID")
	}
	u.uidValidity, u.uid = uint32(v), uint32(n)
	if hasSection {
		if u.section, err = url.PathUnescape(section); err != nil || u.section == "" {
			return u, errors.New("bad SECTION")
		}
	}
	return u, nil
}

// catenate builds the message a CATENATE describes (RFC 4469 3), reading
// URLs from the person's own mailboxes. A URL that names nothing it may
// read is NO [BADURL url] (RFC 4469 5, 6); a result over APPENDLIMIT is
// NO [TOOBIG].
func (c *conn) catenate(parts []catPart) ([]byte, error) {
	var out []byte
	for _, p := range parts {
		data := p.text
		if p.isURL {
			var err error
			if data, err = c.urlData(p.url); err != nil {
				return nil, err
			}
		}
		if int64(len(out))+int64(len(data)) > c.lim.MaxLiteral {
			return nil, no("TOOBIG", "The message would be larger than %d bytes.", c.lim.MaxLiteral)
		}
		out = append(out, data...)
	}
	return out, nil
}

// urlData returns the message or section a CATENATE URL names.
func (c *conn) urlData(raw string) ([]byte, error) {
	badURL := func() error {
		return &respError{code: "BADURL " + urlRespText(raw), msg: "The URL names no message of yours."}
	}
	u, err := parseIMAPURL(raw)
	if err != nil {
		return nil, badURL()
	}
	name, err := mailboxArg(wire.Arg{Kind: wire.Quoted, S: u.mailbox})
	if err != nil {
		return nil, badURL()
	}
	mb, err := c.srv.cfg.Mail.MailboxNamed(c.ctx, c.person.ID, name)
	if errors.Is(err, mail.ErrNotFound) || (err == nil && mb.UIDValidity() != u.uidValidity) {
		return nil, badURL()
	}
	if err != nil {
		return nil, err
	}
	rows, err := c.srv.cfg.Mail.Messages(c.ctx, mb.ID, []uint32{u.uid})
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, badURL()
	}
	body, err := c.srv.cfg.Mail.Body(c.ctx, rows[0].ContentID)
	if err != nil {
		return nil, err
	}
	if u.section == "" {
		return body, nil
	}
	var it fetchItem
	if it.parseSection(u.section) != nil {
		return nil, badURL()
	}
	sum, err := message.Unmarshal(rows[0].Summary)
	if err != nil {
		return nil, err
	}
	if len(it.part) > 0 && message.FindPart(sum, it.part) == nil {
		return nil, badURL() // FETCH would answer "", but no such part exists
	}
	data, err := message.Section(body, sum, it.part, it.spec, it.fields, it.spec == "HEADER.FIELDS.NOT")
	if errors.Is(err, message.ErrBadSection) {
		return nil, badURL()
	}
	return data, err
}

// urlRespText is the URL as BADURL repeats it (RFC 4469 6
// "url-resp-text": any octet but NUL, CR, LF and "]"), with those left
// out and cut to 200 bytes.
func urlRespText(s string) string {
	out := make([]byte, 0, min(len(s), 200))
	for i := 0; i < len(s) && len(out) < 200; i++ {
		if c := s[i]; c != 0 && c != '\r' && c != '\n' && c != ']' && c != 0xff {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "/"
	}
	return string(out)
}
