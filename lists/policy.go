package lists

import (
	"fmt"
	"slices"
)

// Posting policies: who may post to a list.
const (
	PolicyMembers   = "members"   // the list's members (and its owners and named senders)
	PolicyOrg       = "org"       // anyone in the list's organisation(s)
	PolicySenders   = "senders"   // named senders and owners only
	PolicyAnnounce  = "announce"  // named senders and owners; replies go to the sender alone
	PolicyModerated = "moderated" // anyone may submit; owners approve each post
)

// Policies lists every policy, for messages and validation.
var Policies = []string{PolicyMembers, PolicyOrg, PolicySenders, PolicyAnnounce, PolicyModerated}

// ValidPolicy reports whether p is a policy.
func ValidPolicy(p string) bool { return slices.Contains(Policies, p) }

// Governance holds the defaults that keep a large list from being used by
// accident (DESIGN section 4). They are configuration.
type Governance struct {
	// Lists with more members than this accept posts only from named
	// senders, unless an administrator chose another policy. Default 500.
	SendersOnlyAbove int64
	// Lists with more members than this need Approvals administrators'
	// approvals before anyone may post. Default 50,000 and 2.
	ApprovalAbove int64
	Approvals     int
	// Posting is suspended when the live size exceeds the approved size by
	// more than this percentage. Default 110 (that is, 10% growth).
	DriftPercent int64
	// HoldDays is how long a held post waits for a moderator. Default 7.
	HoldDays int
}

// DefaultGovernance returns the defaults.
func DefaultGovernance() Governance {
	return Governance{SendersOnlyAbove: 500, ApprovalAbove: 50000, Approvals: 2, DriftPercent: 110, HoldDays: 7}
}

// Fill replaces zero fields with the defaults.
func (g *Governance) Fill() {
	d := DefaultGovernance()
	if g.SendersOnlyAbove <= 0 {
		g.SendersOnlyAbove = d.SendersOnlyAbove
	}
	if g.ApprovalAbove <= 0 {
		g.ApprovalAbove = d.ApprovalAbove
	}
	if g.Approvals <= 0 {
		g.Approvals = d.Approvals
	}
	if g.DriftPercent <= 100 {
		g.DriftPercent = d.DriftPercent
	}
	if g.HoldDays <= 0 {
		g.HoldDays = d.HoldDays
	}
}

// ListFacts is what the posting decision needs to know about a list.
type ListFacts struct {
	Address      string
	Size         int64 // live distinct members
	ApprovedSize int64 // 0: never approved
	Policy       string
	PolicyByAdm  bool // an administrator chose the policy
	Suspended    bool
}

// SenderFacts is what it needs to know about the sender.
type SenderFacts struct {
	Local   bool // a person in the directory (signed in, or a local address on the inbound door)
	Member  bool // an effective member of the list
	Owner   bool
	Named   bool // a named sender
	SameOrg bool // in the list's organisation (its scope, or its owners' organisations)
}

// Verdict is what happens to a post.
type Verdict int

// Verdicts.
const (
	Accept  Verdict = iota // append to the post log
	Hold                   // keep for a moderator; the sender is told
	Refuse                 // permanent refusal (5.7.1)
	Wait                   // temporary refusal until administrators act (4.7.1)
	Suspend                // suspend the list (drift), then as Wait
)

// Decision is a verdict with the sentence a person reads.
type Decision struct {
	Verdict Verdict
	Policy  string // the policy that applied
	Reason  string
}

// EffectivePolicy is the policy that applies: above SendersOnlyAbove
// members, named senders only unless an administrator chose otherwise.
func (g Governance) EffectivePolicy(l ListFacts) string {
	if l.Size > g.SendersOnlyAbove && !l.PolicyByAdm && l.Policy != PolicyAnnounce {
		return PolicySenders
	}
	return l.Policy
}

// Decide says what happens to a post to a list. The checks run from the
// list's state (suspended, unapproved, drifted) to the sender's rights.
func (g Governance) Decide(l ListFacts, s SenderFacts) Decision {
	g.Fill()
	pol := g.EffectivePolicy(l)
	d := Decision{Policy: pol}
	switch {
	case l.Suspended:
		d.Verdict, d.Reason = Wait, fmt.Sprintf("Posting to %s is suspended until administrators re-approve its size; they have been alerted", l.Address)
		return d
	case l.Size > g.ApprovalAbove && l.ApprovedSize == 0:
		d.Verdict, d.Reason = Wait, fmt.Sprintf("%s has %d members and needs %d administrators' approval before anyone may post to it", l.Address, l.Size, g.Approvals)
		return d
	case l.ApprovedSize > 0 && l.Size*100 > l.ApprovedSize*g.DriftPercent:
		d.Verdict, d.Reason = Suspend, fmt.Sprintf("%s has grown to %d members, more than %d%% of the %d administrators approved: posting is suspended until they re-approve it",
			l.Address, l.Size, g.DriftPercent, l.ApprovedSize)
		return d
	}
	privileged := s.Owner || s.Named
	switch pol {
	case PolicySenders:
		if !privileged {
			why := ""
			if l.Policy != PolicySenders {
				why = fmt.Sprintf(" (it has %d members; lists over %d accept posts from named senders unless an administrator decides otherwise)", l.Size, g.SendersOnlyAbove)
			}
			d.Verdict, d.Reason = Refuse, fmt.Sprintf("Only the named senders of %s may post to it%s", l.Address, why)
			return d
		}
	case PolicyAnnounce:
		if !privileged {
			d.Verdict, d.Reason = Refuse, fmt.Sprintf("%s is announce-only: reply to the person who sent the message, not to the list", l.Address)
			return d
		}
	case PolicyMembers:
		if !privileged && !s.Member {
			d.Verdict, d.Reason = Refuse, fmt.Sprintf("Only members of %s may post to it", l.Address)
			return d
		}
	case PolicyOrg:
		if !privileged && !s.Member && !s.SameOrg {
			d.Verdict, d.Reason = Refuse, fmt.Sprintf("Only people in the organisation of %s may post to it", l.Address)
			return d
		}
	case PolicyModerated:
		if !privileged {
			d.Verdict, d.Reason = Hold, fmt.Sprintf("Your post to %s is held for its moderators, who decide within %d days; you will be told", l.Address, g.HoldDays)
			return d
		}
	}
	d.Verdict = Accept
	return d
}
