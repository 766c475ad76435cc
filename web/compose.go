package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"wardmail/mail"
	"wardmail/message"
	"wardmail/submit"
)

// composeRequest is a message as the compose form sends it (send and drafts).
type composeRequest struct {
	To          []string `json:"to"`
	Cc          []string `json:"cc"`
	Bcc         []string `json:"bcc"`
	Subject     string   `json:"subject"`
	Text        string   `json:"text"`
	InReplyTo   string   `json:"inReplyTo"`
	References  []string `json:"references"`
	Attachments []string `json:"attachments"` // upload ids
	// Parts are attachments of messages the person can read (a forwarded
	// message's, or the draft's own), attached again after the uploads.
	Parts []partRef `json:"parts"`
	// Draft is the UID in Drafts this message replaces (and removes when sent).
	Draft uint32 `json:"draft"`
	// messageID, when set, is the Message-ID build writes: what is sent and
	// the sender's copy in Sent carry the same one, so replies, threads and
	// an administrator's purge (store/purge_sent.go) find both.
	messageID string
}

const (
	maxSubject    = 998
	maxRecipients = 500 // the pipeline's own limit applies too
)

func (c *composeRequest) check() error {
	n := len(c.To) + len(c.Cc) + len(c.Bcc)
	if n > maxRecipients {
		p := problem(http.StatusBadRequest, "bad-request", "A message can name at most %d people; use a distribution list for more.", maxRecipients)
		p.Field = "to"
		return p
	}
	if len(c.Subject) > maxSubject {
		p := problem(http.StatusBadRequest, "bad-request", "The subject is longer than %d characters.", maxSubject)
		p.Field = "subject"
		return p
	}
	if len(c.References) > 100 || len(c.Attachments) > 50 || len(c.Parts) > maxParts {
		return problem(http.StatusBadRequest, "bad-request", "Too many references or attachments.")
	}
	for _, id := range append([]string{c.InReplyTo}, c.References...) {
		if strings.ContainsAny(id, "\r\n") || len(id) > 998 {
			p := problem(http.StatusBadRequest, "bad-request", "A message id in inReplyTo or references is not valid.")
			p.Field = "inReplyTo"
			return p
		}
	}
	return nil
}

// build writes the message as RFC 5322 with MIME. withBcc keeps the Bcc
// field (for the sender's own Sent and Drafts copies only). A draft is
// saved while the person is still typing, so for drafts an address that is
// not (yet) valid is left out rather than refused.
func (a *API) build(ctx context.Context, who *Session, c *composeRequest, withBcc, draft bool) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	hdr("From", (&netmail.Address{Name: who.Person.Name, Address: who.Person.Email}).String())
	addrHdr := func(name string, list []string, field string) error {
		if len(list) == 0 {
			return nil
		}
		var out []string
		for _, s := range list {
			ad, err := netmail.ParseAddress(s)
			if err != nil && draft {
				continue
			}
			if err != nil {
				p := problem(http.StatusBadRequest, "bad-request", "%q is not an email address.", truncate(s, 80))
				p.Field = field
				return p
			}
			out = append(out, ad.String())
		}
		if len(out) > 0 {
			hdr(name, strings.Join(out, ",\r\n "))
		}
		return nil
	}
	if err := addrHdr("To", c.To, "to"); err != nil {
		return nil, err
	}
	if err := addrHdr("Cc", c.Cc, "cc"); err != nil {
		return nil, err
	}
	if withBcc {
		if err := addrHdr("Bcc", c.Bcc, "bcc"); err != nil {
			return nil, err
		}
	}
	subject := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, c.Subject)
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", a.now().Format(time.RFC1123Z))
	if c.messageID == "" {
		c.messageID = message.NewMessageID(hostOf(who.Person.Email))
	}
	hdr("Message-ID", c.messageID)
	if c.InReplyTo != "" {
		hdr("In-Reply-To", c.InReplyTo)
	}
	if len(c.References) > 0 {
		hdr("References", strings.Join(c.References, "\r\n "))
	}
	hdr("MIME-Version", "1.0")

	text := strings.ReplaceAll(strings.ReplaceAll(c.Text, "\r\n", "\n"), "\n", "\r\n")
	atts, err := a.uploadsAndParts(ctx, who, c)
	if err != nil {
		return nil, err
	}
	if len(atts) == 0 {
		writeTextPart(&b, text)
		return b.Bytes(), nil
	}
	boundary := "=_wardmail_" + newToken()[:24]
	hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\nThis is a MIME message.\r\n")
	fmt.Fprintf(&b, "--%s\r\n", boundary)
	writeTextPart(&b, text)
	for _, at := range atts {
		writeAttachment(&b, boundary, at)
	}
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), nil
}

func writeTextPart(b *bytes.Buffer, text string) {
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(b)
	_, _ = io.WriteString(qp, text) // writes to a bytes.Buffer do not fail
	_ = qp.Close()
	b.WriteString("\r\n")
}

func hostOf(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return email
}

// handleSend: POST /api/v1/send. The message goes through the same
// submission pipeline as SMTP submission; a refusal comes back with the
// pipeline's sentence (and its SMTP code for support staff).
func (a *API) handleSend(w http.ResponseWriter, r *http.Request, who *Session) error {
	var c composeRequest
	if err := readJSON(w, r, maxJSONBody, &c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if len(c.To)+len(c.Cc)+len(c.Bcc) == 0 {
		p := problem(http.StatusBadRequest, "bad-request", "Add at least one recipient.")
		p.Field = "to"
		return p
	}
	sender := &submit.Sender{Door: "web", Person: who.Person, RemoteAddr: r.RemoteAddr, TLS: r.TLS != nil || a.cfg.TLS}
	if err := a.pipeline.CheckFrom(r.Context(), sender, who.Person.Email); err != nil {
		return err
	}
	var rcpts []submit.Recipient
	seen := map[string]bool{}
	for _, group := range []struct {
		field string
		list  []string
	}{{"to", c.To}, {"cc", c.Cc}, {"bcc", c.Bcc}} {
		for _, s := range group.list {
			addr := s
			if ad, err := netmail.ParseAddress(s); err == nil {
				addr = ad.Address
			}
			rc, err := a.pipeline.CheckRecipient(r.Context(), sender, addr)
			if err != nil {
				var se *submit.Error
				if errors.As(err, &se) && !se.Temporary() {
					p := problem(http.StatusUnprocessableEntity, "refused", "%s", se.Message)
					p.SMTP = fmt.Sprintf("%d %d.%d.%d", se.Code, se.Enhanced[0], se.Enhanced[1], se.Enhanced[2])
					p.Field = group.field
					return p
				}
				return err
			}
			if !seen[rc.Address] {
				seen[rc.Address] = true
				rcpts = append(rcpts, rc)
			}
		}
	}
	body, err := a.build(r.Context(), who, &c, false, false)
	if err != nil {
		return err
	}
	res, err := a.pipeline.Submit(r.Context(), sender, who.Person.Email, rcpts, body)
	if err != nil {
		return err
	}
	// The sender's copy, with Bcc, in Sent.
	sentUID, err := a.appendTo(r.Context(), who, "Sent", &c, []string{mail.FlagSeen})
	if err != nil {
		a.log.Error("saving to Sent", "id", res.ID, "err", err)
	}
	if c.Draft != 0 {
		if err := a.removeDraft(r.Context(), who, c.Draft); err != nil {
			a.log.Warn("removing a sent draft", "err", err)
		}
	}
	if len(c.Attachments) > 0 {
		if err := a.mail.DeleteUploads(r.Context(), who.Person.ID, c.Attachments); err != nil {
			a.log.Warn("removing sent uploads", "err", err)
		}
	}
	// What the sender is told: the lists by address with the people the
	// message reached in all (after list expansion), and where it waits for
	// moderators.
	sentLists := []string{}
	for _, rc := range rcpts {
		if rc.ListID != 0 {
			sentLists = append(sentLists, rc.Address)
		}
	}
	held := res.Held
	if held == nil {
		held = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": res.ID, "messageId": res.MessageID, "recipients": len(rcpts), "sentUid": sentUID,
		"people": res.Audience, "lists": sentLists, "held": held})
	return nil
}

// appendTo stores a copy of the message in one of the person's folders.
func (a *API) appendTo(ctx context.Context, who *Session, folder string, c *composeRequest, flags []string) (uint32, error) {
	body, err := a.build(ctx, who, c, true, folder == "Drafts")
	if err != nil {
		return 0, err
	}
	body = message.CRLF(body)
	sum, err := message.Summarize(body)
	if err != nil {
		return 0, err
	}
	return a.mail.Save(ctx, who.Person.ID, folder, body, sum.Marshal(), flags, a.now())
}

func (a *API) removeDraft(ctx context.Context, who *Session, uid uint32) error {
	return a.mail.RemoveDraft(ctx, who.Person.ID, uid)
}

// handleSaveDraft: PUT /api/v1/drafts. A draft is saved as a new message in
// Drafts and the one it replaces is removed (IMAP has no "edit").
func (a *API) handleSaveDraft(w http.ResponseWriter, r *http.Request, who *Session) error {
	var c composeRequest
	if err := readJSON(w, r, maxJSONBody, &c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	uid, err := a.appendTo(r.Context(), who, "Drafts", &c, []string{mail.FlagDraft, mail.FlagSeen})
	if err != nil {
		return err
	}
	if c.Draft != 0 {
		if err := a.removeDraft(r.Context(), who, c.Draft); err != nil && !errors.Is(err, mail.ErrNotFound) {
			return err
		}
	}
	drafts, err := a.mail.Special(r.Context(), who.Person.ID, "Drafts")
	if err != nil {
		return err
	}
	// The parts now live in the new draft (the text is part 1, uploads
	// come next): the composer refers to them there from now on, since the
	// draft they came from is gone.
	parts := make([]partRef, len(c.Parts))
	for i := range c.Parts {
		parts[i] = partRef{Folder: drafts.ID, UID: uid, Part: strconv.Itoa(2 + len(c.Attachments) + i)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"folder": drafts.ID, "uid": uid, "saved": a.now().UTC(), "parts": parts})
	return nil
}

// handleDeleteDraft: DELETE /api/v1/drafts/{uid} (compose discarded).
func (a *API) handleDeleteDraft(w http.ResponseWriter, r *http.Request, who *Session) error {
	uid, err := strconv.ParseUint(r.PathValue("uid"), 10, 32)
	if err != nil || uid == 0 {
		return problem(http.StatusBadRequest, "bad-request", "%q is not a draft number.", truncate(r.PathValue("uid"), 40))
	}
	if err := a.removeDraft(r.Context(), who, uint32(uid)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleUpload: POST /api/v1/uploads?filename=NAME with the file as the body
// and its type as Content-Type. The cap is what fits in a message once
// base64-encoded.
func (a *API) handleUpload(w http.ResponseWriter, r *http.Request, who *Session) error {
	limit := a.pipeline.MaxMessageBytes() * 3 / 4
	name := r.URL.Query().Get("filename")
	if name == "" || len(name) > 255 {
		p := problem(http.StatusBadRequest, "bad-request", "Give the file's name in filename (at most 255 characters).")
		p.Field = "filename"
		return p
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.Contains(ct, "/") {
		ct = "application/octet-stream"
	}
	if r.ContentLength > limit {
		return problem(http.StatusRequestEntityTooLarge, "too-large", "The file is %s; attachments can be at most %s.", humanSize(r.ContentLength), humanSize(limit))
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return problem(http.StatusRequestEntityTooLarge, "too-large", "The file is larger than %s, the attachment limit.", humanSize(limit))
	} else if err != nil {
		return problem(http.StatusBadRequest, "bad-request", "The upload was interrupted; try again.")
	}
	u := &mail.Upload{ID: newToken()[:22], PersonID: who.Person.ID, Filename: safeFilename(name, &message.Part{}), ContentType: ct,
		Size: int64(len(data)), Data: data, Created: a.now()}
	if err := a.mail.PutUpload(r.Context(), u); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": u.ID, "filename": u.Filename, "type": u.ContentType, "size": u.Size})
	return nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
