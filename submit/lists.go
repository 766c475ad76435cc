package submit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"wardmail/lists"
	"wardmail/store"
)

// List recipients. A list address resolves at RCPT time, where the posting
// decision is made first (so a client learns at once, per recipient, that it
// may not post), and again when the message arrives, where the list's state
// may have changed.

// checkList resolves a list address and decides whether the sender may post
// to it. A held post is accepted here: the message goes to the moderators.
func (p *Pipeline) checkList(ctx context.Context, s *Sender, addr string) (Recipient, error) {
	l, err := p.cfg.Store.ListByAddress(ctx, addr)
	if err != nil {
		return Recipient{}, err
	}
	d, err := p.decide(ctx, s, l)
	if err != nil {
		return Recipient{}, err
	}
	if e := decisionError(d); e != nil {
		return Recipient{}, e
	}
	return Recipient{Address: l.Address, ListID: l.ID}, nil
}

// decide applies the governance rules and the list's policy to a sender. A
// list that has drifted past its approved size is suspended here, and the
// administrators alerted (log, metric, the list's state in the admin API).
func (p *Pipeline) decide(ctx context.Context, s *Sender, l *store.List) (lists.Decision, error) {
	facts := lists.ListFacts{Address: l.Address, Size: l.Size, ApprovedSize: l.ApprovedSize,
		Policy: l.PostPolicy, PolicyByAdm: l.PolicySetBy != 0, Suspended: l.Suspended}
	var sf lists.SenderFacts
	if s.Person != nil {
		var err error
		if sf, err = p.senderFacts(ctx, s.Person, l); err != nil {
			return lists.Decision{}, err
		}
	}
	d := p.cfg.Governance.Decide(facts, sf)
	p.metrics.listDecisions.WithLabelValues(verdictName(d.Verdict)).Inc()
	if d.Verdict == lists.Suspend {
		p.cfg.Logger.Warn("list suspended: its size drifted past its approval", "list", l.Address, "size", l.Size, "approved", l.ApprovedSize)
		if err := p.cfg.Store.SetListSuspended(ctx, "system", l.ID, true, d.Reason); err != nil {
			return lists.Decision{}, err
		}
		p.metrics.listSuspensions.Inc()
	}
	return d, nil
}

func (p *Pipeline) senderFacts(ctx context.Context, who *store.Person, l *store.List) (lists.SenderFacts, error) {
	sf := lists.SenderFacts{Local: true}
	var err error
	if sf.Member, err = p.cfg.Store.IsMember(ctx, l.ID, who.ID); err != nil {
		return sf, err
	}
	for _, o := range l.Owners {
		if strings.EqualFold(o, who.Email) {
			sf.Owner = true
		}
	}
	for _, o := range l.Senders {
		if strings.EqualFold(o, who.Email) {
			sf.Named = true
		}
	}
	if l.Kind == store.ListDynamic {
		sc, err := lists.ParseScope(l.Scope)
		if err != nil {
			return sf, err
		}
		sf.SameOrg = sc.Kind != lists.ScopeNational && sc.Contains(who.Org)
	} else {
		for _, o := range l.Owners {
			owner, err := p.cfg.Store.PersonByEmail(ctx, o)
			if err == nil && owner.OrgID == who.OrgID {
				sf.SameOrg = true
			}
		}
	}
	return sf, nil
}

// decisionError is the SMTP reply of a decision that stops a post, or nil.
func decisionError(d lists.Decision) *Error {
	switch d.Verdict {
	case lists.Refuse:
		return refuse(550, 5, 7, 1, "%s", d.Reason)
	case lists.Wait, lists.Suspend:
		return refuse(451, 4, 7, 1, "%s", d.Reason)
	}
	return nil
}

func verdictName(v lists.Verdict) string {
	switch v {
	case lists.Accept:
		return "accept"
	case lists.Hold:
		return "hold"
	case lists.Refuse:
		return "refuse"
	case lists.Wait:
		return "wait"
	}
	return "suspend"
}

// Audience is what a message would do, before it is sent: the exact number
// of distinct people, their organisations, and the warnings or block that
// would apply (POST /api/v1/audience).
type Audience struct {
	People         int64            `json:"people"`
	Organisations  []store.OrgCount `json:"organisations"`
	Lists          []AudienceList   `json:"lists"`
	Unknown        []string         `json:"unknown"`  // addresses nobody has
	External       []string         `json:"external"` // other domains
	Warnings       []string         `json:"warnings"`
	Blocked        *Block           `json:"blocked"`
	ConfirmAbove   int64            `json:"confirm_above"`
	NeedsConfirm   bool             `json:"needs_confirmation"`
	NamedRecipient int              `json:"named_recipients"`
}

// AudienceList is one list among the recipients.
type AudienceList struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	Policy  string `json:"policy"`
	Verdict string `json:"verdict"` // accept, hold, refuse, wait, suspend
	Reason  string `json:"reason,omitempty"`
}

// Block is why the message would be refused, with its SMTP codes.
type Block struct {
	Code     int    `json:"code"`
	Enhanced string `json:"enhanced"`
	Reason   string `json:"reason"`
}

// PreviewAudience resolves To, Cc and Bcc for a signed-in sender without
// sending anything, applying the same rules as Submit.
func (p *Pipeline) PreviewAudience(ctx context.Context, s *Sender, addrs []string) (*Audience, error) {
	a := &Audience{Organisations: []store.OrgCount{}, Lists: []AudienceList{}, Unknown: []string{}, External: []string{},
		Warnings: []string{}, ConfirmAbove: p.cfg.ConfirmAbove, NamedRecipient: len(addrs)}
	block := func(e *Error) {
		if a.Blocked == nil {
			a.Blocked = &Block{Code: e.Code, Enhanced: fmt.Sprintf("%d.%d.%d", e.Enhanced[0], e.Enhanced[1], e.Enhanced[2]), Reason: e.Message}
		}
	}
	if len(addrs) > p.cfg.MaxRecipients {
		block(ErrTooManyRecipients)
	}
	var people, listIDs []int64
	for _, addr := range addrs {
		r, err := p.resolve(ctx, s, addr)
		var e *Error
		switch {
		case errors.As(err, &e) && e.Enhanced == [3]int{5, 1, 1}:
			a.Unknown = append(a.Unknown, addr)
			a.Warnings = append(a.Warnings, e.Message)
			continue
		case errors.As(err, &e) && e.Enhanced == [3]int{5, 7, 1} && r.external:
			a.External = append(a.External, addr)
			block(e)
			continue
		case errors.As(err, &e):
			block(e)
			continue
		case err != nil:
			return nil, err
		}
		if r.ListID == 0 {
			people = append(people, r.PersonID)
			continue
		}
		l, err := p.cfg.Store.ListByID(ctx, r.ListID)
		if err != nil {
			return nil, err
		}
		d, err := p.decide(ctx, s, l)
		if err != nil {
			return nil, err
		}
		a.Lists = append(a.Lists, AudienceList{Address: l.Address, Name: l.Name, Size: l.Size, Policy: d.Policy, Verdict: verdictName(d.Verdict), Reason: d.Reason})
		switch d.Verdict {
		case lists.Accept:
			listIDs = append(listIDs, l.ID)
		case lists.Hold:
			a.Warnings = append(a.Warnings, d.Reason)
		default:
			block(decisionError(d))
		}
	}
	var err error
	if a.People, err = p.cfg.Store.AudienceCount(ctx, people, listIDs); err != nil {
		return nil, err
	}
	if a.Organisations, err = p.cfg.Store.AudienceOrgs(ctx, people, listIDs); err != nil {
		return nil, err
	}
	if a.People > p.cfg.ConfirmAbove {
		a.NeedsConfirm = true
		a.Warnings = append(a.Warnings, fmt.Sprintf("This will reach %s people in %d organisations", thousands(a.People), len(a.Organisations)))
	}
	return a, nil
}

// resolved is a recipient with whether it failed for being external.
type resolved struct {
	Recipient
	external bool
}

func (p *Pipeline) resolve(ctx context.Context, s *Sender, addr string) (resolved, error) {
	r, err := p.CheckRecipient(ctx, s, addr)
	var e *Error
	ext := errors.As(err, &e) && strings.Contains(e.Message, "other domains")
	return resolved{r, ext}, err
}

// thousands writes 849203 as 849,203.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Governance returns the list defaults in force.
func (p *Pipeline) Governance() lists.Governance { return p.cfg.Governance }
