package submit

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"wardmail/scan"

	"wardmail/inbound"
)

// Inbound authenticates mail from other servers (package inbound); nil
// turns the checks off.
type Inbound interface {
	Check(ctx context.Context, in inbound.Input) *inbound.Verdict
}

// inboundVerdict is what the inbound checks decided for one message.
type inboundVerdict struct {
	junk   bool
	reason string
}

// checkInbound runs sender authentication on a message arriving on the
// inbound door and returns the message as it is to be stored (with
// Authentication-Results and Wardmail-Origin on top) and where it goes. A
// refusal carries its SMTP reply: 550 5.7.1 for a forgery or a DMARC reject
// policy (RFC 7489 6.6.3), 451 4.7.0 when DNS could not say.
func (p *Pipeline) checkInbound(ctx context.Context, s *Sender, from string, body []byte, hs int64) ([]byte, int64, inboundVerdict, error) {
	if p.cfg.Inbound == nil || s.Person != nil || s.Door != "smtp" {
		// Only Wardmail writes these fields: a person's own copy of one
		// would put words of theirs in the recipients' banner.
		out := inbound.Rewrite(body, p.cfg.Hostname, nil)
		return out, hs + int64(len(out)-len(body)), inboundVerdict{}, nil
	}
	ip, _ := netip.ParseAddr(hostOf(s.RemoteAddr))
	v := p.cfg.Inbound.Check(ctx, inbound.Input{RemoteIP: ip, Helo: s.Helo, MailFrom: from, Message: body})
	switch v.Action {
	case inbound.Reject:
		p.cfg.Logger.Info("refused by sender authentication", "from", from, "domain", v.FromDomain, "dmarc", v.DMARC, "reason", v.Reason)
		return nil, 0, inboundVerdict{}, refuse(550, 5, 7, 1, "%s", v.Reason)
	case inbound.Defer:
		return nil, 0, inboundVerdict{}, refuse(451, 4, 7, 0, "%s", v.Reason)
	}
	out := v.Apply(body)
	return out, hs + int64(len(out)-len(body)), inboundVerdict{junk: v.Action == inbound.Junk, reason: v.Reason}, nil
}

// asScan is the verdict in the terms route weighs every check's in: a
// DMARC p=quarantine (or a failed check the policy sends to Junk) is Junk.
func (v inboundVerdict) asScan() scan.Verdict {
	if !v.junk {
		return scan.Verdict{}
	}
	return scan.Verdict{Action: scan.Junk, Kind: "sender-authentication", Reason: "Sender authentication: " + v.reason}
}

// markOutside adds a warning to an audience preview for each outside
// address, a stronger one when its domain looks like a local one (a typing
// slip, or a trap: nhs-test.org for nhs.test).
func (p *Pipeline) markOutside(ctx context.Context, a *Audience) error {
	if len(a.External) == 0 {
		return nil
	}
	local, err := p.cfg.Store.LocalDomainNames(ctx)
	if err != nil {
		return err
	}
	local = append(local, p.cfg.LocalDomains...)
	for _, addr := range a.External {
		d := addr[strings.LastIndexByte(addr, '@')+1:]
		if l := inbound.LookAlike(d, local); l != "" {
			a.Warnings = append(a.Warnings, fmt.Sprintf("%s is outside the health service, but %s looks like %s: check the address", addr, d, l))
		} else {
			a.Warnings = append(a.Warnings, fmt.Sprintf("%s is outside the health service", addr))
		}
	}
	return nil
}
