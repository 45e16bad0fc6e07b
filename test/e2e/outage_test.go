package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store/localpg"
)

// controlledPG is a PostgreSQL of the test's own, which it stops and starts again as an
// outage would.
type controlledPG struct {
	t   *testing.T
	dir string
	srv *localpg.Server
	url string
}

func startControlledPG(t *testing.T) *controlledPG {
	t.Helper()
	base, err := os.MkdirTemp("", "sawt-e2e-outage-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil { // the server runs as postgres
		t.Fatal(err)
	}
	pg := &controlledPG{t: t, dir: filepath.Join(base, "pg")}
	pg.start()
	if err := pg.srv.EnsureDatabase(ctxTimeout(t), "sawt"); err != nil {
		t.Fatal(err)
	}
	pg.url = pg.srv.URL("sawt")
	t.Cleanup(func() {
		if pg.srv != nil {
			if err := pg.srv.Stop(); err != nil {
				t.Errorf("stop PostgreSQL: %v", err)
			}
		}
		if pid, gone := waitNoPostmaster(pg.dir, 10*time.Second); !gone {
			killPostmaster(pid, pg.dir)
		}
		os.RemoveAll(base)
	})
	return pg
}

func (pg *controlledPG) start() {
	pg.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := localpg.Start(ctx, localpg.Options{Dir: pg.dir, Durable: true})
	if err != nil {
		pg.t.Fatalf("start PostgreSQL in %s: %v", pg.dir, err)
	}
	pg.srv = srv
}

func (pg *controlledPG) stop() {
	pg.t.Helper()
	if err := pg.srv.Stop(); err != nil {
		pg.t.Fatalf("stop PostgreSQL: %v", err)
	}
	pg.srv = nil
}

// readiness is /readyz's answer.
func readiness(e *twilioEnv) (int, map[string]any) {
	resp, err := e.client.Get("http://" + e.admin + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// outageSMS are the messages each number sends while the database is down, in order: the
// main menu, "complaint", its category, then what happened.
func outageSMS(i int) []string {
	return []string{"hello", "1", "1", fmt.Sprintf("The water tank at block %d is broken", i)}
}

// PostgreSQL stops under a running serve. 200 SMS from 50 numbers and 5 calls arrive: every
// SMS is answered 200 and kept on disk, every caller is asked to leave a message and does,
// /readyz says degraded (200). PostgreSQL comes back: the spool is replayed while serve is
// killed (SIGKILL) in the middle of it and started again. In the end every SMS is in the
// database exactly once, in order per person, every person got their replies, and the calls
// are call-back cases with their recordings.
func TestOutageSpoolAndReplay(t *testing.T) {
	pg := startControlledPG(t)
	fake := newTwilioFake(t)
	data := t.TempDir()
	vars := map[string]string{"SAWT_DATA_DIR": data}
	e, p := serveOn(t, pg.url, fake, vars)

	const numbers, calls = 50, 5
	phones := make([]string, numbers)
	for i := range phones {
		phones[i] = fmt.Sprintf("+96477%08d", 4100000+i)
	}
	pg.stop()
	start := time.Now()

	// 50 people write at once, each their 4 messages one after the other
	sids := make([][]string, numbers)
	var wg sync.WaitGroup
	errs := make(chan string, numbers*4+calls*3)
	for i, phone := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, body := range outageSMS(i) {
				sid := fmt.Sprintf("SM%08x%024x", i, j)
				sids[i] = append(sids[i], sid)
				code, resp := e.post(t, "/channels/twilio/sms", url.Values{
					"MessageSid": {sid}, "AccountSid": {fake.AccountSID}, "From": {phone}, "To": {"+9647800000001"},
					"Body": {body}, "NumMedia": {"0"},
				})
				if code != http.StatusOK || !strings.Contains(resp, "<Response>") {
					errs <- fmt.Sprintf("SMS %s from %s: %d %s", sid, phone, code, resp)
				}
			}
		}()
	}
	// 5 callers are asked to leave a message and do
	recs := make([]string, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := fmt.Sprintf("+96475%08d", 5100000+i)
			call := fmt.Sprintf("CA%032x", 0xcafe00+i)
			params := url.Values{"CallSid": {call}, "AccountSid": {fake.AccountSID}, "From": {from}, "To": {"+9647800000001"},
				"CallStatus": {"ringing"}, "Direction": {"inbound"}}
			code, resp := e.post(t, "/channels/twilio/voice", params)
			if code != http.StatusOK || !strings.Contains(resp, "<Record") || !strings.Contains(resp, "voicemail=1") {
				errs <- fmt.Sprintf("call %d: %d %s", i, code, resp)
				return
			}
			rec := fmt.Sprintf("RE%032x", 0xbeef00+i)
			recs[i] = rec
			recURL := fake.URL + "/2010-04-01/Accounts/" + fake.AccountSID + "/Recordings/" + rec
			fake.AddRecording(rec, []byte(fmt.Sprintf("RIFF-voicemail-%d", i)))
			params.Set("RecordingSid", rec)
			params.Set("RecordingUrl", recURL)
			params.Set("RecordingDuration", "12")
			params.Set("Digits", "#")
			code, resp = e.post(t, "/channels/twilio/voice?voicemail=1", params)
			if code != http.StatusOK || !strings.Contains(resp, "<Hangup") {
				errs <- fmt.Sprintf("call %d, message: %d %s", i, code, resp)
			}
			status := url.Values{"AccountSid": {fake.AccountSID}, "CallSid": {call}, "RecordingSid": {rec},
				"RecordingStatus": {"completed"}, "RecordingUrl": {recURL}, "RecordingDuration": {"12"}}
			if code, resp := e.post(t, "/channels/twilio/status", status); code >= 300 {
				errs <- fmt.Sprintf("call %d, recording report: %d %s", i, code, resp)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d SMS and %d calls taken while PostgreSQL was down, in %s", numbers*4, calls, time.Since(start).Round(time.Millisecond))
	code, ready := readiness(e)
	if code != http.StatusOK || ready["status"] != "degraded" {
		t.Errorf("/readyz while spooling: %d %v, want 200 degraded", code, ready)
	}

	// PostgreSQL comes back; serve is killed as soon as the replay has begun
	pg.start()
	waitUntil(t, "the replay to begin", 2*time.Minute, func() bool {
		return queryIntOr(e, `SELECT count(*) FROM inbox WHERE channel = 'sms'`) > 0
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(10 * time.Second)
	handled := queryIntOr(e, `SELECT count(*) FROM inbox WHERE channel = 'sms'`)
	t.Logf("killed with %d of %d SMS replayed", handled, numbers*4)
	e2, p2 := serveOn(t, pg.url, fake, vars) // ready once the spool is empty
	waitUntil(t, "the spool to empty", 3*time.Minute, func() bool {
		code, body := readiness(e2)
		return code == http.StatusOK && body["status"] == "ready"
	})

	// exactly once, in order per person
	if n := queryInt(t, e2.pool, `SELECT count(*) FROM inbox WHERE channel = 'sms'`); n != numbers*4 {
		t.Errorf("%d SMS in the inbox, want %d", n, numbers*4)
	}
	for i, phone := range phones {
		got := queryStrings(t, e2.pool, `SELECT x.external_id FROM inbox x JOIN messages m ON m.inbox_id = x.id
			JOIN urns u ON u.id = m.urn_id WHERE u.urn = $1 AND m.direction = 'in' ORDER BY m.id`, "tel:"+phone)
		if strings.Join(got, ",") != strings.Join(sids[i], ",") {
			t.Errorf("%s: messages handled as %v, want %v", phone, got, sids[i])
		}
	}
	// every person got their replies: the last one thanks them with a case number
	// (a send the kill interrupted is taken back after River's RescueStuckJobsAfter, 3 minutes)
	waitUntil(t, "every reply sent", 6*time.Minute, func() bool {
		return queryIntOr(e2, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'queued' AND NOT inline`) == 0
	})
	got := received(fake.Messages())
	for _, phone := range phones {
		if got[phone] < 4 {
			t.Errorf("%s got %d SMS, want a reply to each of its 4", phone, got[phone])
		}
	}
	// the conversations went as if live: everyone said the same in the same order, so everyone
	// was last asked the same question
	lasts := queryStrings(t, e2.pool, `SELECT DISTINCT ON (contact_id) text FROM messages
		WHERE direction = 'out' AND channel = 'sms' ORDER BY contact_id, id DESC`)
	if distinct := slices.Compact(slices.Sorted(slices.Values(lasts))); len(lasts) != numbers || len(distinct) != 1 {
		t.Errorf("the %d conversations did not end at the same question: %q", len(lasts), distinct)
	}
	// the calls are call-back cases with their recordings, fetched
	for i, rec := range recs {
		if n := queryInt(t, e2.pool, `SELECT count(*) FROM cases c JOIN recordings r ON r.case_id = c.id
			WHERE c.call_back AND c.channel = 'voice' AND r.provider_id = $1`, rec); n != 1 {
			t.Errorf("call %d: no call-back case with recording %s", i, rec)
		}
	}
	waitUntil(t, "the recordings fetched", 2*time.Minute, func() bool {
		return queryIntOr(e2, `SELECT count(*) FROM recordings WHERE audio IS NOT NULL`) == calls
	})
	stopServe(t, p2, syscall.SIGTERM)
	entries, err := os.ReadDir(filepath.Join(data, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), "seg-") {
			if info, _ := en.Info(); info != nil && info.Size() > 0 {
				t.Errorf("spool segment %s (%d bytes) left after the replay", en.Name(), info.Size())
			}
		}
	}
}

// queryIntOr is a count, or -1 while the database does not answer.
func queryIntOr(e *twilioEnv, sql string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n int
	if err := e.pool.QueryRow(ctx, sql).Scan(&n); err != nil {
		return -1
	}
	return n
}

// queryStrings is a query's one text column, row by row.
func queryStrings(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(ctxTimeout(t), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}
