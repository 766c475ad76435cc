package lockout

import (
	"context"
	"strings"
	"time"
)

// A password spray tries a few common passwords against many accounts, so
// each account sees only a few failures and the per-account budgets never
// fill. The network budget counts, per client network, the failures against
// accounts the network is unfamiliar to (Policy.NetworkThreshold).

// maxNetworks bounds the networks tracked; IPv6 gives an attacker many /56s,
// so beyond it the quietest are forgotten.
const maxNetworks = 200_000

// network counts one network's unfamiliar failures and its successes in two
// fixed windows, the current and the previous; the sliding count is the
// current window's plus the previous one's share still inside the window.
type network struct {
	start           time.Time // of the current window
	fails, prevFail int
	oks, prevOK     int
}

// isNetwork says whether source is a client network (not a device, not the
// account-wide budget).
func isNetwork(source string) bool {
	return strings.Contains(source, "/")
}

// roll moves n's windows forward to now.
func (n *network) roll(now time.Time, window time.Duration) {
	switch el := now.Sub(n.start); {
	case el < window:
	case el < 2*window:
		n.prevFail, n.prevOK = n.fails, n.oks
		n.fails, n.oks = 0, 0
		n.start = n.start.Add(window)
	default:
		n.prevFail, n.prevOK, n.fails, n.oks = 0, 0, 0, 0
		n.start = now
	}
}

// counts returns the sliding failures and successes at now.
func (n *network) counts(now time.Time, window time.Duration) (fails, oks int) {
	left := 1 - float64(now.Sub(n.start))/float64(window)
	return n.fails + int(float64(n.prevFail)*left), n.oks + int(float64(n.prevOK)*left)
}

// network returns source's counters, or nil when source is not a network.
// e.mu is held.
func (e *Engine) network(source string, now time.Time) *network {
	if !isNetwork(source) {
		return nil
	}
	n := e.networks[source]
	if n == nil {
		if len(e.networks) >= maxNetworks {
			e.forgetNetworks(now, true)
		}
		n = &network{start: now}
		e.networks[source] = n
	}
	n.roll(now, e.pol.NetworkWindow)
	return n
}

// networkFailure counts a failure against an account source is unfamiliar
// to. e.mu is held.
func (e *Engine) networkFailure(source string, now time.Time) {
	n := e.network(source, now)
	if n == nil {
		return
	}
	n.fails++
	if f, ok := n.counts(now, e.pol.NetworkWindow); f == e.pol.NetworkThreshold && f > ok {
		e.metrics.networkThrottles.Inc()
		e.log.Warn("sign-in: password spray suspected; unfamiliar sign-ins from the network paused",
			"network", source, "failures", f, "successes", ok)
	}
}

// networkSuccess counts a successful sign-in from source. e.mu is held.
// On a shared store they are also added to the network's row with the next
// batch.
func (e *Engine) networkSuccess(source string, now time.Time) {
	if n := e.network(source, now); n != nil {
		n.oks++
		if e.shared {
			e.netOKs[source]++
		}
	}
}

// NetworkThrottled reports whether password sign-ins to account from source
// are refused by the network budget now, and until when. Only sources that
// are networks and unfamiliar to the account are ever refused.
func (e *Engine) NetworkThrottled(ctx context.Context, account, source string) (time.Time, bool) {
	if !isNetwork(source) {
		return time.Time{}, false
	}
	if e.shared {
		e.refreshNetwork(ctx, source)
	}
	now := e.now()
	e.mu.Lock()
	n := e.networks[source]
	var until time.Time
	if n != nil {
		n.roll(now, e.pol.NetworkWindow)
		if f, ok := n.counts(now, e.pol.NetworkWindow); f >= e.pol.NetworkThreshold && f > ok {
			until = n.start.Add(e.pol.NetworkWindow)
		}
	}
	e.mu.Unlock()
	if until.IsZero() || e.isFamiliar(ctx, account, source) {
		return time.Time{}, false
	}
	e.metrics.networkRefused.Inc()
	return until, true
}

// forgetNetworks drops networks with nothing in either window, or, when
// crowded, those with fewer failures than a tenth of the threshold. e.mu is
// held.
func (e *Engine) forgetNetworks(now time.Time, crowded bool) {
	for k, n := range e.networks {
		n.roll(now, e.pol.NetworkWindow)
		if f, ok := n.counts(now, e.pol.NetworkWindow); (f == 0 && ok == 0) || (crowded && f < e.pol.NetworkThreshold/10) {
			delete(e.networks, k)
		}
	}
}
