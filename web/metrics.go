package web

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests *prometheus.CounterVec
	signins  *prometheus.CounterVec
	panics   prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_web_requests_total", Help: "HTTP API requests by route pattern and status class.",
		}, []string{"route", "status"}),
		signins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wardmail_web_signins_total", Help: "Web sign-in attempts by outcome.",
		}, []string{"outcome"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wardmail_web_panics_total", Help: "Panics recovered in HTTP handlers.",
		}),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.signins.Describe(ch)
	m.panics.Describe(ch)
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.signins.Collect(ch)
	m.panics.Collect(ch)
}
