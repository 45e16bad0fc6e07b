package gateway_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

var benchConns = flag.Int("bench.conns", 0, "connection pool size for BenchmarkReceive (0: the default)")

// benchCycle is what each benchmark contact sends, over and over, from the main menu: an
// information topic, the status check with a mistyped number, and a feedback that opens a
// case. Every message gets a reply queued for the outbox.
var benchCycle = []string{"4", "5", "3", "12345678", "0", "2", "Thank you for the winter kits", "0"}

// BenchmarkReceive measures the receive pipeline: an inbound message in, its transaction
// committed (inbox, contact, locked session, engine step, message log, replies and their
// send job; a case every eighth message), with 1, 8 and 64 contacts writing at once.
//
//	go test ./gateway/ -run '^$' -bench Receive -benchtime 4000x
func BenchmarkReceive(b *testing.B) {
	for _, contacts := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("contacts=%d", contacts), func(b *testing.B) {
			pool, err := store.Open(context.Background(), pgtest.NewURL(b), store.PoolConfig{MaxConns: int32(*benchConns)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(pool.Close)
			g := newGateway(b, pool)
			ctx := context.Background()
			urns := make([]string, contacts)
			for i := range urns {
				urns[i] = fmt.Sprintf("tel:+96477%08d", i)
				if _, err := g.Receive(ctx, channels.Inbound{Channel: channels.SMS, ExternalID: "warm-" + urns[i], URN: channels.URN(urns[i]), Text: "hi"}); err != nil {
					b.Fatal(err)
				}
				if err := g.SetLanguage(ctx, channels.URN(urns[i]), "en"); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			latencies := make([][]time.Duration, contacts)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for c := range contacts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						if next.Add(1) > int64(b.N) {
							return
						}
						t0 := time.Now()
						_, err := g.Receive(ctx, channels.Inbound{
							Channel: channels.SMS, ExternalID: fmt.Sprintf("b-%d-%d", c, i),
							URN: channels.URN(urns[c]), Text: benchCycle[i%len(benchCycle)],
						})
						if err != nil {
							b.Error(err)
							return
						}
						latencies[c] = append(latencies[c], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			all := slices.Concat(latencies...)
			slices.Sort(all)
			pct := func(p float64) float64 {
				if len(all) == 0 {
					return 0
				}
				return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
