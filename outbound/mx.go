package outbound

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"strings"
)

// mxHost is one host that takes mail for a destination, with its addresses.
type mxHost struct {
	name  string
	pref  uint16
	addrs []string
}

// destError is a failure of the destination as a whole (DNS, every MX
// unreachable): permanent ones fail every recipient, temporary ones back the
// destination off.
type destError struct {
	permanent bool
	code      int
	enhanced  string
	reason    string // metric label
	text      string
}

func (e *destError) Error() string { return e.text }

// resolve finds where mail for a domain goes (RFC 5321 5.1): its MX hosts in
// order of preference (shuffled within one preference), else the domain's
// own address; a null MX (RFC 7505) takes no mail.
func (q *Queue) resolve(ctx context.Context, domain string, plan SecurityPlan) ([]mxHost, error) {
	if addr, ok := q.cfg.Routes[domain]; ok {
		host, _, _ := net.SplitHostPort(addr)
		return []mxHost{{name: host, addrs: []string{addr}}}, nil
	}
	r := q.cfg.Resolver
	mxs, err := r.LookupMX(ctx, domain)
	var dnsErr *net.DNSError
	var hosts []mxHost
	switch {
	case err == nil && len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == ""):
		return nil, &destError{permanent: true, code: 556, enhanced: "5.1.10", reason: "null_mx",
			text: domain + " publishes a null MX (RFC 7505): it does not accept mail"}
	case err == nil && len(mxs) > 0:
		for _, m := range mxs {
			hosts = append(hosts, mxHost{name: strings.TrimSuffix(strings.ToLower(m.Host), "."), pref: m.Pref})
		}
	case err == nil || (errors.As(err, &dnsErr) && dnsErr.IsNotFound):
		// No MX: the domain's own address is its mail server (RFC 5321 5.1).
		hosts = []mxHost{{name: domain}}
	default:
		return nil, &destError{code: 451, enhanced: "4.4.3", reason: "dns", text: "looking up the mail servers of " + domain + ": " + err.Error()}
	}
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].pref < hosts[j].pref })
	// Equal preferences in random order, to spread the load (5.1).
	for i := 0; i < len(hosts); {
		j := i
		for j < len(hosts) && hosts[j].pref == hosts[i].pref {
			j++
		}
		rand.Shuffle(j-i, func(a, b int) { hosts[i+a], hosts[i+b] = hosts[i+b], hosts[i+a] })
		i = j
	}
	// Never deliver to ourselves or to MXs less preferred than us (5.1).
	for i, h := range hosts {
		if strings.EqualFold(h.name, q.cfg.Hostname) {
			hosts = hosts[:i]
			break
		}
	}
	var out []mxHost
	var lastErr error
	notFound := 0
	for _, h := range hosts {
		if !plan.AllowMX(h.name) {
			lastErr = fmt.Errorf("%s is not allowed by the domain's MTA-STS policy", h.name)
			continue
		}
		ips, err := r.LookupIPAddr(ctx, h.name)
		if err != nil {
			if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
				notFound++
			}
			lastErr = err
			continue
		}
		for _, ip := range ips {
			h.addrs = append(h.addrs, net.JoinHostPort(ip.IP.String(), strconv.Itoa(q.cfg.Port)))
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		if len(hosts) > 0 && notFound == len(hosts) && len(mxs) == 0 {
			return nil, &destError{permanent: true, code: 550, enhanced: "5.1.2", reason: "no_domain",
				text: domain + " does not exist or has no mail server"}
		}
		text := domain + " has no mail server that can be reached"
		if lastErr != nil {
			text += ": " + lastErr.Error()
		}
		return nil, &destError{code: 451, enhanced: "4.4.4", reason: "dns", text: text}
	}
	return out, nil
}
