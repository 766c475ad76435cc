package outbound

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	"wardmail/message"
	"wardmail/store"
)

// notices builds the delivery status notifications (RFC 3464) for one
// message: one for the recipients that failed, one for those delayed. They
// go only to the signed-in sender who queued the message (SenderID), into
// their INBOX here: never to an address taken from a message, and never
// about a notice (no backscatter, no loops).
func (q *Queue) notices(ctx context.Context, m *store.QueuedMessage, failed, delayed []*store.QueuedRcpt) []store.OutboundNotice {
	if m.DSN || m.SenderID == 0 || m.Sender == "" {
		return nil
	}
	var out []store.OutboundNotice
	for _, group := range []struct {
		rcpts  []*store.QueuedRcpt
		failed bool
	}{{failed, true}, {delayed, false}} {
		if len(group.rcpts) == 0 {
			continue
		}
		body := q.buildDSN(ctx, m, group.rcpts, group.failed)
		sum, err := message.Summarize(body)
		if err != nil {
			q.cfg.Logger.Error("outbound: reading a notice", "queue_id", m.QueueID, "err", err)
			continue
		}
		c, err := q.cfg.Store.PrepareContent(ctx, body, sum.Marshal())
		if err != nil {
			q.cfg.Logger.Error("outbound: storing a notice", "queue_id", m.QueueID, "err", err)
			continue
		}
		out = append(out, store.OutboundNotice{PersonID: m.SenderID, Content: c, Date: q.cfg.Now()})
		kind := "delay"
		if group.failed {
			kind = "failure"
		}
		q.metrics.notices.WithLabelValues(kind).Inc()
	}
	return out
}

// buildDSN writes a multipart/report (RFC 6522) with a human part that
// says, in plain words, what happened and what to do, the machine-readable
// delivery-status part (RFC 3464) and the original header.
func (q *Queue) buildDSN(ctx context.Context, m *store.QueuedMessage, rcpts []*store.QueuedRcpt, failed bool) []byte {
	now := q.cfg.Now()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	boundary := "=_wardmail_" + hex.EncodeToString(b)
	subject := m.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	var w bytes.Buffer
	w.WriteString(message.ReturnPath(""))
	fmt.Fprintf(&w, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", q.cfg.Hostname)
	fmt.Fprintf(&w, "To: <%s>\r\n", m.Sender)
	prefix := "Undeliverable: "
	if !failed {
		prefix = "Delayed: "
	}
	fmt.Fprintf(&w, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", prefix+subject))
	fmt.Fprintf(&w, "Date: %s\r\n", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	fmt.Fprintf(&w, "Message-ID: %s\r\n", message.NewMessageID(q.cfg.Hostname))
	if m.MessageID != "" {
		fmt.Fprintf(&w, "In-Reply-To: %s\r\nReferences: %s\r\n", m.MessageID, m.MessageID)
	}
	w.WriteString("Auto-Submitted: auto-replied\r\n") // RFC 3834
	w.WriteString("MIME-Version: 1.0\r\n")
	fmt.Fprintf(&w, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&w, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)

	// The words a person reads first.
	if failed {
		fmt.Fprintf(&w, "Your message \"%s\" could not be delivered to:\r\n\r\n", oneLine(subject))
	} else {
		fmt.Fprintf(&w, "Your message \"%s\" has not been delivered yet to:\r\n\r\n", oneLine(subject))
	}
	for _, r := range rcpts {
		fmt.Fprintf(&w, "    %s\r\n", r.Rcpt)
		if r.MX != "" {
			fmt.Fprintf(&w, "    The mail server for %s (%s) answered:\r\n        %s\r\n", r.Domain, r.MX, oneLine(r.LastReply))
		} else if r.LastReply != "" {
			fmt.Fprintf(&w, "    Reason: %s\r\n", oneLine(r.LastReply))
		}
		w.WriteString("\r\n")
	}
	if failed {
		w.WriteString("It will not be tried again. Check the address, or ask the recipient another way;\r\n" +
			"the words above come from their mail server and usually say what is wrong.\r\n")
	} else {
		giveUp := m.CreatedAt.Add(q.cfg.Lifetime)
		fmt.Fprintf(&w, "Wardmail keeps trying until %s. You do not need to send it again;\r\n"+
			"you will hear from us only if it finally cannot be delivered.\r\n", giveUp.UTC().Format("Mon 2 Jan 2006 15:04 MST"))
	}
	fmt.Fprintf(&w, "\r\nQueue id: %s\r\n", m.QueueID)

	// RFC 3464 2.2 and 2.3.
	fmt.Fprintf(&w, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(&w, "Reporting-MTA: dns; %s\r\n", q.cfg.Hostname)
	fmt.Fprintf(&w, "Original-Envelope-Id: %s\r\n", m.QueueID)
	fmt.Fprintf(&w, "Arrival-Date: %s\r\n", m.CreatedAt.Format(time.RFC1123Z))
	for _, r := range rcpts {
		action, status := "failed", "5.0.0"
		if !failed {
			action, status = "delayed", "4.0.0"
		}
		if e := enhancedOf(r.LastReply); e != "" && e[0] == status[0] {
			status = e
		}
		fmt.Fprintf(&w, "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n", r.Rcpt, action, status)
		if r.MX != "" {
			fmt.Fprintf(&w, "Remote-MTA: dns; %s\r\n", r.MX)
		}
		if r.LastReply != "" {
			fmt.Fprintf(&w, "Diagnostic-Code: smtp; %s\r\n", oneLine(r.LastReply))
		}
		fmt.Fprintf(&w, "Last-Attempt-Date: %s\r\n", now.Format(time.RFC1123Z))
		if !failed {
			fmt.Fprintf(&w, "Will-Retry-Until: %s\r\n", m.CreatedAt.Add(q.cfg.Lifetime).Format(time.RFC1123Z))
		}
	}

	// The original header (RFC 6522 "text/rfc822-headers").
	fmt.Fprintf(&w, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary)
	if body, err := q.cfg.Store.Body(ctx, m.ContentID); err == nil {
		if m.Skip <= len(body) {
			body = body[m.Skip:]
		}
		if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
			body = body[:i+2]
		}
		w.Write(body)
	}
	fmt.Fprintf(&w, "\r\n--%s--\r\n", boundary)
	return w.Bytes()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// enhancedOf finds the enhanced status code in a reply as recorded
// ("550 5.1.1 text").
func enhancedOf(reply string) string {
	f := strings.Fields(reply)
	if len(f) < 2 || len(f[0]) != 3 {
		return ""
	}
	code := int(f[0][0]-'0') * 100
	if e, _, ok := enhancedCode(f[1], code); ok {
		return e
	}
	return ""
}
