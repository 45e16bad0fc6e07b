package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// seedCases makes n cases of one contact: priorities, statuses, channels, languages and
// places drawn independently of one another (by hashes of the case's number), deadlines
// spread over a fortnight around now.
func seedCases(t testing.TB, pool *pgxpool.Pool, n int, now time.Time) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		WITH c AS (INSERT INTO contacts (language) VALUES ('ar') RETURNING id)
		INSERT INTO cases (reference, contact_id, category, priority, status, channel, language, governorate, site,
		                   ack_due_at, refer_due_at, resolve_due_at, created_at, updated_at)
		SELECT lpad(i::text, 8, '0'), c.id,
		       (ARRAY['feedback', 'information_request', 'assistance_request', 'misconduct_fraud', 'safety_security'])[abs(hashint4(i)) % 5 + 1],
		       (ARRAY['low', 'normal', 'high', 'critical'])[abs(hashint4(i + 1000003)) % 4 + 1],
		       (ARRAY['new', 'acknowledged', 'referred', 'in_progress', 'resolved', 'closed'])[abs(hashint4(i + 2000003)) % 6 + 1],
		       (ARRAY['sms', 'telegram', 'voice'])[abs(hashint4(i + 3000017)) % 3 + 1],
		       (ARRAY['ar', 'ckb', 'badini', 'en'])[abs(hashint4(i + 4000037)) % 4 + 1],
		       (ARRAY['ninewa', 'duhok', 'erbil'])[abs(hashint4(i + 5000011)) % 3 + 1], 'site-' || (abs(hashint4(i + 6000007)) % 40),
		       $2::timestamptz + ((abs(hashint4(i + 7000003)) % 337) - 168) * interval '1 hour',
		       $2::timestamptz + ((abs(hashint4(i + 7000003)) % 337) - 120) * interval '1 hour',
		       $2::timestamptz + ((abs(hashint4(i + 7000003)) % 337) - 24) * interval '1 hour',
		       $2::timestamptz - interval '20 days', $2::timestamptz - interval '20 days'
		FROM c, generate_series(1, $1) AS i`, n, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `ANALYZE cases`); err != nil {
		t.Fatal(err)
	}
}

// The queue puts the most urgent first, then the nearest deadline; each filter narrows it;
// overdue is a deadline passed; resolved and closed cases are out unless asked for.
func TestCaseQueue(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	seedCases(t, pool, 600, now)
	list, more, err := store.CaseQueue(ctx, pool, store.QueueFilter{}, now, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE status IN ('new', 'acknowledged', 'referred', 'in_progress')`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if more || len(list) != open || open < 300 {
		t.Fatalf("open cases: %d listed, more %v, want %d", len(list), more, open)
	}
	rank := map[string]int{"low": 1, "normal": 2, "high": 3, "critical": 4}
	for i := 1; i < len(list); i++ {
		a, b := list[i-1], list[i]
		if rank[a.Priority] < rank[b.Priority] || rank[a.Priority] == rank[b.Priority] && a.DueAt.After(b.DueAt) {
			t.Fatalf("out of order at %d: %+v before %+v", i, a, b)
		}
		if b.Status == "resolved" || b.Status == "closed" {
			t.Fatalf("a %s case in the queue", b.Status)
		}
		if b.Overdue != b.DueAt.Before(now) {
			t.Fatalf("overdue %v for due %v", b.Overdue, b.DueAt)
		}
	}
	for _, c := range []struct {
		f     store.QueueFilter
		check func(store.QueueRow) bool
	}{
		{store.QueueFilter{Category: "misconduct_fraud"}, func(r store.QueueRow) bool { return r.Category == "misconduct_fraud" }},
		{store.QueueFilter{Channel: "voice", Language: "ar"}, func(r store.QueueRow) bool { return r.Channel == "voice" && r.Language == "ar" }},
		{store.QueueFilter{Governorate: "duhok", Site: "site-7"}, func(r store.QueueRow) bool { return r.Governorate == "duhok" && r.Site == "site-7" }},
		{store.QueueFilter{Status: "closed"}, func(r store.QueueRow) bool { return r.Status == "closed" }},
		{store.QueueFilter{Overdue: true}, func(r store.QueueRow) bool { return r.Overdue }},
		{store.QueueFilter{Reference: "00000042"}, func(r store.QueueRow) bool { return r.Reference == "00000042" }},
	} {
		got, more, err := store.CaseQueue(ctx, pool, c.f, now, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || more || len(got) >= open && c.f.Status == "" {
			t.Errorf("%+v: %d, more %v", c.f, len(got), more)
		}
		for _, r := range got {
			if !c.check(r) {
				t.Errorf("%+v let through %+v", c.f, r)
				break
			}
		}
	}
	page2, more, err := store.CaseQueue(ctx, pool, store.QueueFilter{}, now, 50, 50)
	if err != nil || len(page2) != 50 || page2[0].ID != list[50].ID || !more {
		t.Errorf("second page: %d rows, more %v, %v", len(page2), more, err)
	}
	if last, more, err := store.CaseQueue(ctx, pool, store.QueueFilter{}, now, 50, open-10); err != nil || len(last) != 10 || more {
		t.Errorf("last page: %d rows, more %v, %v", len(last), more, err)
	}
}

// BenchmarkCaseQueue reads the first page of the queue among 100,000 cases, unfiltered and
// filtered, as the caseworkers' queue page does.
func BenchmarkCaseQueue(b *testing.B) {
	pool := pgtest.New(b)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	seedCases(b, pool, 100000, now)
	for _, f := range []store.QueueFilter{{}, {Governorate: "duhok", Overdue: true}, {Category: "misconduct_fraud", Language: "badini"}, {Reference: "00054321"}, {Site: "site-7", Category: "safety_security", Language: "en"}} {
		b.Run(fmt.Sprintf("%+v", f), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := store.CaseQueue(context.Background(), pool, f, now, 50, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
