package imapd

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the IMAP door's Prometheus metrics. The caller registers them
// (Server.Metrics); nothing here is global.
type Metrics struct {
	connections prometheus.Gauge
	commands    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	panics      prometheus.Counter
	logins      *prometheus.CounterVec
	// notifications counts NOTIFY's unsolicited responses by kind
	// (status, list, overflow).
	notifications *prometheus.CounterVec
}

// Command results counted by the commands counter.
const (
	resultOK  = "ok"
	resultNO  = "no"
	resultBAD = "bad"
)

// NewMetrics returns a fresh set of IMAP metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wardmail_imap_connections", Help: "IMAP connections open now."}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_imap_commands_total", Help: "IMAP commands by command and result (ok, no, bad)."},
			[]string{"command", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wardmail_imap_command_seconds", Help: "Time to run one IMAP command, IDLE excluded.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"command"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_imap_panics_total", Help: "IMAP commands that panicked (answered with BYE)."}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_imap_logins_total", Help: "IMAP sign-in attempts by result (ok, failed, unavailable)."},
			[]string{"result"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_imap_notifications_total", Help: "IMAP NOTIFY responses sent unasked, by kind (status, list, overflow)."},
			[]string{"kind"}),
	}
}

func (m *Metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.connections, m.commands, m.duration, m.panics, m.logins, m.notifications}
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

func (m *Metrics) command(name, result string, d time.Duration) {
	m.commands.WithLabelValues(name, result).Inc()
	if name != "IDLE" {
		m.duration.WithLabelValues(name).Observe(d.Seconds())
	}
}
