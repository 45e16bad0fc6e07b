package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels/twilio"
)

// breakDatabase renames the tables every webhook writes to, as a database that fails would;
// the returned func puts them back.
func breakDatabase(t *testing.T, e *env) (restore func()) {
	t.Helper()
	ctx := context.Background()
	for _, tbl := range []string{"inbox", "recordings"} {
		if _, err := e.pool.Exec(ctx, `ALTER TABLE `+tbl+` RENAME TO `+tbl+`_away`); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for _, tbl := range []string{"inbox", "recordings"} {
			if _, err := e.pool.Exec(ctx, `ALTER TABLE `+tbl+`_away RENAME TO `+tbl); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func spoolEnv(t *testing.T, edit func(*app.Config)) *env {
	t.Helper()
	e := newEnvOpts(t, edit, app.Options{Spool: true})
	if e.app.Spooler == nil {
		t.Fatal("no spool")
	}
	return e
}

func (e *env) replay(t *testing.T) int {
	t.Helper()
	n, err := e.app.Spooler.Replay(context.Background())
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return n
}

// While the database fails, SMS are kept on disk and Twilio hears 200; messages that come
// while anything waits there queue behind it, even once the database is back; a replay hands
// them on in order, once, and the replies are queued then.
func TestSMSSpooledWhileDatabaseDown(t *testing.T) {
	e := spoolEnv(t, nil)
	restore := breakDatabase(t, e)
	first := e.sms(t, amira, "hello")
	second := e.sms(t, amira, "1")
	if st := e.app.Spool.Stats(); st.Pending != 2 {
		t.Fatalf("spooled %d, want 2", st.Pending)
	}
	w := httptest.NewRecorder()
	e.app.AdminHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"degraded"`) || !strings.Contains(w.Body.String(), `"pending":2`) {
		t.Errorf("/readyz while spooling: %d %s, want 200 degraded", w.Code, w.Body)
	}
	metrics := gathered(t, e)
	if metrics["sawt_spool_pending"] != 2 || metrics["sawt_spool_appended_total"] != 2 || metrics["sawt_spool_bytes"] <= 0 {
		t.Errorf("spool metrics %v", metrics)
	}
	restore()
	third := e.sms(t, amira, "2") // behind the others, though the database answers
	if n := e.count(t, `SELECT count(*) FROM inbox`); n != 0 {
		t.Fatalf("%d messages handled before the replay, want 0: order first", n)
	}
	if n := e.replay(t); n != 3 {
		t.Fatalf("replayed %d, want 3", n)
	}
	for i, p := range []string{first.Get("MessageSid"), second.Get("MessageSid"), third.Get("MessageSid")} {
		if n := e.count(t, `SELECT count(*) FROM inbox WHERE external_id = $1`, p); n != 1 {
			t.Errorf("message %d stored %d times", i+1, n)
		}
	}
	var order []string
	rows, err := e.pool.Query(context.Background(), `SELECT text FROM messages WHERE direction = 'in' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		order = append(order, s)
	}
	if strings.Join(order, ",") != "hello,1,2" {
		t.Errorf("handled in the order %v, want hello, 1, 2", order)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'out'`); n == 0 {
		t.Error("no reply queued after the replay")
	}
	// now live again
	e.sms(t, amira, "0")
	if n := e.count(t, `SELECT count(*) FROM inbox`); n != 4 {
		t.Errorf("%d messages, want 4: with nothing spooled, a message is handled at once", n)
	}
	if n := e.replay(t); n != 0 {
		t.Errorf("a second replay took %d", n)
	}
}

// A spool at its cap refuses: Twilio hears 503, and the refusal is logged.
func TestSMSSpoolFull(t *testing.T) {
	e := spoolEnv(t, func(c *app.Config) { c.SpoolMaxBytes = 2048 })
	restore := breakDatabase(t, e)
	defer restore()
	var codes []int
	for i := range 10 {
		w := e.post(t, twilio.SMSPath, smsParams(amira, strings.Repeat("x", 300)+string(rune('a'+i))))
		codes = append(codes, w.Code)
	}
	if codes[0] != http.StatusOK || codes[len(codes)-1] != http.StatusServiceUnavailable {
		t.Errorf("statuses %v: want 200 until the spool is full, then 503", codes)
	}
	if !strings.Contains(e.log.String(), "spool is full") {
		t.Error("a full spool is not logged")
	}
	w := httptest.NewRecorder()
	e.app.AdminHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"status":"unavailable"`) {
		t.Errorf("/readyz with a full spool: %d %s", w.Code, w.Body)
	}
}

// A call while the database fails: the caller is asked, in all four languages (we do not
// know theirs), to leave a message, which is recorded and kept; they are thanked. After the
// replay it is a call-back case with its recording, which is fetched.
func TestCallDuringOutageLeavesAMessage(t *testing.T) {
	e := spoolEnv(t, nil)
	restore := breakDatabase(t, e)
	c := e.dial(t, amira)
	says := c.says()
	for _, want := range []string{"يرجى ترك رسالة بعد سماع الصافرة", "leave a message after the tone"} {
		if !strings.Contains(says, want) {
			t.Errorf("the outage message does not say %q:\n%s", want, says)
		}
	}
	rec := c.last.all("Record")
	if len(rec) != 1 || !strings.Contains(rec[0].attr("action"), "voicemail=1") {
		t.Fatalf("no recording of a message: %s", c.last)
	}
	sid := c.speak(t)
	if !strings.Contains(c.says(), "Someone from our team will call you back") {
		t.Errorf("not thanked: %s", c.last)
	}
	if v := c.last.verbs(); v[len(v)-1] != "Hangup" {
		t.Errorf("verbs %v, want a hangup at the end", v)
	}
	// Twilio reports the finished recording; the database still fails: kept too
	if w := e.post(t, twilio.StatusPath, recordingReport(c.sid, sid)); w.Code >= 300 {
		t.Fatalf("recording report: %d %s", w.Code, w.Body)
	}
	if st := e.app.Spool.Stats(); st.Pending != 2 {
		t.Fatalf("spooled %d, want the message and the recording report", st.Pending)
	}
	restore()
	if n := e.replay(t); n != 2 {
		t.Fatalf("replayed %d", n)
	}
	if n := e.count(t, `SELECT count(*) FROM cases c JOIN recordings r ON r.case_id = c.id
		WHERE c.call_back AND r.provider_id = $1 AND r.url IS NOT NULL`, sid); n != 1 {
		t.Errorf("no call-back case with the recording (%d)", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'fetch_recording'`); n != 1 {
		t.Errorf("%d fetch jobs, want 1", n)
	}
}

// A caller this process has talked with before is asked in their own language.
func TestOutageMessageInTheCallersLanguage(t *testing.T) {
	e := spoolEnv(t, nil)
	c := e.dial(t, amira)
	c.press(t, "1") // Arabic, from the language menu
	restore := breakDatabase(t, e)
	defer restore()
	again := e.dial(t, amira)
	says := again.says()
	if !strings.Contains(says, "يرجى ترك رسالة") || strings.Contains(says, "leave a message") {
		t.Errorf("the outage message is not in Arabic alone:\n%s", says)
	}
}

// gathered are the app's metrics without labels, by name.
func gathered(t *testing.T, e *env) map[string]float64 {
	t.Helper()
	mfs, err := e.app.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) > 0 {
				continue
			}
			switch {
			case m.GetGauge() != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}
