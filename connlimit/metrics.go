package connlimit

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the doors' connection metrics, shared by every Limiter.
type Metrics struct {
	open         *prometheus.GaugeVec
	refused      *prometheus.CounterVec
	acceptErrors *prometheus.CounterVec
	sessionLimit *prometheus.CounterVec
}

// NewMetrics returns the metrics, for the caller to register once.
func NewMetrics() *Metrics {
	return &Metrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wardmail_door_connections", Help: "Connections open, by door."}, []string{"door"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_door_refused_total",
			Help: "Connections refused at accept, by door and reason (total: the door is full; network: the client's network has its share; busy: closed without a reply during a flood)."},
			[]string{"door", "reason"}),
		acceptErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_door_accept_errors_total", Help: "Accept errors (e.g. out of file descriptors), retried after a pause, by door."},
			[]string{"door"}),
		sessionLimit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_door_session_limit_total", Help: "Connections cut by their whole-session deadline, by door."},
			[]string{"door"}),
	}
}

func (m *Metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.open, m.refused, m.acceptErrors, m.sessionLimit}
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
