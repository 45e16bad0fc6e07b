package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExportRow is a case as the case list export has it, for reporting: what kind of case it is,
// where and when, how it was handled, never who the person is or what they said (no
// description, address, contact or message).
type ExportRow struct {
	Reference                  string
	Category, Priority, Status string
	Channel                    string
	// Language is the person's language when the case was opened.
	Language, Governorate, Site string
	OpenedAt                    time.Time
	AcknowledgedAt, ResolvedAt  *time.Time
	// DueAt is the deadline the case faces next: acknowledge, refer or resolve.
	DueAt   time.Time
	Overdue bool
	// ReferredTo is the name of the partner the case is referred to now, if any.
	ReferredTo string
	// Satisfied is the person's answer to whether the resolution satisfied them; nil until
	// they answer.
	Satisfied *bool
}

// ExportCases calls fn with each case the queue lists for f (the same cases, in the same
// order, all of them rather than a page), reading them from the database as fn takes them:
// a list of a hundred thousand cases is never held in memory. An error of fn stops it.
func ExportCases(ctx context.Context, db DB, f QueueFilter, now time.Time, fn func(ExportRow) error) error {
	cond, args := f.where(now)
	rows, err := db.Query(ctx, `
		SELECT reference, category, priority, status, channel, coalesce(language, ''), coalesce(governorate, ''),
		       coalesce(site, ''), created_at, acknowledged_at, resolved_at, `+queueDue+`, `+queueOverdue+`,
		       coalesce((SELECT name FROM partners WHERE id = cases.partner_id), ''), satisfied
		FROM cases WHERE `+cond+`
		ORDER BY `+queueOrder, args...)
	if err != nil {
		return fmt.Errorf("export cases: %w", err)
	}
	var r ExportRow
	_, err = pgx.ForEachRow(rows, []any{&r.Reference, &r.Category, &r.Priority, &r.Status, &r.Channel, &r.Language,
		&r.Governorate, &r.Site, &r.OpenedAt, &r.AcknowledgedAt, &r.ResolvedAt, &r.DueAt, &r.Overdue, &r.ReferredTo,
		&r.Satisfied}, func() error { return fn(r) })
	if err != nil {
		return fmt.Errorf("export cases: %w", err)
	}
	return nil
}
