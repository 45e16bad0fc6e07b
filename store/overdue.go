package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// OverdueAlert is an open case past the deadline it faces next whose assignee can be alerted:
// what the alert may say (the reference, the category, the deadline, never the person or what
// they said) and where it goes.
type OverdueAlert struct {
	CaseID    int64
	Reference string
	Category  string
	// DueAt is the deadline the case has passed: acknowledge, refer or resolve.
	DueAt time.Time
	// The assignee: their email, console language and alert addresses.
	Assignee     string
	Language     string
	TelegramChat *int64
	Phone        string
}

// OverdueCasesToAlert lists the open cases past their deadline at now whose assignee is an
// enabled staff user with an alert address, and that were not alerted for this deadline (a
// case whose deadline moved is alerted again once it passes the new one), oldest deadline
// first, at most limit. Cases of the SEA category are never in the queue, and not here.
func OverdueCasesToAlert(ctx context.Context, db DB, now time.Time, limit int) ([]OverdueAlert, error) {
	rows, err := db.Query(ctx, `
		SELECT c.id, c.reference, c.category, c.due, u.email, u.language, u.alert_telegram_chat, coalesce(u.alert_phone, '')
		FROM staff_users u
		CROSS JOIN LATERAL (
			SELECT id, reference, category, `+queueDue+` AS due, overdue_alerted_due
			FROM cases
			WHERE assignee = u.email AND status IN `+openStatusesSQL+` AND category <> 'sea'
		) c
		WHERE u.disabled_at IS NULL AND (u.alert_telegram_chat IS NOT NULL OR u.alert_phone IS NOT NULL)
		  AND c.due < $1 AND c.overdue_alerted_due IS DISTINCT FROM c.due
		ORDER BY c.due, c.id
		LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OverdueAlert, error) {
		var a OverdueAlert
		err := r.Scan(&a.CaseID, &a.Reference, &a.Category, &a.DueAt, &a.Assignee, &a.Language, &a.TelegramChat, &a.Phone)
		return a, err
	})
}

// OverdueAlertOf locks the case and reads it as OverdueCasesToAlert would list it, as of now:
// ErrNotFound when it no longer needs an alert (worked on, reassigned, alerted already by
// another sweep). A sweep calls it in the transaction that queues the alert, so the alert is
// queued once.
func OverdueAlertOf(ctx context.Context, tx pgx.Tx, caseID int64, now time.Time) (OverdueAlert, error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM cases WHERE id = $1 FOR UPDATE`, caseID); err != nil {
		return OverdueAlert{}, err
	}
	var a OverdueAlert
	err := tx.QueryRow(ctx, `
		SELECT c.id, c.reference, c.category, `+prefixedDue+`, u.email, u.language, u.alert_telegram_chat, coalesce(u.alert_phone, '')
		FROM cases c JOIN staff_users u ON u.email = c.assignee
		WHERE c.id = $1 AND c.status IN `+openStatusesSQL+` AND c.category <> 'sea' AND `+prefixedDue+` < $2
		  AND c.overdue_alerted_due IS DISTINCT FROM `+prefixedDue+`
		  AND u.disabled_at IS NULL AND (u.alert_telegram_chat IS NOT NULL OR u.alert_phone IS NOT NULL)`,
		caseID, now).Scan(&a.CaseID, &a.Reference, &a.Category, &a.DueAt, &a.Assignee, &a.Language, &a.TelegramChat, &a.Phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// prefixedDue is queueDue on the cases aliased c.
const prefixedDue = `(CASE c.status WHEN 'new' THEN c.ack_due_at WHEN 'acknowledged' THEN c.refer_due_at ELSE c.resolve_due_at END)`

// MarkOverdueAlerted notes that the case's assignee was alerted at at that it passed due.
func MarkOverdueAlerted(ctx context.Context, db DB, caseID int64, due, at time.Time) error {
	_, err := db.Exec(ctx, `UPDATE cases SET overdue_alerted_due = $2, overdue_alerted_at = $3 WHERE id = $1`, caseID, due, at)
	return err
}

// CountOverdueAssigned counts the open cases assigned to this staff email that are past the
// deadline they face next at now.
func CountOverdueAssigned(ctx context.Context, db DB, email string, now time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, `
		SELECT count(*) FROM cases
		WHERE assignee = $1 AND status IN `+openStatusesSQL+` AND category <> 'sea' AND `+queueDue+` < $2`,
		normEmail(email), now).Scan(&n)
	return n, err
}
