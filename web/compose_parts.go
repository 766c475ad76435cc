package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"wardmail/mail"
	"wardmail/message"
)

// partRef names a part of a message the person can read: an attachment of
// a message being forwarded, or of the draft being edited. Send and draft
// save attach it again (compose.go); reading it checks access like any read.
type partRef struct {
	Folder int64  `json:"folder"`
	UID    uint32 `json:"uid"`
	Part   string `json:"part"`
}

// maxParts bounds how many parts one message may reference.
const maxParts = 50

// attachment data ready to be written into a new message.
type attachData struct {
	ctype, filename string
	data            []byte
	raw             bool // message/rfc822: written as is, not base64 (RFC 2046 5.2.1)
}

// parsePartPath turns "2" or "1.3" into section numbers.
func parsePartPath(s string) ([]int, error) {
	var path []int
	for _, f := range strings.Split(s, ".") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || len(path) > 20 {
			return nil, problem(http.StatusBadRequest, "bad-request", "%q is not a part number such as 2 or 1.3.", truncate(s, 40))
		}
		path = append(path, n)
	}
	return path, nil
}

// leafPart finds a leaf part of a loaded message, or nil.
func (l *loaded) leafPart(path []int) *message.Part {
	p := message.FindPart(l.sum, path)
	if p == nil || len(p.Children) > 0 || p.BodyStart < 0 || p.End > int64(len(l.body)) || p.BodyStart > p.End {
		return nil
	}
	return p
}

// loadRefs reads the referenced parts. A part the person cannot read, or
// that is gone, is a 400 naming the field, and nothing is sent or saved.
func (a *API) loadRefs(ctx context.Context, who *Session, refs []partRef) ([]attachData, error) {
	out := make([]attachData, 0, len(refs))
	cache := map[[2]int64]*loaded{}
	for _, ref := range refs {
		gone := func() error {
			p := problem(http.StatusBadRequest, "bad-request", "An attachment of the original message is no longer there (it was moved or deleted); remove it or attach it again.")
			p.Field = "parts"
			return p
		}
		path, err := parsePartPath(ref.Part)
		if err != nil {
			return nil, err
		}
		key := [2]int64{ref.Folder, int64(ref.UID)}
		l := cache[key]
		if l == nil {
			l, err = a.loadMessage(ctx, who, strconv.FormatInt(ref.Folder, 10), strconv.FormatUint(uint64(ref.UID), 10))
			var p *Problem
			if errors.As(err, &p) && (p.Status == http.StatusNotFound || p.Status == http.StatusBadRequest) {
				return nil, gone()
			} else if err != nil {
				return nil, err
			}
			cache[key] = l
		}
		p := l.leafPart(path)
		if p == nil {
			return nil, gone()
		}
		name := safeFilename(partFilename(p), p)
		if p.Type == "message" {
			out = append(out, attachData{ctype: "message/rfc822", filename: name, data: l.body[p.BodyStart:p.End], raw: true})
			continue
		}
		out = append(out, attachData{ctype: safeContentType(p), filename: name, data: message.DecodeTransfer(p.Encoding, l.body[p.BodyStart:p.End], 0)})
	}
	return out, nil
}

// uploadsAndParts gathers every attachment of a compose request: uploads
// first, then referenced parts, in the order given (the part numbers in the
// saved message follow it: the text is 1, the first attachment 2).
func (a *API) uploadsAndParts(ctx context.Context, who *Session, c *composeRequest) ([]attachData, error) {
	var out []attachData
	var total int64
	for _, id := range c.Attachments {
		u, err := a.mail.GetUpload(ctx, who.Person.ID, id)
		if errors.Is(err, mail.ErrNotFound) {
			p := problem(http.StatusBadRequest, "bad-request", "An attachment is no longer available (uploads are kept for a day); attach it again.")
			p.Field = "attachments"
			return nil, p
		} else if err != nil {
			return nil, err
		}
		out = append(out, attachData{ctype: u.ContentType, filename: u.Filename, data: u.Data})
		total += u.Size
	}
	refs, err := a.loadRefs(ctx, who, c.Parts)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		total += int64(len(r.data))
	}
	if limit := a.pipeline.MaxMessageBytes() * 3 / 4; total > limit {
		p := problem(http.StatusRequestEntityTooLarge, "too-large", "The attachments come to %s; a message can carry at most %s.", humanSize(total), humanSize(limit))
		p.Field = "attachments"
		return nil, p
	}
	return append(out, refs...), nil
}

// writeAttachment writes one attachment part after its boundary.
func writeAttachment(b *bytes.Buffer, boundary string, at attachData) {
	fmt.Fprintf(b, "\r\n--%s\r\n", boundary)
	if at.raw {
		fmt.Fprintf(b, "Content-Type: message/rfc822\r\nContent-Disposition: %s\r\n\r\n",
			mime.FormatMediaType("attachment", map[string]string{"filename": at.filename}))
		b.Write(at.data)
		return
	}
	fmt.Fprintf(b, "Content-Type: %s\r\n", mime.FormatMediaType(at.ctype, map[string]string{"name": at.filename}))
	fmt.Fprintf(b, "Content-Disposition: %s\r\n", mime.FormatMediaType("attachment", map[string]string{"filename": at.filename}))
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(at.data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
}

// draftView is what GET /api/v1/drafts/{uid} answers: the draft as the
// compose form holds it, its attachments as references to its own parts.
type draftView struct {
	Folder     int64        `json:"folder"`
	UID        uint32       `json:"uid"`
	To         []string     `json:"to"`
	Cc         []string     `json:"cc"`
	Bcc        []string     `json:"bcc"`
	Subject    string       `json:"subject"`
	Text       string       `json:"text"`
	InReplyTo  string       `json:"inReplyTo,omitempty"`
	References []string     `json:"references,omitempty"`
	Parts      []partDetail `json:"parts"`
}

// partDetail is a reference with what the composer shows of it.
type partDetail struct {
	partRef
	Filename string `json:"filename"`
	Type     string `json:"type"`
	Size     int64  `json:"size"`
}

func emails(list []message.Address) []string {
	out := []string{}
	for _, a := range addresses(list) {
		out = append(out, a.Email)
	}
	return out
}

// handleOpenDraft: GET /api/v1/drafts/{uid}: a draft to edit.
func (a *API) handleOpenDraft(w http.ResponseWriter, r *http.Request, who *Session) error {
	drafts, err := a.mail.Special(r.Context(), who.Person.ID, "Drafts")
	if err != nil {
		return err
	}
	l, err := a.loadMessage(r.Context(), who, strconv.FormatInt(drafts.ID, 10), r.PathValue("uid"))
	if err != nil {
		return err
	}
	env := l.sum.Envelope
	v := draftView{Folder: drafts.ID, UID: l.msg.UID, To: emails(env.To), Cc: emails(env.Cc), Bcc: emails(env.Bcc),
		Subject: env.Subject, InReplyTo: env.InReplyTo, References: l.sum.References, Parts: []partDetail{}}
	htmlPart, textPart := displayParts(l.sum.Structure)
	if textPart != nil {
		v.Text = partText(l.body, textPart)
	} else {
		v.Text = l.sum.Text(l.body, maxDisplay)
	}
	// As typed: LF line ends, without the line end writeTextPart adds, so
	// that opening and saving a draft again leaves its text as it was.
	v.Text = strings.TrimSuffix(strings.ReplaceAll(v.Text, "\r\n", "\n"), "\n")
	var atts []attachment
	collectAttachments(l.sum.Structure, nil, htmlPart, textPart, nil, &atts)
	for _, at := range atts {
		v.Parts = append(v.Parts, partDetail{partRef: partRef{Folder: drafts.ID, UID: l.msg.UID, Part: at.Part}, Filename: at.Filename, Type: at.Type, Size: at.Size})
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
