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

// Kinds of notice (RFC 3464 2.3.3's actions).
const (
	kindFailed  = "failed"
	kindDelayed = "delayed"
	kindRelayed = "relayed"
)

// notices builds the delivery status notifications (RFC 3464) for one
// message: one for the recipients that failed, one for those delayed, each
// for the recipients whose sender asked for it (NOTIFY, RFC 3461 4.1;
// failures and delays when not given). They go only to the signed-in sender
// who queued the message (SenderID), into their INBOX here: never to an
// address taken from a message, and never about a notice (no backscatter,
// no loops).
func (q *Queue) notices(ctx context.Context, m *store.QueuedMessage, failed, delayed []*store.QueuedRcpt) []store.OutboundNotice {
	var out []store.OutboundNotice
	out = append(out, q.notice(ctx, m, wanting(failed, "FAILURE"), kindFailed)...)
	return append(out, q.notice(ctx, m, wanting(delayed, "DELAY"), kindDelayed)...)
}

// wanting keeps the recipients whose NOTIFY asks for what (RFC 3461 4.1:
// NEVER asks for nothing; without NOTIFY, failures and delays).
func wanting(rcpts []*store.QueuedRcpt, what string) []*store.QueuedRcpt {
	var out []*store.QueuedRcpt
	for _, r := range rcpts {
		if wants(r.Notify, what) {
			out = append(out, r)
		}
	}
	return out
}

func wants(notify, what string) bool {
	if notify == "" {
		return what != "SUCCESS"
	}
	for _, n := range strings.Split(notify, ",") {
		if n == what {
			return true
		}
	}
	return false
}

// notice builds one notice of a kind about some recipients.
func (q *Queue) notice(ctx context.Context, m *store.QueuedMessage, rcpts []*store.QueuedRcpt, kind string) []store.OutboundNotice {
	if m.DSN || m.SenderID == 0 || m.Sender == "" || len(rcpts) == 0 {
		return nil
	}
	body := q.buildDSN(ctx, m, rcpts, kind)
	sum, err := message.Summarize(body)
	if err != nil {
		q.cfg.Logger.Error("outbound: reading a notice", "queue_id", m.QueueID, "err", err)
		return nil
	}
	c, err := q.cfg.Store.PrepareContent(ctx, body, sum.Marshal())
	if err != nil {
		q.cfg.Logger.Error("outbound: storing a notice", "queue_id", m.QueueID, "err", err)
		return nil
	}
	label := map[string]string{kindFailed: "failure", kindDelayed: "delay", kindRelayed: "relayed"}[kind]
	q.metrics.notices.WithLabelValues(label).Inc()
	return []store.OutboundNotice{{PersonID: m.SenderID, Content: c, Date: q.cfg.Now()}}
}

// buildDSN writes a multipart/report (RFC 6522) with a human part that
// says, in plain words, what happened and what to do, the machine-readable
// delivery-status part (RFC 3464) and the original header, or the whole
// original message for a failure when the sender asked for it (RET=FULL,
// RFC 3461 4.3) and the message did not ask for REQUIRETLS: RFC 8689 5 has
// the notice of such a message leave its body out.
func (q *Queue) buildDSN(ctx context.Context, m *store.QueuedMessage, rcpts []*store.QueuedRcpt, kind string) []byte {
	failed := kind == kindFailed
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
	prefix := map[string]string{kindFailed: "Undeliverable: ", kindDelayed: "Delayed: ", kindRelayed: "Delivered: "}[kind]
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
	switch kind {
	case kindFailed:
		fmt.Fprintf(&w, "Your message \"%s\" could not be delivered to:\r\n\r\n", oneLine(subject))
	case kindDelayed:
		fmt.Fprintf(&w, "Your message \"%s\" has not been delivered yet to:\r\n\r\n", oneLine(subject))
	default:
		fmt.Fprintf(&w, "Your message \"%s\" was accepted by the mail server of:\r\n\r\n", oneLine(subject))
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
	switch kind {
	case kindFailed:
		w.WriteString("It will not be tried again. Check the address, or ask the recipient another way;\r\n" +
			"the words above come from their mail server and usually say what is wrong.\r\n")
	case kindRelayed:
		w.WriteString("You asked to hear when it was delivered. Their server does not report deliveries\r\n" +
			"(it does not offer DSN), so this is the last Wardmail can tell you: it is now in their hands.\r\n")
	default:
		giveUp := m.CreatedAt.Add(q.cfg.Lifetime)
		fmt.Fprintf(&w, "Wardmail keeps trying until %s. You do not need to send it again;\r\n"+
			"you will hear from us only if it finally cannot be delivered.\r\n", giveUp.UTC().Format("Mon 2 Jan 2006 15:04 MST"))
	}
	fmt.Fprintf(&w, "\r\nQueue id: %s\r\n", m.QueueID)

	// RFC 3464 2.2 and 2.3.
	fmt.Fprintf(&w, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(&w, "Reporting-MTA: dns; %s\r\n", q.cfg.Hostname)
	if m.EnvID != "" {
		// RFC 3461 6.3: the sender's ENVID, only when they gave one.
		fmt.Fprintf(&w, "Original-Envelope-Id: %s\r\n", m.EnvID)
	}
	fmt.Fprintf(&w, "Arrival-Date: %s\r\n", m.CreatedAt.Format(time.RFC1123Z))
	for _, r := range rcpts {
		status := map[string]string{kindFailed: "5.0.0", kindDelayed: "4.0.0", kindRelayed: "2.0.0"}[kind]
		if e := enhancedOf(r.LastReply); e != "" && e[0] == status[0] {
			status = e
		}
		w.WriteString("\r\n")
		if typ, addr, ok := strings.Cut(r.ORcpt, ";"); ok {
			// RFC 3461 6.3: the ORCPT the sender gave, as given.
			fmt.Fprintf(&w, "Original-Recipient: %s;%s\r\n", typ, addr)
		}
		fmt.Fprintf(&w, "Final-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n", r.Rcpt, kind, status)
		if r.MX != "" {
			fmt.Fprintf(&w, "Remote-MTA: dns; %s\r\n", r.MX)
		}
		if r.LastReply != "" {
			fmt.Fprintf(&w, "Diagnostic-Code: smtp; %s\r\n", oneLine(r.LastReply))
		}
		fmt.Fprintf(&w, "Last-Attempt-Date: %s\r\n", now.Format(time.RFC1123Z))
		if kind == kindDelayed {
			fmt.Fprintf(&w, "Will-Retry-Until: %s\r\n", m.CreatedAt.Add(q.cfg.Lifetime).Format(time.RFC1123Z))
		}
	}

	// The original: its header (RFC 6522 "text/rfc822-headers"), or all
	// of it for a failure when RET=FULL asked (RFC 3461 4.3) and
	// REQUIRETLS did not forbid it (RFC 8689 5).
	full := failed && m.Ret == "FULL" && !m.RequireTLS
	ctype := "text/rfc822-headers"
	if full {
		ctype = "message/rfc822"
	}
	fmt.Fprintf(&w, "\r\n--%s\r\nContent-Type: %s\r\n\r\n", boundary, ctype)
	if body, err := q.cfg.Store.Body(ctx, m.ContentID); err == nil {
		if m.Skip <= len(body) {
			body = body[m.Skip:]
		}
		if !full {
			if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
				body = body[:i+2]
			}
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
