package twilio_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels/twilio"
)

// benchEnv is spoolEnv for a benchmark: the database broken as in an outage.
func benchSpoolEnv(b *testing.B) (*env, func()) {
	b.Helper()
	e := newEnvOpts(b, nil, app.Options{Spool: true})
	ctx := context.Background()
	for _, tbl := range []string{"inbox", "recordings"} {
		if _, err := e.pool.Exec(ctx, `ALTER TABLE `+tbl+` RENAME TO `+tbl+`_away`); err != nil {
			b.Fatal(err)
		}
	}
	return e, func() {
		for _, tbl := range []string{"inbox", "recordings"} {
			if _, err := e.pool.Exec(ctx, `ALTER TABLE `+tbl+`_away RENAME TO `+tbl); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSMSWebhookSpooling posts signed SMS to the webhook from 32 concurrent senders
// while the database is down, so that every one is spooled (fsync'd) before the answer: the
// messages per second and the webhook's p99 latency.
//
//	go test ./channels/twilio -run '^$' -bench SMSWebhookSpooling -benchtime 20000x
func BenchmarkSMSWebhookSpooling(b *testing.B) {
	e, restore := benchSpoolEnv(b)
	defer restore()
	const senders = 32
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			phone := fmt.Sprintf("+96477%08d", 3000000+s)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				p := smsParams(phone, "الخزان مكسور "+strconv.FormatInt(i, 10))
				t0 := time.Now()
				w := e.serve(signedRequest(twilio.SMSPath, p))
				lat[i] = time.Since(t0)
				if w.Code != http.StatusOK {
					b.Errorf("status %d %s", w.Code, w.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if st := e.app.Spool.Stats(); st.Pending != b.N {
		b.Fatalf("%d spooled, want %d", st.Pending, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkReplayAfterOutage spools SAWT_REPLAY_MESSAGES SMS (default 100,000, from 10,000
// people) while the database is down, then brings it back and replays them all through the
// gateway: the replay rate. One iteration takes minutes:
//
//	go test ./channels/twilio -run '^$' -bench ReplayAfterOutage -benchtime 1x -timeout 60m
func BenchmarkReplayAfterOutage(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SAWT_REPLAY_MESSAGES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("SAWT_REPLAY_MESSAGES=%q", v)
		}
	}
	for range b.N {
		b.StopTimer()
		e, restore := benchSpoolEnv(b)
		var wg sync.WaitGroup
		var next atomic.Int64
		for s := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					phone := fmt.Sprintf("+96477%08d", 5000000+int(i)%10_000)
					w := e.serve(signedRequest(twilio.SMSPath, smsParams(phone, "hello "+strconv.FormatInt(i, 10))))
					if w.Code != http.StatusOK {
						b.Errorf("sender %d: status %d", s, w.Code)
						return
					}
				}
			}()
		}
		wg.Wait()
		restore()
		b.StartTimer()
		start := time.Now()
		got, err := e.app.Spooler.Replay(context.Background())
		elapsed := time.Since(start)
		if err != nil || got != n {
			b.Fatalf("replayed %d of %d: %v", got, n, err)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(elapsed.Seconds(), "replay-s")
	}
}
