package submit

import (
	"context"
	"errors"
	"strings"

	"wardmail/message"
	"wardmail/policy"
	"wardmail/store"
)

// The protections that count a message's audience after list expansion
// (DESIGN section 4): the per-sender limits and the reply-all storm breaker
// (package policy). submit() asks checkPolicy once the audience is known and
// before anything is stored, and finishes the guard once the store answered.

// guard is what the policy let through, to finish after storing.
type guard struct {
	release func()
	ticket  *policy.Ticket
	log     func(msg string, args ...any)
}

// checkPolicy applies the sender limits and the storm breaker. When the
// early brake applies, it moves the submission's lists into held posts that
// the brake worker releases later.
func (p *Pipeline) checkPolicy(ctx context.Context, s *Sender, sub *store.Submission, sum *message.Summary) (*guard, error) {
	g := &guard{release: func() {}, log: p.cfg.Logger.Warn}
	if p.cfg.Limits != nil && s.Person != nil {
		release, err := p.cfg.Limits.Check(ctx, s.Person.ID, sub.Audience)
		if err != nil {
			return nil, p.policyError(err)
		}
		g.release = release
	}
	if p.cfg.Breaker == nil {
		return g, nil
	}
	tk, err := p.cfg.Breaker.Check(ctx, policy.Reply{ThreadID: sub.ThreadID, MessageID: sub.MessageID, Subject: sub.Subject,
		Sender: sub.Sender, Audience: sub.Audience,
		IsReply: len(sum.References) > 0 || strings.TrimSpace(sum.Envelope.InReplyTo) != ""})
	if err != nil {
		g.release()
		return nil, p.policyError(err)
	}
	g.ticket = tk
	if tk != nil && tk.Brake && len(sub.Lists) > 0 {
		reason := p.cfg.Breaker.BrakeReason(tk.Release)
		for _, l := range sub.Lists {
			sub.Held = append(sub.Held, store.HeldPost{ListID: l, Reason: reason,
				Expires: sub.Date.AddDate(0, 0, p.cfg.Governance.HoldDays)})
		}
		sub.Lists = nil
		p.cfg.Logger.Info("storm brake: list delivery delayed", "thread", sub.ThreadID, "message_id", sub.MessageID, "until", tk.Release)
	}
	return g, nil
}

// finish tells the breaker whether the message was stored, and frees the
// sender's in-flight count.
func (g *guard) finish(ctx context.Context, stored bool) {
	if g == nil {
		return
	}
	if err := g.ticket.Done(context.WithoutCancel(ctx), stored); err != nil {
		g.log("recording a storm reply", "err", err)
	}
	g.release()
}

func (p *Pipeline) policyError(err error) error {
	var r *policy.Refusal
	if errors.As(err, &r) {
		return &Error{Code: r.Code, Enhanced: r.Enhanced, Message: r.Message}
	}
	p.cfg.Logger.Error("checking sender limits and the storm breaker", "err", err)
	return ErrUnavailable
}
