package store

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the store's Prometheus metrics. The caller registers them.
type Metrics struct {
	commits       prometheus.Counter
	commitErrors  prometheus.Counter
	retries       prometheus.Counter
	notifyErrors  prometheus.Counter
	batchSize     prometheus.Histogram
	commitSeconds prometheus.Histogram
	writeWait     prometheus.Histogram
	deliveries    prometheus.Counter
	materialised  prometheus.Counter
	purged        prometheus.Counter
	wordsIndexed  prometheus.Counter
	revoked       *prometheus.CounterVec
}

func newMetrics() *Metrics {
	return &Metrics{
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_commits_total", Help: "Group commits to the database."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_commit_errors_total", Help: "Group commits that failed as a whole."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_write_retries_total", Help: "Writes run again after a deadlock or serialisation conflict with another process."}),
		notifyErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_change_feed_errors_total", Help: "Failures to announce changes to, or hear them from, other processes."}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wardmail_store_commit_batch_size", Help: "Write requests carried by one commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wardmail_store_commit_seconds", Help: "Time to run and commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		writeWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wardmail_store_write_seconds", Help: "Time from queueing a write to its durable commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_mailbox_deliveries_total", Help: "Message rows added to mailboxes by delivery."}),
		materialised: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_materialised_total", Help: "List posts materialised into members' mailboxes."}),
		purged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_purged_rows_total", Help: "Mailbox rows removed by administrators' purges."}),
		wordsIndexed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_store_bodies_word_indexed_total", Help: "Bodies added to the word index of search."}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_sessions_revoked_total",
			Help: "Open sessions ended because their credentials were revoked (disable, password reset, app-password revoke, sign out everywhere), by door."},
			[]string{"door"}),
	}
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

func (m *Metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.commits, m.commitErrors, m.retries, m.notifyErrors, m.batchSize, m.commitSeconds, m.writeWait, m.deliveries, m.materialised, m.purged, m.wordsIndexed, m.revoked}
}
