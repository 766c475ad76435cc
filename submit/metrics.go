package submit

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	messages        *prometheus.CounterVec
	deliveries      prometheus.Counter
	posts           prometheus.Counter
	held            prometheus.Counter
	listDecisions   *prometheus.CounterVec
	listSuspensions prometheus.Counter
	audience        prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_submit_messages_total",
			Help: "Messages handed to the pipeline, by door and outcome (the reply code, or accepted).",
		}, []string{"door", "result"}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_submit_mailbox_deliveries_total",
			Help: "Mailbox rows written for accepted messages.",
		}),
		posts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_submit_list_posts_total",
			Help: "Posts appended to list post logs (one per list, however many members).",
		}),
		held: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_submit_list_held_total",
			Help: "Posts held for list moderators.",
		}),
		listDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_submit_list_decisions_total",
			Help: "Posting decisions on lists, by verdict (accept, hold, refuse, wait, suspend).",
		}, []string{"verdict"}),
		listSuspensions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_list_suspensions_total",
			Help: "Lists suspended because their live size drifted past their approved size: administrators must re-approve.",
		}),
		audience: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wardmail_submit_audience_people",
			Help:    "Distinct people each accepted message reaches, after list expansion.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 12),
		}),
	}
}

func (m *metrics) observe(door string, err error) {
	result := "accepted"
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &e):
		result = strconv.Itoa(e.Code)
	default:
		result = "error"
	}
	m.messages.WithLabelValues(door, result).Inc()
}

func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.messages, m.deliveries, m.posts, m.held, m.listDecisions, m.listSuspensions, m.audience}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all() {
		c.Describe(ch)
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.all() {
		c.Collect(ch)
	}
}
