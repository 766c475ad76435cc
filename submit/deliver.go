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
	"wardmail/outbound"
	"wardmail/store"
)

// Result says what Submit did.
type Result struct {
	ID        string // queue id, as in the Received header and the logs
	MessageID string
	Delivered []store.Delivered
	Posts     int      // list post-log entries
	Held      []string // lists where the post waits for moderators
	Audience  int64    // distinct people it reaches
	// Junk and Quarantined say where the scanner sent it (scan.go).
	Junk, Quarantined bool
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
	// Bare LF line ends become CRLF here, where every door's message comes
	// in, so the stored bytes, their size and IMAP's answers agree.
	body = message.CRLF(body)
	hs, problems := message.CheckHeader(body, p.cfg.MaxHeaderLine)
	if len(problems) > 0 {
		return nil, refuse(554, 5, 6, 0, "The message header is malformed: %v", problems[0])
	}
	// A message that has passed through many hops is looping
	// (RFC 5321 6.3): refuse it rather than add another.
	if n := message.CountHeader(body, hs, "Received"); n >= p.cfg.MaxHops {
		return nil, refuse(554, 5, 4, 6, "The message has passed through %d mail servers and is probably looping; the limit is %d", n, p.cfg.MaxHops)
	}
	body, hs, authVerdict, err := p.checkInbound(ctx, s, from, body, hs)
	if err != nil {
		return nil, err
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
	// A TLS report to the report address is kept for the administrators
	// instead of being delivered (reports.go).
	rcpts, done, err := p.takeReports(ctx, id, rcpts, body, hs)
	if err != nil {
		return nil, err
	}
	if done {
		return &Result{ID: id}, nil
	}
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

	// RFC 8689 5: "TLS-Required: No" asks that recipient policies
	// demanding TLS (MTA-STS, DANE) be set aside; REQUIRETLS asks the
	// opposite. A relay would ignore the field (4.1); a sender of ours
	// who asks for both is told, rather than guessed for.
	tlsOptional := strings.EqualFold(strings.TrimSpace(message.HeaderValue(body, hs, "TLS-Required")), "no")
	if tlsOptional && s.RequireTLS {
		return nil, refuse(554, 5, 7, 10, "The message asks for REQUIRETLS and also carries \"TLS-Required: No\" (RFC 8689): "+
			"one asks for verified TLS all the way, the other to do without it; remove one")
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
	full, scanVerdict, err := p.scanMessage(ctx, s, from, rcpts, id, final.Bytes())
	if err != nil {
		return nil, err
	}

	sum, err := message.Summarize(full)
	if err != nil {
		return nil, refuse(554, 5, 6, 0, "The message cannot be read: %v", err)
	}

	// Lists: decide again now that the message is here (a list's state may
	// have changed since RCPT), and split people from lists.
	sub := &store.Submission{QueueID: id, MessageID: msgID, ThreadID: threadID(sum, msgID),
		Subject: sum.Envelope.Subject, Sender: from, Date: now}
	if s.Person != nil {
		sub.SenderID = s.Person.ID
	}
	var heldLists []*listVerdict
	var outside []string
	var outsideDSN []store.RcptDSN
	askedDSN := false
	announce := false
	for _, r := range rcpts {
		switch {
		case r.Outside:
			outside = append(outside, r.Address)
			outsideDSN = append(outsideDSN, r.DSN)
			askedDSN = askedDSN || r.DSN != store.RcptDSN{}
		case r.PersonID != 0:
			sub.People = append(sub.People, r.PersonID)
		case r.ListID != 0:
			l, err := p.cfg.Store.ListByID(ctx, r.ListID)
			if err != nil {
				p.cfg.Logger.Error("reading a list", "list", r.ListID, "err", err)
				return nil, ErrUnavailable
			}
			v, err := p.decideTree(ctx, s, l)
			if err != nil {
				p.cfg.Logger.Error("deciding a list post", "list", l.Address, "err", err)
				return nil, ErrUnavailable
			}
			if v.stop != nil {
				return nil, v.stop
			}
			if len(v.holds) > 0 {
				sub.Held = append(sub.Held, v.holds...)
				heldLists = append(heldLists, v)
				continue
			}
			sub.Lists = append(sub.Lists, l.ID)
			announce = announce || v.announce
		}
	}
	if announce && message.HeaderValue(full, sum.HeaderSize, "Reply-To") == "" {
		// Replies to an announce-only list go to the sender alone: say so
		// in the message itself (RFC 5322 3.6.2).
		rt := from
		if s.Person != nil {
			rt = (&mail.Address{Name: s.Person.Name, Address: s.Person.Email}).String()
		}
		full = insertHeader(full, sum.HeaderSize, "Reply-To: "+rt+"\r\n")
		if sum, err = message.Summarize(full); err != nil {
			return nil, refuse(554, 5, 6, 0, "The message cannot be read: %v", err)
		}
	}
	if sub.Audience, err = p.cfg.Store.AudienceCount(ctx, sub.People, sub.Lists); err != nil {
		p.cfg.Logger.Error("counting an audience", "id", id, "err", err)
		return nil, ErrUnavailable
	}
	// People elsewhere count toward the sender's limits like anyone.
	sub.Audience += int64(len(outside))
	// Sender limits and the reply-all storm breaker count the audience
	// after list expansion, so they come here, before anything is stored;
	// the early brake may turn the list posts into held ones (storm.go).
	guard, err := p.checkPolicy(ctx, s, sub, sum)
	if err != nil {
		return nil, err
	}
	accepted := false
	defer func() { guard.finish(ctx, accepted) }()
	content, err := p.cfg.Store.PrepareContent(ctx, full, sum.Marshal())
	if err != nil {
		p.cfg.Logger.Error("storing a message body", "id", id, "err", err)
		return nil, ErrUnavailable
	}
	sub.Content = content
	route(sub, scanVerdict, authVerdict.asScan())
	if len(outside) > 0 {
		// Queued in the same write as the local deliveries: "250" means
		// queued (the body is the one just stored).
		if sub.Outbound, err = outbound.Prepare(ctx, p.cfg.Outbound.Signer(), from, outside, full); err != nil {
			p.cfg.Logger.Error("signing a message", "id", id, "err", err)
			return nil, ErrUnavailable
		}
		sub.Outbound.RequireTLS = s.RequireTLS
		sub.Outbound.TLSOptional = tlsOptional && s.Person != nil
		sub.Outbound.EnvID, sub.Outbound.Ret = s.EnvID, s.Ret
		if askedDSN {
			sub.Outbound.RcptDSN = outsideDSN
		}
	}
	stored, err := p.cfg.Store.Submit(ctx, sub)
	if err != nil {
		p.cfg.Logger.Error("delivering a message", "id", id, "err", err)
		return nil, ErrUnavailable
	}
	accepted = true
	if len(outside) > 0 {
		p.cfg.Outbound.Wake()
	}
	if s.Person == nil && from == "" && p.cfg.Outbound != nil {
		// A bounce from another server (RFC 3464) about one of ours: the
		// person has it in their INBOX; the queue notes it for trace.
		p.cfg.Outbound.Returned(ctx, full)
	}
	p.metrics.deliveries.Add(float64(len(stored.Delivered)))
	p.metrics.posts.Add(float64(len(stored.Posts)))
	p.metrics.held.Add(float64(len(stored.Held)))
	p.metrics.audience.Observe(float64(sub.Audience))
	p.cfg.Logger.Info("delivered", "id", id, "door", s.Door, "size", len(full), "mailboxes", len(stored.Delivered),
		"posts", len(stored.Posts), "held", len(stored.Held), "queued", len(outside), "audience", sub.Audience,
		"junk", sub.Junk, "quarantined", sub.Quarantine != nil)
	res := &Result{ID: id, MessageID: msgID, Delivered: stored.Delivered, Posts: len(stored.Posts), Audience: sub.Audience,
		Junk: sub.Junk, Quarantined: sub.Quarantine != nil}
	for _, v := range heldLists {
		res.Held = append(res.Held, v.list.Address)
		p.tellSender(ctx, s, "Your post to "+v.list.Address+" is held for moderation", heldNotice(sum.Envelope.Subject, v, p.cfg.Governance.HoldDays))
	}
	return res, nil
}

// threadID names the conversation a message belongs to: the first message
// of its References (RFC 5322 3.6.4), else what it replies to, else itself.
func threadID(sum *message.Summary, msgID string) string {
	if len(sum.References) > 0 {
		return sum.References[0]
	}
	if ir := strings.Fields(sum.Envelope.InReplyTo); len(ir) > 0 {
		return ir[0]
	}
	return msgID
}

// insertHeader puts a field at the end of the header section.
func insertHeader(body []byte, headerSize int64, field string) []byte {
	at := int(headerSize)
	// Before the blank line that ends the header, when there is one.
	switch {
	case at >= 4 && string(body[at-4:at]) == "\r\n\r\n":
		at -= 2
	case at >= 2 && string(body[at-2:at]) == "\n\n":
		at--
	}
	out := make([]byte, 0, len(body)+len(field))
	out = append(out, body[:at]...)
	out = append(out, field...)
	return append(out, body[at:]...)
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
