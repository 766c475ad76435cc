package lockout

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	failures      *prometheus.CounterVec
	locks         prometheus.Counter
	unlocks       prometheus.Counter
	refused       prometheus.Counter
	backendFaults prometheus.Counter
	flushErrors   prometheus.Counter
	evicted       prometheus.Counter

	networkThrottles prometheus.Counter
	networkRefused   prometheus.Counter
	locked           prometheus.GaugeFunc
	incident         prometheus.GaugeFunc
}

func newMetrics(e *Engine) *metrics {
	m := &metrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wardmail_lockout_failures_total",
			Help: "Wrong passwords by what lockout did: counted, repeat (same wrong password again), incident (incident mode), backend (store failing)."},
			[]string{"outcome"}),
		locks: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_locks_total",
			Help: "Locks started, of one (account, source) or of an account's unfamiliar sources."}),
		unlocks: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_unlocks_total",
			Help: "Accounts unlocked by an administrator."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_refused_total",
			Help: "Sign-ins refused because the (account, source) was locked."}),
		backendFaults: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_backend_faults_total",
			Help: "Store failures or slow lookups reported to lockout (each opens a grace period without counting)."}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_save_errors_total",
			Help: "Failed saves of lockout state (retried at the next poll)."}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_evicted_total",
			Help: "Counters dropped early because more than max entries were held (a spray of made-up names)."}),
		networkThrottles: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_network_throttles_total",
			Help: "Times a network reached the network budget (a password spray suspected)."}),
		networkRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "wardmail_lockout_network_refused_total",
			Help: "Password sign-ins refused by the network budget (to accounts the network is unfamiliar to)."}),
		locked: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wardmail_lockout_locked",
			Help: "Locks running now."}, func() float64 { return float64(e.lockedNow()) }),
		incident: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wardmail_lockout_incident_mode",
			Help: "1 while incident mode stops lockout counting."}, func() float64 {
			if e.incident.Load() {
				return 1
			}
			return 0
		}),
	}
	for _, o := range []string{Counted, Repeat, Incident, Backend} {
		m.failures.WithLabelValues(o)
	}
	return m
}

func (e *Engine) lockedNow() int {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, en := range e.entries {
		if en.lockedUntil.After(now) {
			n++
		}
	}
	return n
}

func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.failures, m.locks, m.unlocks, m.refused, m.backendFaults, m.flushErrors, m.evicted, m.networkThrottles, m.networkRefused, m.locked, m.incident}
}

// Describe implements prometheus.Collector.
func (e *Engine) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range e.metrics.all() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (e *Engine) Collect(ch chan<- prometheus.Metric) {
	for _, c := range e.metrics.all() {
		c.Collect(ch)
	}
}
