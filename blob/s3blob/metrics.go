package s3blob

import "github.com/prometheus/client_golang/prometheus"

// metrics count what the node asks of the object store: requests by
// operation and outcome, and the bytes that crossed the network each way
// (sealed bytes, as the store sees them). An operator sizes the object
// store and its bill from these (docs/capacity.md).
type metrics struct {
	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_s3_requests_total",
			Help: "Requests to the object store by operation (put, get, delete, head) and outcome (ok, missing, error).",
		}, []string{"op", "outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_s3_bytes_total",
			Help: "Body bytes sent to (put) and read from (get) the object store.",
		}, []string{"op"}),
	}
}

func (m *metrics) request(op string, err error) {
	outcome := "ok"
	switch {
	case err == nil:
	case isMissing(err):
		outcome = "missing"
	default:
		outcome = "error"
	}
	m.requests.WithLabelValues(op, outcome).Inc()
}

// Describe implements prometheus.Collector.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	s.m.requests.Describe(ch)
	s.m.bytes.Describe(ch)
}

// Collect implements prometheus.Collector.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	s.m.requests.Collect(ch)
	s.m.bytes.Collect(ch)
}
