package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DashboardWeeks is how many weeks the dashboard's weekly volume covers, this one included.
const DashboardWeeks = 12

// Dashboard is the aggregate view of cases for the console's dashboard: counts only, never a
// case. Cases of the SEA category are left out of every figure.
type Dashboard struct {
	// Open are the cases still to be worked on; Overdue those of them past the deadline they
	// face next; LastWeek the cases opened in the 7 days before now.
	Open, Overdue, LastWeek int
	// MedianAckHours and MedianResolveHours are the median hours from opening to
	// acknowledgement and to resolution, over the cases that have them; nil when none has.
	MedianAckHours, MedianResolveHours *float64
	// Satisfied, Unsatisfied and NotAnswered split the resolved cases by the person's answer.
	Satisfied, Unsatisfied, NotAnswered int
	// Volumes of all cases by category, channel, language and governorate, the largest first;
	// Code is "" for a case without a language or governorate.
	ByCategory, ByChannel, ByLanguage, ByGovernorate []CodeCount
	// ByWeek are the cases opened in each of the last DashboardWeeks weeks, the oldest first.
	ByWeek []WeekCount
}

// CodeCount is how many cases have a value.
type CodeCount struct {
	Code string
	N    int
}

// WeekCount is how many cases were opened in the week from Start.
type WeekCount struct {
	Start time.Time
	N     int
}

// openStatusesSQL are OpenStatuses as an SQL list.
const openStatusesSQL = `('new', 'acknowledged', 'referred', 'in_progress')`

// CaseDashboard reads the dashboard's figures as of now; its weeks start on Monday at
// midnight in loc (UTC when nil).
func CaseDashboard(ctx context.Context, db DB, now time.Time, loc *time.Location) (Dashboard, error) {
	var d Dashboard
	err := db.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status IN `+openStatusesSQL+`),
		       count(*) FILTER (WHERE status IN `+openStatusesSQL+` AND `+queueDue+` < $1),
		       count(*) FILTER (WHERE created_at > $1::timestamptz - interval '7 days' AND created_at <= $1),
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at) / 3600)
		           FILTER (WHERE acknowledged_at IS NOT NULL),
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at) / 3600)
		           FILTER (WHERE resolved_at IS NOT NULL),
		       count(*) FILTER (WHERE resolved_at IS NOT NULL AND satisfied),
		       count(*) FILTER (WHERE resolved_at IS NOT NULL AND NOT satisfied),
		       count(*) FILTER (WHERE resolved_at IS NOT NULL AND satisfied IS NULL)
		FROM cases WHERE category <> 'sea'`, now).Scan(&d.Open, &d.Overdue, &d.LastWeek,
		&d.MedianAckHours, &d.MedianResolveHours, &d.Satisfied, &d.Unsatisfied, &d.NotAnswered)
	if err != nil {
		return d, fmt.Errorf("read the dashboard's counts: %w", err)
	}

	// grouping() has a bit set for each column a row is not grouped by: category is 8.
	rows, err := db.Query(ctx, `
		SELECT grouping(category, channel, language, governorate),
		       coalesce(category, channel, language, governorate, ''), count(*)
		FROM cases WHERE category <> 'sea'
		GROUP BY GROUPING SETS ((category), (channel), (language), (governorate))
		ORDER BY 1, 3 DESC, 2`)
	if err != nil {
		return d, fmt.Errorf("read the dashboard's volumes: %w", err)
	}
	var g int
	var c CodeCount
	_, err = pgx.ForEachRow(rows, []any{&g, &c.Code, &c.N}, func() error {
		switch g {
		case 0b0111:
			d.ByCategory = append(d.ByCategory, c)
		case 0b1011:
			d.ByChannel = append(d.ByChannel, c)
		case 0b1101:
			d.ByLanguage = append(d.ByLanguage, c)
		case 0b1110:
			d.ByGovernorate = append(d.ByGovernorate, c)
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("read the dashboard's volumes: %w", err)
	}

	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	monday := time.Date(t.Year(), t.Month(), t.Day()-(int(t.Weekday())+6)%7, 0, 0, 0, 0, loc)
	starts := make([]time.Time, DashboardWeeks)
	ends := make([]time.Time, DashboardWeeks)
	for i := range starts {
		starts[i] = monday.AddDate(0, 0, -7*(DashboardWeeks-1-i))
		ends[i] = starts[i].AddDate(0, 0, 7)
	}
	rows, err = db.Query(ctx, `
		SELECT w.i, count(c.id)
		FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY AS w(start, stop, i)
		LEFT JOIN cases c ON c.category <> 'sea' AND c.created_at >= w.start AND c.created_at < w.stop
		GROUP BY w.i ORDER BY w.i`, starts, ends)
	if err != nil {
		return d, fmt.Errorf("read the dashboard's weeks: %w", err)
	}
	var i int64
	var n int
	_, err = pgx.ForEachRow(rows, []any{&i, &n}, func() error {
		d.ByWeek = append(d.ByWeek, WeekCount{Start: starts[i-1], N: n})
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("read the dashboard's weeks: %w", err)
	}
	return d, nil
}
