package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

// The campaign and distribution pages answer 503 in TestRouteRoleMatrix's console, which
// has no outreach service; the tests below give it one.
func init() {
	for _, route := range []string{
		"GET /campaigns", "GET /campaigns/new", "POST /campaigns", "POST /campaigns/preview", "GET /campaigns/{id}",
		"POST /campaigns/{id}/pause", "POST /campaigns/{id}/resume", "POST /campaigns/{id}/cancel",
		"GET /distributions", "GET /distributions/new", "POST /distributions", "GET /distributions/{id}",
		"POST /distributions/{id}/households", "POST /distributions/{id}/change", "POST /distributions/{id}/cancel",
	} {
		roleMatrixExpect[route] = http.StatusServiceUnavailable
	}
}

var baghdad = time.FixedZone("Asia/Baghdad", 3*3600)

// newOutreachConsole is the console with an outreach service whose River client only
// queues jobs, in Baghdad time.
func newOutreachConsole(t *testing.T) *consoleEnv {
	t.Helper()
	e := newConsole(t)
	rc, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.web.Location = baghdad
	texts, err := locales.Default()
	if err != nil {
		t.Fatal(err)
	}
	e.web.Outreach = &outreach.Service{Pool: e.pool, River: rc, Location: baghdad, Now: e.clock.Now, Texts: texts}
	e.h = e.web.Handler()
	return e
}

// signedInAs is a session of a new user of the role, in the language.
func (e *consoleEnv) signedInAs(email, role, lang string) string {
	e.t.Helper()
	return e.sessionOf(e.addUser(email, role, lang, "a long enough password", false))
}

// seedContact stores a contact reachable at urn, with a language ("" unknown) and a
// governorate; optedOut: they sent STOP.
func (e *consoleEnv) seedContact(urn, lang, governorate string, optedOut bool) int64 {
	e.t.Helper()
	ctx := context.Background()
	var out *time.Time
	if optedOut {
		at := e.clock.Now()
		out = &at
	}
	var id int64
	if err := e.pool.QueryRow(ctx, `INSERT INTO contacts (language, governorate, opted_out_at) VALUES (nullif($1, ''), $2, $3) RETURNING id`,
		lang, governorate, out).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	scheme, _, _ := strings.Cut(urn, ":")
	if _, err := e.pool.Exec(ctx, `INSERT INTO urns (urn, scheme, contact_id) VALUES ($1, $2, $3)`, urn, scheme, id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// seedPeople is a population of seven contacts (and one on the terminal, which no campaign
// reaches): five Arabic, Sorani, Badini or unknown readers who are reached, one English
// reader, one Arabic reader who opted out.
func (e *consoleEnv) seedPeople() {
	e.seedContact("tel:+9647700000001", "ar", "ninewa", false)
	e.seedContact("telegram:2001", "ar", "ninewa", false)
	e.seedContact("tel:+9647500000003", "ckb", "erbil", false)
	e.seedContact("tel:+9647500000004", "badini", "duhok", false)
	e.seedContact("telegram:2005", "en", "erbil", false)
	e.seedContact("tel:+9647700000006", "ar", "ninewa", true)
	e.seedContact("tel:+9647700000007", "", "ninewa", false)
	e.seedContact("terminal:someone", "ar", "ninewa", false)
}

// firstRunes is the first n characters of s.
func firstRunes(s string, n int) string { return string([]rune(s)[:n]) }

// arabic80 is an Arabic text of 80 characters: UCS-2, more than the 70 of one SMS, so two
// segments of 67.
var arabic80 = firstRunes(strings.Repeat("حملة التطعيم مجانية في المركز الصحي. ", 3), 80)

const englishText = "Measles vaccination on Sunday at the camp clinic. It is free."

// campaignForm is a filled-in campaign form: Arabic and English texts, to be sent on 27
// November at 18:00 Baghdad time.
func campaignForm() url.Values {
	return url.Values{"name": {"Measles vaccination"}, "text_ar": {arabic80}, "text_en": {englishText},
		"when": {"at"}, "at": {"2026-11-27T18:00"}, "allow_missing": {"1"}}
}

// body is the visible text of a page: tags removed, entities read, spaces collapsed.
func body(page string) string {
	page = regexp.MustCompile(`(?s)<style>.*?</style>`).ReplaceAllString(page, "")
	page = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(html.UnescapeString(page)), " ")
}

func mustContain(t *testing.T, what string, a answer, wantStatus int, says ...string) {
	t.Helper()
	if a.status != wantStatus {
		t.Errorf("%s: %d, want %d\n%s", what, a.status, wantStatus, body(a.body))
		return
	}
	checkPage(t, what, a)
	text := body(a.body)
	for _, s := range says {
		if !strings.Contains(text, s) {
			t.Errorf("%s: the page does not say %q:\n%s", what, s, text)
		}
	}
}

func countRows(t *testing.T, e *consoleEnv, table string) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Without the outreach service the pages say so, and do nothing.
func TestOutreachPagesWithoutTheService(t *testing.T) {
	e := newConsole(t)
	cookie := e.signedInAs("cwc@example.org", console.RoleCWC, "en")
	for _, r := range []req{{method: "GET", path: "/campaigns"}, {method: "POST", path: "/campaigns", form: campaignForm()},
		{method: "GET", path: "/distributions/new"}} {
		r.cookie = cookie
		mustContain(t, r.method+" "+r.path, e.do(r), http.StatusServiceUnavailable,
			"Campaigns and distributions cannot be managed from the console at the moment.")
	}
	if n := countRows(t, e, "campaigns"); n != 0 {
		t.Errorf("%d campaigns stored without the service", n)
	}
}

// The preview counts the people the campaign would reach now among real contacts (opted
// out and terminal contacts left out), says each text's SMS segments and encoding, and
// names each language without a text with the text its readers get. It stores nothing.
func TestCampaignPreview(t *testing.T) {
	e := newOutreachConsole(t)
	e.seedPeople()
	cookie := e.signedInAs("cwc@example.org", console.RoleCWC, "en")

	a := e.do(req{method: "POST", path: "/campaigns/preview", cookie: cookie, form: campaignForm()})
	mustContain(t, "preview", a, http.StatusOK,
		"People it would reach now 6", "By the language of their text Arabic 5 · English 1",
		"People who would get nothing (no text in a language they read) 0", "People who opted out (never sent) 1",
		"No text in Sorani: its readers get the Arabic text.", "No text in Badini: its readers get the Arabic text.",
		"Nothing has been sent or saved yet.")
	seg := regexp.MustCompile(`(?s)<p class="hint sms" id="sms-(\w+)">SMS parts: <bdi>(\d+)</bdi> · <bdi dir="ltr">([A-Z0-9-]+)</bdi> · characters: <bdi>(\d+)</bdi>`)
	got := map[string]string{}
	for _, m := range seg.FindAllStringSubmatch(a.body, -1) {
		got[m[1]] = m[2] + " " + m[3] + " " + m[4]
	}
	if want := map[string]string{"ar": "2 UCS-2 80", "en": "1 GSM-7 61"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SMS segments by language %v, want %v", got, want)
	}
	// what was typed is kept
	for _, v := range []string{`value="Measles vaccination"`, `value="2026-11-27T18:00"`, `>` + arabic80 + `</textarea>`,
		`name="when" value="at" checked`, `name="allow_missing" value="1" checked`} {
		if !strings.Contains(a.body, v) {
			t.Errorf("the previewed form does not keep %s", v)
		}
	}

	// the audience narrows the count; only English: everyone else gets it in English
	f := campaignForm()
	f["governorate"] = []string{"ninewa"}
	mustContain(t, "preview for ninewa", e.do(req{method: "POST", path: "/campaigns/preview", cookie: cookie, form: f}),
		http.StatusOK, "People it would reach now 3", "Arabic 3", "People who opted out (never sent) 1")
	f = campaignForm()
	f.Del("text_ar")
	mustContain(t, "preview in English only", e.do(req{method: "POST", path: "/campaigns/preview", cookie: cookie, form: f}),
		http.StatusOK, "People it would reach now 6", "English 6", "No text in Arabic: its readers get the English text.")
	f = campaignForm()
	f.Del("text_en")
	mustContain(t, "preview in Arabic only", e.do(req{method: "POST", path: "/campaigns/preview", cookie: cookie, form: f}),
		http.StatusOK, "People it would reach now 5", "People who would get nothing (no text in a language they read) 1",
		"No text in English: its readers get nothing.")

	// what creating it would refuse is said at its field, and the count is still shown
	f = campaignForm()
	f.Del("allow_missing")
	f.Del("name")
	a = e.do(req{method: "POST", path: "/campaigns/preview", cookie: cookie, form: f})
	mustContain(t, "preview without a name", a, http.StatusOK, "People it would reach now 6", "This is required.")
	// an audience that cannot be counted: 400, said at the field
	f = campaignForm()
	f["channel"] = []string{"voice"}
	mustContain(t, "preview by voice", e.do(req{method: "POST", path: "/campaigns/preview", cookie: cookie, form: f}),
		http.StatusBadRequest, "The campaign was not created.", `"voice" cannot carry a campaign`)

	if n := countRows(t, e, "campaigns"); n != 0 {
		t.Errorf("the preview stored %d campaigns", n)
	}
	// in Arabic, the page is right to left and the warning in Arabic
	ar := e.signedInAs("amira@example.org", console.RoleAdmin, "ar")
	a = e.do(req{method: "POST", path: "/campaigns/preview", cookie: ar, form: campaignForm()})
	mustContain(t, "preview in Arabic", a, http.StatusOK, "عدد من ستصلهم الآن 6", "لا يوجد نص باللغة السورانية: يستلم قرّاؤها النص باللغة العربية.")
	if !strings.Contains(a.body, `<html lang="ar" dir="rtl">`) {
		t.Error("the Arabic preview is not right to left")
	}
}

// Creating a campaign: every refusal said at its field, in the user's language, nothing
// stored; a good one is made as the signed-in user, scheduled in the console's time zone,
// and the browser sent to its page.
func TestCampaignCreate(t *testing.T) {
	e := newOutreachConsole(t)
	cookie := e.signedInAs("cwc@example.org", console.RoleCWC, "en")
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		says   string
	}{
		{"no name", func(f url.Values) { f.Del("name") }, "This is required."},
		{"missing languages", func(f url.Values) { f.Del("allow_missing") },
			"There is no text in Sorani, Badini. Add it, or tick “Send even if a language has no text”."},
		{"no text", func(f url.Values) { f.Del("text_ar"); f.Del("text_en") }, "Write the message in at least one language."},
		{"a link", func(f url.Values) { f.Set("text_en", "Register at www.example.org today") },
			"The text contains a link (www.). People are told that we never send links"},
		{"no schedule", func(f url.Values) { f.Del("when") }, "Choose when to send: now, once at a time, or repeating."},
		{"no time", func(f url.Values) { f.Set("at", "") }, "This is required."},
		{"bad time", func(f url.Values) { f.Set("at", "next friday") }, "This date and time could not be read."},
		{"past", func(f url.Values) { f.Set("at", "2026-11-01T09:00") }, "This time has passed already."},
		{"bad cron", func(f url.Values) { f.Set("when", "cron"); f.Set("cron", "every friday") }, "This cannot be used:"},
		{"unknown topic", func(f url.Values) { f.Set("topic", "weather") }, `This cannot be used: "weather" is not a topic`},
	} {
		f := campaignForm()
		tc.change(f)
		a := e.do(req{method: "POST", path: "/campaigns", cookie: cookie, form: f})
		mustContain(t, tc.name, a, http.StatusBadRequest, "The campaign was not created. Please correct what is marked below.", tc.says)
		if !strings.Contains(a.body, `class="field-error"`) {
			t.Errorf("%s: the refusal is not said at a field", tc.name)
		}
	}
	if n := countRows(t, e, "campaigns"); n != 0 {
		t.Fatalf("%d campaigns stored by refused forms", n)
	}
	// in Sorani
	ckb := e.signedInAs("karwan@example.org", console.RoleCWC, "ckb")
	f := campaignForm()
	f.Del("name")
	mustContain(t, "no name, in Sorani", e.do(req{method: "POST", path: "/campaigns", cookie: ckb, form: f}),
		http.StatusBadRequest, "کەمپەینەکە دروست نەکرا.", "ئەمە پێویستە.")

	f = campaignForm()
	f["governorate"] = []string{"ninewa", "duhok"}
	f["channel"] = []string{"sms"}
	f.Set("sites", "Hasansham U3, Debaga")
	f.Set("topic", "health")
	a := e.do(req{method: "POST", path: "/campaigns", cookie: cookie, form: f})
	loc := a.header.Get("Location")
	var id int64
	if _, err := fmt.Sscanf(loc, "/campaigns/%d?done=created", &id); a.status != http.StatusSeeOther || err != nil {
		t.Fatalf("create: %d to %q, want 303 to the campaign's page\n%s", a.status, loc, body(a.body))
	}
	c, err := store.CampaignByID(context.Background(), e.pool, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.CreatedBy != "staff:cwc@example.org" || c.SendAt == nil || !c.SendAt.Equal(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)) ||
		c.Texts["ar"] != arabic80 || c.Topic != "health" || !c.AllowMissing || c.State != store.CampaignScheduled {
		t.Errorf("stored %+v", c)
	}
	if want := `{"sites": ["Hasansham U3", "Debaga"], "channels": ["sms"], "governorates": ["ninewa", "duhok"]}`; string(c.Audience) != want {
		t.Errorf("audience %s, want %s", c.Audience, want)
	}
	mustContain(t, "the new campaign's page", e.do(req{method: "GET", path: loc, cookie: cookie}), http.StatusOK,
		"The campaign has been created.", "Measles vaccination", "State Scheduled", "When Once, at 2026-11-27 18:00",
		"Topic Health", "staff:cwc@example.org", "Governorates Ninewa, Duhok", "Sites Hasansham U3, Debaga", "Channels SMS",
		"SMS parts: 2 · UCS-2 · characters: 80", "SMS parts: 1 · GSM-7 · characters: 61",
		"No text in Sorani: its readers get the Arabic text.", "Not sent yet.")
}

// The campaign page: live counts of its runs, and the buttons its state allows, each
// moving it; a move its state does not allow is refused with 409 and the page.
func TestCampaignPageAndMoves(t *testing.T) {
	e := newOutreachConsole(t)
	e.seedPeople()
	cookie := e.signedInAs("admin@example.org", console.RoleAdmin, "en")
	ctx := context.Background()
	id, err := e.web.Outreach.Create(ctx, outreach.Spec{Name: "Winter kits", AllowMissing: true,
		Texts: map[string]string{"ar": arabic80, "en": englishText}, Schedule: outreach.Schedule{Now: true}}, "token:cwc-team")
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/campaigns/%d", id)
	buttons := func(a answer) string {
		var got []string
		for _, m := range regexp.MustCompile(`action="/campaigns/\d+/(\w+)"`).FindAllStringSubmatch(a.body, -1) {
			got = append(got, m[1])
		}
		return strings.Join(got, " ")
	}
	a := e.do(req{method: "GET", path: path, cookie: cookie})
	mustContain(t, "scheduled", a, http.StatusOK, "State Scheduled", "Not sent yet.")
	if b := buttons(a); b != "pause cancel" {
		t.Errorf("a scheduled campaign's buttons: %q, want pause and cancel", b)
	}
	if a.header.Get("Refresh") != "" {
		t.Error("a campaign not sending is reloaded")
	}

	// its run starts: the page shows the run's counts, and asks to be reloaded
	w := &outreach.StartRunWorker{Service: e.web.Outreach}
	if err := w.Work(ctx, &river.Job[outreach.StartRunArgs]{Args: outreach.StartRunArgs{CampaignID: id, DueAt: e.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	a = e.do(req{method: "GET", path: path, cookie: cookie})
	mustContain(t, "sending", a, http.StatusOK, "State Sending", "This page reloads every 15 seconds")
	if want := fmt.Sprintf("15; url=/campaigns/%d", id); a.header.Get("Refresh") != want {
		t.Errorf("Refresh %q while sending, want %q", a.header.Get("Refresh"), want)
	}
	run := regexp.MustCompile(`(?s)<table class="runs counts">.*?<tbody>\s*<tr>(.*?)</tr>`).FindStringSubmatch(a.body)
	if run == nil || body(run[1]) != "2026-11-23 12:00 Sending 7 0 0 0 6 0 1 0" {
		t.Errorf("the run's row: %q, want targeted 7, waiting 6, opted out 1", body(run[1]))
	}
	// the deliveries go out: reloaded, the page shows the new counts
	if _, err := e.pool.Exec(ctx, `UPDATE deliveries SET status = 'delivered' WHERE id IN (SELECT id FROM deliveries WHERE status = 'queued' ORDER BY id LIMIT 3)`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE deliveries SET status = 'failed' WHERE id IN (SELECT id FROM deliveries WHERE status = 'queued' ORDER BY id LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	a = e.do(req{method: "GET", path: path, cookie: cookie})
	run = regexp.MustCompile(`(?s)<table class="runs counts">.*?<tbody>\s*<tr>(.*?)</tr>`).FindStringSubmatch(a.body)
	if run == nil || body(run[1]) != "2026-11-23 12:00 Sending 7 3 3 1 2 0 1 0" {
		t.Errorf("the run's row: %q, want sent 3, delivered 3, failed 1, waiting 2", body(run[1]))
	}
	list := e.do(req{method: "GET", path: "/campaigns", cookie: cookie})
	row := regexp.MustCompile(`(?s)<tr class="s-running">(.*?)</tr>`).FindStringSubmatch(list.body)
	if row == nil || !strings.HasSuffix(body(row[1]), "7 3 3 1 2") || !strings.HasPrefix(body(row[1]), "Winter kits Sending") {
		t.Errorf("the list's row: %v", row)
	}
	if list.header.Get("Refresh") != "15" {
		t.Error("the list is not reloaded while a campaign sends")
	}

	// pause, resume, cancel
	for _, step := range []struct {
		verb, state, buttons string
	}{{"pause", "Paused", "resume cancel"}, {"resume", "Sending", "pause cancel"}, {"cancel", "Cancelled", ""}} {
		a := e.do(req{method: "POST", path: path + "/" + step.verb, cookie: cookie, form: url.Values{}})
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), path+"?done=") {
			t.Fatalf("%s: %d to %q", step.verb, a.status, a.header.Get("Location"))
		}
		a = e.do(req{method: "GET", path: a.header.Get("Location"), cookie: cookie})
		mustContain(t, "after "+step.verb, a, http.StatusOK, "State "+step.state)
		if b := buttons(a); b != step.buttons {
			t.Errorf("after %s, the buttons: %q, want %q", step.verb, b, step.buttons)
		}
	}
	if st, _ := e.web.Outreach.Get(ctx, id); st.State != store.CampaignCancelled || st.Runs[0].State != store.RunCancelled {
		t.Errorf("after cancel: campaign %s, run %s", st.State, st.Runs[0].State)
	}
	mustContain(t, "resume a cancelled campaign", e.do(req{method: "POST", path: path + "/resume", cookie: cookie, form: url.Values{}}),
		http.StatusConflict, "This campaign is Cancelled: it cannot be resumed.", "Winter kits")
	mustContain(t, "pause a cancelled campaign", e.do(req{method: "POST", path: path + "/pause", cookie: cookie, form: url.Values{}}),
		http.StatusConflict, "This campaign is Cancelled: it cannot be paused.")
	ar := e.signedInAs("amira@example.org", console.RoleCWC, "ar")
	mustContain(t, "resume, in Arabic", e.do(req{method: "POST", path: path + "/resume", cookie: ar, form: url.Values{}}),
		http.StatusConflict, "حالة هذه الحملة «ملغاة»: لا يمكن استئنافها.")

	for _, r := range []req{{method: "GET", path: "/campaigns/999"}, {method: "GET", path: "/campaigns/abc"},
		{method: "POST", path: "/campaigns/999/pause", form: url.Values{}}} {
		r.cookie = cookie
		mustContain(t, r.method+" "+r.path, e.do(r), http.StatusNotFound, "There is no campaign with this number.")
	}
}

// The list of campaigns, newest first, 50 a page.
func TestCampaignList(t *testing.T) {
	e := newOutreachConsole(t)
	cookie := e.signedInAs("cwc@example.org", console.RoleCWC, "en")
	mustContain(t, "empty", e.do(req{method: "GET", path: "/campaigns", cookie: cookie}), http.StatusOK, "No campaign yet.")
	for i := range 51 {
		if _, err := e.web.Outreach.Create(context.Background(), outreach.Spec{Name: fmt.Sprintf("Campaign %02d", i), AllowMissing: true,
			Texts: map[string]string{"en": "text"}, Schedule: outreach.Schedule{Cron: "0 18 * * 5"}}, "token:x"); err != nil {
			t.Fatal(err)
		}
	}
	a := e.do(req{method: "GET", path: "/campaigns", cookie: cookie})
	mustContain(t, "first page", a, http.StatusOK, "Campaign 50 Scheduled Repeats: 0 18 * * 5 2026-11-27 18:00 0 0 0 0 0", "Next page")
	if strings.Contains(a.body, "Campaign 00") || strings.Count(a.body, `<tr class="s-`) != 50 {
		t.Errorf("the first page has %d rows", strings.Count(a.body, `<tr class="s-`))
	}
	a = e.do(req{method: "GET", path: "/campaigns?page=2", cookie: cookie})
	if !strings.Contains(a.body, "Campaign 00") || strings.Count(a.body, `<tr class="s-`) != 1 || !strings.Contains(a.body, `href="/campaigns">Previous page`) {
		t.Errorf("the second page:\n%s", body(a.body))
	}
}

// multipartUpload is a POST of a file in a form field, as a browser sends it.
func (e *consoleEnv) upload(path, cookie, field, filename, content string) answer {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	hr := httptest.NewRequest("POST", "http://console.example"+path, &buf)
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	hr.AddCookie(&http.Cookie{Name: console.CookieName, Value: cookie})
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return answer{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func distributionForm() url.Values {
	return url.Values{"site": {"Mamrashan camp"}, "governorate": {"duhok"}, "starts_at": {"2026-11-26T09:00"},
		"place": {"the hall near gate 2"}, "items": {"food basket"}, "bring": {"ration card"}, "reminders": {"24, 2"}}
}

// The distribution pages: the form's refusals at their fields; a distribution made, its
// household list refused with every bad line named and nothing imported, then imported;
// changed, cancelled, and then refused more households.
func TestDistributionPages(t *testing.T) {
	e := newOutreachConsole(t)
	cookie := e.signedInAs("cwc@example.org", console.RoleCWC, "en")
	ctx := context.Background()
	mustContain(t, "the empty list", e.do(req{method: "GET", path: "/distributions", cookie: cookie}), http.StatusOK, "No distribution yet.")
	mustContain(t, "the form", e.do(req{method: "GET", path: "/distributions/new", cookie: cookie}), http.StatusOK, "New distribution")

	for _, tc := range []struct {
		name   string
		change func(url.Values)
		says   string
	}{
		{"no site", func(f url.Values) { f.Del("site") }, "This is required."},
		{"no start", func(f url.Values) { f.Del("starts_at") }, "This is required."},
		{"bad start", func(f url.Values) { f.Set("starts_at", "thursday") }, "This date and time could not be read."},
		{"past", func(f url.Values) { f.Set("starts_at", "2026-11-01T09:00") }, "This time has passed already."},
		{"link", func(f url.Values) { f.Set("place", "see bit.ly/x") }, "This contains a link. Alerts never carry links"},
		{"too long", func(f url.Values) { f.Set("items", strings.Repeat("x", 161)) }, "This has 161 characters; at most 160 fit in a message."},
		{"bad reminders", func(f url.Values) { f.Set("reminders", "tomorrow") }, "Write the hours as numbers separated by commas"},
		{"reminder too far", func(f url.Values) { f.Set("reminders", "1000") }, "from 1 to 336"},
		{"announce after", func(f url.Values) { f.Set("announce_at", "2026-11-26T10:00") }, "The announcement must come before the distribution starts."},
	} {
		f := distributionForm()
		tc.change(f)
		mustContain(t, tc.name, e.do(req{method: "POST", path: "/distributions", cookie: cookie, form: f}), http.StatusBadRequest,
			"The distribution was not created.", tc.says)
	}
	if n := countRows(t, e, "distributions"); n != 0 {
		t.Fatalf("%d distributions stored by refused forms", n)
	}

	a := e.do(req{method: "POST", path: "/distributions", cookie: cookie, form: distributionForm()})
	var id int64
	if _, err := fmt.Sscanf(a.header.Get("Location"), "/distributions/%d?done=created", &id); a.status != http.StatusSeeOther || err != nil {
		t.Fatalf("create: %d to %q\n%s", a.status, a.header.Get("Location"), body(a.body))
	}
	path := fmt.Sprintf("/distributions/%d", id)
	d, err := store.DistributionByID(ctx, e.pool, id)
	if err != nil || d.CreatedBy != "staff:cwc@example.org" || !d.StartsAt.Equal(time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)) ||
		fmt.Sprint(d.Reminders) != "[24 2]" {
		t.Fatalf("stored %+v, %v", d, err)
	}
	mustContain(t, "its page", e.do(req{method: "GET", path: path + "?done=created", cookie: cookie}), http.StatusOK,
		"The distribution has been created. Now import its households.", "Distribution at Mamrashan camp", "Starts 2026-11-26 09:00",
		"Governorate Duhok", "Place the hall near gate 2", "What is distributed food basket", "What to bring ration card",
		"Reminders (hours before the start) 24, 2 hours before the start", "Households 0", "No message sent yet.")

	// every bad line named; nothing imported
	bad := "phone,household,language\n+9647701234567,HH-1,ar\nnot a phone,HH-2,ar\n+9647701234568,,ckb\n+9647701234569,HH-4,french\n"
	a = e.upload(path+"/households", cookie, "households", "list.csv", bad)
	mustContain(t, "bad list", a, http.StatusBadRequest, "Nothing was imported: the list has 3 problems.",
		`Line 3 · phone "not a phone"`, "Line 4 · household missing", `Line 5 · language "french" is not a language`, "Households 0")
	if n := countRows(t, e, "distribution_households"); n != 0 {
		t.Errorf("%d households imported from a bad list", n)
	}
	// a list of many bad lines: the first 300 named, the others counted, the page still light
	var many strings.Builder
	many.WriteString("phone,household,language\n")
	for i := range 400 {
		fmt.Fprintf(&many, "07701234,HH-%d,ar\n", i)
	}
	a = e.upload(path+"/households", cookie, "households", "list.csv", many.String())
	mustContain(t, "many bad lines", a, http.StatusBadRequest, "the list has 400 problems", "Line 301 ·",
		"More lines with problems, not shown: 100")
	if strings.Contains(body(a.body), "Line 302 ·") {
		t.Error("more than 300 bad lines named")
	}
	mustContain(t, "no file", e.upload(path+"/households", cookie, "households", "", ""), http.StatusBadRequest,
		"Choose the household list file (CSV) first.")
	mustContain(t, "not a form", e.do(req{method: "POST", path: path + "/households", cookie: cookie, form: url.Values{}}),
		http.StatusBadRequest, "Choose the household list file (CSV) first.")

	good := "phone,household,language,name\n+9647701234567,HH-1,ar,Layla\n07501234568,HH-2,badini,\n"
	a = e.upload(path+"/households", cookie, "households", "list.csv", good)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != path+"?done=imported&added=2" {
		t.Fatalf("good list: %d to %q\n%s", a.status, a.header.Get("Location"), body(a.body))
	}
	mustContain(t, "after the import", e.do(req{method: "GET", path: a.header.Get("Location"), cookie: cookie}), http.StatusOK,
		"The household list has been imported: 2 new households.", "Households 2")
	// the announcement queued at the import goes out: the page shows it with its code and
	// counts, and is reloaded while it sends
	var job []byte
	if err := e.pool.QueryRow(ctx, `SELECT args FROM river_job WHERE kind = 'distribution_alert' AND args->>'alert' = 'announcement'`).Scan(&job); err != nil {
		t.Fatalf("the announcement job: %v", err)
	}
	var args outreach.AlertArgs
	if err := json.Unmarshal(job, &args); err != nil {
		t.Fatal(err)
	}
	if err := (&outreach.AlertWorker{Service: e.web.Outreach}).Work(ctx, &river.Job[outreach.AlertArgs]{Args: args}); err != nil {
		t.Fatal(err)
	}
	a = e.do(req{method: "GET", path: path, cookie: cookie})
	alert := regexp.MustCompile(`(?s)<table class="alerts counts">.*?<tbody>\s*<tr>(.*?)</tr>`).FindStringSubmatch(a.body)
	if alert == nil || !regexp.MustCompile(`^Announcement \d{6} 2026-11-23 12:00 Sending 2 0 0 0 2$`).MatchString(body(alert[1])) {
		t.Errorf("the announcement's row: %v", alert)
	}
	if want := fmt.Sprintf("15; url=%s", path); a.header.Get("Refresh") != want {
		t.Errorf("Refresh %q while the announcement sends, want %q", a.header.Get("Refresh"), want)
	}

	// change: refused at the field, then done
	change := url.Values{"starts_at": {"2026-11-01T09:00"}, "place": {"the school"}, "items": {"food basket"}, "bring": {"ration card"}, "reminders": {"24"}}
	a = e.do(req{method: "POST", path: path + "/change", cookie: cookie, form: change})
	mustContain(t, "change to the past", a, http.StatusBadRequest, "Nothing was changed.", "This time has passed already.")
	if !strings.Contains(a.body, `value="the school"`) {
		t.Error("the refused change form does not keep what was typed")
	}
	change.Set("starts_at", "2026-11-26T09:00")
	a = e.do(req{method: "POST", path: path + "/change", cookie: cookie, form: change})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != path+"?done=changed" {
		t.Fatalf("change: %d to %q\n%s", a.status, a.header.Get("Location"), body(a.body))
	}
	if d, _ := store.DistributionByID(ctx, e.pool, id); d.Place != "the school" || !d.StartsAt.Equal(time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)) ||
		fmt.Sprint(d.Reminders) != "[24]" {
		t.Errorf("after the change: %+v", d)
	}

	// cancel; then nothing more
	a = e.do(req{method: "POST", path: path + "/cancel", cookie: cookie, form: url.Values{}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != path+"?done=cancelled" {
		t.Fatalf("cancel: %d to %q", a.status, a.header.Get("Location"))
	}
	a = e.do(req{method: "GET", path: path, cookie: cookie})
	mustContain(t, "cancelled", a, http.StatusOK, "State Cancelled", "This distribution is cancelled; its households have been told.")
	if strings.Contains(a.body, `action="`+path+`/households"`) {
		t.Error("a cancelled distribution's page offers to import households")
	}
	mustContain(t, "import after cancel", e.upload(path+"/households", cookie, "households", "list.csv", good), http.StatusConflict,
		"This distribution is cancelled: it cannot be changed and takes no more households.")
	mustContain(t, "change after cancel", e.do(req{method: "POST", path: path + "/change", cookie: cookie, form: change}), http.StatusConflict,
		"This distribution is cancelled")
	mustContain(t, "the list", e.do(req{method: "GET", path: "/distributions", cookie: cookie}), http.StatusOK,
		"2026-11-26 09:00 Mamrashan camp Duhok the school 2 Cancelled")

	for _, r := range []req{{method: "GET", path: "/distributions/404"}, {method: "POST", path: "/distributions/404/cancel", form: url.Values{}},
		{method: "POST", path: "/distributions/404/change", form: change}, {method: "POST", path: "/distributions/404/households", form: url.Values{}}} {
		r.cookie = cookie
		mustContain(t, r.method+" "+r.path, e.do(r), http.StatusNotFound, "There is no distribution with this number.")
	}
}

// A distribution that has started takes no more households; a Sorani user reads why.
func TestDistributionOverInSorani(t *testing.T) {
	e := newOutreachConsole(t)
	id, err := e.web.Outreach.CreateDistribution(context.Background(), outreach.DistributionSpec{Site: "Debaga",
		StartsAt: ptr(e.clock.Now().Add(time.Hour)), Place: "the hall", Items: "blankets"}, "token:x")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	cookie := e.signedInAs("karwan@example.org", console.RoleCWC, "ckb")
	path := fmt.Sprintf("/distributions/%d", id)
	a := e.do(req{method: "GET", path: path, cookie: cookie})
	mustContain(t, "over", a, http.StatusOK, "دەستیپێکردووە یان تەواوبووە")
	if strings.Contains(a.body, `action="`+path+`/households"`) || !strings.Contains(a.body, `dir="rtl"`) {
		t.Error("a distribution that has started offers to import households, or the page is not right to left")
	}
	mustContain(t, "import", e.upload(path+"/households", cookie, "households", "list.csv", "phone,household,language\n+9647701234567,HH-1,ar\n"),
		http.StatusConflict, "ئەم دابەشکردنە دەستیپێکردووە: خێزانی تری بۆ زیاد ناکرێت.")
}

func ptr[T any](v T) *T { return &v }
