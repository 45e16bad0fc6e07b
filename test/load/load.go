// Package load drives a benchmark's operation from several goroutines at once and reports
// throughput and latency percentiles, the way Sawt's performance targets are stated
// ("1,000 messages/s at 64 contacts", "p99 under 100 ms").
package load

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Run calls op b.N times in all, from workers goroutines; worker w makes its calls in order
// (i = 0, 1, …), as one person or one chat would. It reports <unit> per second and the p50,
// p95 and p99 latencies of op in milliseconds. The first error stops the worker and fails b.
func Run(b *testing.B, workers int, unit string, op func(worker, i int) error) {
	b.Helper()
	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; next.Add(1) <= int64(b.N); i++ {
				t0 := time.Now()
				if err := op(w, i); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
