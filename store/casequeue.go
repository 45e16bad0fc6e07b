package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// QueueFilter narrows the case queue; every field given must match. Status empty means the
// open cases (new, acknowledged, referred, in progress).
type QueueFilter struct {
	Category, Status, Channel, Language, Governorate, Site, Assignee string
	// Overdue keeps the cases past the deadline they face next.
	Overdue bool
	// Reference finds one case by its reference (digits only), open or not.
	Reference string
}

// QueueRow is a case as the queue lists it: no description, no contact.
type QueueRow struct {
	ID                         int64
	Reference                  string
	Category, Priority, Status string
	Channel, Language          string
	Governorate, Site          string
	Assignee                   string
	// DueAt is the deadline the case faces next: acknowledge, refer or resolve.
	DueAt     time.Time
	Overdue   bool
	CreatedAt time.Time
}

// queueRank and queueDue are the queue's order, as cases_open_queue_idx has it.
const (
	queueRank = `(CASE priority WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'normal' THEN 2 ELSE 1 END)`
	queueDue  = `(CASE status WHEN 'new' THEN ack_due_at WHEN 'acknowledged' THEN refer_due_at ELSE resolve_due_at END)`
)

// OpenStatuses are the statuses of cases still to be worked on.
var OpenStatuses = []string{"new", "acknowledged", "referred", "in_progress"}

// CaseQueue lists cases the most urgent first — by priority, then the deadline they face
// next — limit at a time from offset, and says whether more follow. It does not count them
// all: that would read every open case for every page, where the page itself reads only as
// far as it shows. SEA cases are never listed (QueueFilter.where).
func CaseQueue(ctx context.Context, db DB, f QueueFilter, now time.Time, limit, offset int) (list []QueueRow, more bool, err error) {
	cond, args := f.where(now)
	args = append(args, limit+1, offset)
	rows, err := db.Query(ctx, fmt.Sprintf(`
		SELECT id, reference, category, priority, status, channel, coalesce(language, ''), coalesce(governorate, ''),
		       coalesce(site, ''), coalesce(assignee, ''), `+queueDue+`, `+queueOverdue+`, created_at
		FROM cases WHERE %s
		ORDER BY `+queueOrder+`
		LIMIT $%d OFFSET $%d`, cond, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, false, fmt.Errorf("read the queue: %w", err)
	}
	list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueRow, error) {
		var q QueueRow
		err := r.Scan(&q.ID, &q.Reference, &q.Category, &q.Priority, &q.Status, &q.Channel, &q.Language, &q.Governorate,
			&q.Site, &q.Assignee, &q.DueAt, &q.Overdue, &q.CreatedAt)
		return q, err
	})
	if err != nil {
		return nil, false, err
	}
	list, more = trimPage(list, limit)
	return list, more, nil
}

// queueOverdue and queueOrder are, in SQL on cases, whether a case is past the deadline it
// faces next ($1 is now), and the queue's order.
const (
	queueOverdue = queueDue + ` < $1 AND status IN ('new', 'acknowledged', 'referred', 'in_progress')`
	queueOrder   = queueRank + ` DESC, ` + queueDue + `, id`
)

// where is the filter as an SQL condition on cases, and its arguments: $1 is now (used only
// when the filter asks for overdue cases), the filter's values follow. The queue and its
// export (ExportCases) both read cases through it, so that the same filter lists the same
// cases. Confidential reports are never cases, and a case of the SEA category is left out all
// the same.
func (f QueueFilter) where(now time.Time) (cond string, args []any) {
	where := []string{"category <> 'sea'"}
	args = []any{now}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	switch {
	case f.Status != "":
		add("status = $%d", f.Status)
	case f.Reference == "": // a number searched for is found whatever its status
		where = append(where, `status IN ('new', 'acknowledged', 'referred', 'in_progress')`)
	}
	for _, c := range []struct{ col, v string }{
		{"category", f.Category}, {"channel", f.Channel}, {"language", f.Language}, {"governorate", f.Governorate},
		{"site", f.Site}, {"assignee", f.Assignee}, {"reference", f.Reference},
	} {
		if c.v != "" {
			add(c.col+" = $%d", c.v)
		}
	}
	if f.Overdue {
		where = append(where, queueOverdue)
	}
	return strings.Join(where, " AND "), args
}
