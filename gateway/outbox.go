package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
)

// OutboxQueue is the River queue the send jobs run on.
const OutboxQueue = "outbox"

// SendArgs is the job that sends one turn's replies, in order.
type SendArgs struct {
	MessageIDs []int64 `json:"message_ids"`
}

// Kind names the job for River.
func (SendArgs) Kind() string { return "send_messages" }

// InsertOpts puts send jobs on the outbox queue. Twenty-five attempts with River's backoff
// spread over about three weeks: a provider outage of days still ends in delivery.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: OutboxQueue, MaxAttempts: 25}
}

// channelOffSnooze is how long a message waits when its channel has no sender configured.
const channelOffSnooze = 5 * time.Minute

// orderSnooze is how long a reply waits for an older one to the same person to go first.
const orderSnooze = time.Second

// SendWorker sends queued replies through the channel's Sender.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Pool    *pgxpool.Pool
	Senders map[channels.Kind]channels.Sender
	Now     func() time.Time
	Metrics *Metrics
	Logger  *slog.Logger
}

// Work sends every reply of the job that is still queued. A reply already sent (a retried job)
// is skipped, so a crash between sending and recording repeats at most that one message.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	now, log := defaults(w.Now, w.Logger)
	for _, id := range job.Args.MessageIDs {
		msg, status, err := store.OutboundMessage(ctx, w.Pool, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if status != channels.StatusQueued {
			continue
		}
		// One person's replies go out in the order they were written: while an older one
		// (another turn's job) is still waiting, this one waits too.
		older, err := store.OlderQueued(ctx, w.Pool, id)
		if err != nil {
			return err
		}
		if older {
			w.Metrics.outbound(msg.Channel, "waiting_turn")
			return river.JobSnooze(orderSnooze)
		}
		sender := w.Senders[msg.Channel]
		if sender == nil {
			w.Metrics.outbound(msg.Channel, "no_sender")
			return river.JobSnooze(channelOffSnooze)
		}
		start := time.Now()
		res, sendErr := sender.Send(ctx, msg)
		w.Metrics.send(msg.Channel, time.Since(start))
		if sendErr == nil {
			if res.Status == "" {
				res.Status = channels.StatusSent
			}
			w.Metrics.outbound(msg.Channel, "sent")
			if err := store.MarkSent(ctx, w.Pool, id, res, now()); err != nil {
				return err
			}
			continue
		}
		se := channels.AsSendError(sendErr)
		lastTry := job.Attempt >= job.MaxAttempts
		switch {
		case se.OptedOut:
			w.Metrics.outbound(msg.Channel, "opted_out")
			if err := store.OptOutURN(ctx, w.Pool, msg.URN, now()); err != nil {
				return err
			}
			if err := store.MarkAttempt(ctx, w.Pool, id, se.Error(), true, now()); err != nil {
				return err
			}
		case se.RetryAfter > 0:
			w.Metrics.outbound(msg.Channel, "throttled")
			if err := store.MarkAttempt(ctx, w.Pool, id, se.Error(), false, now()); err != nil {
				return err
			}
			return river.JobSnooze(se.RetryAfter)
		case se.Retryable && !lastTry:
			w.Metrics.outbound(msg.Channel, "retry")
			if err := store.MarkAttempt(ctx, w.Pool, id, se.Error(), false, now()); err != nil {
				return err
			}
			log.Warn("send failed, will retry", "channel", msg.Channel, "message", id, "attempt", job.Attempt, "err", se)
			return sendErr
		default:
			w.Metrics.outbound(msg.Channel, "failed")
			log.Error("send failed for good", "channel", msg.Channel, "message", id, "err", se)
			if err := store.MarkAttempt(ctx, w.Pool, id, se.Error(), true, now()); err != nil {
				return err
			}
		}
	}
	return nil
}

// defaults fills a worker's unset clock and logger.
func defaults(now func() time.Time, log *slog.Logger) (func() time.Time, *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return now, log
}
