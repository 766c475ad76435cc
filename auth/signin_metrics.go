package auth

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sign-in results as measured.
const (
	resultLocked       = "locked"
	resultUnavailable  = "unavailable"
	resultSecondFactor = "second_factor_required"
	// resultAppPasswordRequired: a right password on IMAP or SMTP for
	// someone with two-step sign-in, who must use an app password there.
	resultAppPasswordRequired = "app_password_required"
)

type signinMetrics struct {
	total   *prometheus.CounterVec
	seconds *prometheus.HistogramVec
	audited prometheus.Counter
	dropped prometheus.Counter
}

func newSigninMetrics() *signinMetrics {
	return &signinMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wardmail_signin_total",
			Help: "Sign-ins by door (imap, smtp, http), method (password, app_password) and result (ok, bad, locked, unavailable, second_factor_required, app_password_required)."},
			[]string{"protocol", "method", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wardmail_signin_seconds",
			Help:    "Time to decide a sign-in, by method.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2.5, 14)}, []string{"method"}),
		audited: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_signin_audit_written_total",
			Help: "Sign-in audit entries written."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_signin_audit_dropped_total",
			Help: "Sign-in audit entries lost because the store did not take them (or too many were waiting)."}),
	}
}

func (m *signinMetrics) observe(protocol, method, result string, d time.Duration) {
	switch protocol {
	case ProtoIMAP, ProtoSMTP, ProtoHTTP:
	default:
		protocol = "unknown" // bounded label values
	}
	m.total.WithLabelValues(protocol, method, result).Inc()
	m.seconds.WithLabelValues(method).Observe(d.Seconds())
}

func (m *signinMetrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.total, m.seconds, m.audited, m.dropped}
}

// Describe implements prometheus.Collector.
func (l *Login) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range l.metrics.all() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (l *Login) Collect(ch chan<- prometheus.Metric) {
	for _, c := range l.metrics.all() {
		c.Collect(ch)
	}
}
