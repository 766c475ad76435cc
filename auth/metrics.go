package auth

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results counted by the verification and hashing counters.
const (
	resultOK    = "ok"    // password matched (or hash made)
	resultBad   = "bad"   // wrong password
	resultBusy  = "busy"  // ErrBusy: no worker in time
	resultError = "error" // malformed stored hash or failed hashing
)

// metrics are a Hasher's Prometheus metrics.
type metrics struct {
	busy     prometheus.GaugeFunc
	workers  prometheus.GaugeFunc
	verifies *prometheus.CounterVec
	hashes   *prometheus.CounterVec
	wait     prometheus.Histogram
}

func newMetrics(h *Hasher) *metrics {
	m := &metrics{
		busy: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wardmail_auth_hasher_busy_workers", Help: "Password hashing workers running argon2id now."},
			func() float64 { return float64(len(h.slots)) }),
		workers: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wardmail_auth_hasher_workers", Help: "Password hashing workers in the pool."},
			func() float64 { return float64(cap(h.slots)) }),
		verifies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_auth_password_verifications_total",
			Help: "Password verifications by result: ok, bad (wrong password), busy (no worker in time), error (malformed stored hash)."},
			[]string{"result"}),
		hashes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_auth_password_hashes_total", Help: "New password hashes by result: ok, busy, error."},
			[]string{"result"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wardmail_auth_hasher_wait_seconds", Help: "Time spent waiting for a free hashing worker, including waits that gave up.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
	}
	// Create every series up front so dashboards see zeros, not gaps.
	for _, r := range []string{resultOK, resultBad, resultBusy, resultError} {
		m.verifies.WithLabelValues(r)
	}
	for _, r := range []string{resultOK, resultBusy, resultError} {
		m.hashes.WithLabelValues(r)
	}
	return m
}

func (m *metrics) verify(result string)   { m.verifies.WithLabelValues(result).Inc() }
func (m *metrics) hash(result string)     { m.hashes.WithLabelValues(result).Inc() }
func (m *metrics) waited(d time.Duration) { m.wait.Observe(d.Seconds()) }
func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.busy, m.workers, m.verifies, m.hashes, m.wait}
}

// Describe implements prometheus.Collector.
func (h *Hasher) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range h.metrics.all() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (h *Hasher) Collect(ch chan<- prometheus.Metric) {
	for _, c := range h.metrics.all() {
		c.Collect(ch)
	}
}
