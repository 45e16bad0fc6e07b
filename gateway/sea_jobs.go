package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// Alerts to focal points say that there is a report, its reference and its deadline: never
// what it says, its category or who made it.
const (
	alertNew     = "psea.alert.new"
	alertOverdue = "psea.alert.overdue"
)

type alertTarget struct {
	kind channels.Kind
	urn  channels.URN
}

// alertFocalPoints queues an alert to every focal point registered with a Telegram chat or a
// phone number, in their language, and notes that it was done (a reminder, for an overdue one).
func alertFocalPoints(ctx context.Context, tx pgx.Tx, rc *river.Client[pgx.Tx], cfg SEAConfig, log *slog.Logger,
	r store.SEAReport, key string, now time.Time) error {
	sent, err := queueAlerts(ctx, tx, rc, cfg, r, key, now)
	if err != nil {
		return err
	}
	if sent == 0 {
		log.Warn("no PSEA focal point can be alerted: register one with a Telegram chat or phone number", "report", r.ID)
	}
	return store.MarkSEAAlerted(ctx, tx, r.ID, key == alertOverdue, now)
}

// queueAlerts queues the alert messages and says how many.
func queueAlerts(ctx context.Context, tx pgx.Tx, rc *river.Client[pgx.Tx], cfg SEAConfig, r store.SEAReport, key string, now time.Time) (int, error) {
	recipients, err := store.ListPSEARecipients(ctx, tx)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, p := range recipients {
		lang := p.Language
		if !locales.Valid(lang) {
			lang = locales.English
		}
		n, err := queueStaffAlert(ctx, tx, rc, p.TelegramChat, p.Phone, lang, alertText(cfg, lang, key, r), now)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// queueStaffAlert queues text, in lang, to a member of staff (a focal point, a caseworker) at
// each address they gave: a Telegram chat, a phone number for SMS. It goes through the
// outbox as any message does, and it says how many it queued (none when neither address is
// usable).
func queueStaffAlert(ctx context.Context, tx pgx.Tx, rc *river.Client[pgx.Tx], telegramChat *int64, phone, lang, text string,
	now time.Time) (int, error) {
	var targets []alertTarget
	if telegramChat != nil {
		if urn, err := channels.NewTelegramURN(strconv.FormatInt(*telegramChat, 10)); err == nil {
			targets = append(targets, alertTarget{channels.Telegram, urn})
		}
	}
	if phone != "" {
		if urn, err := channels.NewTelURN(phone); err == nil {
			targets = append(targets, alertTarget{channels.SMS, urn})
		}
	}
	sent := 0
	for _, tg := range targets {
		if err := store.LockURN(ctx, tx, tg.urn); err != nil {
			return sent, err
		}
		c, err := store.ContactForURN(ctx, tx, tg.urn)
		if err != nil {
			return sent, err
		}
		id, err := store.InsertOutbound(ctx, tx, c, tg.kind, lang, text, now)
		if err != nil {
			return sent, err
		}
		if _, err := rc.InsertTx(ctx, tx, SendArgs{MessageIDs: []int64{id}}, nil); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

// alertText is an alert in a focal point's language, times in local time.
func alertText(cfg SEAConfig, lang, key string, r store.SEAReport) string {
	data := map[string]string{
		"reference": cases.Reference(r.Reference).Display(),
		"time":      r.CreatedAt.In(cfg.Location).Format("15:04"),
		"deadline":  r.AckDueAt.In(cfg.Location).Format("2006-01-02 15:04"),
	}
	if cfg.Texts != nil {
		if text, err := cfg.Texts.Text(lang, key, data, nil); err == nil {
			return text
		}
	}
	if key == alertOverdue {
		return fmt.Sprintf("Reminder: confidential report %s has not been acknowledged. It was due %s.", data["reference"], data["deadline"])
	}
	return fmt.Sprintf("New confidential report %s at %s. Please acknowledge it by %s.", data["reference"], data["time"], data["deadline"])
}

// Sweeping reports: unfinished ones nobody was told of, overdue ones, and kept reply texts.
const (
	// seaIdle is how long an unfinished report waits for its next answer before focal points
	// are told of it as it is.
	seaIdle = 30 * time.Minute
	// seaRemindEvery is how often an overdue report is reminded of.
	seaRemindEvery = 24 * time.Hour
	// bodyGrace is how long a confidential reply's text is kept after it went out inline, for
	// a retried call step.
	bodyGrace = 10 * time.Minute
)

// SEASweepArgs is the periodic job that alerts, reminds and purges.
type SEASweepArgs struct{}

// Kind names the job for River.
func (SEASweepArgs) Kind() string { return "sea_sweep" }

// SEASweepWorker does the sweep. Each report is alerted in its own transaction, so an alert is
// queued exactly once.
type SEASweepWorker struct {
	river.WorkerDefaults[SEASweepArgs]
	Pool   *pgxpool.Pool
	River  *river.Client[pgx.Tx]
	SEA    SEAConfig
	Now    func() time.Time
	Logger *slog.Logger
}

// Work sweeps.
func (w *SEASweepWorker) Work(ctx context.Context, _ *river.Job[SEASweepArgs]) error {
	now, log := defaults(w.Now, w.Logger)
	cfg := w.SEA.withDefaults()
	t := now()
	idle, err := store.SEAReportsToAlert(ctx, w.Pool, t.Add(-seaIdle))
	if err != nil {
		return err
	}
	overdue, err := store.OverdueSEAReports(ctx, w.Pool, t, t.Add(-seaRemindEvery))
	if err != nil {
		return err
	}
	for _, batch := range []struct {
		ids []int64
		key string
	}{{idle, alertNew}, {overdue, alertOverdue}} {
		for _, id := range batch.ids {
			err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
				r, err := store.SEAReportByID(ctx, tx, id)
				if err != nil {
					return err
				}
				return alertFocalPoints(ctx, tx, w.River, cfg, log, r, batch.key, t)
			})
			if err != nil {
				return err
			}
		}
	}
	if _, err := store.PurgeConfidentialBodies(ctx, w.Pool, t.Add(-bodyGrace)); err != nil {
		return err
	}
	return nil
}

// SEASweepPeriodic runs the sweep every minute, and once at start.
func SEASweepPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return SEASweepArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// EraseArgs is the job that deletes a confidential conversation from the person's phone. It
// names our message rows, never the person.
type EraseArgs struct {
	MessageIDs []int64 `json:"message_ids"`
}

// Kind names the job for River.
func (EraseArgs) Kind() string { return "erase_conversation" }

// InsertOpts: deletions must happen within the provider's window (Telegram: 48 hours).
func (EraseArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: OutboxQueue, MaxAttempts: 10}
}

// EraseWorker deletes the messages through the channel's Eraser.
type EraseWorker struct {
	river.WorkerDefaults[EraseArgs]
	Pool    *pgxpool.Pool
	Erasers map[channels.Kind]channels.Eraser
	Logger  *slog.Logger
}

// Work erases.
func (w *EraseWorker) Work(ctx context.Context, job *river.Job[EraseArgs]) error {
	_, log := defaults(nil, w.Logger)
	kind, urn, ids, err := store.ProviderMessageIDs(ctx, w.Pool, job.Args.MessageIDs)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	eraser := w.Erasers[kind]
	if eraser == nil {
		log.Warn("cannot delete messages on this channel", "channel", kind, "messages", len(ids))
		return nil
	}
	if err := eraser.Erase(ctx, urn, ids); err != nil {
		se := channels.AsSendError(err)
		if se.RetryAfter > 0 {
			return river.JobSnooze(se.RetryAfter)
		}
		if se.Retryable {
			return err
		}
		log.Error("deleting a conversation failed", "channel", kind, "messages", len(ids), "err", se)
	}
	return nil
}
