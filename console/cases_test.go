package console_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// seedQueue makes n cases: every seventh critical, every fifth about fraud, every third
// already overdue, every sixth closed; references are the case's number on eight digits.
func seedQueue(t testing.TB, pool *pgxpool.Pool, n int, now time.Time) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		WITH c AS (INSERT INTO contacts (language) VALUES ('ar') RETURNING id)
		INSERT INTO cases (reference, contact_id, category, priority, status, channel, language, governorate, site,
		                   ack_due_at, refer_due_at, resolve_due_at, created_at, updated_at)
		SELECT lpad(i::text, 8, '0'), c.id,
		       CASE WHEN i % 5 = 0 THEN 'misconduct_fraud' ELSE 'assistance_request' END,
		       CASE WHEN i % 7 = 0 THEN 'critical' ELSE 'normal' END,
		       CASE WHEN i % 6 = 0 THEN 'closed' ELSE 'new' END,
		       (ARRAY['sms', 'telegram', 'voice'])[i % 3 + 1], 'ar', 'ninewa', 'Hasansham U3',
		       $2::timestamptz + CASE WHEN i % 3 = 0 THEN -1 ELSE 1 END * (i % 100 + 1) * interval '1 hour',
		       $2::timestamptz + interval '10 days', $2::timestamptz + interval '20 days',
		       $2::timestamptz, $2::timestamptz
		FROM c, generate_series(1, $1) AS i`, n, now)
	if err != nil {
		t.Fatal(err)
	}
}

// The queue shows a caseworker the open cases, the most urgent first, overdue ones marked,
// in their language and direction; filters and the search by number narrow it; other roles
// cannot open it.
func TestCaseQueuePage(t *testing.T) {
	e := newConsole(t)
	seedQueue(t, e.pool, 120, e.clock.Now())
	cw := e.sessionOf(e.addUser("caseworker@example.org", console.RoleCaseworker, "ar", "a long enough password", false))
	rows := func(body string) int { return strings.Count(body, `<tr class="p-`) }

	a := e.do(req{method: "GET", path: "/cases", cookie: cw})
	if a.status != http.StatusOK || !strings.Contains(a.body, `dir="rtl"`) || !strings.Contains(a.body, "<h1>الحالات</h1>") {
		t.Fatalf("queue: %d\n%s", a.status, a.body)
	}
	if n := rows(a.body); n != 50 {
		t.Errorf("%d rows on the first page, want 50", n)
	}
	first := a.body[strings.Index(a.body, `<tr class="p-`):]
	if !strings.HasPrefix(first, `<tr class="p-critical`) || !strings.Contains(a.body, "حرجة") {
		t.Errorf("the first row is not a critical case: %.200s", first)
	}
	if !strings.Contains(a.body, `overdue"><td>`) || !strings.Contains(a.body, "<strong>متأخرة</strong>") {
		t.Error("no case is marked overdue")
	}
	if strings.Contains(a.body, "مغلقة</td>") {
		t.Error("a closed case is in the queue")
	}
	if !strings.Contains(a.body, `href="/cases?page=2"`) || len(a.body) > 100_000 {
		t.Errorf("no link to the next page, or the page is %d bytes", len(a.body))
	}

	for _, c := range []struct {
		query string
		want  func(string) bool
	}{
		{"category=misconduct_fraud", func(b string) bool {
			return rows(b) == 20 && strings.Count(b, "سوء سلوك موظفين أو احتيال</td>") == 20
		}},
		{"overdue=1&channel=sms", func(b string) bool {
			return rows(b) > 0 && rows(b) == strings.Count(b, "<strong>متأخرة</strong>") && strings.Count(b, "<td>رسائل SMS</td>") == rows(b)
		}},
		{"reference=" + url.QueryEscape("٠٠٠٠ ٠٠٤٢"), func(b string) bool { return rows(b) == 1 && strings.Contains(b, "0000 0042") }},
		{"status=closed", func(b string) bool { return rows(b) == 20 }},
		{"site=Nowhere", func(b string) bool { return rows(b) == 0 && strings.Contains(b, "لا توجد حالة مطابقة") }},
		{"page=2", func(b string) bool { return rows(b) == 50 && strings.Contains(b, `href="/cases"`) }},
	} {
		a := e.do(req{method: "GET", path: "/cases?" + c.query, cookie: cw})
		if a.status != http.StatusOK || !c.want(a.body) {
			t.Errorf("%s: %d, %d rows", c.query, a.status, rows(a.body))
		}
	}
	if a := e.do(req{method: "GET", path: "/cases?status=lost", cookie: cw}); a.status != http.StatusBadRequest || !strings.Contains(a.body, "status=lost") {
		t.Errorf("an unknown filter: %d", a.status)
	}
	en := e.sessionOf(e.addUser("en@example.org", console.RoleCaseworker, "en", "a long enough password", false))
	if a := e.do(req{method: "GET", path: "/cases?category=misconduct_fraud", cookie: en}); !strings.Contains(a.body, "Staff misconduct or fraud</td>") || !strings.Contains(a.body, `dir="ltr"`) {
		t.Errorf("the English queue: %d", a.status)
	}
	for _, role := range []string{console.RoleAdmin, console.RolePSEA, console.RoleViewer, console.RoleCWC} {
		other := e.sessionOf(e.addUser(role+"@example.org", role, "en", "a long enough password", false))
		if a := e.do(req{method: "GET", path: "/cases", cookie: other}); a.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", role, a.status)
		}
	}
}

// BenchmarkCaseQueuePage serves the queue's first page among 100,000 cases, and reports
// the server time's p50 and p99 and the page's size.
func BenchmarkCaseQueuePage(b *testing.B) {
	pool := pgtest.New(b)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	seedQueue(b, pool, 100000, now)
	if _, err := pool.Exec(context.Background(), `ANALYZE cases`); err != nil {
		b.Fatal(err)
	}
	w := &console.Web{Pool: pool, Now: func() time.Time { return now }}
	hash, err := console.HashPassword("a long enough password")
	if err != nil {
		b.Fatal(err)
	}
	at := now
	id, err := store.InsertStaffUser(context.Background(), pool, store.StaffUser{Email: "cw@example.org", Role: console.RoleCaseworker,
		Language: "ar", PasswordHash: hash, CreatedAt: now, PasswordChangedAt: &at})
	if err != nil {
		b.Fatal(err)
	}
	token := base64.RawURLEncoding.EncodeToString(make([]byte, 32)) // the form of a session cookie
	if err := store.CreateStaffSession(context.Background(), pool, store.StaffSession{TokenHash: console.HashToken(token),
		UserID: id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	h := w.Handler()
	for _, query := range []string{"", "?overdue=1&channel=sms", "?category=misconduct_fraud&page=3"} {
		b.Run("cases"+query, func(b *testing.B) {
			var times []time.Duration
			size := 0
			for b.Loop() {
				r := httptest.NewRequest("GET", "http://console.example/cases"+query, nil)
				r.AddCookie(&http.Cookie{Name: console.CookieName, Value: token})
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, r)
				times = append(times, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("%d", rec.Code)
				}
				size = rec.Body.Len()
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(size), "page-bytes")
		})
	}
}
