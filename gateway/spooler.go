package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/spool"
)

// Spooler stands between the webhooks of providers that do not retry (Twilio) and the
// gateway. When the database cannot take a message (it is down, failing over, full), the
// message is appended to a local spool, on disk and encrypted, and the provider hears that
// it was stored; Run feeds the spool back through the gateway, in arrival order, as soon as
// the database answers. While anything is spooled, new messages are spooled behind it rather
// than handled at once, so that each person's messages are handled in the order they came.
//
// A phone call cannot wait: a call's steps are never spooled (the voice webhook offers the
// caller to leave a message instead), only the message they leave (VoicemailPayload).
// Delivery and recording reports are spooled like messages.
type Spooler struct {
	Next interface {
		channels.Receiver
		channels.Reports
	}
	Spool *spool.Spool
	// Ping tells whether the database answers; Run replays only when it does.
	Ping   func(ctx context.Context) error
	Logger *slog.Logger
	Now    func() time.Time

	fullMu     sync.Mutex
	fullLogged time.Time
	wake       chan struct{}
	wakeOnce   sync.Once
}

// spooled is one record of the spool: what the webhook was given, by kind.
type spooled struct {
	Kind      string                   `json:"kind"` // inbound, delivery or recording
	Inbound   *channels.Inbound        `json:"inbound,omitempty"`
	Delivery  *channels.DeliveryReport `json:"delivery,omitempty"`
	Recording *channels.RecordingReady `json:"recording,omitempty"`
}

const (
	spooledInbound   = "inbound"
	spooledDelivery  = "delivery"
	spooledRecording = "recording"
)

func (s *Spooler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Spooler) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Spooler) wakeCh() chan struct{} {
	s.wakeOnce.Do(func() { s.wake = make(chan struct{}, 1) })
	return s.wake
}

// Receive hands in to the gateway, or spools it: when the spool already holds records (to
// keep the order), or when the gateway fails for a reason other than the message itself. A
// call's step is never spooled: its error goes back to the voice webhook.
func (s *Spooler) Receive(ctx context.Context, in channels.Inbound) (channels.Result, error) {
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = s.now() // when it reached us, not when it is replayed
	}
	waits := in.Channel != channels.Voice || in.Payload == channels.VoicemailPayload
	if waits && s.Spool.Stats().Pending > 0 {
		return s.spoolInbound(in, nil)
	}
	res, err := s.Next.Receive(ctx, in)
	if err == nil || !waits || errors.Is(err, channels.ErrBadInbound) || ctx.Err() != nil {
		return res, err
	}
	return s.spoolInbound(in, err)
}

func (s *Spooler) spoolInbound(in channels.Inbound, cause error) (channels.Result, error) {
	if err := s.append(spooled{Kind: spooledInbound, Inbound: &in}, cause); err != nil {
		return channels.Result{}, err
	}
	return channels.Result{Spooled: true}, nil
}

// Delivered hands a delivery report to the gateway, or spools it as Receive does a message.
func (s *Spooler) Delivered(ctx context.Context, r channels.DeliveryReport) error {
	return s.report(ctx, spooled{Kind: spooledDelivery, Delivery: &r}, func() error { return s.Next.Delivered(ctx, r) })
}

// RecordingReady hands a recording report to the gateway, or spools it: without it the
// recording would never be fetched, and the provider deletes it in time.
func (s *Spooler) RecordingReady(ctx context.Context, r channels.RecordingReady) error {
	return s.report(ctx, spooled{Kind: spooledRecording, Recording: &r}, func() error { return s.Next.RecordingReady(ctx, r) })
}

func (s *Spooler) report(ctx context.Context, rec spooled, handle func() error) error {
	if s.Spool.Stats().Pending > 0 {
		return s.append(rec, nil)
	}
	err := handle()
	if err == nil || errors.Is(err, channels.ErrBadInbound) || errors.Is(err, channels.ErrUnknownMessage) || ctx.Err() != nil {
		return err
	}
	return s.append(rec, err)
}

// append writes rec to the spool. A full spool is an error the webhook answers 503 to,
// logged once a minute at most.
func (s *Spooler) append(rec spooled, cause error) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := s.Spool.Append(data); err != nil {
		if errors.Is(err, spool.ErrFull) {
			s.fullMu.Lock()
			if s.now().Sub(s.fullLogged) >= time.Minute {
				s.fullLogged = s.now()
				s.log().Error("the inbound spool is full: webhooks answer 503 until the database takes it back", "stats", s.Spool.Stats())
			}
			s.fullMu.Unlock()
		} else {
			s.log().Error("a message could not be spooled", "err", err)
		}
		if cause != nil {
			return fmt.Errorf("%w (and spooling: %w)", cause, err)
		}
		return err
	}
	if cause != nil {
		s.log().Warn("the database did not take a message; spooled to disk", "kind", rec.Kind, "err", cause)
	}
	select {
	case s.wakeCh() <- struct{}{}:
	default:
	}
	return nil
}

// Replay feeds the spool back through the gateway once: every record, oldest first, each
// removed only once the gateway has stored it. A record the gateway refuses for good (a
// bad message, a report of an unknown message) is dropped with a warning; any other error
// stops the replay, the record kept for the next.
func (s *Spooler) Replay(ctx context.Context) (int, error) {
	return s.Spool.Replay(ctx, func(ctx context.Context, r spool.Record) error {
		var rec spooled
		if err := json.Unmarshal(r.Data, &rec); err != nil {
			s.log().Error("a spooled record cannot be read; skipped", "err", err, "appended", r.At)
			return nil
		}
		var err error
		switch {
		case rec.Kind == spooledInbound && rec.Inbound != nil:
			_, err = s.Next.Receive(ctx, *rec.Inbound)
		case rec.Kind == spooledDelivery && rec.Delivery != nil:
			err = s.Next.Delivered(ctx, *rec.Delivery)
		case rec.Kind == spooledRecording && rec.Recording != nil:
			err = s.Next.RecordingReady(ctx, *rec.Recording)
		default:
			s.log().Error("a spooled record of no known kind; skipped", "kind", rec.Kind, "appended", r.At)
			return nil
		}
		if errors.Is(err, channels.ErrBadInbound) || errors.Is(err, channels.ErrUnknownMessage) {
			s.log().Warn("a spooled record was refused; dropped", "kind", rec.Kind, "err", err)
			return nil
		}
		return err
	})
}

// maxReplayWait is the longest Run waits between tries while the database does not answer:
// once it is back, the spool drains within this.
const maxReplayWait = 10 * time.Second

// Run replays the spool whenever it holds records and the database answers: at once after
// an append, else every interval, backing off to maxReplayWait while the database stays down.
// It returns when ctx ends.
func (s *Spooler) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	wait := interval
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wakeCh():
		}
		wait = s.replayOnce(ctx, wait, interval)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// replayOnce replays if there is something to replay and the database answers; it returns
// how long to wait before the next try.
func (s *Spooler) replayOnce(ctx context.Context, wait, interval time.Duration) time.Duration {
	if s.Spool.Stats().Pending == 0 {
		return interval
	}
	backoff := func() time.Duration { return min(2*max(wait, interval), maxReplayWait) }
	if s.Ping != nil {
		if err := s.Ping(ctx); err != nil {
			return backoff()
		}
	}
	start := time.Now()
	n, err := s.Replay(ctx)
	if n > 0 {
		s.log().Info("spooled messages replayed", "count", n, "took", time.Since(start).Round(time.Millisecond), "left", s.Spool.Stats().Pending)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("replaying the spool stopped; trying again", "err", err)
		}
		return backoff()
	}
	if s.Spool.Stats().Pending > 0 {
		return 0 // appended while replaying: go on at once
	}
	return interval
}

// SpoolCollector gives the spool's figures as metrics: records spooled and replayed, bytes
// on disk and the age of the oldest record.
func SpoolCollector(sp *spool.Spool, now func() time.Time) prometheus.Collector {
	return spoolCollector{sp: sp, now: now}
}

type spoolCollector struct {
	sp  *spool.Spool
	now func() time.Time
}

var (
	spoolAppendedDesc = prometheus.NewDesc("sawt_spool_appended_total", "Records written to the local spool since start (the database could not take them).", nil, nil)
	spoolReplayedDesc = prometheus.NewDesc("sawt_spool_replayed_total", "Spooled records handed to the database since start.", nil, nil)
	spoolCorruptDesc  = prometheus.NewDesc("sawt_spool_corrupt_total", "Spooled records found damaged (a write cut short) and skipped since start.", nil, nil)
	spoolPendingDesc  = prometheus.NewDesc("sawt_spool_pending", "Records waiting in the spool.", nil, nil)
	spoolBytesDesc    = prometheus.NewDesc("sawt_spool_bytes", "Bytes of records waiting in the spool.", nil, nil)
	spoolOldestDesc   = prometheus.NewDesc("sawt_spool_oldest_age_seconds", "Age of the oldest record waiting in the spool (0 when none).", nil, nil)
)

func (c spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{spoolAppendedDesc, spoolReplayedDesc, spoolCorruptDesc, spoolPendingDesc, spoolBytesDesc, spoolOldestDesc} {
		ch <- d
	}
}

func (c spoolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.sp.Stats()
	age := st.OldestAge(c.now()).Seconds()
	ch <- prometheus.MustNewConstMetric(spoolAppendedDesc, prometheus.CounterValue, float64(st.Appended))
	ch <- prometheus.MustNewConstMetric(spoolReplayedDesc, prometheus.CounterValue, float64(st.Replayed))
	ch <- prometheus.MustNewConstMetric(spoolCorruptDesc, prometheus.CounterValue, float64(st.Corrupt))
	ch <- prometheus.MustNewConstMetric(spoolPendingDesc, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(spoolBytesDesc, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(spoolOldestDesc, prometheus.GaugeValue, age)
}
