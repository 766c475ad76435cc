package submit

import (
	"context"

	"wardmail/message"
	"wardmail/scan"
	"wardmail/store"
)

// Scanner checks what a message carries (package scan's Scanner): blocked
// attachment types, malware, spam.
type Scanner interface {
	Scan(ctx context.Context, env scan.Envelope, body []byte, fromOutside bool) scan.Verdict
}

// scanMessage asks the scanner about a message that is complete but not yet
// stored. It refuses what the verdict refuses (550 5.7.1, or 451 4.7.0 when
// an engine could not answer and the configuration says wait), and returns
// the message with the scanner's X-Wardmail-Scan header on top (one claiming
// to be ours that arrived with the message is removed first) and the
// verdict, for route.
func (p *Pipeline) scanMessage(ctx context.Context, s *Sender, from string, rcpts []Recipient, id string, full []byte) ([]byte, scan.Verdict, error) {
	// Whoever sends it, only this server writes the field.
	if hs, _ := message.CheckHeader(full, p.cfg.MaxHeaderLine); hs > 0 {
		full = message.RemoveHeader(full, hs, scan.HeaderName)
	}
	if p.cfg.Scanner == nil {
		return full, scan.Verdict{}, nil
	}
	env := scan.Envelope{From: from, IP: hostOf(s.RemoteAddr), Helo: s.Helo, QueueID: id}
	if s.Person != nil {
		env.Authenticated = s.Person.Email
	}
	for _, r := range rcpts {
		env.Rcpts = append(env.Rcpts, r.Address)
	}
	v := p.cfg.Scanner.Scan(ctx, env, full, s.Person == nil)
	switch v.Action {
	case scan.Reject:
		p.cfg.Logger.Info("refused by the scanner", "id", id, "door", s.Door, "kind", v.Kind, "reason", v.Reason)
		return nil, v, refuse(550, 5, 7, 1, "%s", v.Reason)
	case scan.TempFail:
		return nil, v, refuse(451, 4, 7, 0, "%s", v.Reason)
	case scan.Quarantine, scan.Junk:
		p.cfg.Logger.Info("scanner verdict", "id", id, "door", s.Door, "action", v.Action.String(), "kind", v.Kind)
	}
	if v.Header != "" {
		field := scan.HeaderName + ": " + v.Header + "\r\n"
		full = append([]byte(field), full...)
	}
	return full, v, nil
}

// route applies content verdicts to a submission just before it is
// stored: the one place where a message is sent to Junk or the quarantine.
// Several checks may give a verdict (the scanner's, a DMARC policy of
// p=quarantine, which means Junk); the strongest wins: quarantine, then
// Junk, then delivery, and its kind and reason are what the quarantine
// shows. A message to a list cannot go to each member's Junk
// folder (a list post is stored once, before anyone reads it), so Junk for
// a list post is the quarantine.
func route(sub *store.Submission, verdicts ...scan.Verdict) {
	var strongest scan.Verdict
	for _, v := range verdicts {
		if v.Action == scan.Quarantine && strongest.Action != scan.Quarantine ||
			v.Action == scan.Junk && strongest.Action == scan.Deliver {
			strongest = v
		}
	}
	switch {
	case strongest.Action == scan.Quarantine || strongest.Action == scan.Junk && len(sub.Lists) > 0:
		sub.Quarantine = &store.QuarantineHold{Kind: strongest.Kind, Reason: strongest.Reason}
	case strongest.Action == scan.Junk:
		sub.Junk = true
	}
}
