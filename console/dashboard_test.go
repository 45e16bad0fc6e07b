package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/console"
)

// seedDashboard makes six cases and one of the SEA category (which the dashboard must not
// count), as of now (a Monday, 09:00 UTC). Three are open (two of them overdue), three were
// opened in the last week; acknowledged after 1, 2, 4, 6 and 8 hours; three resolved after
// 24, 48 and 72 hours, one person satisfied, one not and one not answering.
func seedDashboard(t testing.TB, pool *pgxpool.Pool, now time.Time) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		WITH c AS (INSERT INTO contacts (language) VALUES ('ar') RETURNING id)
		INSERT INTO cases (reference, contact_id, category, priority, status, channel, language, governorate,
		                   ack_due_at, refer_due_at, resolve_due_at, created_at, updated_at,
		                   acknowledged_at, resolved_at, satisfied)
		SELECT v.ref, c.id, v.category, 'normal', v.status, v.channel, v.language, v.governorate,
		       $1::timestamptz + v.ack_due, $1::timestamptz + v.refer_due, $1::timestamptz + v.resolve_due,
		       $1::timestamptz + v.created, $1::timestamptz + v.created,
		       $1::timestamptz + v.created + v.ack, $1::timestamptz + v.created + v.resolved, v.satisfied
		FROM c, (VALUES
		  ('00000001', 'feedback', 'new', 'sms', 'ar', 'ninewa', interval '-1 hour', interval '1 day', interval '5 days', interval '-2 hours', NULL::interval, NULL::interval, NULL::boolean),
		  ('00000002', 'feedback', 'acknowledged', 'telegram', 'ckb', 'duhok', interval '-2 days', interval '1 day', interval '5 days', interval '-3 days', interval '2 hours', NULL, NULL),
		  ('00000003', 'assistance_request', 'resolved', 'voice', 'ar', 'ninewa', interval '-9 days', interval '-8 days', interval '-1 day', interval '-10 days', interval '4 hours', interval '48 hours', true),
		  ('00000004', 'information_request', 'resolved', 'sms', 'en', NULL, interval '-19 days', interval '-18 days', interval '-1 day', interval '-20 days', interval '6 hours', interval '24 hours', false),
		  ('00000005', 'feedback', 'closed', 'sms', 'ar', 'ninewa', interval '-29 days', interval '-28 days', interval '-20 days', interval '-30 days', interval '8 hours', interval '72 hours', NULL),
		  ('00000006', 'misconduct_fraud', 'in_progress', 'sms', 'ar', 'erbil', interval '-4 days', interval '-4 days', interval '-1 hour', interval '-5 days', interval '1 hour', NULL, NULL),
		  ('00000007', 'sea', 'new', 'sms', 'ar', 'ninewa', interval '-1 hour', interval '1 day', interval '5 days', interval '-3 hours', NULL, NULL, NULL)
		) AS v(ref, category, status, channel, language, governorate, ack_due, refer_due, resolve_due, created, ack, resolved, satisfied)`, now)
	if err != nil {
		t.Fatal(err)
	}
}

// barRow is the number in a bar chart's row of label, or "" when there is none.
func barRow(body, label string) string {
	m := regexp.MustCompile(`<th scope="row">` + regexp.QuoteMeta(label) + `</th><td class="bar"><svg [^>]*><rect [^>]*/></svg></td><td class="num">(\d+)</td>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// The dashboard shows a viewer the figures of the cases in their language and direction,
// SEA cases left out; the PSEA focal point cannot open it; the start page links to it.
func TestDashboardPage(t *testing.T) {
	e := newConsole(t)
	seedDashboard(t, e.pool, e.clock.Now())

	for _, tt := range []struct {
		lang, dir string
		figures   map[string]string
		bars      map[string]string
	}{
		{"en", "ltr", map[string]string{
			"open": "3", "overdue": "2", "last7": "3", "median-ack": "4.0 hours", "median-resolve": "48.0 hours",
			"sat-yes": "1", "sat-no": "1", "sat-none": "1",
		}, map[string]string{
			"Feedback": "3", "Request for assistance": "1", "Staff misconduct or fraud": "1", "SMS": "4", "Telegram": "1",
			"Phone": "1", "Arabic": "4", "Sorani": "1", "English": "1", "Ninewa": "3", "Erbil": "1", "Not known": "1",
		}},
		{"ar", "rtl", map[string]string{
			"open": "3", "overdue": "2", "last7": "3", "median-ack": "4.0 ساعة", "median-resolve": "48.0 ساعة",
			"sat-yes": "1", "sat-no": "1", "sat-none": "1",
		}, map[string]string{"رأي أو ملاحظة": "3", "رسائل SMS": "4", "العربية": "4", "نينوى": "3", "غير معروف": "1"}},
	} {
		u := e.addUser(tt.lang+"-viewer@example.org", console.RoleViewer, tt.lang, "a long enough password", false)
		cookie := e.sessionOf(u)
		a := e.do(req{method: "GET", path: "/dashboard", cookie: cookie})
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tt.lang, a.status, a.body)
		}
		checkPage(t, tt.lang+" /dashboard", a)
		if !strings.Contains(a.body, `<html lang="`+tt.lang+`" dir="`+tt.dir+`">`) {
			t.Errorf("%s: not dir=%s", tt.lang, tt.dir)
		}
		for id, want := range tt.figures {
			if !strings.Contains(a.body, `<dd id="`+id+`">`+want+`</dd>`) {
				t.Errorf("%s: %s is not %q\n%s", tt.lang, id, want, a.body)
			}
		}
		for label, want := range tt.bars {
			if got := barRow(a.body, label); got != want {
				t.Errorf("%s: bar %q shows %q, want %q", tt.lang, label, got, want)
			}
		}
		if n := strings.Count(a.body, "<svg "); n < 10 {
			t.Errorf("%s: %d SVG charts", tt.lang, n)
		}
		if barRow(a.body, "sea") != "" { // the category has no name in the console: its code would show
			t.Errorf("%s: the SEA category is shown", tt.lang)
		}
		for _, week := range []string{"<title>2026-11-23: 1</title>", "<title>2026-11-16: 2</title>",
			"<title>2026-11-09: 1</title>", "<title>2026-11-02: 1</title>", "<title>2026-10-19: 1</title>", "<title>2026-09-07: 0</title>"} {
			if !strings.Contains(a.body, week) {
				t.Errorf("%s: no %s in the weekly chart", tt.lang, week)
			}
		}
		if n := strings.Count(a.body, "<g><title>"); n != 12 {
			t.Errorf("%s: %d weeks, want 12", tt.lang, n)
		}
		home := e.do(req{method: "GET", path: "/", cookie: cookie})
		if !strings.Contains(home.body, `href="/dashboard"`) {
			t.Errorf("%s: the start page has no link to the dashboard", tt.lang)
		}
	}

	psea := e.sessionOf(e.addUser("psea@example.org", console.RolePSEA, "en", "a long enough password", false))
	if a := e.do(req{method: "GET", path: "/dashboard", cookie: psea}); a.status != http.StatusForbidden {
		t.Errorf("psea: %d, want 403", a.status)
	}
	if home := e.do(req{method: "GET", path: "/", cookie: psea}); strings.Contains(home.body, `href="/dashboard"`) {
		t.Error("the PSEA start page links to the dashboard")
	}
}

// With no case at all, the dashboard says so rather than failing.
func TestDashboardEmpty(t *testing.T) {
	e := newConsole(t)
	for _, lang := range console.Languages() {
		cookie := e.sessionOf(e.addUser(lang+"@example.org", console.RoleAdmin, lang, "a long enough password", false))
		a := e.do(req{method: "GET", path: "/dashboard", cookie: cookie})
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", lang, a.status, a.body)
		}
		checkPage(t, lang+" empty /dashboard", a)
		if !strings.Contains(a.body, `<dd id="open">0</dd>`) || strings.Count(a.body, "<g><title>") != 12 {
			t.Errorf("%s: not an empty dashboard\n%s", lang, a.body)
		}
	}
	a := e.do(req{method: "GET", path: "/dashboard", cookie: e.sessionOf(e.addUser("v@example.org", console.RoleViewer, "en", "a long enough password", false))})
	for _, s := range []string{`<dd id="median-ack">No data yet</dd>`, "No cases yet."} {
		if !strings.Contains(a.body, s) {
			t.Errorf("empty: no %q", s)
		}
	}
}

// The API gives the dashboard's figures to the roles that see the page, and no one else.
func TestDashboardAPI(t *testing.T) {
	e, _, do := newCasesAPI(t)
	seedDashboard(t, e.pool, e.clock.Now())
	for _, role := range console.Roles() {
		code, out := do("GET", "/api/v1/dashboard", tokenFor(t, e.pool, role+"-bot", role), "", "")
		if role == console.RolePSEA {
			if code != http.StatusForbidden {
				t.Errorf("psea: %d, want 403", code)
			}
			continue
		}
		if code != http.StatusOK {
			t.Fatalf("%s: %d %v", role, code, out)
		}
		for key, want := range map[string]float64{"open": 3, "overdue": 2, "opened_last_7_days": 3,
			"median_hours_to_acknowledge": 4, "median_hours_to_resolve": 48, "satisfied": 1, "unsatisfied": 1} {
			if out[key] != want {
				t.Errorf("%s: %s = %v, want %v", role, key, out[key], want)
			}
		}
		cats, _ := out["by_category"].([]any)
		if len(cats) == 0 || cats[0].(map[string]any)["code"] != "feedback" || cats[0].(map[string]any)["count"] != 3.0 {
			t.Errorf("%s: by_category %v", role, out["by_category"])
		}
		for _, c := range cats {
			if c.(map[string]any)["code"] == "sea" {
				t.Errorf("%s: the SEA category is counted", role)
			}
		}
		if weeks, _ := out["by_week"].([]any); len(weeks) != 12 || weeks[11].(map[string]any)["week_start"] != "2026-11-23" {
			t.Errorf("%s: by_week %v", role, out["by_week"])
		}
	}
	if code, _ := do("GET", "/api/v1/dashboard", "", "", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
}
