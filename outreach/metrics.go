package outreach

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sawt/sawt/channels"
)

// Metrics counts what broadcasts do. Labels never name a person, a campaign's text or a
// code. A nil *Metrics counts nothing.
type Metrics struct {
	runs      *prometheus.CounterVec
	targeted  *prometheus.CounterVec
	fanOut    prometheus.Histogram
	sends     *prometheus.CounterVec
	sendTimes *prometheus.HistogramVec
}

// NewMetrics registers the broadcast metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sawt_broadcast_runs_total", Help: "Broadcast runs started, by kind (campaign, or the distribution alert).",
		}, []string{"kind"}),
		targeted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sawt_broadcast_targeted_total", Help: "People a broadcast run was fanned out to, by kind.",
		}, []string{"kind"}),
		fanOut: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sawt_broadcast_fanout_seconds", Help: "Time to fan a run out into its deliveries and send jobs.",
			Buckets: []float64{.01, .05, .1, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sawt_broadcast_messages_total", Help: "Broadcast send attempts by channel and result (sent, retry, throttled, failed, opted_out).",
		}, []string{"channel", "result"}),
		sendTimes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sawt_broadcast_send_seconds", Help: "Time a provider takes to accept one broadcast message.",
			Buckets: prometheus.DefBuckets,
		}, []string{"channel"}),
	}
	reg.MustRegister(m.runs, m.targeted, m.fanOut, m.sends, m.sendTimes)
	return m
}

func (m *Metrics) runStarted(kind string, targeted int, took time.Duration) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(kind).Inc()
	m.targeted.WithLabelValues(kind).Add(float64(targeted))
	m.fanOut.Observe(took.Seconds())
}

func (m *Metrics) send(ch channels.Kind, result string, took time.Duration) {
	if m == nil {
		return
	}
	m.sends.WithLabelValues(string(ch), result).Inc()
	if took > 0 {
		m.sendTimes.WithLabelValues(string(ch)).Observe(took.Seconds())
	}
}
