package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/localpg"
	"github.com/sawt/sawt/store/pgtest"
)

// TestOutreachLoad measures a big campaign through the real serve, with the SMS rate limit
// lifted and the fake Twilio API on loopback: how fast the run fans out into queued sends,
// how many messages a second go out, and serve's peak memory. Targets: fan-out ≥ 50,000
// contacts/s, sending ≥ 2,000 messages/s, peak RSS < 300 MB. It reports, and fails only when
// the campaign does not go out to everyone exactly once; the figures are the result.
//
// Opt-in, as it takes minutes and gigabytes of database:
//
//	SAWT_LOAD=1 go test ./test/e2e/ -run TestOutreachLoad -count=1 -v -timeout 60m
//
// SAWT_LOAD_CONTACTS is the audience (default 1,000,000). SAWT_BROADCAST_WORKERS and
// SAWT_DB_MAX_CONNS are handed to serve when set. SAWT_LOAD_KEEP_MESSAGES=1 has the fake keep
// every message as other tests do (a few kB each, in this process) instead of counting them.
// SAWT_LOAD_TWILIO_DELAY (a duration such as 150ms) makes the fake answer each request that
// late, as the real API across the Internet does, instead of at once over loopback.
//
// The database is the test server of store/pgtest, which runs without fsync and synchronous
// commit; SAWT_LOAD_DURABLE=1 runs a durable private server instead, as serve runs its own,
// where each commit waits for its WAL to reach the disk.
func TestOutreachLoad(t *testing.T) {
	if os.Getenv("SAWT_LOAD") != "1" {
		t.Skip("load test: set SAWT_LOAD=1 to run it (SAWT_LOAD_CONTACTS=N, default 1000000; takes minutes)")
	}
	n := 1_000_000
	if v := os.Getenv("SAWT_LOAD_CONTACTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			t.Fatalf("SAWT_LOAD_CONTACTS=%q: want a number of at least 1000", v)
		}
	}
	keep := os.Getenv("SAWT_LOAD_KEEP_MESSAGES") == "1"
	var delay time.Duration
	if v := os.Getenv("SAWT_LOAD_TWILIO_DELAY"); v != "" {
		var err error
		if delay, err = time.ParseDuration(v); err != nil || delay < 0 {
			t.Fatalf("SAWT_LOAD_TWILIO_DELAY=%q: want a duration such as 150ms", v)
		}
	}

	durable := os.Getenv("SAWT_LOAD_DURABLE") == "1"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour) // ctxTimeout's minute is too short
	defer cancel()
	var dbURL string
	if durable {
		dbURL = durablePG(t)
	} else {
		dbURL = pgtest.NewURL(t)
	}
	pool := openPool(t, dbURL)
	if durable {
		if _, err := store.Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
	}
	sid, token := "AC"+randomHex(t, 32), randomHex(t, 32)
	fake := channeltest.NewTwilioAPI(t, sid, token)
	if !keep {
		fake.CountOnly()
	}
	fake.SetDelay(delay)

	// The audience: n people on SMS, half Arabic, half Sorani, in one governorate.
	seeded := time.Now()
	if _, err := pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO contacts (language, governorate)
			SELECT CASE WHEN i % 2 = 0 THEN 'ar' ELSE 'ckb' END, 'ninewa' FROM generate_series(1, $1::int) AS i RETURNING id)
		INSERT INTO urns (urn, scheme, contact_id) SELECT 'tel:+96477' || lpad(id::text, 8, '0'), 'tel', id FROM c`, n); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"contacts", "urns"} {
		if _, err := pool.Exec(ctx, `VACUUM ANALYZE `+table); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seeded %d contacts with tel URNs in %v", n, time.Since(seeded).Round(time.Millisecond))

	code, apiToken, errOut := runSawt(t, map[string]string{"DATABASE_URL": dbURL}, "", "tokens", "create", "cwc-load", "--role", "cwc")
	apiToken = strings.TrimSpace(apiToken)
	if code != 0 || !strings.HasPrefix(apiToken, "sawt_") {
		t.Fatalf("tokens create: %d %q %s", code, apiToken, errOut)
	}

	env := map[string]string{
		"DATABASE_URL":       dbURL,
		"SAWT_HTTP_ADDR":     "127.0.0.1:0",
		"SAWT_ADMIN_ADDR":    "127.0.0.1:0",
		"SAWT_PUBLIC_URL":    twilioPublic,
		"TWILIO_ACCOUNT_SID": sid,
		"TWILIO_AUTH_TOKEN":  token,
		"TWILIO_FROM":        "+9647800000001",
		"TWILIO_API_URL":     fake.URL,
		// The highest rate the configuration takes: the limiter never holds a message back.
		"TWILIO_SMS_RATE_LIMIT": "100000",
	}
	for _, k := range []string{"SAWT_BROADCAST_WORKERS", "SAWT_DB_MAX_CONNS"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	p := start(t, env, "", "serve")
	public, admin := waitReady(t, p, 60*time.Second)
	servePID := p.cmd.Process.Pid
	pgPID := postmasterOf(t, pool)
	workers := cmpOr(env["SAWT_BROADCAST_WORKERS"], "8 (default)")
	dbConns := cmpOr(env["SAWT_DB_MAX_CONNS"], fmt.Sprintf("%d (default)", 2*runtime.GOMAXPROCS(0)+2))
	dbKind := map[bool]string{true: "durable", false: "without fsync"}[durable]
	t.Logf("serve pid %d (postgres %d, %s), %d CPUs, load average %s; broadcast workers %s, DB connections %s, fake Twilio %s, answering after %v",
		servePID, pgPID, dbKind, runtime.NumCPU(), loadAverage(), workers, dbConns, map[bool]string{true: "keeping messages", false: "counting only"}[keep], delay)
	e := &twilioEnv{fake: fake, dbURL: dbURL, pool: pool, public: public, admin: admin, client: &http.Client{Timeout: time.Minute}}

	body := `{"name": "Load test", "topic": "safety",
		"texts": {"ar": "لا تترك الموقد مشتعلا في الخيمة ليلا.", "ckb": "شەو ئاگردان لە چادردا داگیرساو جێمەهێڵە.",
		          "badini": "شەڤێ ئاگردانێ د چادرێ دا هەلکری نەهێلە.", "en": "Do not leave a heater burning in the tent at night."},
		"audience": {"channels": ["sms"]}, "schedule": {"now": true}}`
	before := sampleCPU(servePID, pgPID)
	before.commits = dbCommits(t, pool)
	created := time.Now()
	code, out := e.api(t, "POST", "/api/v1/campaigns", apiToken, body)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	campaignID := int64(out["id"].(float64))
	t.Logf("campaign %d created through the API", campaignID)

	// Follow it: the fan-out's log line, then the messages reaching the fake, until the run is
	// done. Stop when nothing moves for three minutes, or the test's time runs out.
	deadline := time.Now().Add(time.Hour)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-time.Minute)
	}
	var (
		started      time.Time // the run's log line seen
		fanOut       time.Duration
		targeted     int
		atFirst      cpuSample // when the first message reached the fake
		lastCount    int
		lastMove     = time.Now()
		lastReport   = time.Now()
		reportCount  int
		runID        int64
		state        string
		tick         = time.NewTicker(200 * time.Millisecond)
		fanOutLogged = regexp.MustCompile(`msg="campaign run started".* run=(\d+) targeted=(\d+) fan_out=(\S+)`)
	)
	defer tick.Stop()
	for state != "done" {
		<-tick.C
		now := time.Now()
		if code, exited := p.wait(0); exited {
			t.Fatalf("serve exited with %d during the campaign; stderr:\n%s", code, tail(p.stderr.String(), 4000))
		}
		if started.IsZero() {
			if m := fanOutLogged.FindStringSubmatch(p.stderr.String()); m != nil {
				started = now
				runID, _ = strconv.ParseInt(m[1], 10, 64)
				targeted, _ = strconv.Atoi(m[2])
				var err error
				if fanOut, err = time.ParseDuration(m[3]); err != nil {
					t.Fatalf("fan_out=%q: %v", m[3], err)
				}
				t.Logf("run %d started %v after the API call: %d targeted, fan_out=%v", runID, now.Sub(created).Round(time.Millisecond), targeted, fanOut)
			}
		}
		count := fake.MessageCount()
		if count > 0 && atFirst.at.IsZero() {
			atFirst = sampleCPU(servePID, pgPID)
		}
		if count != lastCount {
			lastCount, lastMove = count, now
		}
		if now.Sub(lastReport) >= 10*time.Second {
			t.Logf("progress: %d sent, %.0f msg/s over the last %v, serve RSS %d MB, load average %s", count,
				float64(count-reportCount)/now.Sub(lastReport).Seconds(), now.Sub(lastReport).Round(time.Second),
				procStatusKB(servePID, "VmRSS")/1024, loadAverage())
			lastReport, reportCount = now, count
		}
		if runID != 0 && (count >= targeted || now.Sub(lastMove) > 5*time.Second) {
			if err := pool.QueryRow(ctx, `SELECT state FROM campaign_runs WHERE id = $1`, runID).Scan(&state); err != nil {
				t.Fatal(err)
			}
		}
		if now.Sub(lastMove) > 3*time.Minute || now.After(deadline) {
			t.Fatalf("run not done: %d of %d messages sent, state %q, last progress %v ago; serve stderr:\n%s",
				count, targeted, state, now.Sub(lastMove).Round(time.Second), tail(p.stderr.String(), 4000))
		}
	}
	done := time.Now()
	atDone := sampleCPU(servePID, pgPID)
	peakKB, rssKB := procStatusKB(servePID, "VmHWM"), procStatusKB(servePID, "VmRSS")
	testPeakKB := procStatusKB(os.Getpid(), "VmHWM")

	// The database's account of the run: everyone once, and when each message went.
	var sent, queued, dupes int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'queued')
		FROM deliveries WHERE run_id = $1`, runID).Scan(&sent, &queued); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT contact_id FROM deliveries WHERE run_id = $1
		GROUP BY contact_id HAVING count(*) > 1) d`, runID).Scan(&dupes); err != nil {
		t.Fatal(err)
	}
	if targeted != n || sent != n || queued != 0 || dupes != 0 || fake.MessageCount() != n {
		t.Errorf("%d contacts: %d targeted, %d deliveries sent, %d queued, %d contacts twice; the fake took %d messages",
			n, targeted, sent, queued, dupes, fake.MessageCount())
	}
	if keep {
		seen := make(map[string]bool, n)
		for _, m := range fake.Messages() {
			if seen[m.To] {
				t.Errorf("%s got the campaign twice", m.To)
			}
			seen[m.To] = true
		}
	}
	// When the first and last messages were marked sent, and the tenth and ninetieth percentiles.
	var first, last, steadyFrom, steadyTo time.Time
	if err := pool.QueryRow(ctx, `SELECT min(sent_at), max(sent_at), percentile_disc(0.1) WITHIN GROUP (ORDER BY sent_at),
		percentile_disc(0.9) WITHIN GROUP (ORDER BY sent_at) FROM deliveries WHERE run_id = $1 AND status = 'sent'`,
		runID).Scan(&first, &last, &steadyFrom, &steadyTo); err != nil {
		t.Fatal(err)
	}
	lo, hi := sent/10, sent*9/10

	wall := func(from, to cpuSample) float64 { return to.at.Sub(from.at).Seconds() }
	cores := func(from, to cpuSample, f func(cpuSample) float64) float64 { return (f(to) - f(from)) / wall(from, to) }
	t.Logf("RESULT contacts:            %d (targeted %d, sent %d, broadcast workers %s, DB connections %s, database %s, fake %s, Twilio delay %v)",
		n, targeted, sent, workers, dbConns, dbKind, map[bool]string{true: "keeping", false: "counting"}[keep], delay)
	t.Logf("RESULT fan-out:             %.3f s = %.0f contacts/s (fan_out= of the run's log line; target ≥ 50,000/s)",
		fanOut.Seconds(), float64(targeted)/fanOut.Seconds())
	t.Logf("RESULT API to first send:   %.3f s", first.Sub(created).Seconds())
	t.Logf("RESULT send, whole run:     %.0f msg/s (%d messages, first to last marked sent in %.1f s; target ≥ 2,000/s)",
		float64(sent-1)/last.Sub(first).Seconds(), sent, last.Sub(first).Seconds())
	t.Logf("RESULT send, steady 10-90%%: %.0f msg/s (%d messages in %.1f s)",
		float64(hi-lo)/steadyTo.Sub(steadyFrom).Seconds(), hi-lo, steadyTo.Sub(steadyFrom).Seconds())
	t.Logf("RESULT API to run done:     %.1f s", done.Sub(created).Seconds())
	t.Logf("RESULT serve peak RSS:      %.1f MB (VmHWM; VmRSS at the end %.1f MB; target < 300 MB)", float64(peakKB)/1024, float64(rssKB)/1024)
	t.Logf("RESULT test process peak:   %.1f MB (VmHWM of this process: the fake Twilio API and the test)", float64(testPeakKB)/1024)
	if !atFirst.at.IsZero() && wall(atFirst, atDone) > 0 {
		t.Logf("RESULT CPU while sending:   serve %.2f cores, postgres %.2f, fake+test %.2f, whole machine %.2f of %d; DB commits %.2f per message",
			cores(atFirst, atDone, func(s cpuSample) float64 { return s.serve }),
			cores(atFirst, atDone, func(s cpuSample) float64 { return s.postgres }),
			cores(atFirst, atDone, func(s cpuSample) float64 { return s.self }),
			cores(atFirst, atDone, func(s cpuSample) float64 { return s.machine }), runtime.NumCPU(),
			(dbCommits(t, pool)-before.commits)/float64(sent))
		t.Logf("RESULT CPU for the fan-out: serve %.2f s, postgres %.2f s (API call to first send)",
			atFirst.serve-before.serve, atFirst.postgres-before.postgres)
	}
	stopServe(t, p, syscall.SIGTERM)
	if e := grepLines(p.stderr.String(), "level=ERROR", 20); e != "" {
		t.Logf("serve logged errors:\n%s", e)
	}
	if w := grepLines(p.stderr.String(), "level=WARN", 20); w != "" {
		t.Logf("serve logged warnings:\n%s", w)
	}
}

// durablePG runs a private PostgreSQL with its crash safety on, as serve runs its own, and
// returns the URL of its database sawt; it is stopped and removed at the end of the test.
func durablePG(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "sawt-e2e-load-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil { // the server runs as postgres
		t.Fatal(err)
	}
	dir := filepath.Join(base, "pg")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := localpg.Start(ctx, localpg.Options{Dir: dir, Durable: true})
	if err != nil {
		os.RemoveAll(base)
		t.Fatalf("start PostgreSQL in %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
		if pid, gone := waitNoPostmaster(dir, 10*time.Second); !gone {
			t.Errorf("PostgreSQL (PID %d) still running on %s at the end of the test: stopping it", pid, dir)
			killPostmaster(pid, dir)
		}
		os.RemoveAll(base)
	})
	if err := srv.EnsureDatabase(ctx, "sawt"); err != nil {
		t.Fatal(err)
	}
	return srv.URL("sawt")
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func grepLines(s, sub string, max int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && len(out) < max {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// procStatusKB is a "kB" field of /proc/<pid>/status (VmHWM, VmRSS), 0 when unknown.
func procStatusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux Go runs on.
const clockTicks = 100

// procCPU is a process's CPU seconds (user and system), with those of its waited-for children
// when children is set.
func procCPU(pid int, children bool) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := bytes.Cut(b, []byte(") "))
	f := strings.Fields(string(rest)) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	last := 12 // utime, stime: fields 14 and 15
	if children {
		last = 14 // cutime, cstime: fields 16 and 17
	}
	for i := 11; i <= last; i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return float64(ticks) / clockTicks
}

// postmasterOf finds the PostgreSQL server's postmaster: the parent of this connection's backend.
func postmasterOf(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	backend := queryInt(t, pool, `SELECT pg_backend_pid()`)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", backend))
	if err != nil {
		return 0 // a server elsewhere (TEST_DATABASE_URL): no CPU figures for it
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "PPid:"); ok {
			pid, _ := strconv.Atoi(strings.TrimSpace(rest))
			return pid
		}
	}
	return 0
}

// cpuSample is the CPU seconds used so far by serve, by the PostgreSQL server (postmaster,
// its live processes and those gone), by this process and by the whole machine.
type cpuSample struct {
	at                             time.Time
	serve, postgres, self, machine float64
	commits                        float64
}

func sampleCPU(servePID, pgPID int) cpuSample {
	s := cpuSample{at: time.Now(), serve: procCPU(servePID, false), self: procCPU(os.Getpid(), false)}
	if pgPID != 0 {
		s.postgres = procCPU(pgPID, true)
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			_, rest, _ := bytes.Cut(b, []byte(") "))
			if f := strings.Fields(string(rest)); len(f) > 1 && f[1] == strconv.Itoa(pgPID) {
				s.postgres += procCPU(pid, false)
			}
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
		for i := 1; i < len(f) && i <= 8; i++ {
			if i == 4 || i == 5 {
				continue // idle, iowait
			}
			v, _ := strconv.ParseFloat(f[i], 64)
			s.machine += v / clockTicks
		}
	}
	return s
}

// dbCommits is how many transactions the current database has committed (the statistics
// lag by up to a second).
func dbCommits(t *testing.T, pool *pgxpool.Pool) float64 {
	t.Helper()
	return float64(queryInt(t, pool, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`))
}
