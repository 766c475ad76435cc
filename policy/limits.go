package policy

import (
	"context"
	"fmt"
	"sync"
	"time"
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
// reservations in the store (store.ReserveSending), counted under a lock per
// sender that the database holds, so a person's concurrent sessions cannot
// all pass at the edge, on one node or several.
type Limits struct {
	st      Storage
	cfg     LimitConfig
	now     func() time.Time
	metrics *Metrics
}

// NewLimits returns the sender limits over a store.
func NewLimits(st Storage, cfg LimitConfig, now func() time.Time, m *Metrics) *Limits {
	cfg.Fill()
	if now == nil {
		now = time.Now
	}
	if m == nil {
		m = NewMetrics()
	}
	m.setLimits(cfg)
	l := &Limits{st: st, cfg: cfg, now: now, metrics: m}
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
	now := l.now()
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
	var limited string
	reserved, err := l.st.ReserveSending(ctx, senderID, recipients, now.Add(-time.Minute), now.Add(-24*time.Hour), func(msgs, sent int64) error {
		limited = ""
		if msgs+1 > int64(l.cfg.PerMinute) {
			limited = "per_minute"
			return &Refusal{Code: 450, Enhanced: [3]int{4, 7, 1}, Message: fmt.Sprintf(
				"You have sent %d messages in the last minute; the limit is %d a minute. Wait a minute and send again.", msgs, l.cfg.PerMinute)}
		}
		if sent+recipients <= quota {
			return nil
		}
		limited = kind
		who := "you may reach " + thousands(quota) + " people a day"
		if broadcast {
			who = "your broadcast quota is " + thousands(quota) + " people a day"
		}
		if recipients > quota {
			return &Refusal{Code: 550, Enhanced: [3]int{5, 7, 1}, Message: fmt.Sprintf(
				"This message would reach %s people (counting every member of its lists), and %s. Send it to fewer people, or ask an administrator to make you a broadcast sender.",
				thousands(recipients), who)}
		}
		return &Refusal{Code: 451, Enhanced: [3]int{4, 7, 1}, Message: fmt.Sprintf(
			"This message would reach %s people; you have reached %s in the last 24 hours and %s. Try again later, or ask an administrator to make you a broadcast sender.",
			thousands(recipients), thousands(sent), who)}
	})
	if err != nil {
		if limited != "" {
			l.metrics.limited.WithLabelValues(limited).Inc()
		}
		return nil, err
	}
	once := sync.Once{}
	return func() { once.Do(reserved) }, nil
}
