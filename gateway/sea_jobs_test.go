package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// TestSEASweep runs the periodic sweep with a fixed clock: an unfinished report nobody was
// told of is alerted once it has been idle for 30 minutes, an overdue report is reminded of
// once a day until someone acknowledges it, each exactly once however often the sweep runs,
// and kept texts of confidential replies are purged after their grace time.
func TestSEASweep(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	texts, err := locales.Default()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	baghdad := time.FixedZone("Asia/Baghdad", 3*3600)
	now := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	clock := now
	w := &gateway.SEASweepWorker{
		Pool: pool, River: rc, Now: func() time.Time { return clock },
		SEA:    gateway.SEAConfig{Texts: texts, Location: baghdad},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	chat := int64(555001)
	for _, r := range []store.PSEARecipient{
		{Name: "Amal", PublicKey: "age1amal", TelegramChat: &chat, Language: "ar"},
		{Name: "Shilan", PublicKey: "age1shilan", Phone: "+9647501112233", Language: "ckb"},
		{Name: "Escrow", PublicKey: "age1escrow", Escrow: true},
	} {
		r.CreatedAt = now.Add(-48 * time.Hour)
		if _, err := store.AddPSEARecipient(ctx, pool, r); err != nil {
			t.Fatal(err)
		}
	}

	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	reports := map[string]store.SEAReport{
		// unfinished, idle 40 minutes, nobody told: alert now
		"idle": {Reference: "10000001", UpdatedAt: now.Add(-40 * time.Minute), AckDueAt: now.Add(23 * time.Hour)},
		// unfinished, the person answered 5 minutes ago: not yet
		"busy": {Reference: "10000002", UpdatedAt: now.Add(-5 * time.Minute), AckDueAt: now.Add(24 * time.Hour)},
		// alerted, past its deadline, never reminded: remind now
		"overdue": {Reference: "10000003", AlertedAt: at(-26 * time.Hour), AckDueAt: now.Add(-time.Hour)},
		// past its deadline but acknowledged: nothing
		"acknowledged": {Reference: "10000004", Status: string(cases.StatusAcknowledged), AlertedAt: at(-26 * time.Hour), AckDueAt: now.Add(-time.Hour)},
		// overdue, reminded two hours ago: not again today
		"reminded": {Reference: "10000005", AlertedAt: at(-50 * time.Hour), RemindedAt: at(-2 * time.Hour), AckDueAt: now.Add(-26 * time.Hour)},
	}
	ids := map[string]int64{}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for name, r := range reports {
			r.Channel = "sms"
			r.CreatedAt = now.Add(-30 * time.Hour)
			if r.UpdatedAt.IsZero() {
				r.UpdatedAt = r.CreatedAt
			}
			r.ResolveDueAt = r.CreatedAt.Add(168 * time.Hour)
			id, err := store.InsertSEAReport(ctx, tx, r)
			if err != nil {
				return err
			}
			ids[name] = id
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Two kept bodies of replies answered inline on a call: one past the 10-minute grace.
	var c store.Contact
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		c, err = store.ContactForURN(ctx, tx, "tel:+9647700000001")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]time.Duration{"old": -11 * time.Minute, "fresh": -5 * time.Minute}
	bodyIDs := map[string]int64{}
	for name, age := range body {
		var id int64
		err := pool.QueryRow(ctx, `
			INSERT INTO messages (contact_id, urn_id, channel, direction, language, text, status, inline, created_at, updated_at)
			VALUES ($1, $2, 'voice', 'out', 'ar', '[confidential]', 'sent', true, $3, $3) RETURNING id`,
			c.ID, c.URNID, now.Add(age)).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO confidential_bodies (message_id, body, created_at) VALUES ($1, '{"text":"x"}', $2)`,
			id, now.Add(age)); err != nil {
			t.Fatal(err)
		}
		bodyIDs[name] = id
	}

	sweep := func() {
		t.Helper()
		if err := w.Work(ctx, &river.Job[gateway.SEASweepArgs]{}); err != nil {
			t.Fatal(err)
		}
	}
	sweep()
	sweep() // a second sweep at the same time sends nothing more

	want := map[string][]string{
		// Amal reads Arabic on Telegram, Shilan Sorani by SMS; times are Baghdad time.
		"idle": {
			"telegram:555001|ar|بلاغ سري جديد 1000 0001 في الساعة 08:00.",
			"tel:+9647501112233|ckb|ڕاپۆرتێکی نهێنیی نوێ 1000 0001 لە کاتژمێر 08:00.",
		},
		"overdue": {
			"telegram:555001|ar|تذكير: لم يتم تأكيد استلام البلاغ السري 1000 0003. كان الموعد 2026-11-23 13:00.",
			"tel:+9647501112233|ckb|بیرخستنەوە: وەرگرتنی ڕاپۆرتی نهێنیی 1000 0003",
		},
	}
	checkAlerts(t, pool, want)
	checkMarks(t, pool, ids, map[string][2]*time.Time{
		"idle":         {&now, nil},
		"busy":         {nil, nil},
		"overdue":      {reports["overdue"].AlertedAt, &now},
		"acknowledged": {reports["acknowledged"].AlertedAt, nil},
		"reminded":     {reports["reminded"].AlertedAt, reports["reminded"].RemindedAt},
	})
	if n := count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`); n != 4 {
		t.Errorf("%d send jobs queued, want 4 (two alerts to two focal points)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM confidential_bodies WHERE message_id = $1`, bodyIDs["old"]); n != 0 {
		t.Error("a kept confidential body past its grace time was not purged")
	}
	if n := count(t, pool, `SELECT count(*) FROM confidential_bodies WHERE message_id = $1`, bodyIDs["fresh"]); n != 1 {
		t.Error("a kept confidential body within its grace time was purged")
	}

	// A day and an hour later nobody has acknowledged anything: every overdue report that was
	// alerted is reminded, the busy one (now idle, and past its deadline) is alerted but not
	// reminded in the same breath, and each only once.
	clock = now.Add(25 * time.Hour)
	sweep()
	sweep()
	later := clock
	checkMarks(t, pool, ids, map[string][2]*time.Time{
		"idle":         {&now, &later},
		"busy":         {&later, nil},
		"overdue":      {reports["overdue"].AlertedAt, &later},
		"acknowledged": {reports["acknowledged"].AlertedAt, nil},
		"reminded":     {reports["reminded"].AlertedAt, &later},
	})
	if n := count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`); n != 4+4*2 {
		t.Errorf("%d send jobs queued, want %d (three reminders and one alert, to two focal points)", n, 4+4*2)
	}
}

// checkAlerts finds, for each report, alerts that begin with the wanted texts, one per focal
// point address, and nothing else for it.
func checkAlerts(t *testing.T, pool *pgxpool.Pool, want map[string][]string) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT u.urn || '|' || m.language || '|' || m.text FROM messages m JOIN urns u ON u.id = m.urn_id
		WHERE m.direction = 'out' AND m.channel <> 'voice' ORDER BY m.id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, texts := range want {
		for _, w := range texts {
			found := 0
			for _, g := range got {
				if strings.HasPrefix(g, w) {
					found++
				}
			}
			if found != 1 {
				t.Errorf("alert %q sent %d times, want once; all alerts:\n%s", w, found, strings.Join(got, "\n"))
			}
			n++
		}
	}
	if len(got) != n {
		t.Errorf("%d alerts sent, want %d:\n%s", len(got), n, strings.Join(got, "\n"))
	}
}

// checkMarks compares each report's alerted_at and reminded_at.
func checkMarks(t *testing.T, pool *pgxpool.Pool, ids map[string]int64, want map[string][2]*time.Time) {
	t.Helper()
	same := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	show := func(x *time.Time) string {
		if x == nil {
			return "never"
		}
		return x.UTC().Format(time.RFC3339)
	}
	for name, w := range want {
		r, err := store.SEAReportByID(context.Background(), pool, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		if !same(r.AlertedAt, w[0]) || !same(r.RemindedAt, w[1]) {
			t.Errorf("report %s: alerted %s reminded %s, want alerted %s reminded %s", name,
				show(r.AlertedAt), show(r.RemindedAt), show(w[0]), show(w[1]))
		}
	}
}
