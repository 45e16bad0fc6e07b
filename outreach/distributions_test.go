package outreach

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

func (e *env) withTexts() {
	e.t.Helper()
	texts, err := locales.Default()
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc.Texts = texts
}

// alerts runs the queued alert jobs that are due and returns what they were; those not due
// yet stay queued.
func (e *env) alerts() []AlertArgs {
	e.t.Helper()
	var ran []AlertArgs
	w := &AlertWorker{Service: e.svc}
	rows, err := e.pool.Query(context.Background(), `
		UPDATE river_job SET state = 'completed', finalized_at = now()
		WHERE kind = $1 AND state IN ('available', 'scheduled') AND scheduled_at <= $2 RETURNING args`,
		AlertArgs{}.Kind(), e.clock)
	if err != nil {
		e.t.Fatal(err)
	}
	var list [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			e.t.Fatal(err)
		}
		list = append(list, b)
	}
	if rows.Err() != nil {
		e.t.Fatal(rows.Err())
	}
	for _, b := range list {
		var a AlertArgs
		if err := json.Unmarshal(b, &a); err != nil {
			e.t.Fatal(err)
		}
		if err := w.Work(context.Background(), &river.Job[AlertArgs]{Args: a}); err != nil {
			e.t.Fatal(err)
		}
		ran = append(ran, a)
	}
	return ran
}

// scheduledAlerts lists the alert jobs still waiting: "alert@time" in Baghdad.
func (e *env) scheduledAlerts() []string {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `
		SELECT args->>'alert', scheduled_at FROM river_job WHERE kind = $1 AND state IN ('available', 'scheduled')
		ORDER BY scheduled_at`, AlertArgs{}.Kind())
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var alert string
		var at time.Time
		if err := rows.Scan(&alert, &at); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, alert+"@"+at.In(baghdad).Format("01-02 15:04"))
	}
	return out
}

// sentTo is what the SMS sender sent since the last call, by phone number.
func (e *env) sentTo(from int) (map[string]channels.Outbound, int) {
	e.t.Helper()
	all := e.senders[channels.SMS].Sent()
	out := map[string]channels.Outbound{}
	for _, m := range all[from:] {
		if _, twice := out[string(m.URN)]; twice {
			e.t.Errorf("%s got two messages", m.URN)
		}
		out[string(m.URN)] = m
	}
	return out, len(all)
}

var codePattern = regexp.MustCompile(`\b\d{6}\b`)

// A distribution's households are told at import, reminded 24 and 2 hours before, told of a
// change and of the cancellation: each alert once per household, in their language, saying
// assistance is free, with a code that proves it is ours.
func TestDistributionAlerts(t *testing.T) {
	e := newEnv(t)
	e.withTexts()
	ctx := context.Background()
	// Layla chose Arabic herself; the list says Sorani: her own choice stands.
	ids := e.seed(person{name: "layla", lang: "ar", urns: []string{"tel:+9647700000001"}})
	e.clock = time.Date(2026, 12, 7, 8, 0, 0, 0, baghdad)  // a Monday
	starts := time.Date(2026, 12, 10, 9, 0, 0, 0, baghdad) // Thursday
	id, err := e.svc.CreateDistribution(ctx, DistributionSpec{
		Site: "Mamrashan camp", Governorate: "duhok", StartsAt: &starts, Place: "the hall near gate 2",
		Items: "food basket", Bring: "ration card",
	}, "cwc.test")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(e.scheduledAlerts(), " "), "reminder@12-09 09:00 reminder@12-10 07:00"; got != want {
		t.Errorf("alerts scheduled: %s, want %s", got, want)
	}
	households, err := ParseHouseholds(strings.NewReader(
		"phone,household,language,name\n+9647700000001,HH-1,ckb,Layla\n07501111111,HH-2,badini,\n+9647702222222,HH-3,en,John\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.ImportHouseholds(ctx, id, households)
	if err != nil {
		t.Fatal(err)
	}
	if res != (ImportResult{Rows: 3, Added: 3, Households: 3}) {
		t.Errorf("import: %+v", res)
	}
	var lang, household string
	if err := e.pool.QueryRow(ctx, `SELECT language, household_id FROM contacts WHERE id = $1`, ids["layla"]).Scan(&lang, &household); err != nil {
		t.Fatal(err)
	}
	if lang != "ar" || household != "HH-1" {
		t.Errorf("layla: language %s household %s, want ar HH-1", lang, household)
	}

	// The announcement goes at once.
	if ran := e.alerts(); len(ran) != 1 || ran[0].Alert != store.AlertAnnouncement {
		t.Fatalf("alerts run at import: %+v", ran)
	}
	e.send(e.sendWorker())
	got, seen := e.sentTo(0)
	if len(got) != 3 {
		t.Fatalf("announcement sent to %d, want 3: %v", len(got), got)
	}
	wantWords := map[string][]string{
		"tel:+9647700000001": {"توزيع مساعدات لعائلتك", "الخميس 10/12/2026 الساعة 09:00", "المساعدة مجانية", "يرجى إحضار: ration card"},
		"tel:+9647501111111": {"بەلاڤکرنا هاریکاریان بۆ خێزانا تە", "پێنجشەمب 10/12/2026", "هاریکاری بێ بەرامبەرە"},
		"tel:+9647702222222": {"Aid distribution for your household: Thursday 10/12/2026 at 09:00, Mamrashan camp, at the hall near gate 2",
			"Assistance is free", "Please bring: ration card"},
	}
	codes := map[string]bool{}
	for urn, words := range wantWords {
		m, ok := got[urn]
		if !ok {
			t.Errorf("%s got no announcement", urn)
			continue
		}
		for _, w := range words {
			if !strings.Contains(m.Text, w) {
				t.Errorf("%s: %q does not say %q", urn, m.Text, w)
			}
		}
		codes[codePattern.FindString(m.Text)] = true
	}
	if len(codes) != 1 || codes[""] {
		t.Fatalf("the announcement's codes: %v, want one", codes)
	}
	var code string
	for c := range codes {
		code = c
	}
	check, err := store.CheckAlertCode(ctx, e.pool, code, ids["layla"])
	if err != nil || check.Alert != store.AlertAnnouncement || check.Distribution.ID != id || !check.ToContact {
		t.Errorf("code %s: %+v %v", code, check, err)
	}
	if _, err := store.CheckAlertCode(ctx, e.pool, "123456", ids["layla"]); !errors.Is(err, store.ErrNotFound) && code != "123456" {
		t.Errorf("a code never sent: %v", err)
	}

	// A household added later is told alone; one imported again is not told twice.
	more, err := ParseHouseholds(strings.NewReader("phone,household,language\n+9647700000001,HH-1,ar\n+9647703333333,HH-4,ar\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	e.clock = e.clock.Add(time.Hour)
	if res, err := e.svc.ImportHouseholds(ctx, id, more); err != nil || res.Added != 1 || res.Households != 4 {
		t.Fatalf("second import: %+v %v", res, err)
	}
	e.alerts()
	e.send(e.sendWorker())
	got, seen = e.sentTo(seen)
	if len(got) != 1 || got["tel:+9647703333333"].Text == "" {
		t.Errorf("second announcement went to %v, want the new household alone", got)
	}

	// The start moves an hour later: everyone is told, the reminders follow.
	e.clock = e.clock.Add(time.Hour)
	later := starts.Add(time.Hour)
	if err := e.svc.ChangeDistribution(ctx, id, DistributionChange{StartsAt: &later}); err != nil {
		t.Fatal(err)
	}
	e.alerts()
	e.send(e.sendWorker())
	got, seen = e.sentTo(seen)
	if len(got) != 4 || !strings.Contains(got["tel:+9647702222222"].Text, "Change to the aid distribution. Now: Thursday 10/12/2026 at 10:00") {
		t.Errorf("change notice: %v", got)
	}
	// The reminder of the old time does nothing; the one of the new time goes.
	e.clock = time.Date(2026, 12, 9, 9, 30, 0, 0, baghdad)
	ran := e.alerts()
	e.send(e.sendWorker())
	got, seen = e.sentTo(seen)
	if len(ran) != 1 || len(got) != 0 {
		t.Errorf("at the old reminder time: ran %+v, sent %v", ran, got)
	}
	e.clock = time.Date(2026, 12, 9, 10, 0, 0, 0, baghdad)
	e.alerts()
	e.send(e.sendWorker())
	got, seen = e.sentTo(seen)
	if len(got) != 4 || !strings.HasPrefix(got["tel:+9647702222222"].Text, "Reminder: aid distribution Thursday 10/12/2026 at 10:00") {
		t.Errorf("24-hour reminder: %v", got)
	}

	// Cancelled: everyone is told, and the 2-hour reminder never goes.
	if err := e.svc.CancelDistribution(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.alerts()
	e.send(e.sendWorker())
	got, seen = e.sentTo(seen)
	if len(got) != 4 || !strings.Contains(got["tel:+9647700000001"].Text, "تم إلغاء توزيع المساعدات") {
		t.Errorf("cancellation: %v", got)
	}
	e.clock = time.Date(2026, 12, 10, 8, 0, 0, 0, baghdad)
	e.alerts()
	e.send(e.sendWorker())
	if got, _ = e.sentTo(seen); len(got) != 0 {
		t.Errorf("after the cancellation: %v", got)
	}
	st, err := e.svc.GetDistribution(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range st.Alerts {
		kinds = append(kinds, a.Alert)
		if len(a.Code) != codeDigits || a.Counts.Sent != a.Counts.Targeted {
			t.Errorf("alert %+v", a)
		}
	}
	if got := strings.Join(kinds, " "); got != "cancellation reminder change announcement announcement" {
		t.Errorf("alerts: %s", got)
	}
	if _, err := e.svc.ImportHouseholds(ctx, id, more); !errors.As(err, new(*ErrState)) {
		t.Errorf("import into a cancelled distribution: %v", err)
	}
}

// An announcement with a time of its own waits for it, and tells everyone imported by then.
func TestDistributionAnnouncedLater(t *testing.T) {
	e := newEnv(t)
	e.withTexts()
	ctx := context.Background()
	e.clock = time.Date(2026, 12, 7, 8, 0, 0, 0, baghdad)
	starts := time.Date(2026, 12, 12, 9, 0, 0, 0, baghdad)
	announce := time.Date(2026, 12, 8, 10, 0, 0, 0, baghdad)
	id, err := e.svc.CreateDistribution(ctx, DistributionSpec{Site: "Debaga", StartsAt: &starts, Place: "gate 1",
		Items: "blankets", AnnounceAt: &announce, Reminders: []int{3}}, "cwc.test")
	if err != nil {
		t.Fatal(err)
	}
	hh, err := ParseHouseholds(strings.NewReader("phone,household,language\n+9647704444444,D-1,ar\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ImportHouseholds(ctx, id, hh); err != nil {
		t.Fatal(err)
	}
	e.alerts()
	e.send(e.sendWorker())
	if got, _ := e.sentTo(0); len(got) != 0 {
		t.Fatalf("announced before its time: %v", got)
	}
	if got := strings.Join(e.scheduledAlerts(), " "); got != "announcement@12-08 10:00 reminder@12-12 06:00" {
		t.Errorf("scheduled: %s", got)
	}
	e.clock = announce
	e.alerts()
	e.send(e.sendWorker())
	if got, _ := e.sentTo(0); len(got) != 1 || !strings.Contains(got["tel:+9647704444444"].Text, "Debaga") {
		t.Errorf("announcement at its time: %v", got)
	}
}

// A distribution that cannot be announced is refused, naming the field.
func TestDistributionRefusals(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, baghdad)
	future, past := now.Add(48*time.Hour), now.Add(-time.Hour)
	late := future.Add(time.Hour)
	ok := DistributionSpec{Site: "Debaga", StartsAt: &future, Place: "gate 1", Items: "blankets"}
	for _, c := range []struct {
		field string
		edit  func(*DistributionSpec)
	}{
		{"site", func(d *DistributionSpec) { d.Site = " " }},
		{"starts_at", func(d *DistributionSpec) { d.StartsAt = nil }},
		{"starts_at", func(d *DistributionSpec) { d.StartsAt = &past }},
		{"place", func(d *DistributionSpec) { d.Place = "" }},
		{"items", func(d *DistributionSpec) { d.Items = "food, see www.example.com" }},
		{"bring", func(d *DistributionSpec) { d.Bring = strings.Repeat("ب", maxDetail+1) }},
		{"announce_at", func(d *DistributionSpec) { d.AnnounceAt = &past }},
		{"announce_at", func(d *DistributionSpec) { d.AnnounceAt = &late }},
		{"reminders_hours", func(d *DistributionSpec) { d.Reminders = []int{24, 24} }},
		{"reminders_hours", func(d *DistributionSpec) { d.Reminders = []int{0} }},
	} {
		spec := ok
		c.edit(&spec)
		var fe *FieldError
		if err := spec.Validate(now); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: %v, want a refusal of %s", spec, err, c.field)
		}
	}
	if err := ok.Validate(now); err != nil {
		t.Errorf("a good distribution: %v", err)
	}
}

// Codes are read as people type them back.
func TestValidCode(t *testing.T) {
	for in, want := range map[string]string{
		"482913": "482913", " 482 913 ": "482913", "٤٨٢٩١٣": "482913", "۴۸۲۹۱۳": "482913", "482-913": "482913",
		"48291": "", "4829134": "", "12345678": "", "code 482913": "", "": "",
	} {
		if got := ValidCode(in); got != want {
			t.Errorf("ValidCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// Runs and sends are counted, by kind, channel and result only.
func TestBroadcastMetrics(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	e.svc.Metrics = NewMetrics(reg)
	e.seed(population...)
	e.create(Spec{Name: "All", Texts: allTexts(), Schedule: Schedule{Now: true}})
	e.start()
	w := e.sendWorker()
	w.Metrics = e.svc.Metrics
	e.send(w)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += " " + l.GetName() + "=" + l.GetValue()
			}
			if c := m.GetCounter(); c != nil {
				got[name] = c.GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"sawt_broadcast_runs_total kind=campaign":                    1,
		"sawt_broadcast_targeted_total kind=campaign":                8,
		"sawt_broadcast_messages_total channel=sms result=sent":      3,
		"sawt_broadcast_messages_total channel=telegram result=sent": 3,
	} {
		if got[name] != want {
			t.Errorf("%s: %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
}

// A send job that has sent for MaxRun makes way: it snoozes to go on at once with the rest of
// its batch, always after at least one message, so a slow channel never holds a job past the
// timeout that decides how soon a crashed node's jobs are taken back.
func TestSendJobMakesWay(t *testing.T) {
	e := newEnv(t)
	e.seed(bulk(5, "ar")...)
	e.create(Spec{Name: "water", Texts: allTexts(), Schedule: Schedule{Now: true}})
	e.start()
	w := e.sendWorker()
	w.MaxRun = time.Nanosecond
	jobs := e.jobs(SendBatchArgs{}.Kind())
	if len(jobs) != 1 {
		t.Fatalf("%d send jobs", len(jobs))
	}
	var a SendBatchArgs
	if err := json.Unmarshal(jobs[0].args, &a); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		err := w.Work(context.Background(), &river.Job[SendBatchArgs]{Args: a})
		var snooze *river.JobSnoozeError
		if i < 5 && (!errors.As(err, &snooze) || snooze.Duration != 0) {
			t.Fatalf("run %d: %v, want a snooze of 0", i, err)
		}
		if i == 5 && err != nil {
			t.Fatalf("last run: %v", err)
		}
		if n := len(e.senders[channels.SMS].Sent()); n != i {
			t.Fatalf("after run %d: %d sent", i, n)
		}
	}
	if (&SendBatchWorker{}).Timeout(nil) > 3*time.Minute {
		t.Error("a send job's timeout is longer than the rescue delay")
	}
}
