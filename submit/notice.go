package submit

import (
	"cmp"
	"context"
	"fmt"
	"mime"
	"net/mail"
	"strings"

	"wardmail/message"
	"wardmail/store"
)

// Notices are short messages Wardmail writes to a person itself: a post held
// for moderation, approved, rejected or expired. They go straight into the
// person's INBOX, from the postmaster of this server.

// tellSender writes a notice to the signed-in sender; senders from other
// servers are not written to (their message was accepted; a bounce to an
// unauthenticated address would be backscatter).
func (p *Pipeline) tellSender(ctx context.Context, s *Sender, subject, text string) {
	if s.Person == nil {
		return
	}
	p.Notify(ctx, s.Person, subject, text)
}

// Notify writes a notice into a person's INBOX. Failures are logged, not
// returned: a notice never decides whether mail is accepted.
func (p *Pipeline) Notify(ctx context.Context, to *store.Person, subject, text string) {
	now := p.cfg.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", (&mail.Address{Name: "Wardmail", Address: "postmaster@" + p.cfg.Hostname}).String())
	fmt.Fprintf(&b, "To: %s\r\n", (&mail.Address{Name: to.Name, Address: to.Email}).String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	fmt.Fprintf(&b, "Message-ID: %s\r\n", message.NewMessageID(p.cfg.Hostname))
	b.WriteString("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(text)
	body := []byte(b.String())
	sum, err := message.Summarize(body)
	if err == nil {
		var c *store.Content
		if c, err = p.cfg.Store.PrepareContent(ctx, body, sum.Marshal()); err == nil {
			_, err = p.cfg.Store.Deliver(ctx, c, []int64{to.ID}, now)
		}
	}
	if err != nil {
		p.cfg.Logger.Error("writing a notice", "to", to.Email, "err", err)
	}
}

// heldNotice tells the sender who holds their post: the list's moderators,
// or those of the lists inside it that hold it, each of whom must approve.
func heldNotice(subject string, v *listVerdict, days int) string {
	var who []string
	for _, h := range v.holds {
		if h.ListID == v.list.ID {
			who = append(who, "the moderators of "+v.list.Address)
			continue
		}
		for _, n := range v.nested {
			if n.list.ID == h.ListID {
				who = append(who, fmt.Sprintf("the moderators of %s (a list inside %s)", n.list.Address, v.list.Address))
			}
		}
	}
	if len(who) == 1 && who[0] == "the moderators of "+v.list.Address {
		return fmt.Sprintf("Your message %q to %s is held for the list's moderators.\r\n\r\nThey approve or reject it within %d days; you will be told either way.\r\n",
			subject, v.list.Address, days)
	}
	return fmt.Sprintf("Your message %q to %s is held for %s.\r\n\r\nIt goes to the list once each of them approves it, within %d days; you will be told either way.\r\n",
		subject, v.list.Address, strings.Join(who, " and "), days)
}

// NotifyHeld tells a local sender what became of their held post.
func (p *Pipeline) NotifyHeld(ctx context.Context, h *store.Held) {
	to, err := p.cfg.Store.PersonByEmail(ctx, h.Sender)
	if err != nil {
		return // not a person here: nobody to tell without backscatter
	}
	var text string
	list := h.List
	if h.PostTo != "" && h.PostTo != h.List {
		// Held by a list inside the one it was sent to.
		list = fmt.Sprintf("%s (held by %s, a list inside it)", h.PostTo, h.List)
	}
	switch {
	case h.State == "approved" && len(h.Waiting) > 0:
		text = fmt.Sprintf("Your message %q to %s was approved by the moderators of %s; it still waits for the moderators of %s.\r\n",
			h.Subject, h.PostTo, h.List, strings.Join(h.Waiting, " and "))
		p.Notify(ctx, to, "Your post to "+h.PostTo+" was approved by "+h.List, text)
		return
	case h.State == "approved":
		text = fmt.Sprintf("Your message %q to %s was approved by the list's moderators and has been sent.\r\n", h.Subject, list)
	case h.State == "rejected":
		reason := h.Decision
		if reason == "" {
			reason = "(none given)"
		}
		text = fmt.Sprintf("Your message %q to %s was rejected by the list's moderators.\r\n\r\nTheir reason: %s\r\n", h.Subject, list, reason)
	case h.State == "expired":
		text = fmt.Sprintf("Your message %q to %s waited for the list's moderators until %s and has expired unsent.\r\n",
			h.Subject, list, h.Expires.Format("2 Jan 2006 15:04 MST"))
	default:
		return
	}
	p.Notify(ctx, to, "Your post to "+cmp.Or(h.PostTo, h.List)+" was "+h.State, text)
}
