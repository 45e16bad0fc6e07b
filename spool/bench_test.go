package spool

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend32 is 32 webhooks spooling 600-byte messages at once, each Append
// returning once its record is fsync'd. It reports the rate, the 99th-percentile latency
// of an Append, and how many appends each fsync carried (the group commit at work).
// Run it with a fixed count, e.g. -benchtime 20000x: one op is one Append.
func BenchmarkAppend32(b *testing.B) {
	const writers = 32
	s, err := Open(Options{Dir: b.TempDir(), MaxBytes: int64(b.N)*(recordOverhead+600) + 1<<20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := bytes.Repeat([]byte("m"), 600)
	lat := make([][]time.Duration, writers)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := s.Append(data); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(all[len(all)*99/100])/float64(time.Millisecond), "p99-ms")
	s.mu.Lock()
	b.ReportMetric(float64(len(all))/float64(max(s.syncs, 1)), "appends/fsync")
	s.mu.Unlock()
}

// BenchmarkReplay replays a spool of 100,000 pending 600-byte records with a no-op fn: one
// op is one record taken. Every round starts from a fresh copy of the 100,000 records (the
// copy and Open are not timed) and takes up to all of them.
func BenchmarkReplay(b *testing.B) {
	const pending = 100_000
	tmpl := b.TempDir()
	s, err := Open(Options{Dir: tmpl})
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("r"), 600)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < pending; i += 64 {
				if err := s.Append(data); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s.Close()
	files := map[string][]byte{}
	entries, _ := os.ReadDir(tmpl)
	for _, e := range entries {
		if e.Name() != lockFile {
			files[e.Name()], _ = os.ReadFile(filepath.Join(tmpl, e.Name()))
		}
	}

	stop := errors.New("enough")
	var took time.Duration
	b.ResetTimer()
	b.StopTimer()
	for left := b.N; left > 0; {
		dir := b.TempDir()
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		s, err := Open(Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if s.Stats().Pending != pending {
			b.Fatalf("%d pending, want %d", s.Stats().Pending, pending)
		}
		want := min(left, pending)
		k := 0
		b.StartTimer()
		t0 := time.Now()
		n, err := s.Replay(context.Background(), func(context.Context, Record) error {
			if k == want {
				return stop
			}
			k++
			return nil
		})
		took += time.Since(t0)
		b.StopTimer()
		if n != want || (err != nil && !errors.Is(err, stop)) {
			b.Fatalf("Replay took %d of %d: %v", n, want, err)
		}
		left -= n
		s.Close()
		os.RemoveAll(dir)
	}
	b.ReportMetric(float64(b.N)/took.Seconds(), "records/s")
}
