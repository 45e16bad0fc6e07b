package outreach

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

// BenchmarkFanOut measures how fast a run turns its audience into queued deliveries and send
// jobs: one run per iteration over a seeded population (SAWT_BENCH_CONTACTS, default 1,000,000;
// half Arabic, half Sorani, all on SMS).
//
//	go test ./outreach/ -run '^$' -bench FanOut -benchtime 1x
func BenchmarkFanOut(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("SAWT_BENCH_CONTACTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	e := newEnv(b)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO contacts (language, governorate)
			SELECT CASE WHEN i % 2 = 0 THEN 'ar' ELSE 'ckb' END, 'ninewa' FROM generate_series(1, $1::int) AS i RETURNING id)
		INSERT INTO urns (urn, scheme, contact_id) SELECT 'tel:+96477' || lpad(id::text, 8, '0'), 'tel', id FROM c`, n); err != nil {
		b.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `ANALYZE contacts; ANALYZE urns`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var elapsed time.Duration
	for range b.N {
		id, err := e.svc.Create(ctx, Spec{Name: "bench", Texts: allTexts(), Schedule: Schedule{Now: true}}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		w := &StartRunWorker{Service: e.svc}
		e.jobs(StartRunArgs{}.Kind()) // run here, not by River
		if err := w.Work(ctx, &river.Job[StartRunArgs]{Args: StartRunArgs{CampaignID: id, DueAt: e.clock}}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "contacts/s")
}
