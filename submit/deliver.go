package submit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"wardmail/message"
	"wardmail/store"
)

// Result says what Submit did.
type Result struct {
	ID        string // queue id, as in the Received header and the logs
	MessageID string
	Delivered []store.Delivered
}

// Submit checks a message, completes its header and delivers it to the local
// recipients. It returns once every delivery is durable: the caller may then
// say "250 OK".
func (p *Pipeline) Submit(ctx context.Context, s *Sender, from string, rcpts []Recipient, body []byte) (*Result, error) {
	res, err := p.submit(ctx, s, from, rcpts, body)
	p.metrics.observe(s.Door, err)
	return res, err
}

func (p *Pipeline) submit(ctx context.Context, s *Sender, from string, rcpts []Recipient, body []byte) (*Result, error) {
	if len(rcpts) == 0 {
		return nil, refuse(554, 5, 5, 1, "No valid recipients")
	}
	if len(rcpts) > p.cfg.MaxRecipients {
		return nil, ErrTooManyRecipients
	}
	if int64(len(body)) > p.cfg.MaxMessageBytes {
		return nil, refuse(552, 5, 3, 4, "The message is %d bytes; the limit is %d", len(body), p.cfg.MaxMessageBytes)
	}
	hs, problems := message.CheckHeader(body, p.cfg.MaxHeaderLine)
	if len(problems) > 0 {
		return nil, refuse(554, 5, 6, 0, "The message header is malformed: %v", problems[0])
	}
	// A message that has passed through many hops is looping
	// (RFC 5321 6.3): refuse it rather than add another.
	if n := message.CountHeader(body, hs, "Received"); n >= p.cfg.MaxHops {
		return nil, refuse(554, 5, 4, 6, "The message has passed through %d mail servers and is probably looping; the limit is %d", n, p.cfg.MaxHops)
	}
	if s.Person != nil {
		// A submitted message loses its Bcc field (RFC 5322 3.6.3): the
		// envelope already names the blind recipients.
		stripped := message.RemoveHeader(body, hs, "Bcc")
		hs -= int64(len(body) - len(stripped))
		body = stripped
	}
	now := p.cfg.Now()
	id := queueID()
	var added bytes.Buffer

	// Date (RFC 5322 3.6.1): required, and it must be a date.
	if v := message.HeaderValue(body, hs, "Date"); v == "" {
		fmt.Fprintf(&added, "Date: %s\r\n", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	} else if _, err := message.ParseDate(v); err != nil {
		return nil, refuse(554, 5, 6, 0, "The Date header %q is not a valid date (RFC 5322 3.3)", truncate(v, 60))
	}

	// From (RFC 5322 3.6.2): an authenticated sender's own address.
	fromHdr := message.HeaderValue(body, hs, "From")
	switch {
	case fromHdr == "" && s.Person != nil:
		fmt.Fprintf(&added, "From: %s\r\n", (&mail.Address{Name: s.Person.Name, Address: s.Person.Email}).String())
	case fromHdr == "":
		return nil, refuse(554, 5, 6, 0, "The message has no From header (RFC 5322 3.6.2)")
	case s.Person != nil && !fromIncludes(fromHdr, s.Person.Email):
		return nil, refuse(553, 5, 7, 1, "The From header must be your own address, %s", s.Person.Email)
	}

	// Message-ID (RFC 5322 3.6.4).
	msgID := strings.TrimSpace(message.HeaderValue(body, hs, "Message-ID"))
	if msgID == "" {
		msgID = message.NewMessageID(p.cfg.Hostname)
		fmt.Fprintf(&added, "Message-ID: %s\r\n", msgID)
	}

	// Trace headers go on top (RFC 5321 4.4).
	var final bytes.Buffer
	final.Grow(len(body) + 512 + added.Len())
	final.WriteString(message.ReturnPath(from))
	forAddr := ""
	if len(rcpts) == 1 {
		forAddr = rcpts[0].Address
	}
	final.WriteString(message.ReceivedHeader(s.Helo, hostOf(s.RemoteAddr), p.cfg.Hostname, withProtocol(s), id, forAddr, now))
	final.Write(added.Bytes())
	final.Write(body)
	full := final.Bytes()

	sum, err := message.Summarize(full)
	if err != nil {
		return nil, refuse(554, 5, 6, 0, "The message cannot be read: %v", err)
	}
	content, err := p.cfg.Store.PrepareContent(ctx, full, sum.Marshal())
	if err != nil {
		p.cfg.Logger.Error("storing a message body", "id", id, "err", err)
		return nil, ErrUnavailable
	}
	people := make([]int64, 0, len(rcpts))
	for _, r := range rcpts {
		if r.PersonID != 0 {
			people = append(people, r.PersonID)
		}
	}
	delivered, err := p.cfg.Store.Deliver(ctx, content, people, now)
	if err != nil {
		p.cfg.Logger.Error("delivering a message", "id", id, "err", err)
		return nil, ErrUnavailable
	}
	p.metrics.deliveries.Add(float64(len(delivered)))
	p.cfg.Logger.Info("delivered", "id", id, "door", s.Door, "size", len(full), "mailboxes", len(delivered))
	return &Result{ID: id, MessageID: msgID, Delivered: delivered}, nil
}

// fromIncludes reports whether a From header names addr.
func fromIncludes(header, addr string) bool {
	list, err := mail.ParseAddressList(header)
	if err != nil {
		return strings.Contains(strings.ToLower(header), strings.ToLower(addr))
	}
	for _, a := range list {
		if strings.EqualFold(a.Address, addr) {
			return true
		}
	}
	return false
}

// withProtocol names the protocol for the Received header (RFC 3848).
func withProtocol(s *Sender) string {
	w := "ESMTP"
	if s.TLS {
		w += "S"
	}
	if s.Person != nil {
		w += "A"
	}
	if s.Door == "web" || s.Door == "imap" {
		return "HTTP"
	}
	return w
}

func hostOf(remote string) string {
	if i := strings.LastIndexByte(remote, ':'); i > 0 {
		if _, err := strconv.Atoi(remote[i+1:]); err == nil {
			return strings.Trim(remote[:i], "[]")
		}
	}
	return remote
}

func queueID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
