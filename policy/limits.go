package policy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"wardmail/store"
)

// LimitConfig sets the per-sender limits (DESIGN section 4), counted after
// list expansion: a post to a list of 3,000 is 3,000 recipients.
type LimitConfig struct {
	Off              bool  // no sender limits (the replay's "protection off")
	PerMinute        int   // messages a person may send a minute (30)
	RecipientsPerDay int64 // people a person may reach a day (10,000); broadcast senders have their own
}

// DefaultLimits returns the defaults.
func DefaultLimits() LimitConfig { return LimitConfig{PerMinute: 30, RecipientsPerDay: 10000} }

// Fill replaces zero fields with the defaults.
func (c *LimitConfig) Fill() {
	d := DefaultLimits()
	if c.PerMinute <= 0 {
		c.PerMinute = d.PerMinute
	}
	if c.RecipientsPerDay <= 0 {
		c.RecipientsPerDay = d.RecipientsPerDay
	}
}

// Limits checks people's sending against their limits. Usage comes from
// the submissions record; messages let through but not yet stored are
// counted in memory, under a lock per sender (striped), so a person's
// concurrent sessions cannot all pass at the edge.
type Limits struct {
	st      *store.Store
	cfg     LimitConfig
	now     func() time.Time
	metrics *Metrics
	stripes [64]struct {
		sync.Mutex
		inflight map[int64]usage
	}
}

type usage struct{ messages, recipients int64 }

// NewLimits returns the sender limits over a store.
func NewLimits(st *store.Store, cfg LimitConfig, now func() time.Time, m *Metrics) *Limits {
	cfg.Fill()
	if now == nil {
		now = time.Now
	}
	if m == nil {
		m = NewMetrics()
	}
	m.setLimits(cfg)
	l := &Limits{st: st, cfg: cfg, now: now, metrics: m}
	for i := range l.stripes {
		l.stripes[i].inflight = map[int64]usage{}
	}
	return l
}

// Config returns the limits.
func (l *Limits) Config() LimitConfig { return l.cfg }

// Check decides whether a person may send a message reaching `recipients`
// people. It returns a release function to call once the message is stored
// (or refused later in the pipeline), or a *Refusal.
func (l *Limits) Check(ctx context.Context, senderID int64, recipients int64) (release func(), err error) {
	if l.cfg.Off || senderID == 0 {
		return func() {}, nil
	}
	s := &l.stripes[senderID%int64(len(l.stripes))]
	s.Lock()
	defer s.Unlock()
	now := l.now()
	msgs, sent, err := l.st.SenderUsage(ctx, senderID, now.Add(-time.Minute), now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	in := s.inflight[senderID]
	msgs += in.messages
	sent += in.recipients
	if msgs+1 > int64(l.cfg.PerMinute) {
		l.metrics.limited.WithLabelValues("per_minute").Inc()
		return nil, &Refusal{Code: 450, Enhanced: [3]int{4, 7, 1}, Message: fmt.Sprintf(
			"You have sent %d messages in the last minute; the limit is %d a minute. Wait a minute and send again.", msgs, l.cfg.PerMinute)}
	}
	quota, broadcast, err := l.st.BroadcastQuota(ctx, senderID)
	if err != nil {
		return nil, err
	}
	kind := "per_day"
	if !broadcast {
		quota = l.cfg.RecipientsPerDay
	} else {
		kind = "broadcast"
	}
	if sent+recipients > quota {
		l.metrics.limited.WithLabelValues(kind).Inc()
		who := "you may reach " + thousands(quota) + " people a day"
		if broadcast {
			who = "your broadcast quota is " + thousands(quota) + " people a day"
		}
		if recipients > quota {
			return nil, &Refusal{Code: 550, Enhanced: [3]int{5, 7, 1}, Message: fmt.Sprintf(
				"This message would reach %s people (counting every member of its lists), and %s. Send it to fewer people, or ask an administrator to make you a broadcast sender.",
				thousands(recipients), who)}
		}
		return nil, &Refusal{Code: 451, Enhanced: [3]int{4, 7, 1}, Message: fmt.Sprintf(
			"This message would reach %s people; you have reached %s in the last 24 hours and %s. Try again later, or ask an administrator to make you a broadcast sender.",
			thousands(recipients), thousands(sent), who)}
	}
	in.messages++
	in.recipients += recipients
	s.inflight[senderID] = in
	once := sync.Once{}
	return func() {
		once.Do(func() {
			s.Lock()
			defer s.Unlock()
			u := s.inflight[senderID]
			u.messages--
			u.recipients -= recipients
			if u.messages <= 0 {
				delete(s.inflight, senderID)
			} else {
				s.inflight[senderID] = u
			}
		})
	}, nil
}
