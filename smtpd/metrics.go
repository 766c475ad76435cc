package smtpd

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the SMTP doors' Prometheus metrics.
type Metrics struct {
	sessions    *prometheus.CounterVec
	auth        *prometheus.CounterVec
	closed      *prometheus.CounterVec
	dataSeconds *prometheus.HistogramVec
	panics      prometheus.Counter
	panicCount  atomic.Int64
}

// NewMetrics returns the metrics, for the caller to register once and share
// between the inbound and submission doors.
func NewMetrics() *Metrics {
	return &Metrics{
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_smtp_sessions_total", Help: "SMTP sessions started, by door."}, []string{"door"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_smtp_auth_total", Help: "SMTP AUTH attempts by door and result."}, []string{"door", "result"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_smtp_closed_total", Help: "Sessions closed by the server, by reason."}, []string{"door", "reason"}),
		dataSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wardmail_smtp_data_seconds", Help: "From DATA to the durable 250 reply.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"door"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_smtp_panics_total", Help: "Panics recovered in SMTP sessions."}),
	}
}

// Panics returns how many panics were recovered (tests assert zero).
func (m *Metrics) Panics() int64 { return m.panicCount.Load() }

func (m *Metrics) panicked() {
	m.panics.Inc()
	m.panicCount.Add(1)
}

func (m *Metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.sessions, m.auth, m.closed, m.dataSeconds, m.panics}
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
