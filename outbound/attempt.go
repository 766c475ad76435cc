package outbound

import (
	"context"
	"fmt"
	"strings"
	"time"

	"wardmail/store"
)

// sendOne sends one message over a connection and says what became of each
// recipient. broken means the connection cannot carry another message.
func (q *Queue) sendOne(c *conn, m *store.QueuedMessage) ([]store.OutboundOutcome, []store.OutboundNotice, bool) {
	ctx := context.Background()
	var outs []store.OutboundOutcome
	tlsName := "none"
	if c.tls != nil {
		tlsName = tlsVersion(c.tls.Version)
	}
	finish := func(reply *Reply, reason string) ([]store.OutboundOutcome, []store.OutboundNotice, bool) {
		failed := q.outcomes(m, m.Rcpts, reply, c.mx, tlsName, reason, &outs)
		return outs, q.notices(ctx, m, failed, q.delayed(m, outs)), false
	}
	// A REQUIRETLS message leaves only over a connection made for it
	// (RFC 8689 4.2): never in clear, never unverified.
	if m.RequireTLS && !c.requireTLS {
		return finish(&Reply{Code: 451, Enhanced: "4.7.10", Lines: []string{
			"REQUIRETLS: the connection to " + c.mx + " was not made with a verified certificate to a server that offers REQUIRETLS (RFC 8689)"}}, "requiretls")
	}
	// What the server cannot carry fails with a reason rather than being
	// changed on the way.
	if max := c.maxSize(); max > 0 && m.Size > max {
		return finish(&Reply{Code: 552, Enhanced: "5.3.4", Lines: []string{fmt.Sprintf(
			"The message is %d bytes and %s accepts at most %d (RFC 1870)", m.Size, c.mx, max)}}, "size")
	}
	if m.EightBit && !c.has("8BITMIME") {
		return finish(&Reply{Code: 554, Enhanced: "5.6.3", Lines: []string{
			c.mx + " does not accept 8-bit messages (RFC 6152) and Wardmail does not convert them"}}, "8bitmime")
	}
	if m.SMTPUTF8 && !c.has("SMTPUTF8") {
		return finish(&Reply{Code: 553, Enhanced: "5.6.7", Lines: []string{
			c.mx + " does not accept internationalised addresses or headers (SMTPUTF8, RFC 6531)"}}, "smtputf8")
	}
	body, err := q.cfg.Store.Body(ctx, m.ContentID)
	if err != nil {
		q.cfg.Logger.Error("outbound: reading a body", "queue_id", m.QueueID, "err", err)
		return finish(&Reply{Code: 451, Enhanced: "4.3.0", Lines: []string{"the message could not be read here: will retry"}}, "local")
	}
	if m.Skip > 0 && m.Skip <= len(body) {
		body = body[m.Skip:]
	}
	rcpts := make([]string, len(m.Rcpts))
	var rcptDSN []store.RcptDSN
	for i, r := range m.Rcpts {
		rcpts[i] = r.Rcpt
		if r.Notify != "" || r.ORcpt != "" {
			if rcptDSN == nil {
				rcptDSN = make([]store.RcptDSN, len(m.Rcpts))
			}
			rcptDSN[i] = store.RcptDSN{Notify: r.Notify, ORcpt: r.ORcpt}
		}
	}
	start := time.Now()
	res, err := c.send(m.Sender, rcpts, txOptions{size: m.Size, eightBit: m.EightBit, smtputf8: m.SMTPUTF8, requireTLS: m.RequireTLS,
		envid: m.EnvID, ret: m.Ret, rcptDSN: rcptDSN}, m.Prefix, body)
	q.metrics.attempt.Observe(time.Since(start).Seconds())
	broken := err != nil
	var lost *Reply
	if err != nil {
		text := fmt.Sprintf("the connection to %s was lost: %v", c.mx, err)
		if res.sent {
			// RFC 5321 6.1: the message may have arrived; retrying is the
			// at-least-once that SMTP allows.
			text = fmt.Sprintf("%s closed the connection after the message was sent, without an answer (%v): it may have arrived; will retry", c.mx, err)
		}
		lost = &Reply{Code: 451, Enhanced: "4.4.2", Lines: []string{text}}
	}
	var failed, relayed []*store.QueuedRcpt
	for i, r := range m.Rcpts {
		reply, reason := lost, "network"
		switch {
		case res.mail != nil && res.mail.Code != 250:
			reply, reason = res.mail, "remote"
		case res.rcpts[i] != nil && res.rcpts[i].Code != 250 && res.rcpts[i].Code != 251:
			reply, reason = res.rcpts[i], "remote"
		case res.rcpts[i] != nil && res.data != nil:
			reply, reason = res.data, "remote"
		}
		if reply == nil {
			reply = &Reply{Code: 451, Enhanced: "4.4.2", Lines: []string{c.mx + " did not answer"}}
		}
		if f := q.outcomes(m, []*store.QueuedRcpt{r}, reply, c.mx, tlsName, reason, &outs); len(f) > 0 {
			failed = append(failed, f...)
		}
		// NOTIFY=SUCCESS: a server that offers DSN was passed the
		// request and reports delivery itself; of one that does not,
		// the sender hears from us that it was relayed (RFC 3461 4.1).
		if reply.Code/100 == 2 && wants(r.Notify, "SUCCESS") && !c.has("DSN") {
			relayed = append(relayed, r)
		}
	}
	notices := q.notices(ctx, m, failed, q.delayed(m, outs))
	return outs, append(notices, q.notice(ctx, m, relayed, kindRelayed)...), broken
}

// outcomes turns one reply for some recipients into their outcomes: 2xx
// delivered, 5xx failed, 4xx retried with back-off until the message's time
// is up (RFC 5321 4.2.1, 4.5.4.1). It returns the recipients that failed.
func (q *Queue) outcomes(m *store.QueuedMessage, rcpts []*store.QueuedRcpt, reply *Reply, mx, tlsName, reason string, outs *[]store.OutboundOutcome) []*store.QueuedRcpt {
	now := q.cfg.Now()
	var failed []*store.QueuedRcpt
	for _, r := range rcpts {
		o := store.OutboundOutcome{RcptID: r.ID, Attempt: true, Code: reply.Code, Reply: reply.String(), MX: mx, TLS: tlsName}
		switch {
		case reply.Code >= 200 && reply.Code < 300:
			o.State = store.QueueDelivered
			q.metrics.outcome("delivered", "", 1)
		case reply.Code >= 500:
			o.State = store.QueueFailed
			q.metrics.outcome("failed", reason, 1)
		default:
			next := now.Add(q.backoff(r.Attempts + 1))
			giveUp := r.CreatedAt.Add(q.cfg.Lifetime)
			if !now.Before(giveUp) {
				o.State = store.QueueFailed
				o.Reply = fmt.Sprintf("gave up after %s; the last answer was: %s", q.cfg.Lifetime, reply)
				if m.RequireTLS && strings.HasPrefix(reply.Enhanced, "4.7.") {
					o.Code, o.Reply = 550, requireTLSFailure(q.cfg.Lifetime, reply.String())
				}
				q.metrics.outcome("failed", "expired", 1)
				break
			}
			if next.After(giveUp) {
				next = giveUp
			}
			o.State, o.NextAt = store.QueueQueued, next
			q.metrics.outcome("deferred", reason, 1)
		}
		r.LastReply, r.LastCode, r.MX = o.Reply, o.Code, mx
		if o.State == store.QueueFailed {
			failed = append(failed, r)
		}
		*outs = append(*outs, o)
	}
	return failed
}

// requireTLSFailure is the final reply for a REQUIRETLS message that no
// server could take securely in its lifetime (RFC 8689 5: 5.7.10).
func requireTLSFailure(lifetime time.Duration, last string) string {
	return (&Reply{Code: 550, Enhanced: "5.7.10", Lines: []string{requireTLSText(lifetime, last)}}).String()
}

func requireTLSText(lifetime time.Duration, last string) string {
	return fmt.Sprintf("REQUIRETLS: the message asks to travel only over verified TLS (RFC 8689), and in %s no mail server "+
		"of the recipient could take it so; the last answer was: %s", lifetime, last)
}

// delayed marks and returns the recipients still waiting that are owed a
// delay notice (queued longer than DelayNotice, not yet told).
func (q *Queue) delayed(m *store.QueuedMessage, outs []store.OutboundOutcome) []*store.QueuedRcpt {
	now := q.cfg.Now()
	var out []*store.QueuedRcpt
	for i := range outs {
		if outs[i].State != store.QueueQueued {
			continue
		}
		for _, r := range m.Rcpts {
			if r.ID == outs[i].RcptID && !r.DelayNotified && now.Sub(r.CreatedAt) >= q.cfg.DelayNotice {
				outs[i].Notified = true
				out = append(out, r)
			}
		}
	}
	return out
}

// sweep fails what has waited past its lifetime and sends delay notices for
// what waits behind a destination in back-off, which no attempt visits. It
// reads through the age index: only what is due for either.
func (q *Queue) sweep(now time.Time) {
	ctx := context.Background()
	for q.ctx.Err() == nil {
		batch, err := q.cfg.Store.AgedRecipients(ctx, now.Add(-q.cfg.Lifetime), false, dueBatch)
		if err != nil || len(batch) == 0 {
			break
		}
		var outs []store.OutboundOutcome
		var notices []store.OutboundNotice
		for _, m := range batch {
			var failed []*store.QueuedRcpt
			for _, r := range m.Rcpts {
				last := r.LastReply
				if last == "" {
					last = "no attempt could be made"
				}
				reply := &Reply{Code: 550, Enhanced: "5.4.7", Lines: []string{fmt.Sprintf("gave up after %s; the last answer was: %s", q.cfg.Lifetime, last)}}
				if m.RequireTLS && strings.HasPrefix(enhancedOf(last), "4.7.") {
					reply = &Reply{Code: 550, Enhanced: "5.7.10", Lines: []string{requireTLSText(q.cfg.Lifetime, last)}}
				}
				failed = append(failed, q.outcomes(m, []*store.QueuedRcpt{r}, &Reply{Code: reply.Code, Enhanced: reply.Enhanced, Lines: reply.Lines}, r.MX, "", "expired", &outs)...)
			}
			notices = append(notices, q.notices(ctx, m, failed, nil)...)
		}
		if err := q.cfg.Store.RecordOutbound(ctx, outs, nil, notices); err != nil {
			q.cfg.Logger.Error("outbound: expiring", "err", err)
			break
		}
	}
	for q.ctx.Err() == nil {
		batch, err := q.cfg.Store.AgedRecipients(ctx, now.Add(-q.cfg.DelayNotice), true, dueBatch)
		if err != nil || len(batch) == 0 {
			break
		}
		var outs []store.OutboundOutcome
		var notices []store.OutboundNotice
		for _, m := range batch {
			for _, r := range m.Rcpts {
				// Only the notice flag changes: state, time and reply stay.
				outs = append(outs, store.OutboundOutcome{RcptID: r.ID, State: store.QueueQueued, NextAt: r.NextAt,
					Code: r.LastCode, Reply: r.LastReply, Notified: true})
			}
			notices = append(notices, q.notices(ctx, m, nil, m.Rcpts)...)
		}
		if err := q.cfg.Store.RecordOutbound(ctx, outs, nil, notices); err != nil {
			q.cfg.Logger.Error("outbound: delay notices", "err", err)
			break
		}
	}
}
