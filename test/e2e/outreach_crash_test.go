package e2e

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store/pgtest"
)

// broadcastWorkers is SAWT_BROADCAST_WORKERS in these tests: how many send jobs of the
// "broadcast" queue one serve runs at once.
const broadcastWorkers = 8

// campaignTexts is a short text in every language (none refused as missing), each one SMS
// segment, without links.
const campaignTexts = `{"ar": "تذكير: توزيع المياه غدا صباحا.", "ckb": "بیرخستنەوە: دابەشکردنی ئاو سبەینێ بەیانی.",
	"badini": "بیرئینان: بەلاڤکرنا ئاڤێ سوبە سپێدێ.", "en": "Reminder: water distribution tomorrow morning."}`

// newTwilioFake starts a fake Twilio API with fresh credentials, for one or more serves.
func newTwilioFake(t *testing.T) *channeltest.TwilioAPI {
	t.Helper()
	return channeltest.NewTwilioAPI(t, "AC"+randomHex(t, 32), randomHex(t, 32))
}

// serveOn is startTwilio on a given database and fake Twilio API, so that a test can run
// several serves, one after the other or side by side, on the same database and provider.
// vars are added to (or replace) serve's environment.
func serveOn(t *testing.T, dbURL string, fake *channeltest.TwilioAPI, vars map[string]string) (*twilioEnv, *proc) {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":           dbURL,
		"SAWT_HTTP_ADDR":         "127.0.0.1:0",
		"SAWT_ADMIN_ADDR":        "127.0.0.1:0",
		"SAWT_PUBLIC_URL":        twilioPublic,
		"TWILIO_ACCOUNT_SID":     fake.AccountSID,
		"TWILIO_AUTH_TOKEN":      fake.AuthToken,
		"TWILIO_FROM":            "+9647800000001",
		"TWILIO_API_URL":         fake.URL,
		"TWILIO_SMS_RATE_LIMIT":  "100",
		"SAWT_BROADCAST_WORKERS": strconv.Itoa(broadcastWorkers),
	}
	for k, v := range vars {
		env[k] = v
	}
	p := start(t, env, "", "serve")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve (PID %d) log, last lines:\n%s", p.cmd.Process.Pid, lastLines(p.stderr.String(), 40))
		}
	})
	public, admin := waitReady(t, p, 2*time.Minute)
	return &twilioEnv{fake: fake, dbURL: dbURL, pool: openPool(t, dbURL), public: public, admin: admin,
		client: &http.Client{Timeout: 30 * time.Second}}, p
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// seedPhones adds n Arabic-speaking people of a governorate, each with a phone number, and
// returns their numbers.
func seedPhones(t *testing.T, e *twilioEnv, n int, governorate string) []string {
	t.Helper()
	rows, err := e.pool.Query(ctxTimeout(t), `
		WITH c AS (
			INSERT INTO contacts (language, governorate)
			SELECT 'ar', $2 FROM generate_series(1, $1) RETURNING id)
		INSERT INTO urns (urn, scheme, contact_id)
		SELECT 'tel:+964770' || lpad(id::text, 7, '0'), 'tel', id FROM c RETURNING urn`, n, governorate)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var numbers []string
	for rows.Next() {
		var urn string
		if err := rows.Scan(&urn); err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, strings.TrimPrefix(urn, "tel:"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(numbers) != n {
		t.Fatalf("seeded %d numbers, want %d", len(numbers), n)
	}
	return numbers
}

// cwcToken makes an API token of the CWC role with sawt tokens create.
func cwcToken(t *testing.T, dbURL string) string {
	t.Helper()
	code, token, errOut := runSawt(t, map[string]string{"DATABASE_URL": dbURL}, "", "tokens", "create", "cwc-e2e", "--role", "cwc")
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "sawt_") {
		t.Fatalf("tokens create: %d %q %s", code, token, errOut)
	}
	return token
}

// createCampaign makes a campaign of campaignTexts through the API and returns its ID.
func createCampaign(t *testing.T, e *twilioEnv, token, name, audience, schedule string) int64 {
	t.Helper()
	body := fmt.Sprintf(`{"name": %q, "texts": %s, "audience": %s, "schedule": %s}`, name, campaignTexts, audience, schedule)
	code, out := e.api(t, "POST", "/api/v1/campaigns", token, body)
	if code != 201 {
		t.Fatalf("create campaign %q: %d %v", name, code, out)
	}
	return int64(out["id"].(float64))
}

// campaignRun reads a campaign through the API: its state, and its one run's state and
// counts (run state "" while it has no run; the test fails if it has several).
func campaignRun(t *testing.T, e *twilioEnv, token string, id int64) (state, runState string, counts map[string]any) {
	t.Helper()
	code, st := e.api(t, "GET", fmt.Sprintf("/api/v1/campaigns/%d", id), token, "")
	if code != 200 {
		t.Fatalf("GET campaign %d: %d %v", id, code, st)
	}
	state, _ = st["state"].(string)
	runs, _ := st["runs"].([]any)
	switch len(runs) {
	case 0:
		return state, "", nil
	case 1:
		run := runs[0].(map[string]any)
		counts, _ = run["counts"].(map[string]any)
		runState, _ = run["state"].(string)
		return state, runState, counts
	}
	t.Fatalf("campaign %d has %d runs, want one: %v", id, len(runs), runs)
	return
}

// waitUntil polls cond every 200ms until it holds, failing the test after timeout.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// received counts the messages the fake accepted for each number.
func received(msgs []channeltest.TwilioMessage) map[string]int {
	n := map[string]int{}
	for _, m := range msgs {
		n[m.To]++
	}
	return n
}

// waitReached waits until every number has received at least one message, and fails the
// test, saying who is missing, if that takes longer than timeout, or if over says (twice,
// a moment apart) that nothing more is to be sent. over may be nil.
func waitReached(t *testing.T, fake *channeltest.TwilioAPI, numbers []string, timeout time.Duration, over func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	overSince := time.Time{}
	for {
		msgs := fake.Messages()
		got := received(msgs)
		var missing []string
		for _, n := range numbers {
			if got[n] == 0 {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return
		}
		why := fmt.Sprintf("after %v", timeout)
		if over != nil && over() {
			if overSince.IsZero() {
				overSince = time.Now()
			} else if time.Since(overSince) > 2*time.Second {
				why = "with the sending over"
				deadline = time.Now()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s, %d of %d numbers have not got the campaign, e.g. %v (%d messages sent)",
				why, len(missing), len(numbers), missing[:min(10, len(missing))], len(msgs))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// runOver is a waitReached over: the campaign's runs are all done or cancelled.
func runOver(t *testing.T, e *twilioEnv, id int64) func() bool {
	return func() bool {
		return queryInt(t, e.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1 AND state IN ('done', 'cancelled')`, id) > 0 &&
			queryInt(t, e.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1 AND state NOT IN ('done', 'cancelled')`, id) == 0
	}
}

// checkReceived reports the numbers that got nothing and those that got more than most, and
// returns those that got more than one message.
func checkReceived(t *testing.T, msgs []channeltest.TwilioMessage, numbers []string, most int) (twice []string) {
	t.Helper()
	got := received(msgs)
	var missing, tooMany []string
	for _, n := range numbers {
		switch c := got[n]; {
		case c == 0:
			missing = append(missing, n)
		case c > most:
			tooMany = append(tooMany, fmt.Sprintf("%s×%d", n, c))
		case c > 1:
			twice = append(twice, n)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d numbers never got the campaign, e.g. %v", len(missing), len(numbers), missing[:min(10, len(missing))])
	}
	if len(tooMany) > 0 {
		t.Errorf("%d numbers got the campaign more than %d times, e.g. %v", len(tooMany), most, tooMany[:min(10, len(tooMany))])
	}
	want := map[string]bool{}
	for _, n := range numbers {
		want[n] = true
	}
	for to := range got {
		if !want[to] {
			t.Errorf("%s, not in the audience, got %d messages", to, got[to])
		}
	}
	return twice
}

// TestCampaignSurvivesKill: serve is killed (SIGKILL) in the middle of a campaign to 5,000
// people and started again on the same database. The campaign goes on where it stopped:
// everybody gets it, and the only people who get it twice are those whose message was in
// flight at the kill: taken by Twilio but not yet marked sent.
//
// River takes back the send jobs the killed serve left running when its rescuer finds them
// stuck: RescueStuckJobsAfter (3 minutes, app/app.go) after they started, which is longer
// than any broadcast job's own timeout (outreach.JobTimeout) — River waits for both. So that
// the test takes a minute, not four, it moves those jobs' attempted_at 3 minutes back before
// the restart; River's own rescuer, in the new serve, then takes them back as it would three
// minutes later. SAWT_E2E_REAL_RESCUE=1 leaves them alone and waits the real delay.
func TestCampaignSurvivesKill(t *testing.T) {
	t.Parallel()
	const (
		people    = 5000
		rate      = 250 // SMS a second: the run takes 20s
		killAfter = 1000
	)
	realRescue := os.Getenv("SAWT_E2E_REAL_RESCUE") != ""
	fake := newTwilioFake(t)
	dbURL := pgtest.NewURL(t)
	vars := map[string]string{"TWILIO_SMS_RATE_LIMIT": strconv.Itoa(rate)}
	e, p := serveOn(t, dbURL, fake, vars)
	numbers := seedPhones(t, e, people, "ninewa")
	token := cwcToken(t, dbURL)
	id := createCampaign(t, e, token, "Water distribution", `{"channels": ["sms"]}`, `{"now": true}`)

	fake.WaitMessages(t, killAfter, 3*time.Minute)
	killServe(t, p)
	// Requests serve had sent before it died are still answered (and their messages kept) by
	// the fake: wait until none is being answered.
	time.Sleep(time.Second)
	waitUntil(t, "the fake to answer what the killed serve sent", 30*time.Second, func() bool {
		for _, r := range fake.Requests("/Messages.json") {
			if r.Status == 0 {
				return false
			}
		}
		return true
	})
	atKill := len(fake.Messages())
	if atKill >= people-1000 {
		t.Fatalf("%d of %d messages were sent before serve was killed: too late to test a crash mid-run", atKill, people)
	}
	var runID int64
	if err := e.pool.QueryRow(ctxTimeout(t), `SELECT id FROM campaign_runs WHERE campaign_id = $1`, id).Scan(&runID); err != nil {
		t.Fatalf("the run of campaign %d: %v", id, err)
	}
	markedAtKill := queryInt(t, e.pool, `SELECT count(*) FROM deliveries WHERE run_id = $1 AND status <> 'queued'`, runID)
	running := queryInt(t, e.pool, `SELECT count(*) FROM river_job WHERE kind = 'broadcast_send' AND state = 'running'`)
	t.Logf("killed after %d messages; %d deliveries marked sent, %d send jobs left running", atKill, markedAtKill, running)
	if running > broadcastWorkers {
		t.Errorf("%d send jobs running at the kill, more than SAWT_BROADCAST_WORKERS=%d", running, broadcastWorkers)
	}

	if !realRescue {
		if _, err := e.pool.Exec(ctxTimeout(t), `UPDATE river_job SET attempted_at = attempted_at - interval '3 minutes'
			WHERE state = 'running'`); err != nil {
			t.Fatal(err)
		}
	}
	restarted := time.Now()
	e, p = serveOn(t, dbURL, fake, vars)
	wait := 4 * time.Minute
	if realRescue {
		wait = 8 * time.Minute
	}
	waitReached(t, fake, numbers, wait, runOver(t, e, id))
	t.Logf("everybody reached %v after the restart", time.Since(restarted).Round(time.Second))

	waitUntil(t, "the run and the campaign to be done", time.Minute, func() bool {
		state, runState, _ := campaignRun(t, e, token, id)
		return state == "done" && runState == "done"
	})
	msgs := fake.Messages() // the run is done: nothing more is sent
	// Each send job sends one message at a time and marks it sent right after Twilio took it,
	// so a kill can lose the mark of at most one message per running job: at most
	// SAWT_BROADCAST_WORKERS people can get the campaign twice, and nobody three times.
	twice := checkReceived(t, msgs, numbers, 2)
	// Those the killed serve sent but had not marked are exactly those the new one sent again.
	sentBefore := 0
	for _, m := range msgs {
		if m.At.Before(restarted) {
			sentBefore++
		}
	}
	unmarked := int64(sentBefore) - markedAtKill
	t.Logf("%d people got the campaign twice (at most %d allowed); the killed serve had %d messages taken by Twilio, "+
		"%d not marked sent", len(twice), broadcastWorkers, sentBefore, unmarked)
	if len(twice) > broadcastWorkers {
		t.Errorf("%d people got the campaign twice, more than SAWT_BROADCAST_WORKERS=%d, e.g. %v", len(twice), broadcastWorkers,
			twice[:min(10, len(twice))])
	}
	if unmarked < 0 || unmarked > running {
		t.Errorf("the killed serve had %d messages taken by Twilio but not marked sent: want 0 to %d, one per running send job",
			unmarked, running)
	}
	if int64(len(twice)) != unmarked {
		t.Errorf("%d people got the campaign twice, but %d messages were taken by Twilio and not marked at the kill",
			len(twice), unmarked)
	}
	// The first copy of each duplicate went out before the kill.
	first := map[string]time.Time{}
	for _, m := range msgs {
		if _, ok := first[m.To]; !ok {
			first[m.To] = m.At
		}
	}
	for _, n := range twice {
		if !first[n].Before(restarted) {
			t.Errorf("%s got the campaign twice, the first time at %v, after the restart at %v", n, first[n], restarted)
		}
	}

	// The database: every delivery sent, the run and the campaign done; the API says so.
	if n := queryInt(t, e.pool, `SELECT count(*) FROM deliveries WHERE run_id = $1`, runID); n != people {
		t.Errorf("%d deliveries in the run, want %d", n, people)
	}
	if n := queryInt(t, e.pool, `SELECT count(*) FROM deliveries WHERE run_id = $1 AND status NOT IN ('sent', 'delivered')`, runID); n != 0 {
		t.Errorf("%d deliveries of the run are neither sent nor delivered", n)
	}
	if n := queryInt(t, e.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1 AND state = 'done'
		AND finished_at IS NOT NULL`, id); n != 1 {
		t.Errorf("%d done runs of the campaign, want 1", n)
	}
	if n := queryInt(t, e.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1`, id); n != 1 {
		t.Errorf("%d runs of the campaign, want 1", n)
	}
	state, runState, counts := campaignRun(t, e, token, id)
	if state != "done" || runState != "done" {
		t.Errorf("campaign %s, run %s; want done, done", state, runState)
	}
	if counts["targeted"] != float64(people) || counts["sent"] != float64(people) || counts["queued"] != 0.0 ||
		counts["failed"] != 0.0 || counts["cancelled"] != 0.0 {
		t.Errorf("counts %v, want %d targeted and sent", counts, people)
	}
	stopServe(t, p, syscall.SIGTERM)
}

// TestScheduledCampaignFiresOnce: two serves on one database, each with its job workers and
// scheduler. A campaign scheduled for a time a few seconds ahead starts at that time, once:
// one run, one message to each person. A recurring one (every minute) has one run for its
// first occurrence and is then cancelled. A time more than a minute past is refused.
func TestScheduledCampaignFiresOnce(t *testing.T) {
	t.Parallel()
	fake := newTwilioFake(t)
	dbURL := pgtest.NewURL(t)
	vars := map[string]string{"TWILIO_SMS_RATE_LIMIT": "500"}
	e1, p1 := serveOn(t, dbURL, fake, vars)
	e2, p2 := serveOn(t, dbURL, fake, vars)
	oneOff := seedPhones(t, e1, 300, "ninewa")
	recurring := seedPhones(t, e1, 50, "duhok")
	token := cwcToken(t, dbURL)

	past := time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339)
	code, out := e2.api(t, "POST", "/api/v1/campaigns", token, fmt.Sprintf(`{"name": "Too late", "texts": %s,
		"audience": {"channels": ["sms"]}, "schedule": {"at": %q}}`, campaignTexts, past))
	if code != 400 || out["field"] != "schedule.at" {
		t.Errorf("a campaign for %s (2 minutes ago): %d %v, want 400 on schedule.at", past, code, out)
	}

	at := time.Now().Add(8 * time.Second).UTC().Truncate(time.Second)
	id := createCampaign(t, e1, token, "Water distribution", `{"governorates": ["ninewa"], "channels": ["sms"]}`,
		fmt.Sprintf(`{"at": %q}`, at.Format(time.RFC3339)))
	cronID := createCampaign(t, e2, token, "Every minute", `{"governorates": ["duhok"], "channels": ["sms"]}`,
		`{"cron": "* * * * *"}`)
	if n := len(fake.Messages()); n != 0 && time.Now().Before(at) {
		t.Errorf("%d messages sent before the campaign's time", n)
	}
	if n := queryInt(t, e1.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1`, id); n != 0 && time.Now().Before(at) {
		t.Errorf("the campaign has %d runs before its time", n)
	}

	waitReached(t, fake, oneOff, 2*time.Minute, runOver(t, e1, id))
	waitUntil(t, "the scheduled campaign to be done", time.Minute, func() bool {
		state, runState, _ := campaignRun(t, e2, token, id) // asked of the other serve
		return state == "done" && runState == "done"
	})

	// The recurring one: its first occurrence is at the next minute.
	waitReached(t, fake, recurring, 3*time.Minute, nil)
	var due time.Time
	if err := e1.pool.QueryRow(ctxTimeout(t), `SELECT min(due_at) FROM campaign_runs WHERE campaign_id = $1`, cronID).Scan(&due); err != nil {
		t.Fatalf("the first run of the recurring campaign: %v", err)
	}
	waitUntil(t, "the recurring campaign's first run to be done", time.Minute, func() bool {
		return queryInt(t, e1.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1 AND due_at = $2 AND state = 'done'`,
			cronID, due) == 1
	})
	if code, out := e1.api(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/cancel", cronID), token, ""); code != 200 || out["state"] != "cancelled" {
		t.Errorf("cancel the recurring campaign: %d %v", code, out)
	}
	// Give a second start, or a second sending, by the other serve the time to show.
	time.Sleep(5 * time.Second)
	msgs := fake.Messages()

	var oneOffMsgs, firstOccurrence, early []channeltest.TwilioMessage
	isOneOff := map[string]bool{}
	for _, n := range oneOff {
		isOneOff[n] = true
	}
	for _, m := range msgs {
		switch {
		case isOneOff[m.To]:
			oneOffMsgs = append(oneOffMsgs, m)
			if m.At.Before(at) {
				early = append(early, m)
			}
		case m.At.Before(due.Add(time.Minute)): // a second occurrence, if any, is left out
			firstOccurrence = append(firstOccurrence, m)
		}
	}
	if len(early) > 0 {
		t.Errorf("%d people got the campaign before its time %v, e.g. %s at %v", len(early), at,
			early[0].To, early[0].At.Format(time.RFC3339Nano))
	}
	if twice := checkReceived(t, oneOffMsgs, oneOff, 1); len(twice) > 0 {
		t.Errorf("%d people got the scheduled campaign twice, e.g. %v", len(twice), twice[:min(10, len(twice))])
	}
	if twice := checkReceived(t, firstOccurrence, recurring, 1); len(twice) > 0 {
		t.Errorf("%d people got the first occurrence of the recurring campaign twice, e.g. %v", len(twice), twice[:min(10, len(twice))])
	}
	if n := queryInt(t, e1.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1`, id); n != 1 {
		t.Errorf("%d runs of the scheduled campaign, want 1", n)
	}
	if n := queryInt(t, e1.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1 AND due_at = $2`, id, at); n != 1 {
		t.Errorf("no run of the scheduled campaign is due at %v", at)
	}
	if n := queryInt(t, e1.pool, `SELECT count(*) FROM campaign_runs WHERE campaign_id = $1 AND due_at = $2`, cronID, due); n != 1 {
		t.Errorf("%d runs of the recurring campaign due at %v, want 1", n, due)
	}
	if due.Second() != 0 || due.Nanosecond() != 0 {
		t.Errorf("the recurring campaign's first run is due at %v, not at a minute", due)
	}
	if n := queryInt(t, e1.pool, `SELECT count(*) FROM deliveries d JOIN campaign_runs r ON r.id = d.run_id
		WHERE r.campaign_id = $1 AND d.status <> 'sent'`, id); n != 0 {
		t.Errorf("%d deliveries of the scheduled campaign not sent", n)
	}
	var starters []string
	rows, err := e1.pool.Query(ctxTimeout(t), `SELECT state || ' attempt ' || attempt || ' by ' || coalesce(attempted_by[cardinality(attempted_by)], '-')
		FROM river_job WHERE kind = 'campaign_start' AND (args->>'campaign_id')::bigint = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		starters = append(starters, s)
	}
	rows.Close()
	t.Logf("start jobs of the scheduled campaign: %v (serves: %s, %s)", starters, riverClientID(t, p1), riverClientID(t, p2))
	if len(starters) != 1 || !strings.HasPrefix(starters[0], "completed attempt 1 ") {
		t.Errorf("start jobs of the scheduled campaign: %v, want one, completed at its first attempt", starters)
	}
	stopServe(t, p1, syscall.SIGTERM)
	stopServe(t, p2, syscall.SIGTERM)
}

// TestBroadcastKeepsToRateLimit: a campaign of 600 SMS with TWILIO_SMS_RATE_LIMIT=100 reaches
// Twilio no faster than the limit allows, as the fake saw the messages arrive.
//
// The bound: the Twilio channel's limiter (channels/twilio.New) is a token bucket of rate
// limit and burst max(1, int(limit)) = limit, shared by every sender of the serve, so the
// times it lets messages go hold at most burst + limit×T in any span T. The fake sees each
// message a little later than the limiter let it go; but a send job sends one message at a
// time (it takes its next slot only once Twilio answered the last), so of the messages that
// arrive in a span, at most one per job was let go before the span began. Hence:
//
//   - in any sliding 1-second window, at most burst + limit + SAWT_BROADCAST_WORKERS
//     = 100 + 100 + 8 messages arrive;
//   - between the first arrival and the last, all the n messages but at most one per job
//     were let go, so that takes at least (n - burst - SAWT_BROADCAST_WORKERS)/limit = 4.92s
//     (5s as the limiter sees it).
func TestBroadcastKeepsToRateLimit(t *testing.T) {
	t.Parallel()
	const (
		n     = 600
		limit = 100
		burst = limit // channels/twilio: rate.NewLimiter(rate.Limit(SMSRate), max(1, int(SMSRate)))
	)
	fake := newTwilioFake(t)
	dbURL := pgtest.NewURL(t)
	e, p := serveOn(t, dbURL, fake, map[string]string{"TWILIO_SMS_RATE_LIMIT": strconv.Itoa(limit)})
	numbers := seedPhones(t, e, n, "ninewa")
	token := cwcToken(t, dbURL)
	id := createCampaign(t, e, token, "Rate", `{"channels": ["sms"]}`, `{"now": true}`)
	waitReached(t, fake, numbers, 3*time.Minute, runOver(t, e, id))
	waitUntil(t, "the campaign to be done", time.Minute, func() bool {
		state, runState, _ := campaignRun(t, e, token, id)
		return state == "done" && runState == "done"
	})
	msgs := fake.Messages()
	if twice := checkReceived(t, msgs, numbers, 1); len(twice) > 0 {
		t.Errorf("%d people got the campaign twice, e.g. %v", len(twice), twice[:min(10, len(twice))])
	}
	if len(msgs) < 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	times := make([]time.Time, len(msgs))
	for i, m := range msgs {
		if m.NumSegments != 1 {
			t.Errorf("%s: a message of %d segments (each takes a slot of the rate): %q", m.To, m.NumSegments, m.Body)
		}
		times[i] = m.At
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })

	// The most messages in any window [times[i], times[i]+1s).
	most, mostAt := 0, time.Time{}
	j := 0
	for i := range times {
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		if j-i > most {
			most, mostAt = j-i, times[i]
		}
	}
	span := times[len(times)-1].Sub(times[0])
	bound := burst + limit + broadcastWorkers
	minSpan := time.Duration(float64(n-burst-broadcastWorkers) / limit * float64(time.Second))
	t.Logf("%d messages in %v (%.1f a second); at most %d in one second, from %v after the first (bound %d)",
		len(times), span.Round(time.Millisecond), float64(len(times)-1)/span.Seconds(), most,
		mostAt.Sub(times[0]).Round(time.Millisecond), bound)
	if most > bound {
		t.Errorf("%d messages within one second from %v, more than burst %d + limit %d + %d send jobs",
			most, mostAt.Format(time.RFC3339Nano), burst, limit, broadcastWorkers)
	}
	if span < minSpan {
		t.Errorf("%d messages went in %v, faster than (n - burst - send jobs)/limit = %v allows", len(times), span, minSpan)
	}
	stopServe(t, p, syscall.SIGTERM)
}
