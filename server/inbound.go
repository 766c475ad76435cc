package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"wardmail/outbound"

	"wardmail/inbound"
	"wardmail/netdns"
	"wardmail/store"
	"wardmail/submit"
)

// InboundConfig is sender authentication on the inbound door (package
// inbound).
type InboundConfig struct {
	// Off turns SPF, DKIM, DMARC and ARC off (inbound_auth = off).
	Off bool `key:"inbound_auth"`
	// TrustedRelays are networks whose mail is neither refused nor sent to
	// Junk on authentication results: another gateway of the health
	// service, the machine itself (inbound_trusted_networks).
	TrustedRelays []netip.Prefix `key:"inbound_trusted_networks"`
	// TrustedSealers are ARC sealers (forwarders, mailing lists) whose
	// chain is believed (inbound_arc_trusted_sealers).
	TrustedSealers []string `key:"inbound_arc_trusted_sealers"`
	// SubjectTag goes before the subject of mail from outside, for IMAP
	// clients (inbound_subject_tag; empty: off).
	SubjectTag string `key:"inbound_subject_tag"`
}

// defaultTrustedRelays: mail handed over on the machine itself.
func defaultTrustedRelays() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
}

// setInbound sets an inbound_* key; ok is false for another key.
func (c *Config) setInbound(key, value string) (ok bool, err error) {
	list := func() []string {
		var out []string
		for _, v := range strings.Split(value, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	switch key {
	case "inbound_auth":
		switch strings.ToLower(value) {
		case "true", "yes", "on", "1":
			c.Inbound.Off = false
		case "false", "no", "off", "0":
			c.Inbound.Off = true
		default:
			return true, fmt.Errorf("%s: %q is not on or off", key, value)
		}
	case "inbound_trusted_networks":
		c.Inbound.TrustedRelays = nil
		for _, v := range list() {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				a, aerr := netip.ParseAddr(v)
				if aerr != nil {
					return true, fmt.Errorf("%s: %q is not a network such as 192.0.2.0/24", key, v)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.Inbound.TrustedRelays = append(c.Inbound.TrustedRelays, p.Masked())
		}
	case "inbound_arc_trusted_sealers":
		c.Inbound.TrustedSealers = list()
	case "inbound_subject_tag":
		c.Inbound.SubjectTag = value
	default:
		return false, nil
	}
	return true, nil
}

// newInbound returns the inbound checker, or nil when it is off.
func newInbound(cfg Config, st *store.Store, log *slog.Logger) *inbound.Checker {
	if cfg.Inbound.Off {
		return nil
	}
	return inbound.New(inbound.Config{Hostname: cfg.Hostname, Resolver: netdns.Resolver(cfg.DNSResolver),
		Directory: st, LocalDomains: cfg.LocalDomains, TrustedRelays: cfg.Inbound.TrustedRelays,
		TrustedSealers: cfg.Inbound.TrustedSealers, SubjectTag: cfg.Inbound.SubjectTag, Reports: st, Logger: log, Now: cfg.Now})
}

// newReporter returns the DMARC aggregate report writer. Reports wait in
// the store's outbox (store.Store.Enqueue) until the outbound queue takes
// them.
func newReporter(cfg Config, st *store.Store, queue inbound.Enqueuer, log *slog.Logger) *inbound.Reporter {
	return inbound.NewReporter(inbound.ReporterConfig{Store: st, Queue: queue, Hostname: cfg.Hostname,
		Resolver: netdns.Resolver(cfg.DNSResolver), Logger: log, Now: cfg.Now})
}

// inboundChecker keeps a nil checker a nil interface.
func inboundChecker(c *inbound.Checker) submit.Inbound {
	if c == nil {
		return nil
	}
	return c
}

// drainOutbox hands the outbound queue the reports written while there was
// none (or before this start), oldest first.
func drainOutbox(ctx context.Context, st *store.Store, q *outbound.Queue, log *slog.Logger) {
	msgs, err := st.Outbox(ctx, 1000)
	if err != nil {
		log.Warn("reading the outbox", "err", err)
		return
	}
	for _, m := range msgs {
		if err := q.Enqueue(ctx, m.Sender, m.Recipients, m.Message); err != nil {
			log.Warn("queueing a report from the outbox", "id", m.ID, "err", err)
			return
		}
		if err := st.RemoveFromOutbox(ctx, m.ID); err != nil {
			log.Warn("removing a queued report from the outbox", "id", m.ID, "err", err)
			return
		}
	}
}
