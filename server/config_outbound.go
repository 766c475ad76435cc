package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
	"wardmail/cluster"
	"wardmail/tlspolicy"

	"wardmail/netdns"
	"wardmail/outbound"
	"wardmail/store"
)

// Outbound is the configuration of the outbound queue (package outbound).
// Zero values keep the package's defaults.
type Outbound struct {
	Off         bool          `key:"outbound"`              // "off": mail to other domains is refused
	Port        int           `key:"outbound_port"`         // remote SMTP port, default 25 (a test internet without root: 2525)
	Lifetime    time.Duration `key:"outbound_lifetime"`     // give up after, default 120h (5 days)
	DelayNotice time.Duration `key:"outbound_delay_notice"` // tell the sender after, default 4h
	RetryBase   time.Duration `key:"outbound_retry_base"`   // first retry, doubling, default 5m
	RetryMax    time.Duration `key:"outbound_retry_max"`    // longest wait between attempts, default 1h
	MaxConns    int           `key:"outbound_max_connections"`
	DomainConns int           `key:"outbound_domain_connections"` // per destination, default 10
	DomainRate  float64       `key:"outbound_domain_rate"`        // messages a second per destination, 0: no limit
	PerConn     int           `key:"outbound_messages_per_connection"`
	Tick        time.Duration `key:"outbound_tick"` // how often due destinations are looked for, default 1s
	// Routes send a domain's mail to a fixed host:port instead of its MX
	// ("domain=host:port, ..."), as Postfix's transport_maps.
	Routes map[string]string `key:"outbound_routes"`
	// CAFile holds the PEM roots that MX certificates (MTA-STS, DANE-TA
	// aside, REQUIRETLS, tls_required) and MTA-STS policy hosts are
	// checked against; empty: the system's. A test internet has its own CA.
	CAFile string `key:"outbound_ca_file"`
	// MTASTSPort is where MTA-STS policies are fetched, default 443 (a
	// test internet without root: 8443).
	MTASTSPort int `key:"outbound_mta_sts_port"`
	// BindAddress is the local address the queue sends from (Postfix's
	// smtp_bind_address): the one address an SPF record names on a host
	// with several. Empty: the system chooses.
	BindAddress string `key:"outbound_bind_address"`
	// Paused: the queue is made but not started (Server.Queue.Start starts
	// it); for benchmarks that fill the queue first. Not a setting.
	Paused bool
}

// set parses one outbound setting; ok is false when key is not one.
func (o *Outbound) set(key, value string) (ok bool, err error) {
	durations := map[string]*time.Duration{"outbound_lifetime": &o.Lifetime, "outbound_delay_notice": &o.DelayNotice,
		"outbound_retry_base": &o.RetryBase, "outbound_retry_max": &o.RetryMax, "outbound_tick": &o.Tick}
	ints := map[string]*int{"outbound_port": &o.Port, "outbound_max_connections": &o.MaxConns,
		"outbound_domain_connections": &o.DomainConns, "outbound_messages_per_connection": &o.PerConn,
		"outbound_mta_sts_port": &o.MTASTSPort}
	if d := durations[key]; d != nil {
		v, err := time.ParseDuration(value)
		if err != nil || v < 0 {
			return true, fmt.Errorf("%s: %q is not a duration such as 4h", key, value)
		}
		*d = v
		return true, nil
	}
	if n := ints[key]; n != nil {
		v, err := strconv.ParseUint(value, 10, 20)
		if err != nil {
			return true, fmt.Errorf("%s: %q is not a whole number", key, value)
		}
		*n = int(v)
		return true, nil
	}
	switch key {
	case "outbound_ca_file":
		o.CAFile = value
		return true, nil
	case "outbound_bind_address":
		if value != "" && net.ParseIP(value) == nil {
			return true, fmt.Errorf("%s: %q is not an IP address", key, value)
		}
		o.BindAddress = value
		return true, nil
	case "outbound":
		switch strings.ToLower(value) {
		case "true", "yes", "on", "1":
			o.Off = false
		case "false", "no", "off", "0":
			o.Off = true
		default:
			return true, fmt.Errorf("%s: %q is not on or off", key, value)
		}
		return true, nil
	case "outbound_routes":
		o.Routes = map[string]string{}
		for _, part := range strings.Split(value, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			d, addr, ok := strings.Cut(part, "=")
			if !ok {
				return true, fmt.Errorf("%s: %q is not domain=host:port", key, part)
			}
			o.Routes[strings.ToLower(strings.TrimSpace(d))] = strings.TrimSpace(addr)
		}
		return true, nil
	case "outbound_domain_rate":
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 {
			return true, fmt.Errorf("%s: %q is not a number of messages a second", key, value)
		}
		o.DomainRate = v
		return true, nil
	}
	return false, nil
}

// startQueue starts the outbound queue over the store, asking the DNS
// through the configured resolver.
func startQueue(st *store.Store, cfg Config, sec *MailSecurity, node *cluster.Node, log *slog.Logger) *outbound.Queue {
	o := cfg.Outbound
	var dialer *net.Dialer
	if o.BindAddress != "" {
		dialer = &net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.BindAddress)}}
	}
	q := outbound.New(outbound.Config{Store: st, Resolver: netdns.Resolver(cfg.DNSResolver), Hostname: cfg.Hostname,
		Signer: sec.Signer, Security: securityPlans{sec.Security},
		Runs: func(ctx context.Context) bool { return node.Holds(ctx, JobOutbound) },
		Port: o.Port, Lifetime: o.Lifetime, DelayNotice: o.DelayNotice, RetryBase: o.RetryBase, RetryMax: o.RetryMax,
		MaxConns: o.MaxConns, DomainConns: o.DomainConns, DomainRate: o.DomainRate, PerConn: o.PerConn, Tick: o.Tick,
		Routes: o.Routes, Dialer: dialer, Logger: log, Now: cfg.Now})
	if !o.Paused {
		q.Start()
	}
	return q
}

// securityPlans hands the queue the TLS policy engine's plans (MTA-STS,
// DANE, REQUIRETLS, tls_required) as outbound.SecurityPlan values.
type securityPlans struct{ s *tlspolicy.Security }

func (a securityPlans) Plan(ctx context.Context, domain string, requireTLS bool) (outbound.SecurityPlan, error) {
	p, err := a.s.Plan(ctx, domain, requireTLS)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PlanTLSOptional is the plan for a message that carries "TLS-Required:
// No" (RFC 8689 5; outbound.TLSOptionalSecurity).
func (a securityPlans) PlanTLSOptional(ctx context.Context, domain string) (outbound.SecurityPlan, error) {
	p, err := a.s.PlanTLSOptional(ctx, domain)
	if err != nil {
		return nil, err
	}
	return p, nil
}
