package inbound

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts verdicts by method and result, and times the checks.
type Metrics struct {
	results *prometheus.CounterVec
	actions *prometheus.CounterVec
	seconds prometheus.Histogram
}

// NewMetrics returns unregistered metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wardmail_inbound_auth_results_total",
			Help: "Sender authentication results of inbound mail, by method (spf, dkim, dmarc, arc) and result."}, []string{"method", "result"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wardmail_inbound_auth_actions_total",
			Help: "What was done with inbound mail after sender authentication (accept, junk, reject, defer), and how many were from outside or look-alike senders."}, []string{"action"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wardmail_inbound_auth_seconds",
			Help: "Time spent authenticating one inbound message (DNS included).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.results.Describe(ch)
	m.actions.Describe(ch)
	m.seconds.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.results.Collect(ch)
	m.actions.Collect(ch)
	m.seconds.Collect(ch)
}

func (m *Metrics) observe(v *Verdict, d time.Duration) {
	m.seconds.Observe(d.Seconds())
	m.results.WithLabelValues("spf", string(v.SPF)).Inc()
	for _, d := range v.DKIM {
		r := "pass"
		if d.Err != nil {
			r = "fail"
		}
		m.results.WithLabelValues("dkim", r).Inc()
	}
	m.results.WithLabelValues("dmarc", string(v.DMARC)).Inc()
	if v.ARC.Instances > 0 {
		m.results.WithLabelValues("arc", string(v.ARC.Value)).Inc()
	}
	m.actions.WithLabelValues(v.Action.String()).Inc()
	if v.Origin.Outside {
		m.actions.WithLabelValues("outside").Inc()
	}
	if v.Origin.LookAlike != "" {
		m.actions.WithLabelValues("look_alike").Inc()
	}
}
