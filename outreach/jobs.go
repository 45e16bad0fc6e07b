package outreach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
)

// StartRunArgs is the job that starts a campaign's run due at DueAt. It is queued for that
// time; a recurring campaign's job queues the next occurrence's.
type StartRunArgs struct {
	CampaignID int64     `json:"campaign_id"`
	DueAt      time.Time `json:"due_at"`
}

// Kind names the job for River.
func (StartRunArgs) Kind() string { return "campaign_start" }

// InsertOpts: one job per occurrence, however often it is queued.
func (StartRunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: BroadcastQueue, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// pausedWait is how long a paused campaign's jobs wait before they look again (resuming
// brings them forward).
const pausedWait = 30 * time.Second

// StartRunWorker starts runs: in one transaction it makes the run, fans it out into its
// deliveries and queues their send jobs, so a crash leaves either all of it or none.
type StartRunWorker struct {
	river.WorkerDefaults[StartRunArgs]
	Service *Service
}

// JobTimeout bounds every broadcast job: a job left running by a crashed node is taken back
// only once its timeout has passed as well as the client's RescueStuckJobsAfter, so the
// bound is what keeps a crash from holding a campaign up for long. Fanning out a million
// people takes about twenty seconds; a send job stops itself before it (SendBatchWorker.MaxRun).
const JobTimeout = 2*time.Minute + 30*time.Second

// Timeout: see JobTimeout.
func (w *StartRunWorker) Timeout(*river.Job[StartRunArgs]) time.Duration { return JobTimeout }

// Work starts the run.
func (w *StartRunWorker) Work(ctx context.Context, job *river.Job[StartRunArgs]) error {
	s := w.Service
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	snooze := false
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := store.CampaignForUpdate(ctx, tx, job.Args.CampaignID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.State == store.CampaignCancelled || c.State == store.CampaignDone {
			return nil
		}
		now := s.now()
		due := job.Args.DueAt
		next := (*time.Time)(nil)
		if c.Cron != "" {
			n, err := NextAfter(c.Cron, due, s.loc())
			if err != nil {
				return err
			}
			next = &n
			if err := s.scheduleStart(ctx, tx, c.ID, n); err != nil {
				return err
			}
		}
		if c.State == store.CampaignPaused {
			if c.Cron == "" {
				snooze = true // a one-off waits for its resumption
				return nil
			}
			log.Info("campaign paused: occurrence skipped", "campaign", c.ID, "due", due)
			return store.SetCampaignState(ctx, tx, c.ID, c.State, next, now)
		}
		var a Audience
		if err := json.Unmarshal(c.Audience, &a); err != nil {
			return fmt.Errorf("campaign %d audience: %w", c.ID, err)
		}
		runID, err := store.InsertRun(ctx, tx, store.Run{CampaignID: &c.ID, DueAt: due, Texts: c.Texts, StartedAt: now})
		if errors.Is(err, store.ErrRunExists) {
			return nil // another node started it
		}
		if err != nil {
			return err
		}
		started := time.Now()
		targeted, first, last, err := store.FanOut(ctx, tx, runID, storeAudience(a, c.Texts), now)
		if err != nil {
			return err
		}
		if err := queueBatches(ctx, tx, s.River, runID, first, last); err != nil {
			return err
		}
		log.Info("campaign run started", "campaign", c.ID, "run", runID, "targeted", targeted,
			"fan_out", time.Since(started).Round(time.Millisecond))
		s.Metrics.runStarted("campaign", targeted, time.Since(started))
		return store.SetCampaignState(ctx, tx, c.ID, store.CampaignRunning, next, now)
	})
	if err != nil {
		return err
	}
	if snooze {
		return river.JobSnooze(pausedWait)
	}
	return nil
}

// queueBatches queues the send jobs of deliveries first to last, BatchSize each.
func queueBatches(ctx context.Context, tx pgx.Tx, rc *river.Client[pgx.Tx], runID, first, last int64) error {
	if last < first || first == 0 {
		return nil
	}
	var params []river.InsertManyParams
	for from := first; from <= last; from += BatchSize {
		to := min(from+BatchSize-1, last)
		params = append(params, river.InsertManyParams{Args: SendBatchArgs{RunID: runID, First: from, Last: to}})
		if len(params) == 5000 {
			if _, err := rc.InsertManyFastTx(ctx, tx, params); err != nil {
				return err
			}
			params = params[:0]
		}
	}
	if len(params) > 0 {
		if _, err := rc.InsertManyFastTx(ctx, tx, params); err != nil {
			return err
		}
	}
	return nil
}

// SendBatchArgs is the job that sends a run's deliveries with IDs First to Last.
type SendBatchArgs struct {
	RunID int64 `json:"run_id"`
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// Kind names the job for River.
func (SendBatchArgs) Kind() string { return "broadcast_send" }

// InsertOpts puts the job on the broadcast queue; its retries go on for about three weeks.
func (SendBatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: BroadcastQueue, MaxAttempts: 25}
}

// maxDeliveryAttempts is how often one person's message is tried before it is failed.
const maxDeliveryAttempts = 10

const defaultCheckEvery = 500 * time.Millisecond

// channelOffWait is how long deliveries wait for a channel that has no sender.
const channelOffWait = 5 * time.Minute

// SendBatchWorker sends a batch of deliveries through the channels' senders, which keep to
// their rate limits. Each delivery is marked as soon as the provider took it: a crash
// between the two repeats at most the messages in flight, one per running job.
type SendBatchWorker struct {
	river.WorkerDefaults[SendBatchArgs]
	Pool    *pgxpool.Pool
	Senders map[channels.Kind]channels.Sender
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *Metrics
	// CheckEvery is how often the job looks whether its run was paused or cancelled
	// (default half a second).
	CheckEvery time.Duration
	// MaxRun is how long one run of a send job sends before it snoozes, to go on at once with
	// what is left of its batch (default DefaultMaxRun; below JobTimeout).
	MaxRun time.Duration
}

// Timeout: see JobTimeout. A batch at a slow channel's rate takes longer than this: the job
// stops after MaxRun and goes on at once as a fresh run of the same job.
func (w *SendBatchWorker) Timeout(*river.Job[SendBatchArgs]) time.Duration { return JobTimeout }

// DefaultMaxRun is how long a send job sends before it makes way (SendBatchWorker.MaxRun).
const DefaultMaxRun = 2 * time.Minute

func (w *SendBatchWorker) maxRun() time.Duration {
	if w.MaxRun > 0 && w.MaxRun < JobTimeout {
		return w.MaxRun
	}
	return DefaultMaxRun
}

// errStop ends a batch early: the run was paused or cancelled.
var errStop = errors.New("run stopped")

// Work sends the batch.
func (w *SendBatchWorker) Work(ctx context.Context, job *river.Job[SendBatchArgs]) error {
	now := w.Now
	if now == nil {
		now = time.Now
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := job.Args
	check := func() error {
		state, err := store.RunState(ctx, w.Pool, a.RunID)
		if err != nil {
			return err
		}
		switch state {
		case store.RunPaused:
			return river.JobSnooze(pausedWait)
		case store.RunCancelled:
			if err := store.CancelDeliveries(ctx, w.Pool, a.RunID, a.First, a.Last, now()); err != nil {
				return err
			}
			return errStop
		case store.RunDone:
			return errStop
		}
		return nil
	}
	if err := check(); err != nil {
		return stopped(err)
	}
	run, err := store.RunByID(ctx, w.Pool, a.RunID)
	if err != nil {
		return err
	}
	list, err := store.QueuedDeliveries(ctx, w.Pool, a.RunID, a.First, a.Last)
	if err != nil {
		return err
	}
	checkEvery := w.CheckEvery
	if checkEvery <= 0 {
		checkEvery = defaultCheckEvery
	}
	began := time.Now()
	checked := began
	var retry error
	for i, d := range list {
		if i > 0 && (time.Since(began) >= w.maxRun() || ctx.Err() != nil) {
			// Time to make way (or serve is stopping): the rest of the batch goes on in a
			// fresh run of the job, at once, without counting as a failed attempt.
			return river.JobSnooze(0)
		}
		if time.Since(checked) >= checkEvery {
			if err := check(); err != nil {
				return stopped(err)
			}
			checked = time.Now()
		}
		if d.OptedOut {
			w.Metrics.send(d.Channel, "opted_out", 0)
			if err := store.MarkDeliveryAttempt(ctx, w.Pool, d.ID, "", "opted_out", now()); err != nil {
				return err
			}
			continue
		}
		sender := w.Senders[d.Channel]
		if sender == nil {
			return river.JobSnooze(channelOffWait)
		}
		sendStart := time.Now()
		res, sendErr := sender.Send(ctx, channels.Outbound{Channel: d.Channel, URN: d.URN, Language: d.Language, Text: run.Texts[d.Language]})
		if sendErr == nil {
			w.Metrics.send(d.Channel, "sent", time.Since(sendStart))
			if err := store.MarkDeliverySent(ctx, w.Pool, d.ID, res, now()); err != nil {
				return err
			}
			continue
		}
		se := channels.AsSendError(sendErr)
		switch {
		case se.OptedOut:
			w.Metrics.send(d.Channel, "opted_out", 0)
			if err := store.OptOutURN(ctx, w.Pool, d.URN, now()); err != nil {
				return err
			}
			if err := store.MarkDeliveryAttempt(ctx, w.Pool, d.ID, se.Error(), "opted_out", now()); err != nil {
				return err
			}
		case se.RetryAfter > 0:
			w.Metrics.send(d.Channel, "throttled", 0)
			// The channel is at its rate: the rest of the batch waits its turn.
			return river.JobSnooze(se.RetryAfter)
		case se.Retryable && d.Attempts+1 < maxDeliveryAttempts:
			w.Metrics.send(d.Channel, "retry", 0)
			if err := store.MarkDeliveryAttempt(ctx, w.Pool, d.ID, se.Error(), "", now()); err != nil {
				return err
			}
			retry = sendErr
		default:
			w.Metrics.send(d.Channel, "failed", 0)
			log.Warn("broadcast message failed", "run", a.RunID, "delivery", d.ID, "channel", d.Channel, "err", se)
			if err := store.MarkDeliveryAttempt(ctx, w.Pool, d.ID, se.Error(), "failed", now()); err != nil {
				return err
			}
		}
	}
	if retry != nil {
		// Some could not be sent for now: the job runs again later for them alone.
		return retry
	}
	if _, err := store.FinishRun(ctx, w.Pool, a.RunID, now()); err != nil {
		return err
	}
	return nil
}

func stopped(err error) error {
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}
