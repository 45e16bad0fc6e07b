package outreach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var baghdad = time.FixedZone("Asia/Baghdad", 3*3600)

// env is a database with a River client that only inserts: tests run the jobs themselves.
type env struct {
	t       testing.TB
	pool    *pgxpool.Pool
	svc     *Service
	clock   time.Time
	senders map[channels.Kind]*channeltest.Sender
}

func newEnv(t testing.TB) *env {
	t.Helper()
	pool := pgtest.New(t)
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, pool: pool, clock: time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC),
		senders: map[channels.Kind]*channeltest.Sender{channels.SMS: channeltest.NewSender(), channels.Telegram: channeltest.NewSender()}}
	e.svc = &Service{Pool: pool, River: rc, Location: baghdad, Now: func() time.Time { return e.clock }}
	return e
}

func (e *env) sendWorker() *SendBatchWorker {
	senders := map[channels.Kind]channels.Sender{}
	for k, s := range e.senders {
		senders[k] = s
	}
	return &SendBatchWorker{Pool: e.pool, Senders: senders, Now: func() time.Time { return e.clock }}
}

// person is one contact of the seeded population.
type person struct {
	name, lang, governorate, site, household string
	urns                                     []string
	topics                                   []string
	optedOut                                 bool   // STOP: the contact
	urnOptedOut                              string // the provider refused this URN
}

// seed makes the population and returns each person's contact ID by name.
func (e *env) seed(people ...person) map[string]int64 {
	e.t.Helper()
	ids := map[string]int64{}
	ctx := context.Background()
	for _, p := range people {
		var id int64
		var optedOut *time.Time
		if p.optedOut {
			optedOut = &e.clock
		}
		err := e.pool.QueryRow(ctx, `INSERT INTO contacts (language, governorate, site, household_id, opted_out_at)
			VALUES (nullif($1, ''), nullif($2, ''), nullif($3, ''), nullif($4, ''), $5) RETURNING id`,
			p.lang, p.governorate, p.site, p.household, optedOut).Scan(&id)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, u := range p.urns {
			var out *time.Time
			if u == p.urnOptedOut {
				out = &e.clock
			}
			scheme, _, _ := strings.Cut(u, ":")
			if _, err := e.pool.Exec(ctx, `INSERT INTO urns (urn, scheme, contact_id, opted_out_at) VALUES ($1, $2, $3, $4)`,
				u, scheme, id, out); err != nil {
				e.t.Fatal(err)
			}
		}
		for _, topic := range p.topics {
			if _, err := e.pool.Exec(ctx, `INSERT INTO subscriptions (contact_id, topic, created_at) VALUES ($1, $2, now())`, id, topic); err != nil {
				e.t.Fatal(err)
			}
		}
		ids[p.name] = id
	}
	return ids
}

type queuedJob struct {
	id   int64
	args []byte
	at   time.Time
}

// jobs takes the queued jobs of a kind (they are marked done: the test runs them).
func (e *env) jobs(kind string) []queuedJob {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `
		UPDATE river_job SET state = 'completed', finalized_at = now()
		WHERE kind = $1 AND state IN ('available', 'scheduled') RETURNING id, args, scheduled_at`, kind)
	if err != nil {
		e.t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (queuedJob, error) {
		var j queuedJob
		return j, r.Scan(&j.id, &j.args, &j.at)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(list, func(a, b queuedJob) int { return int(a.id - b.id) })
	return list
}

// start runs the queued start jobs.
func (e *env) start() {
	e.t.Helper()
	w := &StartRunWorker{Service: e.svc}
	for _, j := range e.jobs(StartRunArgs{}.Kind()) {
		var a StartRunArgs
		if err := json.Unmarshal(j.args, &a); err != nil {
			e.t.Fatal(err)
		}
		if err := w.Work(context.Background(), &river.Job[StartRunArgs]{Args: a}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// send runs the queued send jobs with w and returns what they returned.
func (e *env) send(w *SendBatchWorker) []error {
	e.t.Helper()
	var errs []error
	for _, j := range e.jobs(SendBatchArgs{}.Kind()) {
		var a SendBatchArgs
		if err := json.Unmarshal(j.args, &a); err != nil {
			e.t.Fatal(err)
		}
		errs = append(errs, w.Work(context.Background(), &river.Job[SendBatchArgs]{Args: a}))
	}
	return errs
}

// deliveries is each person's delivery of a campaign's first run: "channel/language/status".
func (e *env) deliveries(campaign int64, ids map[string]int64) map[string]string {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `
		SELECT d.contact_id, coalesce(d.channel, ''), coalesce(d.language, '-'), d.status
		FROM deliveries d JOIN campaign_runs r ON r.id = d.run_id WHERE r.campaign_id = $1`, campaign)
	if err != nil {
		e.t.Fatal(err)
	}
	byID := map[int64]string{}
	for name, id := range ids {
		byID[id] = name
	}
	out := map[string]string{}
	var id int64
	var ch, lang, status string
	_, err = pgx.ForEachRow(rows, []any{&id, &ch, &lang, &status}, func() error {
		out[byID[id]] = ch + "/" + lang + "/" + status
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func allTexts() map[string]string {
	return map[string]string{"ar": "نص عربي", "ckb": "دەقی سۆرانی", "badini": "تێکستێ بادینی", "en": "English text"}
}

func (e *env) create(spec Spec) int64 {
	e.t.Helper()
	id, err := e.svc.Create(context.Background(), spec, "cwc.test")
	if err != nil {
		e.t.Fatalf("create %q: %v", spec.Name, err)
	}
	return id
}

var population = []person{
	{name: "layla", lang: "ar", governorate: "ninewa", site: "hasansham-u3", household: "H-1", urns: []string{"tel:+9647700000001"}, topics: []string{"health"}},
	{name: "karwan", lang: "ckb", governorate: "erbil", site: "debaga", urns: []string{"telegram:1001"}, topics: []string{"health", "shelter"}},
	{name: "nareen", lang: "badini", governorate: "duhok", site: "chamishku", household: "H-3", urns: []string{"tel:+9647500000003", "telegram:1003"}},
	{name: "john", lang: "en", governorate: "erbil", urns: []string{"telegram:1004"}},
	{name: "nolang", governorate: "ninewa", site: "hasansham-u3", urns: []string{"tel:+9647700000005"}},
	{name: "stopped", lang: "ar", governorate: "ninewa", urns: []string{"tel:+9647700000006"}, optedOut: true, topics: []string{"health"}},
	{name: "blocked", lang: "ckb", governorate: "duhok", urns: []string{"telegram:1007"}, urnOptedOut: "telegram:1007"},
	{name: "twourns", lang: "ar", governorate: "duhok", urns: []string{"telegram:1008", "tel:+9647700000008"}, urnOptedOut: "telegram:1008"},
	{name: "terminal", lang: "ar", governorate: "ninewa", urns: []string{"terminal:someone"}},
}

// Audience selection on a seeded population: each condition, and combinations.
func TestAudienceSelection(t *testing.T) {
	e := newEnv(t)
	ids := e.seed(population...)
	everyone := map[string]string{
		"layla": "sms/ar/queued", "karwan": "telegram/ckb/queued", "nareen": "telegram/badini/queued",
		"john": "telegram/en/queued", "nolang": "sms/ar/queued", "stopped": "sms/ar/opted_out",
		"blocked": "telegram/ckb/opted_out", "twourns": "sms/ar/queued",
	}
	pick := func(names ...string) map[string]string {
		m := map[string]string{}
		for _, n := range names {
			m[n] = everyone[n]
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		audience Audience
		want     map[string]string
	}{
		{"everyone reachable (never a terminal)", Audience{}, everyone},
		{"language", Audience{Languages: []string{"ar"}}, pick("layla", "stopped", "twourns")},
		{"governorate", Audience{Governorates: []string{"duhok"}}, pick("nareen", "blocked", "twourns")},
		{"site", Audience{Sites: []string{"hasansham-u3"}}, pick("layla", "nolang")},
		{"channel sms", Audience{Channels: []string{"sms"}}, map[string]string{
			"layla": "sms/ar/queued", "nareen": "sms/badini/queued", "nolang": "sms/ar/queued",
			"stopped": "sms/ar/opted_out", "twourns": "sms/ar/queued"}},
		{"topic", Audience{Topics: []string{"health"}}, pick("layla", "karwan", "stopped")},
		{"households", Audience{Households: []string{"H-1", "H-3", "H-404"}}, pick("layla", "nareen")},
		{"combined", Audience{Governorates: []string{"ninewa", "erbil"}, Channels: []string{"telegram"}, Languages: []string{"ckb", "en"}},
			pick("karwan", "john")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.create(Spec{Name: tc.name, Texts: allTexts(), Audience: tc.audience, Schedule: Schedule{Now: true}})
			e.start()
			got := e.deliveries(id, ids)
			if !mapsEqual(got, tc.want) {
				t.Errorf("deliveries:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A person gets the text in their language, else along the fallback chain (Badini → Sorani →
// Arabic → English), else nothing: skipped and counted.
func TestLanguageFallbackAndSkips(t *testing.T) {
	e := newEnv(t)
	ids := e.seed(population...)
	id := e.create(Spec{Name: "Sorani and Arabic only", Texts: map[string]string{"ar": "نص", "ckb": "دەق"},
		AllowMissing: true, Schedule: Schedule{Now: true}})
	e.start()
	got := e.deliveries(id, ids)
	for name, want := range map[string]string{
		"nareen": "telegram/ckb/queued", // Badini reads Sorani
		"john":   "telegram/-/skipped",  // English has no fallback but itself
		"nolang": "sms/ar/queued",       // unknown: Arabic
	} {
		if got[name] != want {
			t.Errorf("%s: %s, want %s", name, got[name], want)
		}
	}
	errs := e.send(e.sendWorker())
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := store.RunCounts{Targeted: 8, Sent: 5, Skipped: 1, OptedOut: 2}
	if len(st.Runs) != 1 || st.Runs[0].Counts != want || st.Runs[0].State != store.RunDone || st.State != store.CampaignDone {
		t.Errorf("status %+v, want one done run counting %+v", st, want)
	}
	var sent []string
	for _, k := range []channels.Kind{channels.SMS, channels.Telegram} {
		for _, m := range e.senders[k].Sent() {
			sent = append(sent, fmt.Sprintf("%s %s %s", m.URN, m.Language, m.Text))
		}
	}
	slices.Sort(sent)
	wantSent := []string{
		"tel:+9647700000001 ar نص", "tel:+9647700000005 ar نص", "tel:+9647700000008 ar نص",
		"telegram:1001 ckb دەق", "telegram:1003 ckb دەق",
	}
	if !slices.Equal(sent, wantSent) {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(sent, "\n"), strings.Join(wantSent, "\n"))
	}
	// Sending again changes nothing: each person once per run.
	if _, err := e.svc.River.Insert(context.Background(), SendBatchArgs{RunID: st.Runs[0].ID, First: 1, Last: 1 << 40}, nil); err != nil {
		t.Fatal(err)
	}
	e.send(e.sendWorker())
	if n := len(e.senders[channels.SMS].Sent()) + len(e.senders[channels.Telegram].Sent()); n != 5 {
		t.Errorf("%d messages after sending the run again, want 5", n)
	}
}

// pausingSender pauses (or cancels) the campaign after n messages, as a team member would
// while the run goes on.
type pausingSender struct {
	*channeltest.Sender
	mu     sync.Mutex
	n      int
	action func() error
}

func (s *pausingSender) Send(ctx context.Context, m channels.Outbound) (channels.SendResult, error) {
	res, err := s.Sender.Send(ctx, m)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n--
	if s.n == 0 {
		if aerr := s.action(); aerr != nil {
			panic(aerr)
		}
	}
	return res, err
}

func bulk(n int, lang string) []person {
	var out []person
	for i := range n {
		out = append(out, person{name: fmt.Sprintf("p%d", i), lang: lang, urns: []string{fmt.Sprintf("tel:+96477%08d", i)}})
	}
	return out
}

// Pause stops a run between two sends; resume goes on with the others, nobody twice; cancel
// stops it for good.
func TestPauseResumeCancel(t *testing.T) {
	e := newEnv(t)
	e.seed(bulk(30, "ar")...)
	ctx := context.Background()
	id := e.create(Spec{Name: "winter kits", Texts: allTexts(), Schedule: Schedule{Now: true}})
	e.start()
	ps := &pausingSender{Sender: e.senders[channels.SMS], n: 10, action: func() error { return e.svc.Pause(ctx, id) }}
	w := e.sendWorker()
	w.Senders[channels.SMS], w.CheckEvery = ps, time.Nanosecond
	errs := e.send(w)
	var snooze *river.JobSnoozeError
	if len(errs) != 1 || !errors.As(errs[0], &snooze) {
		t.Fatalf("a paused run's job returned %v, want a snooze", errs)
	}
	if n := len(ps.Sent()); n != 10 {
		t.Errorf("%d sent before the pause took effect, want 10", n)
	}
	st, _ := e.svc.Get(ctx, id)
	if st.State != store.CampaignPaused || st.Runs[0].State != store.RunPaused || st.Runs[0].Counts.Queued != 20 {
		t.Errorf("after pause: %s, run %s %+v", st.State, st.Runs[0].State, st.Runs[0].Counts)
	}

	// Resume: the snoozed job is brought forward and sends the other 20.
	var scheduled int
	if _, err := e.pool.Exec(ctx, `UPDATE river_job SET state = 'scheduled', scheduled_at = now() + interval '30 seconds', finalized_at = NULL
		WHERE kind = $1`, SendBatchArgs{}.Kind()); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND scheduled_at <= now()`,
		SendBatchArgs{}.Kind()).Scan(&scheduled); err != nil || scheduled != 1 {
		t.Errorf("resuming did not bring the send job forward: %d %v", scheduled, err)
	}
	ps.n, ps.action = 5, func() error { return e.svc.Cancel(ctx, id) }
	if errs := e.send(w); len(errs) != 1 || errs[0] != nil {
		t.Fatalf("after resume and cancel: %v", errs)
	}
	st, _ = e.svc.Get(ctx, id)
	want := store.RunCounts{Targeted: 30, Sent: 15, Cancelled: 15}
	if st.State != store.CampaignCancelled || st.Runs[0].State != store.RunCancelled || st.Runs[0].Counts != want {
		t.Errorf("after cancel: %s, run %s %+v, want %+v", st.State, st.Runs[0].State, st.Runs[0].Counts, want)
	}
	seen := map[channels.URN]int{}
	for _, m := range ps.Sent() {
		seen[m.URN]++
		if seen[m.URN] > 1 {
			t.Errorf("%s got the campaign twice", m.URN)
		}
	}
	if err := e.svc.Resume(ctx, id); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("resuming a cancelled campaign: %v", err)
	}
}

// A recurring campaign in Baghdad time, with the clock moved across a day: each occurrence
// makes one run, even when its job runs twice (two nodes), and queues the next.
func TestCronAcrossADay(t *testing.T) {
	e := newEnv(t)
	e.seed(bulk(3, "ckb")...)
	ctx := context.Background()
	// 05:00 UTC is 08:00 in Baghdad.
	id := e.create(Spec{Name: "hygiene", Texts: allTexts(), Schedule: Schedule{Cron: "0 9,18 * * *"}})
	var due []string
	for range 3 {
		jobs := e.jobs(StartRunArgs{}.Kind())
		if len(jobs) != 1 {
			t.Fatalf("%d start jobs queued, want 1", len(jobs))
		}
		var a StartRunArgs
		if err := json.Unmarshal(jobs[0].args, &a); err != nil {
			t.Fatal(err)
		}
		if !jobs[0].at.Equal(a.DueAt) {
			t.Errorf("job for %s scheduled at %s", a.DueAt, jobs[0].at)
		}
		due = append(due, a.DueAt.In(baghdad).Format("Jan 2 15:04"))
		e.clock = a.DueAt
		w := &StartRunWorker{Service: e.svc}
		for range 2 { // the same occurrence twice: one run
			if err := w.Work(ctx, &river.Job[StartRunArgs]{Args: a}); err != nil {
				t.Fatal(err)
			}
		}
		if errs := e.send(e.sendWorker()); len(errs) != 1 || errs[0] != nil {
			t.Fatalf("send: %v", errs)
		}
	}
	if want := []string{"Nov 23 09:00", "Nov 23 18:00", "Nov 24 09:00"}; !slices.Equal(due, want) {
		t.Errorf("occurrences %v, want %v", due, want)
	}
	st, _ := e.svc.Get(ctx, id)
	if len(st.Runs) != 3 || st.State != store.CampaignScheduled || st.NextRunAt == nil ||
		st.NextRunAt.In(baghdad).Format("Jan 2 15:04") != "Nov 24 18:00" {
		t.Errorf("after a day: %d runs, state %s, next %v", len(st.Runs), st.State, st.NextRunAt)
	}
	if n := len(e.senders[channels.SMS].Sent()); n != 9 {
		t.Errorf("%d messages, want 3 people × 3 runs", n)
	}
	// Paused, an occurrence is skipped and the next still queued.
	if err := e.svc.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.clock = e.clock.Add(9 * time.Hour)
	e.start()
	st, _ = e.svc.Get(ctx, id)
	if len(st.Runs) != 3 || len(e.jobs(StartRunArgs{}.Kind())) != 1 {
		t.Errorf("a paused recurring campaign ran (%d runs) or lost its next occurrence", len(st.Runs))
	}
}

// Specs are refused with a message naming the field.
func TestSpecRefusals(t *testing.T) {
	now := time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	good := func() Spec {
		return Spec{Name: "x", Texts: allTexts(), Schedule: Schedule{Now: true}}
	}
	for _, tc := range []struct {
		name, field, says string
		change            func(*Spec)
	}{
		{"no name", "name", "required", func(s *Spec) { s.Name = " " }},
		{"unknown topic", "topic", "not a topic", func(s *Spec) { s.Topic = "weather" }},
		{"no texts", "texts", "at least one", func(s *Spec) { s.Texts = nil }},
		{"bad language", "texts", `"fr" is not a language`, func(s *Spec) { s.Texts["fr"] = "x" }},
		{"link", "texts.ar", "link", func(s *Spec) { s.Texts["ar"] = "سجل هنا https://example.org/form" }},
		{"bare domain", "texts.en", "link", func(s *Spec) { s.Texts["en"] = "visit register-aid.com now" }},
		{"missing language", "texts", "no text in badini, en", func(s *Spec) { delete(s.Texts, "badini"); s.Texts["en"] = "  " }},
		{"no schedule", "schedule", "exactly one", func(s *Spec) { s.Schedule = Schedule{} }},
		{"two schedules", "schedule", "exactly one", func(s *Spec) { s.Schedule.Cron = "@daily" }},
		{"past", "schedule.at", "in the past", func(s *Spec) { s.Schedule = Schedule{At: &past} }},
		{"bad cron", "schedule.cron", "expected exactly 5 fields", func(s *Spec) { s.Schedule = Schedule{Cron: "0 9 * *"} }},
		{"cron with TZ", "schedule.cron", "SAWT_TIMEZONE", func(s *Spec) { s.Schedule = Schedule{Cron: "TZ=UTC 0 9 * * *"} }},
		{"voice channel", "audience.channels", "cannot carry", func(s *Spec) { s.Audience.Channels = []string{"voice"} }},
		{"bad audience language", "audience.languages", "not a language", func(s *Spec) { s.Audience.Languages = []string{"kurdish"} }},
		{"unknown audience topic", "audience.topics", "not a topic", func(s *Spec) { s.Audience.Topics = []string{"news"} }},
		{"empty site", "audience.sites", "empty value", func(s *Spec) { s.Audience.Sites = []string{""} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.change(&s)
			err := s.Validate(now, func(t string) bool { return t == "health" })
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Message, tc.says) {
				t.Errorf("got %v, want a refusal of %s saying %q", err, tc.field, tc.says)
			}
		})
	}
	s := good()
	s.Texts["en"] = "see https://example.org"
	s.AllowLinks = true
	delete(s.Texts, "badini")
	s.AllowMissing = true
	if err := s.Validate(now, nil); err != nil {
		t.Errorf("allowed link and missing language refused: %v", err)
	}
}

// A delivery report of a broadcast SMS reaches its delivery.
func TestBroadcastDeliveryReport(t *testing.T) {
	e := newEnv(t)
	e.seed(bulk(1, "ar")...)
	ctx := context.Background()
	id := e.create(Spec{Name: "r", Texts: allTexts(), Schedule: Schedule{Now: true}})
	e.start()
	w := e.sendWorker()
	w.Senders[channels.SMS] = reportingSender{}
	e.send(w)
	if err := store.UpdateDelivery(ctx, e.pool, "SM-part-2", channels.StatusDelivered, "", e.clock); err != nil {
		t.Fatal(err)
	}
	st, _ := e.svc.Get(ctx, id)
	if st.Runs[0].Counts.Delivered != 1 {
		t.Errorf("counts %+v, want one delivered", st.Runs[0].Counts)
	}
}

type reportingSender struct{}

func (reportingSender) Send(context.Context, channels.Outbound) (channels.SendResult, error) {
	return channels.SendResult{ProviderID: "SM-part-1", ProviderIDs: []string{"SM-part-1", "SM-part-2"}, Status: channels.StatusSent}, nil
}
