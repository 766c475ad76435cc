package policy

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the breaker's and the limits' Prometheus figures, settings
// included, so a dashboard shows what the thresholds are as well as what
// they did.
type Metrics struct {
	replies  *prometheus.CounterVec
	blocks   *prometheus.CounterVec
	unblocks prometheus.Counter
	released prometheus.Counter
	limited  *prometheus.CounterVec
	settings *prometheus.GaugeVec
}

// NewMetrics returns the collector; register it once.
func NewMetrics() *Metrics {
	return &Metrics{
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_storm_replies_total",
			Help: "Replies to a large audience seen by the storm breaker, by outcome (accepted, braked: delivered late, blocked: refused).",
		}, []string{"outcome"}),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_storm_blocks_total",
			Help: "Threads blocked, by who blocked them (breaker or administrator).",
		}, []string{"by"}),
		unblocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_storm_unblocks_total",
			Help: "Thread blocks lifted by administrators.",
		}),
		released: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_storm_brake_released_total",
			Help: "Posts held by the early brake and released to their lists after the delay.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_sender_limit_refusals_total",
			Help: "Messages refused by the per-sender limits, by limit (per_minute, per_day, broadcast).",
		}, []string{"limit"}),
		settings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wardmail_policy_setting",
			Help: "The storm breaker's and sender limits' settings (durations in seconds; enabled 1 or 0).",
		}, []string{"setting"}),
	}
}

func (m *Metrics) setStorm(c StormConfig) {
	on := 1.0
	if c.Off {
		on = 0
	}
	for k, v := range map[string]float64{
		"storm_enabled": on, "storm_min_audience": float64(c.MinAudience), "storm_threshold": float64(c.Threshold),
		"storm_window_seconds": c.Window.Seconds(), "storm_block_seconds": c.BlockFor.Seconds(),
		"storm_brake_from": float64(c.BrakeFrom), "storm_brake_delay_seconds": c.BrakeDelay.Seconds(),
	} {
		m.settings.WithLabelValues(k).Set(v)
	}
}

func (m *Metrics) setLimits(c LimitConfig) {
	on := 1.0
	if c.Off {
		on = 0
	}
	for k, v := range map[string]float64{
		"sender_limits_enabled": on, "sender_messages_per_minute": float64(c.PerMinute),
		"sender_recipients_per_day": float64(c.RecipientsPerDay),
	} {
		m.settings.WithLabelValues(k).Set(v)
	}
}

// Released counts posts the brake worker released.
func (m *Metrics) Released(n int) { m.released.Add(float64(n)) }

func (m *Metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.replies, m.blocks, m.unblocks, m.released, m.limited, m.settings}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.all() {
		c.Collect(ch)
	}
}
