package scan

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	verdicts    *prometheus.CounterVec
	unavailable *prometheus.CounterVec
	seconds     *prometheus.HistogramVec
	up          *prometheus.GaugeVec
}

func newMetrics() *metrics {
	return &metrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wardmail_scan_verdicts_total",
			Help: "Messages scanned, by what was done (deliver, junk, quarantine, reject, tempfail) and why."}, []string{"action", "kind"}),
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wardmail_scan_unavailable_total",
			Help: "Messages an engine did not answer for (down or too slow), by engine and what was done instead."}, []string{"engine", "fallback"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wardmail_scan_seconds",
			Help: "Time each check took per message.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"engine"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wardmail_scan_engine_up",
			Help: "1 when the engine answered its last scan or health check, else 0."}, []string{"engine"}),
	}
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.verdicts.Describe(ch)
	m.unavailable.Describe(ch)
	m.seconds.Describe(ch)
	m.up.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.verdicts.Collect(ch)
	m.unavailable.Collect(ch)
	m.seconds.Collect(ch)
	m.up.Collect(ch)
}

// Metrics returns the scanner's Prometheus collector.
func (s *Scanner) Metrics() prometheus.Collector { return s.metrics }
