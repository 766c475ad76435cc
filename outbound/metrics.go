package outbound

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the queue's Prometheus metrics.
type Metrics struct {
	size        prometheus.Gauge
	age         prometheus.Gauge
	results     *prometheus.CounterVec
	connections *prometheus.CounterVec
	notices     *prometheus.CounterVec
	returned    *prometheus.CounterVec
	attempt     prometheus.Histogram
	panics      prometheus.Counter
}

func newMetrics() *Metrics {
	return &Metrics{
		size: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wardmail_outbound_queue_size", Help: "Recipients waiting in the outbound queue (not held).",
		}),
		age: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wardmail_outbound_queue_oldest_seconds", Help: "Age of the oldest recipient waiting in the outbound queue.",
		}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_outbound_recipients_total",
			Help: "Outcomes of delivery attempts per recipient: delivered, deferred or failed, by reason (remote, network, dns, tls, expired, size, 8bitmime, smtputf8, null_mx, no_domain).",
		}, []string{"result", "reason"}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_outbound_connections_total",
			Help: "Connections to remote mail servers, by the TLS used (TLSv1.3, TLSv1.2, none, tls_failed, failed).",
		}, []string{"tls"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_outbound_notices_total", Help: "Delivery status notifications given to senders, by kind (failure, delay).",
		}, []string{"kind"}),
		returned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_outbound_returned_total", Help: "Delivery status notifications from other servers matched to queued recipients, by action (failed, delayed, delivered, relayed).",
		}, []string{"action"}),
		attempt: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wardmail_outbound_transaction_seconds", Help: "Time of one mail transaction with a remote server.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_outbound_panics_total", Help: "Panics recovered in delivery runs.",
		}),
	}
}

func (m *Metrics) outcome(result, reason string, n int) {
	if n > 0 {
		m.results.WithLabelValues(result, reason).Add(float64(n))
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.size, m.age, m.results, m.connections, m.notices, m.returned, m.attempt, m.panics}
}

// Metrics returns the queue's Prometheus collector.
func (q *Queue) Metrics() *Metrics { return q.metrics }
