package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sawt/sawt/channels"
)

// Metrics counts what the pipeline and the outbox do. Labels never carry message content,
// URNs or anything else about a person. A nil *Metrics counts nothing.
type Metrics struct {
	inboundTotal   *prometheus.CounterVec
	inboundSeconds *prometheus.HistogramVec
	stepSeconds    prometheus.Histogram
	outboundTotal  *prometheus.CounterVec
	sendSeconds    *prometheus.HistogramVec
	casesOpened    *prometheus.CounterVec
}

// NewMetrics registers the gateway's metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		inboundTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sawt_inbound_messages_total", Help: "Inbound messages by channel and result (handled, duplicate, invalid, error).",
		}, []string{"channel", "result"}),
		inboundSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sawt_inbound_seconds", Help: "Time to store and handle one inbound message, transaction included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"channel"}),
		stepSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sawt_flow_step_seconds", Help: "Time the flow engine takes for one step.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01},
		}),
		outboundTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sawt_outbound_messages_total", Help: "Outbound send attempts by channel and result (sent, retry, throttled, failed, opted_out, no_sender).",
		}, []string{"channel", "result"}),
		sendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sawt_send_seconds", Help: "Time a provider takes to accept one message.",
			Buckets: prometheus.DefBuckets,
		}, []string{"channel"}),
		casesOpened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sawt_cases_opened_total", Help: "Cases opened by category.",
		}, []string{"category"}),
	}
	reg.MustRegister(m.inboundTotal, m.inboundSeconds, m.stepSeconds, m.outboundTotal, m.sendSeconds, m.casesOpened)
	return m
}

func (m *Metrics) inbound(ch channels.Kind, result string, d time.Duration) {
	if m == nil {
		return
	}
	if !ch.Valid() {
		ch = "unknown"
	}
	m.inboundTotal.WithLabelValues(string(ch), result).Inc()
	m.inboundSeconds.WithLabelValues(string(ch)).Observe(d.Seconds())
}

func (m *Metrics) step(d time.Duration) {
	if m != nil {
		m.stepSeconds.Observe(d.Seconds())
	}
}

func (m *Metrics) outbound(ch channels.Kind, result string) {
	if m != nil {
		m.outboundTotal.WithLabelValues(string(ch), result).Inc()
	}
}

func (m *Metrics) send(ch channels.Kind, d time.Duration) {
	if m != nil {
		m.sendSeconds.WithLabelValues(string(ch)).Observe(d.Seconds())
	}
}

func (m *Metrics) caseOpened(category string) {
	if m != nil {
		m.casesOpened.WithLabelValues(category).Inc()
	}
}
