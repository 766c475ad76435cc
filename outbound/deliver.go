package outbound

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"wardmail/store"
)

// deliverDomain delivers what is due for one destination, over up to
// DomainConns connections, until nothing is due or the destination fails.
// Messages that carry REQUIRETLS (RFC 8689) go over connections of their
// own, made under a plan that asks for it; the others never wait for them.
func (q *Queue) deliverDomain(domain string) {
	ctx := q.ctx
	plan, err := q.cfg.Security.Plan(ctx, domain, false)
	if err != nil {
		q.destinationFailed(domain, &destError{code: 451, enhanced: "4.7.5", reason: "tls", text: "security policy of " + domain + ": " + err.Error()}, nil)
		return
	}
	hosts, err := q.resolve(ctx, domain, plan)
	if err != nil {
		var de *destError
		if !errors.As(err, &de) {
			de = &destError{code: 451, reason: "dns", text: err.Error()}
		}
		q.destinationFailed(domain, de, nil)
		return
	}
	d := q.newDestination(domain, hosts, plan, false)
	var secure *destination      // for REQUIRETLS messages, made when one is due
	var relaxed *destination     // for "TLS-Required: No" messages, likewise
	deferred := map[int64]bool{} // REQUIRETLS and TLS-Required: No messages this run deferred
	defer func() {
		if secure != nil {
			secure.close()
		}
		if relaxed != nil {
			relaxed.close()
		}
	}()
	for ctx.Err() == nil {
		batch, err := q.cfg.Store.DueRecipients(ctx, domain, q.cfg.Now(), dueBatch)
		if err != nil {
			if ctx.Err() == nil {
				q.cfg.Logger.Error("outbound: reading due recipients", "domain", domain, "err", err)
			}
			return
		}
		if len(batch) == 0 {
			break
		}
		var plain, required, optional []*store.QueuedMessage
		for _, m := range batch {
			switch {
			case m.RequireTLS && !deferred[m.ID]:
				required = append(required, m)
			case m.RequireTLS:
			case m.TLSOptional && !deferred[m.ID]:
				optional = append(optional, m)
			case m.TLSOptional:
			default:
				plain = append(plain, m)
			}
		}
		if len(plain) == 0 && len(required) == 0 && len(optional) == 0 {
			// Only what this run deferred already (due again within the
			// store's one-second resolution of next attempts): not now.
			break
		}
		if len(required) > 0 {
			if secure == nil {
				var de *destError
				if secure, de = q.secureDestination(domain); de != nil {
					q.deferEach(required, de, deferred)
					secure = nil
				}
			}
			if secure != nil {
				if de := secure.run(required); de != nil {
					// Only these messages wait: the destination itself
					// may be fine for mail that does not ask for more.
					q.deferEach(secure.untried, de, deferred)
					secure.untried = nil
				}
			}
		}
		if len(optional) > 0 {
			if relaxed == nil {
				var de *destError
				if relaxed, de = q.relaxedDestination(domain, d); de != nil {
					q.deferEach(optional, de, deferred)
					relaxed = nil
				}
			}
			if relaxed != nil {
				if de := relaxed.run(optional); de != nil {
					q.deferEach(relaxed.untried, de, deferred)
					relaxed.untried = nil
				}
			}
		}
		if len(plain) == 0 {
			continue
		}
		if de := d.run(plain); de != nil {
			q.destinationFailed(domain, de, d.untried)
			d.close()
			return
		}
	}
	d.close()
	if d.answered || (secure != nil && secure.answered) || (relaxed != nil && relaxed.answered) {
		if err := q.cfg.Store.RecordOutbound(context.Background(), nil, &store.DomainOutcome{Domain: domain}, nil); err != nil {
			q.cfg.Logger.Error("outbound: recording a destination", "domain", domain, "err", err)
		}
	}
}

func (q *Queue) newDestination(domain string, hosts []mxHost, plan SecurityPlan, requireTLS bool) *destination {
	d := &destination{q: q, domain: domain, hosts: hosts, plan: plan, requireTLS: requireTLS, noTLS: map[string]bool{},
		freed: make(chan struct{}, q.cfg.DomainConns)}
	if q.cfg.DomainRate > 0 {
		d.gap = time.Duration(float64(time.Second) / q.cfg.DomainRate)
	}
	return d
}

// secureDestination is the run for REQUIRETLS messages: its plan asks for
// a verified certificate of an MX host whose name came from DNSSEC or an
// MTA-STS policy (RFC 8689 4.1).
func (q *Queue) secureDestination(domain string) (*destination, *destError) {
	plan, err := q.cfg.Security.Plan(q.ctx, domain, true)
	if err != nil {
		return nil, &destError{code: 451, enhanced: "4.7.10", reason: "requiretls", text: "REQUIRETLS: security policy of " + domain + ": " + err.Error()}
	}
	hosts, err := q.resolve(q.ctx, domain, plan)
	if err != nil {
		var de *destError
		if !errors.As(err, &de) {
			de = &destError{code: 451, reason: "dns", text: err.Error()}
		}
		return nil, de
	}
	return q.newDestination(domain, hosts, plan, true), nil
}

// relaxedDestination is the run for messages that carry "TLS-Required:
// No" (RFC 8689 5): under a plan that sets MTA-STS and DANE aside, when
// the Security can make one; else they go as other mail does (plain).
func (q *Queue) relaxedDestination(domain string, plain *destination) (*destination, *destError) {
	s, ok := q.cfg.Security.(TLSOptionalSecurity)
	if !ok {
		return plain, nil
	}
	plan, err := s.PlanTLSOptional(q.ctx, domain)
	if err != nil {
		return nil, &destError{code: 451, enhanced: "4.7.5", reason: "tls", text: "security policy of " + domain + ": " + err.Error()}
	}
	hosts, err := q.resolve(q.ctx, domain, plan)
	if err != nil {
		var de *destError
		if !errors.As(err, &de) {
			de = &destError{code: 451, reason: "dns", text: err.Error()}
		}
		return nil, de
	}
	return q.newDestination(domain, hosts, plan, false), nil
}

// deferEach records a failure of the destination against each message
// alone (its own back-off, its own lifetime), as for REQUIRETLS messages
// that no connection could carry.
func (q *Queue) deferEach(msgs []*store.QueuedMessage, de *destError, deferred map[int64]bool) {
	ctx := context.Background()
	reply := &Reply{Code: de.code, Enhanced: de.enhanced, Lines: []string{de.text}}
	var outs []store.OutboundOutcome
	var notices []store.OutboundNotice
	for _, m := range msgs {
		deferred[m.ID] = true
		var o []store.OutboundOutcome
		failed := q.outcomes(m, m.Rcpts, reply, "", "", de.reason, &o)
		notices = append(notices, q.notices(ctx, m, failed, q.delayed(m, o))...)
		outs = append(outs, o...)
	}
	if err := q.cfg.Store.RecordOutbound(ctx, outs, nil, notices); err != nil {
		q.cfg.Logger.Error("outbound: recording deferrals", "err", err)
	}
}

// destinationFailed backs a destination off (or, for a permanent failure,
// fails what is due for it). Only the destination's row changes for a
// temporary failure, however many messages wait: they are not rescanned.
func (q *Queue) destinationFailed(domain string, de *destError, untried []*store.QueuedMessage) {
	ctx := context.Background()
	q.cfg.Logger.Info("outbound: destination deferred", "domain", domain, "reason", de.text, "permanent", de.permanent)
	if de.permanent {
		for q.ctx.Err() == nil {
			batch, err := q.cfg.Store.DueRecipients(ctx, domain, q.cfg.Now(), dueBatch)
			if err != nil || len(batch) == 0 {
				return
			}
			var outs []store.OutboundOutcome
			var notices []store.OutboundNotice
			for _, m := range batch {
				failed := q.outcomes(m, m.Rcpts, &Reply{Code: de.code, Enhanced: de.enhanced, Lines: []string{de.text}}, "", "", de.reason, &outs)
				notices = append(notices, q.notices(ctx, m, failed, nil)...)
			}
			if err := q.cfg.Store.RecordOutbound(ctx, outs, nil, notices); err != nil {
				q.cfg.Logger.Error("outbound: recording failures", "domain", domain, "err", err)
				return
			}
		}
		return
	}
	failures, err := q.cfg.Store.DomainBackoff(ctx, domain)
	if err != nil {
		q.cfg.Logger.Error("outbound: reading a back-off", "domain", domain, "err", err)
	}
	failures++
	dom := &store.DomainOutcome{Domain: domain, Failures: failures, NextAt: q.cfg.Now().Add(q.backoff(failures)), Error: de.text}
	// The messages this run took in hand say why they wait too.
	var outs []store.OutboundOutcome
	for _, m := range untried {
		for _, r := range m.Rcpts {
			outs = append(outs, store.OutboundOutcome{RcptID: r.ID, State: store.QueueQueued, NextAt: r.NextAt, Code: de.code,
				Reply: de.text, Attempt: true})
		}
	}
	q.metrics.outcome("deferred", de.reason, len(outs))
	if err := q.cfg.Store.RecordOutbound(ctx, outs, dom, nil); err != nil {
		q.cfg.Logger.Error("outbound: recording a back-off", "domain", domain, "err", err)
	}
}

// destination is one delivery run to one domain.
type destination struct {
	q      *Queue
	domain string
	hosts  []mxHost
	plan   SecurityPlan
	gap    time.Duration // DomainRate
	// requireTLS: this run carries REQUIRETLS messages; each connection
	// must be TLS verified under a plan that requires it, to a server
	// that offers REQUIRETLS (RFC 8689 4.2).
	requireTLS bool

	mu       sync.Mutex
	idle     []*conn       // open connections between batches
	freed    chan struct{} // a connection went back to idle
	noTLS    map[string]bool
	nextSend time.Time
	answered bool                   // some MX answered
	untried  []*store.QueuedMessage // left over when every connection failed
	leftover []*store.QueuedMessage // taken by a worker whose connection failed
	sent     int                    // transactions tried in this batch
	lastErr  *destError
}

// conn is a connection to one MX of a destination.
type conn struct {
	*client
	mx   string
	sent int
	// requireTLS: the connection may carry REQUIRETLS messages.
	requireTLS bool
}

// run sends one batch over up to DomainConns connections. It returns an
// error when no connection could be made at all.
func (d *destination) run(batch []*store.QueuedMessage) *destError {
	d.sent = 0
	work := make(chan *store.QueuedMessage, len(batch))
	for _, m := range batch {
		work <- m
	}
	close(work)
	n := min(d.q.cfg.DomainConns, len(batch))
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.worker(work)
		}()
	}
	wg.Wait()
	// What no worker took because its connection failed stays due: the
	// next batch takes it, unless no connection worked at all.
	left := d.leftover
	d.leftover = nil
	for m := range work {
		left = append(left, m)
	}
	if len(left) > 0 && d.sent == 0 {
		d.untried = left
		if d.lastErr == nil {
			d.lastErr = &destError{code: 451, enhanced: "4.4.1", reason: "network", text: "no mail server of " + d.domain + " could be reached"}
		}
		return d.lastErr
	}
	return nil
}

func (d *destination) worker(work <-chan *store.QueuedMessage) {
	var c *conn
	defer func() {
		if c != nil {
			d.release(c)
		}
	}()
	for m := range work {
		if c == nil {
			var de *destError
			if c, de = d.connect(); de != nil {
				d.mu.Lock()
				d.lastErr = de
				d.leftover = append(d.leftover, m)
				d.mu.Unlock()
				return
			}
		}
		d.pace()
		outs, notices, broken := d.q.sendOne(c, m)
		d.mu.Lock()
		d.sent++
		d.mu.Unlock()
		// Recorded before the next message: a crash between the remote's
		// 250 and this commit sends at most this one message again per
		// connection (RFC 5321's at-least-once); the group commit carries
		// every connection's record in one transaction.
		if err := d.q.cfg.Store.RecordOutbound(context.Background(), outs, nil, notices); err != nil {
			d.q.cfg.Logger.Error("outbound: recording a delivery", "queue_id", m.QueueID, "err", err)
		}
		c.sent++
		if broken || c.sent >= d.q.cfg.PerConn {
			if broken {
				_ = c.close()
			} else {
				_ = c.quit()
			}
			<-d.q.sem
			c = nil
		}
	}
}

// pace keeps to DomainRate.
func (d *destination) pace() {
	if d.gap == 0 {
		return
	}
	d.mu.Lock()
	now := time.Now()
	at := d.nextSend
	if at.Before(now) {
		at = now
	}
	d.nextSend = at.Add(d.gap)
	d.mu.Unlock()
	time.Sleep(time.Until(at))
}

// connect takes an idle connection or opens one to the first MX that
// answers, with STARTTLS as the security plan says.
func (d *destination) connect() (*conn, *destError) {
	q := d.q
	for {
		d.mu.Lock()
		if n := len(d.idle); n > 0 {
			c := d.idle[n-1]
			d.idle = d.idle[:n-1]
			d.mu.Unlock()
			return c, nil
		}
		d.mu.Unlock()
		// A slot of MaxConns, or a connection of this destination that
		// another worker has finished with: waiting for the slot alone
		// could wait for ever while this destination's own idle
		// connections hold the slots.
		select {
		case q.sem <- struct{}{}:
		case <-d.freed:
			continue
		case <-q.ctx.Done():
			return nil, &destError{code: 451, reason: "shutdown", text: "shutting down"}
		}
		break
	}
	var last *destError
	for _, h := range d.hosts {
		for _, addr := range h.addrs {
			c, de := d.open(h.name, addr)
			if de == nil {
				return c, nil
			}
			last = de
		}
	}
	<-q.sem
	return nil, last
}

func (d *destination) open(host, addr string) (*conn, *destError) {
	q := d.q
	c, greet, err := dial(q.ctx, q.cfg.Dialer, addr, host, q.cfg.Timeout)
	if err != nil {
		q.metrics.connections.WithLabelValues("failed").Inc()
		text := fmt.Sprintf("connecting to %s [%s]: %v", host, addr, err)
		if greet != nil {
			text = fmt.Sprintf("%s [%s] greeted with %s", host, addr, greet)
			d.mu.Lock()
			d.answered = true
			d.mu.Unlock()
		}
		return nil, &destError{code: 451, enhanced: "4.4.1", reason: "network", text: text}
	}
	d.mu.Lock()
	d.answered = true
	d.mu.Unlock()
	if r, err := c.hello(q.cfg.Hostname); err != nil {
		_ = c.close()
		text := fmt.Sprintf("%s [%s] refused EHLO: %v", host, addr, err)
		if r != nil {
			text = fmt.Sprintf("%s [%s] refused EHLO: %s", host, addr, r)
		}
		return nil, &destError{code: 451, enhanced: "4.4.2", reason: "network", text: text}
	}
	cfg, required, why, err := d.plan.TLS(q.ctx, host)
	if err == nil && d.requireTLS && !required {
		// A plan that would let a REQUIRETLS message go in clear or
		// unverified is not one to send it under.
		err = errors.New("the security plan does not require a verified certificate, which REQUIRETLS asks for (RFC 8689 4.2.1)")
	}
	if err != nil {
		_ = c.quit()
		enhanced, reason := "4.7.5", "tls"
		if d.requireTLS {
			enhanced, reason = "4.7.10", "requiretls"
		}
		return nil, &destError{code: 451, enhanced: enhanced, reason: reason, text: fmt.Sprintf("TLS policy for %s: %v", host, err)}
	}
	d.mu.Lock()
	skipTLS := d.noTLS[addr]
	d.mu.Unlock()
	switch {
	case c.has("STARTTLS") && !skipTLS:
		if err := c.startTLS(cfg); err != nil {
			d.plan.Report(host, nil, err)
			_ = c.close()
			if required {
				q.metrics.connections.WithLabelValues("tls_failed").Inc()
				return nil, &destError{code: 451, enhanced: "4.7.5", reason: "tls",
					text: fmt.Sprintf("TLS with %s failed (%v), and TLS is required: %s", host, err, why)}
			}
			// Opportunistic: a server whose TLS fails gets the message in
			// clear on a new connection (RFC 7435 4.1).
			d.mu.Lock()
			d.noTLS[addr] = true
			d.mu.Unlock()
			return d.open(host, addr)
		}
		d.plan.Report(host, c.tls, nil)
		q.metrics.connections.WithLabelValues(tlsVersion(c.tls.Version)).Inc()
		if d.requireTLS && !c.has("REQUIRETLS") {
			// RFC 8689 4.2.1: the next hop must promise to keep asking
			// for TLS; one that does not advertise REQUIRETLS cannot.
			_ = c.quit()
			return nil, &destError{code: 451, enhanced: "4.7.10", reason: "requiretls",
				text: fmt.Sprintf("%s does not offer REQUIRETLS, which the message asks for (RFC 8689)", host)}
		}
	case required:
		d.plan.Report(host, nil, errors.New("STARTTLS not offered"))
		_ = c.quit()
		q.metrics.connections.WithLabelValues("tls_failed").Inc()
		return nil, &destError{code: 451, enhanced: "4.7.5", reason: "tls",
			text: fmt.Sprintf("%s does not offer STARTTLS, and TLS is required: %s", host, why)}
	default:
		q.metrics.connections.WithLabelValues("none").Inc()
	}
	return &conn{client: c, mx: host, requireTLS: d.requireTLS && required && c.tls != nil && c.has("REQUIRETLS")}, nil
}

// release keeps a healthy connection for the next batch of this run, and
// for a worker of this run waiting for one.
func (d *destination) release(c *conn) {
	d.mu.Lock()
	d.idle = append(d.idle, c)
	d.mu.Unlock()
	select {
	case d.freed <- struct{}{}:
	default:
	}
}

func (d *destination) close() {
	d.mu.Lock()
	idle := d.idle
	d.idle = nil
	d.mu.Unlock()
	for _, c := range idle {
		_ = c.quit()
		<-d.q.sem
	}
}

func tlsVersion(v uint16) string {
	switch v {
	case 0x0304:
		return "TLSv1.3"
	case 0x0303:
		return "TLSv1.2"
	}
	return "TLS"
}
