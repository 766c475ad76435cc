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
// to it and to every list inside it. A held post is accepted here: the
// message goes to the moderators.
func (p *Pipeline) checkList(ctx context.Context, s *Sender, addr string, decide bool) (Recipient, error) {
	l, err := p.cfg.Store.ListByAddress(ctx, addr)
	if err != nil {
		return Recipient{}, err
	}
	if !decide {
		return Recipient{Address: l.Address, ListID: l.ID}, nil
	}
	v, err := p.decideTree(ctx, s, l)
	if err != nil {
		return Recipient{}, err
	}
	if v.stop != nil {
		return Recipient{}, v.stop
	}
	return Recipient{Address: l.Address, ListID: l.ID}, nil
}

// listVerdict is what happens to a post to a list, once the lists inside it
// have been asked too. Rights travel with the message: each list inside
// decides as if the sender had posted to it directly, and the strictest
// answer wins. A refusal anywhere refuses the whole post (550, naming the
// inner list); a list waiting for administrators defers it (451); lists that
// hold the post for their moderators hold the whole post, which goes out
// once each of them approves (store/held.go).
type listVerdict struct {
	list   *store.List
	own    lists.Decision
	nested []nestedVerdict
	stop   *Error           // the refusal or deferral of the whole post, or nil
	holds  []store.HeldPost // the lists whose moderators must approve, this one included when it holds
	// announce: a list it reaches is announce-only, so replies go to the
	// sender alone.
	announce bool
}

type nestedVerdict struct {
	list *store.List
	via  string
	d    lists.Decision
}

// decideTree decides a post to l and to every list inside it.
func (p *Pipeline) decideTree(ctx context.Context, s *Sender, l *store.List) (*listVerdict, error) {
	d, err := p.decide(ctx, s, l)
	if err != nil {
		return nil, err
	}
	v := &listVerdict{list: l, own: d, stop: decisionError(d), announce: d.Policy == lists.PolicyAnnounce}
	hold := func(id int64, reason string) {
		v.holds = append(v.holds, store.HeldPost{ListID: id, PostListID: l.ID, Reason: reason,
			Expires: p.cfg.Now().AddDate(0, 0, p.cfg.Governance.HoldDays)})
	}
	if d.Verdict == lists.Hold {
		hold(l.ID, d.Reason)
	}
	inside, err := p.cfg.Store.NestedLists(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	for _, n := range inside {
		dn, err := p.decide(ctx, s, n.List)
		if err != nil {
			return nil, err
		}
		v.nested = append(v.nested, nestedVerdict{list: n.List, via: n.Via, d: dn})
		v.announce = v.announce || dn.Policy == lists.PolicyAnnounce
		switch dn.Verdict {
		case lists.Hold:
			hold(n.ID, fmt.Sprintf("Your post to %s reaches %s, a list inside it, and %s", l.Address, n.Address, lowerFirst(dn.Reason)))
		case lists.Refuse:
			if v.stop == nil || v.stop.Temporary() {
				v.stop = refuse(550, 5, 7, 1, "Your post to %s cannot go: it would reach %s, a list inside it, which refuses it. %s",
					l.Address, n.Address, dn.Reason)
			}
		case lists.Wait, lists.Suspend:
			if v.stop == nil {
				v.stop = refuse(451, 4, 7, 1, "Your post to %s cannot go now: it would reach %s, a list inside it, which takes no posts at the moment. %s",
					l.Address, n.Address, dn.Reason)
			}
		}
	}
	return v, nil
}

// verdict is the word the audience API shows for the whole post to the list.
func (v *listVerdict) verdict() (string, string) {
	switch {
	case v.stop != nil && v.stop.Temporary():
		if v.own.Verdict == lists.Suspend {
			return "suspend", v.stop.Message
		}
		return "wait", v.stop.Message
	case v.stop != nil:
		return "refuse", v.stop.Message
	case len(v.holds) > 0:
		if v.own.Verdict == lists.Hold {
			return "hold", v.own.Reason
		}
		return "hold", v.holds[0].Reason
	}
	return "accept", ""
}

func lowerFirst(s string) string {
	if strings.HasPrefix(s, "Your ") {
		return "y" + s[1:]
	}
	return s
}

// decide applies the governance rules and the list's policy to a sender. A
// list that has drifted past its approved size is suspended here, and the
// administrators alerted (log, metric, the list's state in the admin API).
func (p *Pipeline) decide(ctx context.Context, s *Sender, l *store.List) (lists.Decision, error) {
	var sf lists.SenderFacts
	if s.Person != nil {
		var err error
		if sf, err = p.cfg.Store.SenderFacts(ctx, l, s.Person); err != nil {
			return lists.Decision{}, err
		}
	}
	d := p.cfg.Governance.Decide(store.ListFacts(l), sf)
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

// AudienceList is one list among the recipients, or a list inside one of
// them (Via names the list it is inside). A list's verdict is for the whole
// post to it, the lists inside it included; each list inside has its own.
type AudienceList struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	Policy  string `json:"policy"`
	Verdict string `json:"verdict"` // accept, hold, refuse, wait, suspend
	Reason  string `json:"reason,omitempty"`
	Via     string `json:"via,omitempty"`
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
		case r.Outside:
			a.External = append(a.External, addr)
			continue
		}
		if r.ListID == 0 {
			people = append(people, r.PersonID)
			continue
		}
		l, err := p.cfg.Store.ListByID(ctx, r.ListID)
		if err != nil {
			return nil, err
		}
		v, err := p.decideTree(ctx, s, l)
		if err != nil {
			return nil, err
		}
		verdict, reason := v.verdict()
		a.Lists = append(a.Lists, AudienceList{Address: l.Address, Name: l.Name, Size: l.Size, Policy: v.own.Policy, Verdict: verdict, Reason: reason})
		for _, n := range v.nested {
			a.Lists = append(a.Lists, AudienceList{Address: n.list.Address, Name: n.list.Name, Size: n.list.Size, Policy: n.d.Policy,
				Verdict: verdictName(n.d.Verdict), Reason: n.d.Reason, Via: n.via})
		}
		switch {
		case v.stop != nil:
			block(v.stop)
		case len(v.holds) > 0:
			for _, h := range v.holds {
				a.Warnings = append(a.Warnings, h.Reason)
			}
		default:
			listIDs = append(listIDs, l.ID)
		}
	}
	var err error
	if a.People, err = p.cfg.Store.AudienceCount(ctx, people, listIDs); err != nil {
		return nil, err
	}
	if a.Organisations, err = p.cfg.Store.AudienceOrgs(ctx, people, listIDs); err != nil {
		return nil, err
	}
	if err := p.markOutside(ctx, a); err != nil {
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
	r, err := p.checkRecipient(ctx, s, addr, false)
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
