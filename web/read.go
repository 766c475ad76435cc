package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"wardmail/inbound"
	"wardmail/mail"
	"wardmail/message"
)

// maxDisplay bounds the decoded text or HTML of a message shown for reading.
const maxDisplay = 2 << 20

type attachment struct {
	Part     string `json:"part"` // IMAP section number, e.g. "2" or "1.3"
	Filename string `json:"filename"`
	Type     string `json:"type"`
	Size     int64  `json:"size"`
}

type replyAll struct {
	Allowed bool      `json:"allowed"`
	Reason  string    `json:"reason,omitempty"`
	Until   time.Time `json:"until,omitzero"`
}

// readView is what GET /api/v1/folders/{folder}/messages/{uid} answers.
type readView struct {
	listItem
	Folder     int64     `json:"folder"`
	Cc         []address `json:"cc"`
	ReplyTo    []address `json:"replyTo"`
	MessageID  string    `json:"messageId"`
	InReplyTo  string    `json:"inReplyTo,omitempty"`
	References []string  `json:"references,omitempty"`
	// Text is the plain text (the HTML reduced to text when there is no
	// plain part), for quoting in replies and for readers without frames.
	Text string `json:"text"`
	// HasHTML says the frame at BodyURL shows HTML; RemoteImages counts the
	// remote images it blocked.
	HasHTML      bool         `json:"hasHtml"`
	BodyURL      string       `json:"bodyUrl"`
	RemoteImages int          `json:"remoteImages"`
	Attachments  []attachment `json:"attachments"`
	ReplyAll     replyAll     `json:"replyAll"`
	// Origin says whether the message came from outside the health
	// service, and the banner to show (package inbound).
	Origin inbound.Origin `json:"origin"`
}

// loaded is one message with its summary and body.
type loaded struct {
	box  *mail.Mailbox
	msg  *mail.Message
	sum  *message.Summary
	body []byte
}

func (a *API) loadMessage(ctx context.Context, who *Session, folder, uidStr string) (*loaded, error) {
	m, err := a.folder(ctx, who, folder)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(uidStr, 10, 32)
	if err != nil || uid == 0 {
		return nil, problem(http.StatusBadRequest, "bad-request", "%q is not a message number.", truncate(uidStr, 40))
	}
	msgs, err := a.mail.Messages(ctx, m.ID, []uint32{uint32(uid)})
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, errNotFound("That message")
	}
	sum, err := message.Unmarshal(msgs[0].Summary)
	if err != nil {
		return nil, err
	}
	body, err := a.mail.Body(ctx, msgs[0].ContentID)
	if err != nil {
		return nil, err
	}
	return &loaded{box: m, msg: &msgs[0], sum: sum, body: body}, nil
}

// handleRead: GET /api/v1/folders/{folder}/messages/{uid}[?peek=1]. Reading
// marks the message seen unless peek is set.
func (a *API) handleRead(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.loadMessage(r.Context(), who, r.PathValue("folder"), r.PathValue("uid"))
	if err != nil {
		return err
	}
	item, _, err := toListItem(l.msg)
	if err != nil {
		return err
	}
	env := l.sum.Envelope
	v := readView{listItem: item, Folder: l.box.ID, Cc: addresses(env.Cc), ReplyTo: addresses(env.ReplyTo),
		MessageID: env.MessageID, InReplyTo: env.InReplyTo, References: l.sum.References, Attachments: []attachment{}}
	a.nameFromDirectory(r.Context(), v.From, v.To, v.Cc, v.ReplyTo)
	htmlPart, textPart := displayParts(l.sum.Structure)
	if textPart != nil {
		v.Text = partText(l.body, textPart)
	} else if htmlPart != nil {
		v.Text = l.sum.Text(l.body, maxDisplay)
	}
	inline := map[string]bool{}
	if htmlPart != nil {
		v.HasHTML = true
		_, v.RemoteImages = sanitizeHTML(partText(l.body, htmlPart), false, a.cidResolver(who, l, inline))
	}
	v.BodyURL = fmt.Sprintf("/api/v1/folders/%d/messages/%d/body", l.box.ID, l.msg.UID)
	collectAttachments(l.sum.Structure, nil, htmlPart, textPart, inline, &v.Attachments)
	v.Origin = inbound.ReadOrigin(l.body, l.sum.HeaderSize)
	v.ReplyAll = replyAll{Allowed: true}
	if a.cfg.ReplyAll != nil {
		blocked, reason, until, err := a.cfg.ReplyAll.ReplyAllBlocked(r.Context(), threadRoot(l.sum))
		if err != nil {
			a.log.Warn("asking the storm breaker", "err", err)
		} else if blocked {
			v.ReplyAll = replyAll{Allowed: false, Reason: reason, Until: until.UTC()}
		}
	}
	if r.URL.Query().Get("peek") == "" && !v.Seen {
		if _, err := a.mail.MarkSeen(r.Context(), l.box.ID, []uint32{l.msg.UID}); err != nil {
			return err
		}
		v.Seen = true
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// displayParts picks the HTML and plain-text parts to show: the first
// text/html and text/plain outside attachments, preferring the parts of a
// multipart/alternative.
func displayParts(p *message.Part) (htmlPart, textPart *message.Part) {
	var walk func(p *message.Part, depth int)
	walk = func(p *message.Part, depth int) {
		if depth > 20 || (htmlPart != nil && textPart != nil) {
			return
		}
		switch {
		case len(p.Children) > 0:
			for _, c := range p.Children {
				walk(c, depth+1)
				if p.Subtype == "mixed" && (htmlPart != nil || textPart != nil) {
					return // the body is the first displayable part of a mixed message
				}
			}
		case p.Disposition == "attachment":
		case p.Type == "text" && p.Subtype == "html" && htmlPart == nil:
			htmlPart = p
		case p.Type == "text" && p.Subtype == "plain" && textPart == nil:
			textPart = p
		}
	}
	walk(p, 0)
	return htmlPart, textPart
}

// collectAttachments lists the leaf parts a reader can download: not the
// displayed bodies, and not the images the HTML shows inline (their
// Content-IDs are in inline).
func collectAttachments(p *message.Part, path []int, htmlPart, textPart *message.Part, inline map[string]bool, out *[]attachment) {
	if len(*out) >= 100 || len(path) > 20 {
		return
	}
	if len(p.Children) > 0 {
		for i, c := range p.Children {
			collectAttachments(c, append(path[:len(path):len(path)], i+1), htmlPart, textPart, inline, out)
		}
		return
	}
	if p == htmlPart || p == textPart || (p.ID != "" && inline[contentID(p.ID)]) {
		return
	}
	if len(path) == 0 {
		path = []int{1}
	}
	name := partFilename(p)
	if p.Disposition != "attachment" && name == "" && p.Type == "text" {
		return // an alternative body we did not pick
	}
	parts := make([]string, len(path))
	for i, n := range path {
		parts[i] = strconv.Itoa(n)
	}
	*out = append(*out, attachment{Part: strings.Join(parts, "."), Filename: safeFilename(name, p), Type: p.Type + "/" + p.Subtype, Size: p.Size()})
}

func partFilename(p *message.Part) string {
	for _, kv := range p.DispParams {
		if kv[0] == "filename" && kv[1] != "" {
			return kv[1]
		}
	}
	return p.Param("name")
}

// safeFilename is a name a browser may save a part under, and the name the
// webmail shows: no directories, no control characters (bidirectional
// overrides included: message.IsDisplayControl) or quotes, at most 120
// characters, and a fallback when the message gives none.
func safeFilename(name string, p *message.Part) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var sb strings.Builder
	for _, r := range name {
		if message.IsDisplayControl(r) || r == '"' || r == ':' || r == '*' || r == '?' || r == '<' || r == '>' || r == '|' || r == utf8.RuneError {
			continue
		}
		sb.WriteRune(r)
		if sb.Len() >= 120 {
			break
		}
	}
	name = strings.Trim(strings.TrimSpace(sb.String()), ".")
	if name == "" {
		name = "attachment"
		if p.Type == "message" {
			name = "message.eml"
		}
	}
	return name
}

// partText decodes a text part to UTF-8.
func partText(body []byte, p *message.Part) string {
	if p.BodyStart < 0 || p.End > int64(len(body)) || p.BodyStart > p.End {
		return ""
	}
	raw := message.DecodeTransfer(p.Encoding, body[p.BodyStart:p.End], maxDisplay)
	return toUTF8(p.Param("charset"), raw)
}

func toUTF8(charset string, b []byte) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs == "" || cs == "utf-8" || cs == "us-ascii" || cs == "utf8" {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	out, err := io.ReadAll(io.LimitReader(enc.NewDecoder().Reader(strings.NewReader(string(b))), maxDisplay*4))
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// frameCSP is the policy of the message frame: nothing runs, nothing loads
// but inline styles, data: images, the message's own inline images (under
// inlineSrc, inline.go), and remote images when the reader allowed them;
// links open outside the sandbox.
func frameCSP(allowRemote bool, inlineSrc string) string {
	img := "data:"
	if inlineSrc != "" {
		img += " " + inlineSrc
	}
	if allowRemote {
		img += " https: http:"
	}
	return "default-src 'none'; style-src 'unsafe-inline'; img-src " + img +
		"; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
}

const frameStyle = `body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#1b1b1b;background:#fff;margin:12px 16px;overflow-wrap:anywhere}` +
	`img{max-width:100%;height:auto}pre{white-space:pre-wrap;font:inherit;margin:0}a{color:#005eb8}blockquote{margin:0 0 0 8px;padding-left:8px;border-left:3px solid #ccc}`

// handleBodyFrame: GET .../messages/{uid}/body[?images=1]: the message as a
// document for the reading pane's sandboxed iframe.
func (a *API) handleBodyFrame(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.loadMessage(r.Context(), who, r.PathValue("folder"), r.PathValue("uid"))
	if err != nil {
		return err
	}
	allow := r.URL.Query().Get("images") == "1"
	htmlPart, textPart := displayParts(l.sum.Structure)
	var content string
	inlineSrc := ""
	switch {
	case htmlPart != nil:
		used := map[string]bool{}
		content, _ = sanitizeHTML(partText(l.body, htmlPart), allow, a.cidResolver(who, l, used))
		if len(used) > 0 {
			inlineSrc = frameImageSource(r, l.box.ID, l.msg.UID)
		}
	case textPart != nil:
		content = "<pre>" + html.EscapeString(partText(l.body, textPart)) + "</pre>"
	default:
		content = "<p><em>This message has no text.</em></p>"
	}
	h := w.Header()
	h.Set("Content-Security-Policy", frameCSP(allow, inlineSrc))
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "private, no-store")
	_, err = io.WriteString(w, `<!doctype html><html><head><meta charset="utf-8"><title>Message</title><style>`+frameStyle+
		`</style></head><body>`+content+`</body></html>`)
	if err != nil {
		return nil // the client went away
	}
	return nil
}

// handlePart: GET .../messages/{uid}/parts/{part}: an attachment. Raster
// images may be shown (inline disposition); anything else is a download
// (Content-Disposition: attachment), never rendered in our origin.
func (a *API) handlePart(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.loadMessage(r.Context(), who, r.PathValue("folder"), r.PathValue("uid"))
	if err != nil {
		return err
	}
	path, err := parsePartPath(r.PathValue("part"))
	if err != nil {
		return err
	}
	p := l.leafPart(path)
	if p == nil {
		return errNotFound("That attachment")
	}
	servePart(w, l, p)
	return nil
}

// safeContentType is the part's declared type when it is well formed, else
// application/octet-stream. With nosniff and Content-Disposition:
// attachment a browser saves it rather than render it.
func safeContentType(p *message.Part) string {
	t := p.Type + "/" + p.Subtype
	if p.Type == "message" {
		return "message/rfc822"
	}
	if mt, _, err := mime.ParseMediaType(t); err != nil || mt != t {
		return "application/octet-stream"
	}
	if p.Type == "text" {
		if cs := p.Param("charset"); cs != "" && isToken(cs) {
			return t + "; charset=" + cs
		}
	}
	return t
}

func isToken(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.+", c)) {
			return false
		}
	}
	return s != ""
}

// contentDisposition writes RFC 6266 attachment with an ASCII fallback and
// the UTF-8 name in filename* (RFC 8187).
func contentDisposition(name string) string {
	var ascii strings.Builder
	for _, r := range name {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' && r != '%' && r != ';' {
			ascii.WriteRune(r)
		} else {
			ascii.WriteByte('_')
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + url.PathEscape(name)
}
