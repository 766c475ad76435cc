package submit

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"wardmail/directory"
	"wardmail/lists"
	"wardmail/outbound"
	"wardmail/policy"
	"wardmail/store"
)

// Defaults (DESIGN section 4).
const (
	DefaultMaxRecipients   = 500
	DefaultMaxMessageBytes = 35 << 20
	DefaultMaxHeaderLine   = 998 // RFC 5322 2.1.1
	DefaultMaxHops         = 50  // Received fields before a message counts as looping
)

// Config is what a Pipeline needs.
type Config struct {
	// Store is the database (Storage: *store.Store).
	Store    Storage
	Hostname string
	// LocalDomains are accepted in addition to the domains of the people in
	// the directory.
	LocalDomains    []string
	MaxRecipients   int
	MaxMessageBytes int64
	MaxHeaderLine   int
	MaxHops         int
	// Governance holds the list defaults (lists.DefaultGovernance).
	Governance lists.Governance
	// ConfirmAbove is the audience size above which webmail asks the
	// sender to confirm (default 2,500).
	ConfirmAbove int64
	// Limits and Breaker are the per-sender limits and the reply-all storm
	// breaker (package policy); nil turns each off.
	Limits  *policy.Limits
	Breaker *policy.Breaker
	// Scanner checks attachments, malware and spam (scan.go); nil: none.
	Scanner Scanner
	// Inbound authenticates mail from other servers (inbound.go).
	Inbound Inbound
	// Outbound queues mail from signed-in senders to other domains (package
	// outbound); nil refuses it.
	Outbound Outbound
	// Reports keeps TLS reports sent to the report address (reports.go);
	// nil delivers them like any mail.
	Reports Reports
	Logger  *slog.Logger
	Now     func() time.Time
}

// Pipeline checks and delivers messages.
type Pipeline struct {
	cfg     Config
	metrics *metrics
}

// New returns a Pipeline, filling in defaults.
func New(cfg Config) *Pipeline {
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxHeaderLine <= 0 {
		cfg.MaxHeaderLine = DefaultMaxHeaderLine
	}
	cfg.Governance.Fill()
	if cfg.ConfirmAbove <= 0 {
		cfg.ConfirmAbove = 2500
	}
	if cfg.MaxHops <= 0 {
		cfg.MaxHops = DefaultMaxHops
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for i, d := range cfg.LocalDomains {
		cfg.LocalDomains[i] = strings.ToLower(d)
	}
	return &Pipeline{cfg: cfg, metrics: newMetrics()}
}

// Metrics returns the pipeline's Prometheus collector.
func (p *Pipeline) Metrics() prometheus.Collector { return p.metrics }

// MaxMessageBytes is the size limit the doors advertise (SMTP SIZE).
func (p *Pipeline) MaxMessageBytes() int64 { return p.cfg.MaxMessageBytes }

// MaxRecipients is the limit on recipients named in one message.
func (p *Pipeline) MaxRecipients() int { return p.cfg.MaxRecipients }

// Sender is who hands a message over, and how.
type Sender struct {
	// Person is the authenticated sender; nil for mail arriving from other
	// servers on the inbound door.
	Person     *store.Person
	Door       string // "smtp", "submission", "imap", "web"
	RemoteAddr string
	Helo       string
	TLS        bool
	// RequireTLS: the current transaction asked for REQUIRETLS (MAIL FROM
	// ... REQUIRETLS, RFC 8689): its copies for other servers travel only
	// over verified TLS.
	RequireTLS bool
	// EnvID and Ret are the transaction's ENVID and RET (RFC 3461 4.3,
	// 4.4): kept with its copies for other servers, for the notices.
	EnvID string
	Ret   string
}

// Recipient is a resolved recipient: a person, a list, or an address on
// another server.
type Recipient struct {
	Address  string
	PersonID int64 // a person in the directory
	ListID   int64 // or a distribution list
	Outside  bool  // or someone elsewhere, reached through the outbound queue
	// Report: the report address, whose TLS reports are kept for the
	// administrators (reports.go); it may also be a person or a list.
	Report bool
	// DSN is what the sender asked of notices about this recipient
	// (NOTIFY, ORCPT, RFC 3461 4.1, 4.2).
	DSN RcptDSN
}

// RcptDSN is what a sender asked of notices about one recipient (RFC 3461
// 4.1, 4.2), kept with a queued copy.
type RcptDSN = store.RcptDSN

// Outbound is the queue that takes mail for other domains.
type Outbound interface {
	// Signer signs what leaves (DKIM) before it is queued.
	Signer() outbound.Signer
	// Wake says that mail was queued.
	Wake()
	// Returned is a delivery status notification that arrived from
	// another server (null sender): matched to the queue for message
	// trace. It reports how many recipients matched.
	Returned(ctx context.Context, msg []byte) int
}

// CheckFrom checks the envelope sender (SMTP MAIL FROM). An authenticated
// sender may only use their own address (RFC 6409 6.1).
func (p *Pipeline) CheckFrom(ctx context.Context, s *Sender, from string) error {
	if s.Person == nil {
		if from == "" {
			return nil // the null reverse-path of a bounce (RFC 5321 4.5.5)
		}
		if _, err := directory.ValidateAddress(from); err != nil {
			return refuse(553, 5, 1, 7, "The sender address %q is not valid: %v", from, err)
		}
		return nil
	}
	if !strings.EqualFold(strings.TrimSpace(from), s.Person.Email) {
		return refuse(553, 5, 7, 1, "You are signed in as %s and can only send as that address, not as %q", s.Person.Email, from)
	}
	return nil
}

// CheckRecipient resolves one recipient (SMTP RCPT TO).
func (p *Pipeline) CheckRecipient(ctx context.Context, s *Sender, rcpt string) (Recipient, error) {
	return p.checkRecipient(ctx, s, rcpt, true)
}

// checkRecipient resolves one recipient; decideLists asks a list's posting
// decision (the audience preview asks it itself, to show every verdict).
func (p *Pipeline) checkRecipient(ctx context.Context, s *Sender, rcpt string, decideLists bool) (Recipient, error) {
	addr, err := directory.ValidateAddress(rcpt)
	if err != nil {
		return Recipient{}, refuse(553, 5, 1, 3, "The recipient address %q is not valid: %v", rcpt, err)
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	local, err := p.isLocal(ctx, domain)
	if err != nil {
		p.cfg.Logger.Error("checking a recipient domain", "err", err)
		return Recipient{}, ErrUnavailable
	}
	if !local {
		if s.Person == nil {
			return Recipient{}, refuse(554, 5, 7, 1, "This server does not relay: %s is not a domain it receives mail for", domain)
		}
		if p.cfg.Outbound == nil {
			return Recipient{}, refuse(550, 5, 7, 1, "Mail to other domains (%s) is not enabled on this server", domain)
		}
		// A signed-in sender's mail to another domain is queued
		// (package outbound); the inbound door above never relays.
		return Recipient{Address: addr, Outside: true}, nil
	}
	report := p.cfg.Reports != nil && p.cfg.Reports.IsReportAddress(addr)
	person, err := p.cfg.Store.PersonByEmail(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		r, err := p.checkList(ctx, s, addr, decideLists)
		if errors.Is(err, store.ErrNotFound) && report {
			return Recipient{Address: addr, Report: true}, nil
		}
		if errors.Is(err, store.ErrNotFound) {
			return Recipient{}, refuse(550, 5, 1, 1, "There is nobody called %s here: check the address in the directory", addr)
		}
		r.Report = report
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				p.cfg.Logger.Error("checking a list recipient", "err", err)
				return Recipient{}, ErrUnavailable
			}
		}
		return r, err
	} else if err != nil {
		p.cfg.Logger.Error("looking up a recipient", "err", err)
		return Recipient{}, ErrUnavailable
	}
	if person.Disabled {
		return Recipient{}, refuse(550, 5, 2, 1, "The mailbox of %s is disabled", addr)
	}
	return Recipient{Address: addr, PersonID: person.ID, Report: report}, nil
}

func (p *Pipeline) isLocal(ctx context.Context, domain string) (bool, error) {
	for _, d := range p.cfg.LocalDomains {
		if d == domain {
			return true, nil
		}
	}
	return p.cfg.Store.IsLocalDomain(ctx, domain)
}
