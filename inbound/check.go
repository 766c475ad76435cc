package inbound

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
)

// Directory is what the checker asks of the directory; *store.Store
// implements it.
type Directory interface {
	// LocalDomainNames lists the domains the service receives mail for.
	LocalDomainNames(ctx context.Context) ([]string, error)
	// PersonNamed reports whether an enabled person in the directory has
	// this display name (compared without regard to case).
	PersonNamed(ctx context.Context, name string) (bool, error)
}

// Config is what a Checker needs.
type Config struct {
	// Hostname is the authserv-id of the Authentication-Results field.
	Hostname string
	// Resolver answers every DNS question (netdns.Resolver).
	Resolver *net.Resolver
	// Directory names the local domains and the people in the directory.
	Directory Directory
	// LocalDomains are local in addition to the directory's domains.
	LocalDomains []string
	// TrustedRelays are networks (another gateway of the health service)
	// whose mail is not refused or sent to Junk on authentication
	// results: they have checked it, and they may carry mail of a local
	// domain.
	TrustedRelays []netip.Prefix
	// TrustedSealers are ARC sealer domains (a mailing list, a
	// forwarder) whose ARC chain is believed: a message that failed DMARC
	// only because they forwarded it is judged on what they found when it
	// reached them (RFC 8617 7.2).
	TrustedSealers []string
	// SubjectTag, when set, is put before the subject of mail from outside
	// (for IMAP clients that show no banner), e.g. "[EXTERNAL]".
	SubjectTag string
	// Reports, when set, counts results for the domains that ask for DMARC
	// aggregate reports (report.go).
	Reports ReportStore
	// CacheTTL keeps TXT answers this long (default 1 minute; negative:
	// no cache).
	CacheTTL time.Duration
	Logger   *slog.Logger
	Metrics  *Metrics
	Now      func() time.Time
}

// Checker authenticates inbound mail and decides what happens to it.
type Checker struct {
	cfg Config
	txt *txtCache
	res spf.DNSResolver
}

// New returns a Checker.
func New(cfg Config) *Checker {
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = time.Minute
	}
	for i, d := range cfg.TrustedSealers {
		cfg.TrustedSealers[i] = strings.ToLower(strings.TrimSuffix(d, "."))
	}
	c := &Checker{cfg: cfg, txt: &txtCache{ttl: cfg.CacheTTL, max: 20000, now: cfg.Now, m: map[string]txtEntry{}}}
	c.res = cachingResolver{Resolver: cfg.Resolver, cache: c.txt}
	return c
}

// Metrics returns the checker's Prometheus collector.
func (c *Checker) Metrics() *Metrics { return c.cfg.Metrics }

// Input is one message arriving on the inbound door.
type Input struct {
	RemoteIP netip.Addr
	Helo     string
	MailFrom string // envelope sender; "" for a bounce
	Message  []byte // as received, header and body
}

// Action is what happens to a message.
type Action int

// Actions, from mildest.
const (
	Accept Action = iota // into the recipients' INBOX
	Junk                 // into the recipients' Junk folder, with a banner
	Reject               // refused at the door (550 5.7.1)
	Defer                // refused for now (451 4.7.0): DNS did not answer
)

func (a Action) String() string {
	return [...]string{"accept", "junk", "reject", "defer"}[a]
}

// Verdict is what the checker found and decided.
type Verdict struct {
	Action Action
	// Reason is the sentence of a refusal or of a Junk delivery.
	Reason string

	SPF, HeloSPF spf.Result
	DKIM         []*dkim.Verification
	FromDomain   string
	DMARC        authres.ResultValue
	Policy       dmarc.Policy // the policy that applied (reject for a local domain)
	ARC          ARCResult
	Trusted      bool // arrived through a trusted relay
	Origin       Origin

	authservID string
	fields     []byte // fields to put on top of the message
	subjectTag string
}

// Check authenticates a message and decides its fate. It does not fail:
// DNS trouble becomes temperror results, and a Defer action when the
// result would have decided a refusal.
func (c *Checker) Check(ctx context.Context, in Input) *Verdict {
	start := time.Now()
	v := c.check(ctx, in)
	c.cfg.Metrics.observe(v, time.Since(start))
	return v
}

func (c *Checker) check(ctx context.Context, in Input) *Verdict {
	v := &Verdict{authservID: c.cfg.Hostname, subjectTag: c.cfg.SubjectTag}
	fields, bodyAt := splitHeader(in.Message)
	ip := net.IP(in.RemoteIP.Unmap().AsSlice())
	for _, n := range c.cfg.TrustedRelays {
		if n.Contains(in.RemoteIP.Unmap()) {
			v.Trusted = true
		}
	}

	if v.Trusted {
		return c.trusted(ctx, v, fields)
	}

	// SPF (RFC 7208 2.3, 2.4): HELO first; MAIL FROM, or the HELO identity
	// for a bounce.
	helo := strings.TrimSuffix(strings.Trim(in.Helo, "[]"), ".")
	v.HeloSPF = spf.None
	if helo != "" && strings.Contains(helo, ".") && net.ParseIP(helo) == nil {
		v.HeloSPF, _ = spf.CheckHostWithSender(ip, helo, "postmaster@"+helo, spf.WithContext(ctx), spf.WithResolver(c.res))
	}
	mailFromDomain := domainOf(in.MailFrom)
	if mailFromDomain != "" {
		v.SPF, _ = spf.CheckHostWithSender(ip, helo, in.MailFrom, spf.WithContext(ctx), spf.WithResolver(c.res))
	} else {
		v.SPF, mailFromDomain = v.HeloSPF, helo
	}

	// DKIM (RFC 6376): every signature; the library reads the message up
	// to its body once per signature.
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(in.Message), &dkim.VerifyOptions{
		LookupTXT: c.lookupTXT(ctx), MaxVerifications: 10})
	if err != nil && len(verifs) == 0 {
		c.cfg.Logger.Debug("DKIM could not be checked", "err", err)
	}
	v.DKIM = verifs

	// ARC (RFC 8617), only when there is a chain.
	v.ARC = c.verifyARC(ctx, fields, in.Message[bodyAt:])

	// DMARC (RFC 7489 6.6): the From domain, aligned with SPF or DKIM.
	local, err := c.localDomains(ctx)
	if err != nil {
		c.cfg.Logger.Warn("reading the local domains", "err", err)
		v.Action, v.Reason = Defer, "The directory is unavailable; please try again later"
		return v
	}
	fromName, fromAddr, fromErr := singleFrom(fields)
	v.FromDomain = domainOf(fromAddr)
	fromLocal := v.FromDomain != "" && isLocalDomain(v.FromDomain, local)
	var pol policyRecord
	if v.FromDomain != "" {
		pol = c.lookupPolicy(ctx, v.FromDomain)
	}
	spfAlign, dkimAlign := dmarc.AlignmentMode(dmarc.AlignmentRelaxed), dmarc.AlignmentMode(dmarc.AlignmentRelaxed)
	if pol.rec != nil {
		if pol.rec.SPFAlignment != "" {
			spfAlign = pol.rec.SPFAlignment
		}
		if pol.rec.DKIMAlignment != "" {
			dkimAlign = pol.rec.DKIMAlignment
		}
	}
	spfPass := v.SPF == spf.Pass && aligned(mailFromDomain, v.FromDomain, spfAlign)
	dkimPass := false
	temp := v.SPF == spf.TempError || pol.temp
	for _, d := range verifs {
		if d.Err == nil && aligned(d.Domain, v.FromDomain, dkimAlign) {
			dkimPass = true
		}
		if d.Err != nil && dkim.IsTempFail(d.Err) {
			temp = true
		}
	}
	pass := spfPass || dkimPass
	v.Policy = pol.policy()
	if fromLocal {
		// Nobody outside sends as a local domain: whatever it publishes,
		// its policy here is reject.
		v.Policy = dmarc.PolicyReject
	}
	switch {
	case fromErr != nil:
		v.DMARC = authres.ResultPermError
	case pol.rec == nil && !fromLocal && pol.temp:
		v.DMARC = authres.ResultTempError
	case pol.rec == nil && !fromLocal:
		// No policy: DMARC says nothing (RFC 7489 6.6.3), however the
		// message is signed.
		v.DMARC = authres.ResultNone
	case pass:
		v.DMARC = authres.ResultPass
	default:
		v.DMARC = authres.ResultFail
	}

	// The decision.
	v.Origin = Origin{Outside: !(fromLocal && v.Trusted)}
	switch {
	case v.Trusted:
	case fromErr != nil:
		// RFC 7489 6.6.1: no single author domain, no judgement; a
		// message that hides who wrote it is refused.
		v.Action, v.Reason = Reject, "The message must have exactly one author in its From field: "+fromErr.Error()
	case v.DMARC == authres.ResultPass || v.DMARC == authres.ResultNone || v.DMARC == authres.ResultTempError:
	case c.arcOverride(v):
		// A trusted forwarder found it authentic when it reached them.
	case v.Policy == dmarc.PolicyReject && temp:
		v.Action, v.Reason = Defer, "The sender's domain "+v.FromDomain+" could not be checked just now (DNS); please try again later"
	case v.Policy == dmarc.PolicyReject && fromLocal:
		v.Action, v.Reason = Reject, fmt.Sprintf("Forged sender: %s is this health service's own domain and its mail does not come from outside (%s)", v.FromDomain, in.RemoteIP)
	case v.Policy == dmarc.PolicyReject:
		v.Action, v.Reason = Reject, fmt.Sprintf("The message fails DMARC for %s, whose policy is reject: it is not signed by %s and not sent from its servers", v.FromDomain, v.FromDomain)
	case v.Policy == dmarc.PolicyQuarantine:
		v.Action, v.Reason = Junk, fmt.Sprintf("it fails DMARC for %s, whose policy is quarantine", v.FromDomain)
		v.Origin.Junk = "it fails sender authentication (DMARC) for " + v.FromDomain
	}
	if v.Action == Accept || v.Action == Junk {
		v.Origin.LookAlike = c.lookAlike(ctx, v, fromName, fromAddr, fromLocal, local)
	}
	v.Origin.fill()
	v.fields = c.fields(v, in, mailFromDomain, helo)
	c.record(ctx, v, pol, in, mailFromDomain, dkimPass, spfPass)
	return v
}

// trusted judges mail from a trusted relay: it has checked the sender
// already, so no DNS is asked; the message is still marked when it comes
// from outside the health service.
func (c *Checker) trusted(ctx context.Context, v *Verdict, fields []field) *Verdict {
	local, err := c.localDomains(ctx)
	if err != nil {
		c.cfg.Logger.Warn("reading the local domains", "err", err)
		v.Action, v.Reason = Defer, "The directory is unavailable; please try again later"
		return v
	}
	v.SPF, v.HeloSPF, v.DMARC, v.ARC.Value = spf.None, spf.None, authres.ResultNone, authres.ResultNone
	name, addr, _ := singleFrom(fields)
	v.FromDomain = domainOf(addr)
	fromLocal := v.FromDomain != "" && isLocalDomain(v.FromDomain, local)
	v.Origin = Origin{Outside: !fromLocal}
	v.Origin.LookAlike = c.lookAlike(ctx, v, name, addr, fromLocal, local)
	v.Origin.fill()
	v.fields = []byte(AuthResultsField + ": " + v.authservID + "; none (trusted relay)\r\n" + OriginField + ": " + v.Origin.String() + "\r\n")
	return v
}

// arcOverride reports whether a failed DMARC result is overridden by a
// valid ARC chain sealed by a trusted sealer whose first instance found the
// author's domain authenticated (RFC 8617 7.2, RFC 7489 6.7 local policy).
func (c *Checker) arcOverride(v *Verdict) bool {
	if v.ARC.Value != authres.ResultPass {
		return false
	}
	trusted := false
	for _, d := range c.cfg.TrustedSealers {
		if d == v.ARC.Sealer {
			trusted = true
		}
	}
	if !trusted {
		return false
	}
	// What the first forwarder found: DMARC passing for the author's
	// domain, or a DKIM signature of that domain that verified (an
	// OpenDKIM in front of a list server reports only DKIM).
	for _, r := range v.ARC.First {
		switch {
		case r.Method == "dmarc" && r.Value == "pass" && strings.EqualFold(r.Props["header.from"], v.FromDomain):
			return true
		case r.Method == "dkim" && r.Value == "pass" && aligned(r.Props["header.d"], v.FromDomain, dmarc.AlignmentRelaxed):
			return true
		}
	}
	return false
}

// lookAlike says why an outside sender looks like someone inside, or "".
func (c *Checker) lookAlike(ctx context.Context, v *Verdict, name, addr string, fromLocal bool, local []string) string {
	if !v.Origin.Outside || fromLocal {
		return ""
	}
	if l := lookAlikeDomain(v.FromDomain, local); l != "" {
		return fmt.Sprintf("the sender's domain %s looks like %s, the health service's own", v.FromDomain, l)
	}
	if name = strings.TrimSpace(name); name != "" && c.cfg.Directory != nil && !strings.Contains(name, "@") {
		// As written, and with look-alike letters read as Latin ones
		// (a Cyrillic а in "Аmira Khan").
		for _, n := range []string{name, normalName(name)} {
			same, err := c.cfg.Directory.PersonNamed(ctx, n)
			if err != nil {
				c.cfg.Logger.Warn("looking up a display name", "err", err)
				break
			}
			if same {
				return fmt.Sprintf("the sender calls themself %q, the name of a person in the directory, but writes from %s outside the health service", name, addr)
			}
			if normalName(name) == strings.ToLower(name) {
				break
			}
		}
	}
	// An address that names a local domain in its display name
	// ("amira.khan@nhs.test" <x@elsewhere.example>).
	for _, l := range local {
		if strings.Contains(strings.ToLower(name), "@"+l) {
			return fmt.Sprintf("the sender's name %q shows a health service address, but the mail comes from %s", name, addr)
		}
	}
	return ""
}

func (c *Checker) localDomains(ctx context.Context) ([]string, error) {
	out := append([]string(nil), c.cfg.LocalDomains...)
	if c.cfg.Directory != nil {
		ds, err := c.cfg.Directory.LocalDomainNames(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	for i := range out {
		out[i] = strings.ToLower(out[i])
	}
	return out, nil
}

// isLocalDomain: the domain, or its organisational domain, is local, so a
// made-up subdomain (pharmacy.nhs.test) is as local as nhs.test.
func isLocalDomain(d string, local []string) bool {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	org := orgDomain(d)
	for _, l := range local {
		if d == l || org == l || strings.HasSuffix(d, "."+l) {
			return true
		}
	}
	return false
}

// singleFrom returns the one author of a message (RFC 7489 6.6.1: one From
// field naming one address).
func singleFrom(fields []field) (name, addr string, err error) {
	vals := headerValues(fields, "From")
	if len(vals) != 1 {
		return "", "", fmt.Errorf("%d From fields", len(vals))
	}
	list, err := (&mail.AddressParser{}).ParseList(vals[0])
	if err != nil {
		// A From that net/mail cannot read may still name a domain a
		// person would believe: judge that domain.
		if d := lastDomain(vals[0]); d != "" {
			return "", "x@" + d, nil
		}
		return "", "", fmt.Errorf("the From field cannot be read")
	}
	if len(list) != 1 {
		return "", "", fmt.Errorf("%d addresses in From", len(list))
	}
	return list[0].Name, list[0].Address, nil
}

// lastDomain finds the domain after the last '@' of a header value.
func lastDomain(v string) string {
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return ""
	}
	d := v[at+1:]
	if end := strings.IndexAny(d, "> \t,;\"()"); end >= 0 {
		d = d[:end]
	}
	return strings.ToLower(d)
}

func domainOf(addr string) string {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}
