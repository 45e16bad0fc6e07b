package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// The overdue alert tells a caseworker that a case assigned to them has passed its deadline:
// its number and category only, never the person, their number or what they said (the alert
// goes by SMS or Telegram, outside the console and its access rules).
const alertCaseOverdue = "staff.case_overdue"

// overdueBatch bounds the cases one sweep alerts: the rest are left to the next one.
const overdueBatch = 500

// OverdueAlertArgs is the periodic job that alerts assignees of their overdue cases.
type OverdueAlertArgs struct{}

// Kind names the job for River.
func (OverdueAlertArgs) Kind() string { return "overdue_alert" }

// OverdueAlertWorker finds open cases past their deadline whose assignee gave an alert
// address (on their console account page) and was not alerted for this deadline, and queues
// one message per case to them, through the outbox, in their console language. Each case is
// alerted in its own transaction that also notes the deadline alerted for, so an alert is
// queued once per deadline however often the sweep runs, and again only when the deadline
// moves and passes again.
type OverdueAlertWorker struct {
	river.WorkerDefaults[OverdueAlertArgs]
	Pool  *pgxpool.Pool
	River *river.Client[pgx.Tx]
	// Texts and Location render the alert in the assignee's language and local time.
	Texts    *locales.Catalog
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
}

// Work sweeps.
func (w *OverdueAlertWorker) Work(ctx context.Context, _ *river.Job[OverdueAlertArgs]) error {
	now, log := defaults(w.Now, w.Logger)
	t := now()
	list, err := store.OverdueCasesToAlert(ctx, w.Pool, t, overdueBatch)
	if err != nil {
		return err
	}
	for _, c := range list {
		err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
			// Read again under the case's lock: another sweep may have alerted it meanwhile,
			// or someone worked on it.
			a, err := store.OverdueAlertOf(ctx, tx, c.CaseID, t)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			lang := a.Language
			if !locales.Valid(lang) {
				lang = locales.English
			}
			sent, err := queueStaffAlert(ctx, tx, w.River, a.TelegramChat, a.Phone, lang, w.text(lang, a), t)
			if err != nil {
				return err
			}
			if sent == 0 {
				// The account page checks addresses, so this is one stored before the rules
				// changed: marked all the same, or it would be tried every sweep.
				log.Warn("an overdue case's assignee has no usable alert address", "case", a.CaseID, "assignee", a.Assignee)
			}
			return store.MarkOverdueAlerted(ctx, tx, a.CaseID, a.DueAt, t)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// text is the alert in lang, the deadline in local time.
func (w *OverdueAlertWorker) text(lang string, a store.OverdueAlert) string {
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	data := map[string]string{
		"reference": cases.Reference(a.Reference).Display(),
		"category":  a.Category,
		"deadline":  a.DueAt.In(loc).Format("2006-01-02 15:04"),
	}
	if w.Texts != nil {
		if name, err := w.Texts.Text(lang, "staff.category."+a.Category, nil, nil); err == nil {
			data["category"] = name
		}
		if text, err := w.Texts.Text(lang, alertCaseOverdue, data, nil); err == nil {
			return text
		}
	}
	return fmt.Sprintf("Sawt: case %s (%s) has passed its deadline, %s. Please open it in the console.",
		data["reference"], data["category"], data["deadline"])
}

// OverdueAlertPeriodic runs the overdue sweep every five minutes, and once at start.
func OverdueAlertPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(5*time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return OverdueAlertArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
