package spool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// clock gives a second more at every call, so each record has its own time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// logBuf collects what the spool logs, to check what is said and what never is.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func openT(t testing.TB, opts Options) *Spool {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendT(t testing.TB, s *Spool, data string) {
	t.Helper()
	if err := s.Append([]byte(data)); err != nil {
		t.Fatalf("Append(%q): %v", data, err)
	}
}

// replayAll replays everything and returns the records taken.
func replayAll(t testing.TB, s *Spool) []Record {
	t.Helper()
	var got []Record
	n, err := s.Replay(context.Background(), func(_ context.Context, r Record) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if n != len(got) {
		t.Fatalf("Replay returned %d, fn took %d", n, len(got))
	}
	return got
}

func datas(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Data))
	}
	return out
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func recSize(data string) int64 { return int64(recordOverhead + len(data)) }

// crashForTest drops the spool as a killed process would: the files are closed with no
// fsync, no seal, no unlock (closing the lock file releases the flock).
func (s *Spool) crashForTest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active != nil {
		s.active.f.Close()
	}
	s.lock.Close()
	s.lock = nil
	s.closed = true
}

func checkStats(t testing.TB, s *Spool, pending int, bytes int64) Stats {
	t.Helper()
	st := s.Stats()
	if st.Pending != pending || st.Bytes != bytes {
		t.Fatalf("Stats: pending %d, bytes %d; want %d, %d (%+v)", st.Pending, st.Bytes, pending, bytes, st)
	}
	if (pending == 0) != st.Oldest.IsZero() {
		t.Fatalf("Stats.Oldest %v with %d pending", st.Oldest, pending)
	}
	return st
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	clk := newClock()
	s := openT(t, Options{Dir: dir, Now: clk.Now})
	msgs := []string{"first", "", strings.Repeat("x", 5000), "سڵاو", "last"}
	var size int64
	for _, m := range msgs {
		appendT(t, s, m)
		size += recSize(m)
	}
	st := checkStats(t, s, len(msgs), size)
	first := time.Date(2026, 11, 1, 9, 0, 1, 0, time.UTC)
	if !st.Oldest.Equal(first) || st.Appended != int64(len(msgs)) {
		t.Fatalf("Stats %+v: want oldest %v, appended %d", st, first, len(msgs))
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode: %v %v", fi.Mode(), err)
	}

	got := replayAll(t, s)
	if !slices.Equal(datas(got), msgs) {
		t.Fatalf("replayed %q, want %q", datas(got), msgs)
	}
	for i, r := range got {
		if want := first.Add(time.Duration(i) * time.Second); !r.At.Equal(want) {
			t.Errorf("record %d at %v, want %v", i, r.At, want)
		}
	}
	st = checkStats(t, s, 0, 0)
	if st.Replayed != int64(len(msgs)) || st.Corrupt != 0 {
		t.Fatalf("Stats after replay: %+v", st)
	}
	if segs := segFiles(t, dir); len(segs) != 0 {
		t.Fatalf("segments left after replay: %v", segs)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.done")); len(m) != 0 {
		t.Fatalf("side files left after replay: %v", m)
	}
	if n, err := s.Replay(context.Background(), func(context.Context, Record) error { return nil }); n != 0 || err != nil {
		t.Fatalf("empty Replay: %d, %v", n, err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	s.segLimit = 8 << 10 // rotate every few dozen records
	const writers, each = 32, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.Append(fmt.Appendf(nil, "w%02d-%03d", w, i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if segs := segFiles(t, dir); len(segs) < 3 {
		t.Fatalf("want several segments, got %d", len(segs))
	}
	checkStats(t, s, writers*each, writers*each*recSize("w00-000"))

	got := replayAll(t, s)
	seen := map[string]bool{}
	last := make([]int, writers)
	for i := range last {
		last[i] = -1
	}
	for _, d := range datas(got) {
		if seen[d] {
			t.Fatalf("%s replayed twice", d)
		}
		seen[d] = true
		var w, i int
		fmt.Sscanf(d, "w%02d-%03d", &w, &i)
		if i <= last[w] {
			t.Fatalf("%s replayed after w%02d-%03d: not in append order", d, w, last[w])
		}
		last[w] = i
	}
	if len(seen) != writers*each {
		t.Fatalf("replayed %d distinct records, want %d", len(seen), writers*each)
	}
	checkStats(t, s, 0, 0)
}

// TestAppendWhileReplaying runs appenders and a replayer together (for the race detector),
// then checks that every record came out exactly once.
func TestAppendWhileReplaying(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	s.segLimit = 4 << 10
	var mu sync.Mutex
	seen := map[string]int{}
	take := func(_ context.Context, r Record) error {
		mu.Lock()
		seen[string(r.Data)]++
		mu.Unlock()
		return nil
	}
	stop := make(chan struct{})
	replayed := make(chan error)
	go func() {
		for {
			select {
			case <-stop:
				replayed <- nil
				return
			default:
			}
			if _, err := s.Replay(context.Background(), take); err != nil {
				replayed <- err
				return
			}
			_ = s.Stats()
		}
	}()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				if err := s.Append(fmt.Appendf(nil, "%d-%d", w, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-replayed; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replay(context.Background(), take); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 800 {
		t.Fatalf("replayed %d distinct records, want 800", len(seen))
	}
	for d, n := range seen {
		if n != 1 {
			t.Fatalf("%s replayed %d times", d, n)
		}
	}
	st := checkStats(t, s, 0, 0)
	if st.Appended != 800 || st.Replayed != 800 {
		t.Fatalf("Stats %+v", st)
	}
}

func TestReplayStopsOnError(t *testing.T) {
	clk := newClock()
	s := openT(t, Options{Dir: t.TempDir(), Now: clk.Now})
	for i := range 5 {
		appendT(t, s, fmt.Sprint("m", i))
	}
	boom := errors.New("database down")
	var got []string
	n, err := s.Replay(context.Background(), func(_ context.Context, r Record) error {
		if string(r.Data) == "m2" {
			return boom
		}
		got = append(got, string(r.Data))
		return nil
	})
	if n != 2 || !errors.Is(err, boom) || !slices.Equal(got, []string{"m0", "m1"}) {
		t.Fatalf("Replay: %d %v %q", n, err, got)
	}
	st := checkStats(t, s, 3, 3*recSize("m0"))
	if want := time.Date(2026, 11, 1, 9, 0, 3, 0, time.UTC); !st.Oldest.Equal(want) || st.Replayed != 2 {
		t.Fatalf("Stats %+v: want oldest %v (m2's)", st, want)
	}
	if rest := datas(replayAll(t, s)); !slices.Equal(rest, []string{"m2", "m3", "m4"}) {
		t.Fatalf("next Replay: %q", rest)
	}

	// A cancelled context stops the replay the same way.
	appendT(t, s, "later")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := s.Replay(ctx, func(context.Context, Record) error { return nil }); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Replay with a cancelled context: %d %v", n, err)
	}
	checkStats(t, s, 1, recSize("later"))
}

func TestAppendDuringReplayWaits(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	for i := range 3 {
		appendT(t, s, fmt.Sprint("old", i))
	}
	first := datas(replayAllWith(t, s, func(r Record) {
		appendT(t, s, "new-after-"+string(r.Data))
	}))
	if !slices.Equal(first, []string{"old0", "old1", "old2"}) {
		t.Fatalf("first Replay: %q", first)
	}
	checkStats(t, s, 3, 3*recSize("new-after-old0"))
	second := datas(replayAll(t, s))
	if !slices.Equal(second, []string{"new-after-old0", "new-after-old1", "new-after-old2"}) {
		t.Fatalf("second Replay: %q", second)
	}
}

func replayAllWith(t *testing.T, s *Spool, also func(Record)) []Record {
	t.Helper()
	var got []Record
	if _, err := s.Replay(context.Background(), func(_ context.Context, r Record) error {
		got = append(got, r)
		also(r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestCrashAndReopen(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openT(t, Options{Dir: dir, Now: clk.Now})
	s.segLimit = 300
	var want []string
	var size int64
	for i := range 10 {
		d := fmt.Sprintf("record %d %s", i, strings.Repeat("z", i*10))
		appendT(t, s, d)
		want = append(want, d)
		size += recSize(d)
	}
	s.crashForTest()

	s2 := openT(t, Options{Dir: dir, Now: clk.Now})
	st := checkStats(t, s2, 10, size)
	if want := time.Date(2026, 11, 1, 9, 0, 1, 0, time.UTC); !st.Oldest.Equal(want) || st.Appended != 0 || st.Corrupt != 0 {
		t.Fatalf("Stats after reopen %+v", st)
	}
	appendT(t, s2, "after the crash")
	want = append(want, "after the crash")
	if got := datas(replayAll(t, s2)); !slices.Equal(got, want) {
		t.Fatalf("replayed %q\nwant %q", got, want)
	}
	checkStats(t, s2, 0, 0)
}

// TestCopyMidway opens a copy of the directory taken while the spool was in use, as a disk
// snapshot would be: every record whose Append had returned is in it.
func TestCopyMidway(t *testing.T) {
	dir, cp := t.TempDir(), t.TempDir()
	s := openT(t, Options{Dir: dir})
	for i := range 5 {
		appendT(t, s, fmt.Sprint("before copy ", i))
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	appendT(t, s, "after copy")

	c := openT(t, Options{Dir: cp})
	got := datas(replayAll(t, c))
	if len(got) != 5 || got[0] != "before copy 0" || got[4] != "before copy 4" {
		t.Fatalf("copy replayed %q", got)
	}
	if got := datas(replayAll(t, s)); len(got) != 6 {
		t.Fatalf("original replayed %q", got)
	}
}

func TestTornTail(t *testing.T) {
	for _, cut := range []int{1, 3, crcSize + 1, headerSize + 2, int(recSize("record 4")) - 1} {
		t.Run(fmt.Sprint("cut", cut), func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, Options{Dir: dir})
			var want []string
			for i := range 5 {
				d := fmt.Sprint("record ", i)
				appendT(t, s, d)
				want = append(want, d)
			}
			s.Close()
			seg := segFiles(t, dir)[0]
			fi, _ := os.Stat(seg)
			if err := os.Truncate(seg, fi.Size()-int64(cut)); err != nil {
				t.Fatal(err)
			}

			var logs logBuf
			s2 := openT(t, Options{Dir: dir, Logger: logs.logger()})
			st := checkStats(t, s2, 4, 4*recSize("record 0"))
			if st.Corrupt != 1 || !strings.Contains(logs.String(), "torn record; truncated") {
				t.Fatalf("Corrupt %d, logs:\n%s", st.Corrupt, logs.String())
			}
			if fi, _ := os.Stat(seg); fi.Size() != 4*recSize("record 0") {
				t.Fatalf("segment is %d bytes after Open, want it cut to %d", fi.Size(), 4*recSize("record 0"))
			}
			if got := datas(replayAll(t, s2)); !slices.Equal(got, want[:4]) {
				t.Fatalf("replayed %q", got)
			}
			if st := checkStats(t, s2, 0, 0); st.Corrupt != 1 {
				t.Fatalf("Corrupt %d after Replay", st.Corrupt)
			}
		})
	}
}

// TestZeroedTail is a power cut after the file grew but before its data was written: the
// tail reads as zeros.
func TestZeroedTail(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	appendT(t, s, "whole")
	s.Close()
	seg := segFiles(t, dir)[0]
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 4096))
	f.Close()
	s2 := openT(t, Options{Dir: dir})
	if st := checkStats(t, s2, 1, recSize("whole")); st.Corrupt != 1 {
		t.Fatalf("Corrupt %d", st.Corrupt)
	}
	if got := datas(replayAll(t, s2)); !slices.Equal(got, []string{"whole"}) {
		t.Fatalf("replayed %q", got)
	}
}

func TestFlippedByte(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	for _, d := range []string{"one", "two", "six"} {
		appendT(t, s, d)
	}
	s.Close()
	seg := segFiles(t, dir)[0]
	b, _ := os.ReadFile(seg)
	b[recSize("one")+headerSize+20] ^= 0x40 // inside the second record's sealed payload
	os.WriteFile(seg, b, 0o600)

	var logs logBuf
	s2 := openT(t, Options{Dir: dir, Logger: logs.logger()})
	checkStats(t, s2, 2, 2*recSize("one"))
	if got := datas(replayAll(t, s2)); !slices.Equal(got, []string{"one", "six"}) {
		t.Fatalf("replayed %q", got)
	}
	st := checkStats(t, s2, 0, 0)
	if st.Corrupt != 1 || st.Replayed != 2 {
		t.Fatalf("Stats %+v", st)
	}
	if l := logs.String(); !strings.Contains(l, "checksum mismatch") || !strings.Contains(l, filepath.Base(seg)) ||
		!strings.Contains(l, fmt.Sprintf("offset=%d", recSize("one"))) {
		t.Fatalf("the log does not name the segment and offset:\n%s", l)
	}
}

// TestDecryptFailure damages a record and fixes its checksum, as only a deliberate change
// (or the wrong key) would: the record fails to decrypt at Replay and is skipped.
func TestDecryptFailure(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	for _, d := range []string{"one", "two", "six"} {
		appendT(t, s, d)
	}
	s.Close()
	seg := segFiles(t, dir)[0]
	b, _ := os.ReadFile(seg)
	r := b[recSize("one") : 2*recSize("one")]
	r[headerSize+20] ^= 0x40
	fixChecksum(r)
	os.WriteFile(seg, b, 0o600)

	s2 := openT(t, Options{Dir: dir})
	checkStats(t, s2, 3, 3*recSize("one"))
	if got := datas(replayAll(t, s2)); !slices.Equal(got, []string{"one", "six"}) {
		t.Fatalf("replayed %q", got)
	}
	if st := checkStats(t, s2, 0, 0); st.Corrupt != 1 {
		t.Fatalf("Corrupt %d", st.Corrupt)
	}
}

// crcOf is the record checksum, computed here apart from the package's own code.
func crcOf(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

func fixChecksum(r []byte) {
	n := len(r) - crcSize
	c := crcOf(r[:n])
	r[n], r[n+1], r[n+2], r[n+3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
}

// TestBadLength: a damaged length leaves the rest of its segment unframed; the segments
// after it are read as usual.
func TestBadLength(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	s.segLimit = 3 * recSize("r0")
	for i := range 6 {
		appendT(t, s, fmt.Sprint("r", i))
	}
	s.Close()
	segs := segFiles(t, dir)
	if len(segs) != 2 {
		t.Fatalf("want 2 segments, got %d", len(segs))
	}
	b, _ := os.ReadFile(segs[0])
	b[recSize("r0")+1] = 0xFF // the second record's length: 4 GB
	os.WriteFile(segs[0], b, 0o600)

	var logs logBuf
	s2 := openT(t, Options{Dir: dir, Logger: logs.logger()})
	checkStats(t, s2, 4, 4*recSize("r0"))
	if got := datas(replayAll(t, s2)); !slices.Equal(got, []string{"r0", "r3", "r4", "r5"}) {
		t.Fatalf("replayed %q", got)
	}
	if st := checkStats(t, s2, 0, 0); st.Corrupt != 1 || !strings.Contains(logs.String(), "rest of it is skipped") {
		t.Fatalf("Corrupt %d, logs:\n%s", st.Corrupt, logs.String())
	}
}

func TestFull(t *testing.T) {
	dir := t.TempDir()
	rec := strings.Repeat("f", 100)
	s := openT(t, Options{Dir: dir, MaxBytes: 3*recSize(rec) + recSize("small")})
	for range 3 {
		appendT(t, s, rec)
	}
	seg := segFiles(t, dir)[0]
	before, _ := os.Stat(seg)
	if err := s.Append([]byte(rec)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append over the cap: %v, want ErrFull", err)
	}
	if after, _ := os.Stat(seg); after.Size() != before.Size() {
		t.Fatalf("a refused append wrote %d bytes", after.Size()-before.Size())
	}
	st := checkStats(t, s, 3, 3*recSize(rec))
	if st.Appended != 3 {
		t.Fatalf("Appended %d", st.Appended)
	}
	if err := s.Append([]byte("small")); err != nil { // a smaller record still fits
		t.Fatalf("small append: %v", err)
	}
	if got := replayAll(t, s); len(got) != 4 {
		t.Fatalf("replayed %d", len(got))
	}
	checkStats(t, s, 0, 0)
	for range 3 {
		appendT(t, s, rec)
	}
	if err := s.Append([]byte(rec)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append over the cap again: %v", err)
	}
	if err := s.Append(make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized Append: %v", err)
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestClosed(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	appendT(t, s, "kept")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := s.Replay(context.Background(), func(context.Context, Record) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Replay after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if st := s.Stats(); st.Pending != 1 {
		t.Fatalf("Stats after Close: %+v", st)
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	appendT(t, s, "sealed")
	s.Close()
	key := filepath.Join(dir, keyFile)
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != keySize {
		t.Fatalf("key file: %v %v", fi, err)
	}

	os.Chmod(key, 0o644)
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("Open with a 0644 key: %v", err)
	}
	os.Chmod(key, 0o600)
	good, _ := os.ReadFile(key)
	os.WriteFile(key, good[:31], 0o600)
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "31 bytes") {
		t.Fatalf("Open with a short key: %v", err)
	}
	os.Remove(key)
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("Open with segments and no key: %v", err)
	}
	// Another key reads nothing: every record fails to decrypt.
	os.WriteFile(key, bytes.Repeat([]byte{7}, keySize), 0o600)
	s2 := openT(t, Options{Dir: dir})
	if got := replayAll(t, s2); len(got) != 0 || s2.Stats().Corrupt != 1 {
		t.Fatalf("wrong key replayed %d, Corrupt %d", len(got), s2.Stats().Corrupt)
	}
	s2.Close()

	// With nothing spooled, a missing key is simply made anew.
	os.Remove(key)
	s3 := openT(t, Options{Dir: dir})
	s3.Close()
	if b, _ := os.ReadFile(key); len(b) != keySize || bytes.Equal(b, good) {
		t.Fatalf("new key: %d bytes", len(b))
	}
}

func TestNoPlaintextOnDisk(t *testing.T) {
	const phrase = "the-planted-phrase-Qx7Hk2"
	dir := t.TempDir()
	var logs logBuf
	s := openT(t, Options{Dir: dir, Logger: logs.logger()})
	s.segLimit = 2 << 10
	for i := range 40 {
		appendT(t, s, fmt.Sprintf("abuse report %d: %s", i, phrase))
	}
	// Stop a replay midway, so that side files are on disk too.
	k := 0
	s.Replay(context.Background(), func(context.Context, Record) error {
		if k++; k > 10 {
			return errors.New("stop")
		}
		return nil
	})
	check := func(when string) {
		t.Helper()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(phrase)) || bytes.Contains(b, []byte("abuse report")) {
				t.Fatalf("%s: %s holds the plaintext", when, e.Name())
			}
		}
	}
	check("open")
	s.crashForTest()
	check("after a crash")
	// Damage a record, so that the log has something to say about it.
	segs := segFiles(t, dir)
	b, _ := os.ReadFile(segs[len(segs)-1])
	b[30] ^= 1
	os.WriteFile(segs[len(segs)-1], b, 0o600)
	s2 := openT(t, Options{Dir: dir, Logger: logs.logger()})
	replayAll(t, s2)
	if s2.Stats().Corrupt != 1 {
		t.Fatalf("Corrupt %d", s2.Stats().Corrupt)
	}
	if strings.Contains(logs.String(), phrase) || strings.Contains(logs.String(), "abuse") {
		t.Fatalf("the log holds a record's content:\n%s", logs.String())
	}
}

func TestSideFileProgress(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	for i := range 6 {
		appendT(t, s, fmt.Sprint("p", i))
	}
	seg := segFiles(t, dir)[0]
	n, err := s.Replay(context.Background(), func(_ context.Context, r Record) error {
		if string(r.Data) == "p3" {
			return errors.New("stop")
		}
		return nil
	})
	if n != 3 || err == nil {
		t.Fatalf("Replay: %d %v", n, err)
	}
	raw, err := os.ReadFile(strings.TrimSuffix(seg, segExt) + doneExt)
	if err != nil {
		t.Fatal(err)
	}
	if off, ok := decodeDone(raw); !ok || off != 3*recSize("p0") {
		t.Fatalf("side file says %d (%v), want %d", off, ok, 3*recSize("p0"))
	}
	// A crash now: the next process starts where this one stopped.
	s.crashForTest()
	s2 := openT(t, Options{Dir: dir})
	checkStats(t, s2, 3, 3*recSize("p0"))
	if got := datas(replayAll(t, s2)); !slices.Equal(got, []string{"p3", "p4", "p5"}) {
		t.Fatalf("replayed after reopen %q", got)
	}
	if _, err := os.Stat(strings.TrimSuffix(seg, segExt) + doneExt); !os.IsNotExist(err) {
		t.Fatalf("side file left: %v", err)
	}
}

// TestSideFileUntrusted: a side file that is damaged or not at a record boundary is ignored
// (the segment replayed whole); one left without its segment is removed.
func TestSideFileUntrusted(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	for i := range 3 {
		appendT(t, s, fmt.Sprint("q", i))
	}
	s.Close()
	seg := segFiles(t, dir)[0]
	done := strings.TrimSuffix(seg, segExt) + doneExt
	os.WriteFile(done, encodeDone(recSize("q0")+1), 0o600)
	orphan := filepath.Join(dir, doneName(999))
	os.WriteFile(orphan, encodeDone(0), 0o600)

	s2 := openT(t, Options{Dir: dir})
	checkStats(t, s2, 3, 3*recSize("q0"))
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan side file kept: %v", err)
	}
	if got := replayAll(t, s2); len(got) != 3 {
		t.Fatalf("replayed %d", len(got))
	}
	// A segment whose side file says all was taken is deleted at Open.
	appendT(t, s2, "x")
	s2.Close()
	seg = segFiles(t, dir)[0]
	fi, _ := os.Stat(seg)
	os.WriteFile(strings.TrimSuffix(seg, segExt)+doneExt, encodeDone(fi.Size()), 0o600)
	s3 := openT(t, Options{Dir: dir})
	checkStats(t, s3, 0, 0)
	if segs := segFiles(t, dir); len(segs) != 0 {
		t.Fatalf("taken segment kept: %v", segs)
	}
}

// The crash tests run this test binary again as a child (crashChildEnv names the mode) and
// kill it with SIGKILL.
const (
	crashChildEnv = "SPOOL_CRASH_CHILD"
	crashDirEnv   = "SPOOL_CRASH_DIR"
	crashBaseEnv  = "SPOOL_CRASH_BASE"
)

func crashData(id int) string {
	return fmt.Sprintf("rec-%08d-%s", id, strings.Repeat("p", 50+id%7*60))
}

// TestCrashChild is the child's side: "append" appends from 8 goroutines forever, printing
// each record's ID once its Append has returned; "replay" replays slowly, printing each ID
// handed to fn.
func TestCrashChild(t *testing.T) {
	mode := os.Getenv(crashChildEnv)
	if mode == "" {
		t.Skip("run by TestCrashKill9 and TestCrashDuringReplay")
	}
	s, err := Open(Options{Dir: os.Getenv(crashDirEnv)})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	s.segLimit = 32 << 10
	var out sync.Mutex
	say := func(format string, a ...any) {
		out.Lock()
		os.Stdout.Write(fmt.Appendf(nil, format, a...)) // one write per line: never split
		out.Unlock()
	}
	switch mode {
	case "append":
		base, _ := strconv.Atoi(os.Getenv(crashBaseEnv))
		var next atomic.Int64
		next.Store(int64(base))
		for range 8 {
			go func() {
				for {
					id := int(next.Add(1))
					if err := s.Append([]byte(crashData(id))); err != nil {
						say("error %v\n", err)
						continue
					}
					say("appended %d\n", id)
				}
			}()
		}
		select {}
	case "replay":
		s.Replay(context.Background(), func(_ context.Context, r Record) error {
			var id int
			fmt.Sscanf(string(r.Data), "rec-%08d-", &id)
			say("took %d\n", id)
			time.Sleep(200 * time.Microsecond)
			return nil
		})
		say("finished\n")
		select {}
	}
}

// runChild starts the child in mode on dir and kills it (SIGKILL) once it has printed
// killAfter lines with prefix; it returns the IDs printed with that prefix, read to the end.
func runChild(t *testing.T, mode, dir string, base, killAfter int, prefix string) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+mode, crashDirEnv+"="+dir, crashBaseEnv+"="+strconv.Itoa(base))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var ids []int
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "finished") || strings.HasPrefix(line, "error") || strings.HasPrefix(line, "open:") {
			t.Logf("child: %s", line)
		}
		if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
			id, err := strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("child line %q", line)
			}
			ids = append(ids, id)
		}
		if !killed && (len(ids) >= killAfter || line == "finished") {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	return ids
}

// TestCrashKill9 kills an appending process three times at arbitrary points: every record
// whose Append returned is replayed, whole, exactly once.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	var appended []int
	for round, killAfter := range []int{150, 433, 71} {
		ids := runChild(t, "append", dir, round*1_000_000, killAfter, "appended")
		if len(ids) < killAfter {
			t.Fatalf("round %d: the child appended only %d", round, len(ids))
		}
		appended = append(appended, ids...)
		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.Pending < len(appended) {
			t.Fatalf("round %d: %d pending after the crash, but %d appends returned", round, st.Pending, len(appended))
		}
		s.Close()
	}
	s := openT(t, Options{Dir: dir})
	got := map[int]int{}
	for _, r := range replayAll(t, s) {
		var id int
		if _, err := fmt.Sscanf(string(r.Data), "rec-%08d-", &id); err != nil || string(r.Data) != crashData(id) {
			t.Fatalf("a replayed record is not as appended: %.40q", r.Data)
		}
		got[id]++
	}
	for _, id := range appended {
		if got[id] != 1 {
			t.Fatalf("record %d, whose Append returned, replayed %d times", id, got[id])
		}
	}
	t.Logf("%d appends returned before the kills; %d records replayed; %d corrupt (torn tails)",
		len(appended), len(got), s.Stats().Corrupt)
	checkStats(t, s, 0, 0)
}

// TestCrashDuringReplay kills a replaying process: no record is lost, and thanks to the
// side files at most one is delivered twice.
func TestCrashDuringReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	s.segLimit = 32 << 10
	const total = 3000
	var wg sync.WaitGroup
	for w := range 30 {
		wg.Go(func() {
			for id := w; id < total; id += 30 {
				if err := s.Append([]byte(crashData(id))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	s.Close()

	took := runChild(t, "replay", dir, 0, 1000, "took")
	s2 := openT(t, Options{Dir: dir})
	if st := s2.Stats(); st.Pending > total-len(took)+1 {
		t.Fatalf("%d pending after the child took %d of %d", st.Pending, len(took), total)
	}
	seen := map[int]int{}
	for _, id := range took {
		seen[id]++
	}
	for _, r := range replayAll(t, s2) {
		var id int
		fmt.Sscanf(string(r.Data), "rec-%08d-", &id)
		seen[id]++
	}
	twice := 0
	for id := range total {
		switch seen[id] {
		case 0:
			t.Fatalf("record %d lost", id)
		case 1:
		default:
			twice++
		}
	}
	if twice > 1 {
		t.Fatalf("%d records delivered twice; the side files should keep it to one", twice)
	}
	t.Logf("child took %d before the kill; %d delivered twice", len(took), twice)
}

// FuzzDecode feeds arbitrary bytes as a segment to the decoder and to Open and Replay: never
// a panic, never a record whose checksum fails, and an empty spool after Replay.
func FuzzDecode(f *testing.F) {
	for _, seg := range seedSegments(f) {
		f.Add(seg)
		f.Add(seg[:len(seg)-5])
		flipped := slices.Clone(seg)
		flipped[len(flipped)/2] ^= 0x10
		f.Add(flipped)
	}
	f.Add([]byte{})
	f.Add([]byte{recordMagic, 0, 0, 0, 28})
	// Thousands of spools are opened: the fsyncs would make the fuzzer (and its
	// minimizing) crawl, and they are not what is tested here.
	realSync := fsync
	fsync = func(*os.File) error { return nil }
	f.Cleanup(func() { fsync = realSync })
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, tail := scanSegment(b)
		var off int64
		for _, fr := range frames {
			if fr.off != off || fr.size < recordOverhead || fr.off+fr.size > int64(len(b)) {
				t.Fatalf("frame %+v after offset %d in %d bytes", fr, off, len(b))
			}
			r := b[fr.off : fr.off+fr.size]
			sumOK := crcOf(r[:len(r)-crcSize]) == uint32(r[len(r)-4])<<24|uint32(r[len(r)-3])<<16|uint32(r[len(r)-2])<<8|uint32(r[len(r)-1])
			if fr.ok != sumOK || r[0] != recordMagic {
				t.Fatalf("frame at %d: ok %v, checksum %v", fr.off, fr.ok, sumOK)
			}
			off += fr.size
		}
		if (tail == nil && off != int64(len(b))) || (tail != nil && tail.off != off) {
			t.Fatalf("scan stopped at %d of %d, tail %+v", off, len(b), tail)
		}

		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, keyFile), fuzzKey, 0o600)
		os.WriteFile(filepath.Join(dir, segName(1)), b, 0o600)
		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		good := map[int64]bool{}
		var bytes int64
		for _, fr := range frames {
			if fr.ok {
				good[fr.at] = true
				bytes += fr.size
			}
		}
		if st := s.Stats(); st.Pending != countOK(frames) || st.Bytes != bytes {
			t.Fatalf("Stats after Open %+v: want %d pending, %d bytes", st, countOK(frames), bytes)
		}
		n, err := s.Replay(context.Background(), func(_ context.Context, r Record) error {
			if !good[r.At.UnixNano()] {
				t.Fatalf("replayed a record that is not a whole one of the segment: at %v", r.At)
			}
			return nil
		})
		if err != nil || n > countOK(frames) {
			t.Fatalf("Replay: %d %v", n, err)
		}
		if st := s.Stats(); st.Pending != 0 || st.Bytes != 0 {
			t.Fatalf("Stats after Replay: %+v", st)
		}
	})
}

func countOK(frames []frame) int {
	n := 0
	for _, f := range frames {
		if f.ok {
			n++
		}
	}
	return n
}

var fuzzKey = bytes.Repeat([]byte{0x5a}, keySize)

// seedSegments writes real segments with the fuzz key.
func seedSegments(f *testing.F) [][]byte {
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, keyFile), fuzzKey, 0o600)
	s, err := Open(Options{Dir: dir})
	if err != nil {
		f.Fatal(err)
	}
	s.segLimit = 400
	for i := range 12 {
		if err := s.Append([]byte(strings.Repeat("seed ", i*7))); err != nil {
			f.Fatal(err)
		}
	}
	s.Close()
	var out [][]byte
	for _, p := range segFiles(f, dir) {
		b, _ := os.ReadFile(p)
		out = append(out, b)
	}
	return out
}

// TestAllDamagedSegment: a segment with no whole record left is deleted at Open, so that
// Stats.Pending, which the webhooks read, says nothing is waiting.
func TestAllDamagedSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	appendT(t, s, "only")
	s.Close()
	seg := segFiles(t, dir)[0]
	b, _ := os.ReadFile(seg)
	b[headerSize+3] ^= 1
	os.WriteFile(seg, b, 0o600)
	s2 := openT(t, Options{Dir: dir})
	if st := checkStats(t, s2, 0, 0); st.Corrupt != 1 {
		t.Fatalf("Corrupt %d", st.Corrupt)
	}
	if segs := segFiles(t, dir); len(segs) != 0 {
		t.Fatalf("damaged segment kept: %v", segs)
	}
}

// TestSyncFailure: after a failed fsync nothing is known of what reached the disk, so the
// append fails and every later one too; what was written can still be replayed.
func TestSyncFailure(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	appendT(t, s, "before")
	realSync := fsync
	t.Cleanup(func() { fsync = realSync })
	fsync = func(*os.File) error { return syscall.EIO }
	if err := s.Append([]byte("during")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append with a failing fsync: %v", err)
	}
	fsync = realSync
	if err := s.Append([]byte("after")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append after a failed fsync: %v, want the same failure", err)
	}
	if got := datas(replayAll(t, s)); !slices.Equal(got, []string{"before", "during"}) {
		t.Fatalf("replayed %q", got)
	}
	checkStats(t, s, 0, 0)
}
