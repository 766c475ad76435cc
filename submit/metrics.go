package submit

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	messages   *prometheus.CounterVec
	deliveries prometheus.Counter
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

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.messages.Describe(ch)
	m.deliveries.Describe(ch)
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.messages.Collect(ch)
	m.deliveries.Collect(ch)
}
