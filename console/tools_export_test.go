package console_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

// exportHeader is the export's header row.
var exportHeader = []string{"reference", "category", "priority", "status", "channel", "language", "governorate", "site",
	"opened_at", "acknowledged_at", "resolved_at", "due_at", "overdue", "referred_to", "satisfaction"}

// readExport parses an export's body (without its byte order mark, if any) into its rows by
// reference, checking its header row.
func readExport(t *testing.T, body string) map[string]map[string]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, body)
	}
	if len(records) == 0 || !slices.Equal(records[0], exportHeader) {
		t.Fatalf("the export's header row is %q, want %q", records, exportHeader)
	}
	rows := map[string]map[string]string{}
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, col := range exportHeader {
			row[col] = rec[i]
		}
		rows[row["reference"]] = row
	}
	return rows
}

// exportCases seeds what the export tests read: a case in progress whose description, person,
// address and messages are personal data, referred to a partner whose name (and the case's
// site) would be a spreadsheet formula; a resolved case the person was satisfied with; a
// feedback case; and a case of the SEA category.
func exportCases(t *testing.T, e *consoleEnv) (planted, resolved, feedback, sea caseSeed) {
	t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	planted = seedCase(t, e.pool, now, caseSpec{ref: "1234567", conversation: true, events: true, urn: "tel:+9647701112233"})
	resolved = seedCase(t, e.pool, now, caseSpec{ref: "2345678", status: "resolved"})
	feedback = seedCase(t, e.pool, now, caseSpec{ref: "3456789", status: "new", category: cases.CategoryFeedback})
	sea = seedCase(t, e.pool, now, caseSpec{ref: "4567890", category: cases.CategorySEA})
	partner, err := store.InsertPartner(ctx, e.pool, store.Partner{Name: "@SUM(1+1)*cmd", Active: true, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `
		UPDATE cases SET description = 'My name is Layla Hassan, call me on 07701112233', site = '=HYPERLINK("http://evil.example")',
		       partner_id = $2, referred_at = $3, acknowledged_at = $3, assignee = 'amal@example.org'
		WHERE id = $1`, planted.id, partner, now.Add(-90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE cases SET resolved_at = $2, satisfied = true, site = '-2+3' WHERE id = $1`,
		resolved.id, now.Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	return planted, resolved, feedback, sea
}

// The export of the queue has the open cases the queue shows, each with what reporting needs
// in the console's time zone, and nothing of who the person is or what they said; a value that
// a spreadsheet would run as a formula is written as text. It takes the queue's filters, and
// refuses a value the queue does not take. SEA cases are never in it.
func TestCaseExport(t *testing.T) {
	e := newConsole(t)
	e.web.Location = time.FixedZone("+03", 3*60*60)
	e.h = e.web.Handler()
	planted, resolved, feedback, sea := exportCases(t, e)
	viewer := e.sessionOf(e.addUser("noor@example.org", console.RoleViewer, "ar", "a long enough password", false))

	a := e.do(req{method: "GET", path: "/cases/export.csv", cookie: viewer})
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		a.header.Get("Content-Disposition") != `attachment; filename="sawt-cases-2026-11-23.csv"` ||
		a.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(a.body, "\uFEFFreference,") {
		t.Fatalf("export: %d %v\n%s", a.status, a.header, a.body)
	}
	// no description, name, phone number, address, message or assignee (the header row has
	// no column for the contact)
	for _, secret := range []string{"Layla", "Hassan", "07701112233", "9647701112233", "tel:", "الحنفية", "the-secret-words",
		"شكرًا لك", "amal@example.org"} {
		if strings.Contains(a.body, secret) {
			t.Errorf("the export has %q:\n%s", secret, a.body)
		}
	}
	rows := readExport(t, a.body)
	if len(rows) != 2 || rows[string(sea.ref)] != nil || rows[string(resolved.ref)] != nil {
		t.Errorf("the open cases without the SEA one, want %s and %s: %v", planted.ref, feedback.ref, rows)
	}
	want := map[string]string{"reference": string(planted.ref), "category": "assistance_request", "priority": "normal",
		"status": "in_progress", "channel": "sms", "language": "ar", "governorate": "ninewa",
		"site": `'=HYPERLINK("http://evil.example")`, "opened_at": "2026-11-23T10:00:00+03:00",
		"acknowledged_at": "2026-11-23T10:30:00+03:00", "resolved_at": "", "due_at": "2026-11-23T11:00:00+03:00",
		"overdue": "yes", "referred_to": "'@SUM(1+1)*cmd", "satisfaction": ""}
	if got := rows[string(planted.ref)]; !mapsEqual(got, want) {
		t.Errorf("the case in progress:\n got %v\nwant %v", got, want)
	}

	// the queue's filters
	a = e.do(req{method: "GET", path: "/cases/export.csv?status=resolved", cookie: viewer})
	rows = readExport(t, a.body)
	if r := rows[string(resolved.ref)]; len(rows) != 1 || r == nil || r["satisfaction"] != "yes" || r["site"] != "'-2+3" ||
		r["resolved_at"] != "2026-11-23T11:30:00+03:00" || r["overdue"] != "no" {
		t.Errorf("status=resolved: %v", rows)
	}
	a = e.do(req{method: "GET", path: "/cases/export.csv?category=feedback&governorate=duhok", cookie: viewer})
	if rows = readExport(t, a.body); len(rows) != 0 {
		t.Errorf("category=feedback&governorate=duhok: %v", rows)
	}
	a = e.do(req{method: "GET", path: "/cases/export.csv?category=feedback&overdue=1", cookie: viewer})
	if rows = readExport(t, a.body); len(rows) != 1 || rows[string(feedback.ref)] == nil {
		t.Errorf("category=feedback&overdue=1: %v", rows)
	}
	a = e.do(req{method: "GET", path: "/cases/export.csv?reference=" + string(sea.ref), cookie: viewer})
	if rows = readExport(t, a.body); len(rows) != 0 {
		t.Errorf("the SEA case by its number: %v", rows)
	}
	a = e.do(req{method: "GET", path: "/cases/export.csv?channel=pigeon", cookie: viewer})
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "channel=pigeon") {
		t.Errorf("an unknown channel: %d\n%s", a.status, a.body)
	}
	checkPage(t, "a refused export", a)

	// no case matches: the header row alone
	a = e.do(req{method: "GET", path: "/cases/export.csv?site=nowhere", cookie: viewer})
	if a.status != http.StatusOK || a.body != "\uFEFF"+strings.Join(exportHeader, ",")+"\n" {
		t.Errorf("no case: %d %q", a.status, a.body)
	}

	// each role the dashboard has may download it; a PSEA focal point may not
	for _, role := range []string{console.RoleAdmin, console.RoleCaseworker, console.RoleCWC, console.RolePSEA} {
		cookie := e.sessionOf(e.addUser(role+"@example.org", role, "en", "a long enough password", false))
		a := e.do(req{method: "GET", path: "/cases/export.csv", cookie: cookie})
		if wantStatus := map[bool]int{true: 403, false: 200}[role == console.RolePSEA]; a.status != wantStatus {
			t.Errorf("%s: %d, want %d", role, a.status, wantStatus)
		}
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

// The queue links to the export of the list it shows, all its pages; the dashboard, which
// the viewers who cannot open the queue see, to the export of the open cases.
func TestCaseExportLinks(t *testing.T) {
	e := newConsole(t)
	cw := e.sessionOf(e.addUser("amal@example.org", console.RoleCaseworker, "en", "a long enough password", false))
	a := e.do(req{method: "GET", path: "/cases?category=feedback&overdue=1&page=3&site=", cookie: cw})
	if !strings.Contains(a.body, `<a href="/cases/export.csv?category=feedback&amp;overdue=1" download>Download this list (CSV)</a>`) {
		t.Errorf("the queue does not link to the export of its list:\n%s", a.body)
	}
	viewer := e.sessionOf(e.addUser("noor@example.org", console.RoleViewer, "ckb", "a long enough password", false))
	a = e.do(req{method: "GET", path: "/dashboard", cookie: viewer})
	if !strings.Contains(a.body, `<a href="/cases/export.csv" download>لیستی کەیسە کراوەکان دابگرە (CSV، بێ زانیاریی کەسی)</a>`) {
		t.Errorf("the dashboard does not link to the export:\n%s", a.body)
	}
	checkPage(t, "dashboard", a)
}

// The API's export is the page's, for the tokens of the dashboard's roles, with times in UTC
// as the API has them; a parameter it does not know is refused, not ignored.
func TestCaseExportAPI(t *testing.T) {
	e, api, _ := newCasesAPI(t)
	mux := http.NewServeMux()
	api.Routes(mux)
	planted, _, _, sea := exportCases(t, e)
	get := func(token, query string) (int, http.Header, string) {
		t.Helper()
		r := httptest.NewRequest("GET", "/api/v1/cases/export.csv"+query, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, rec.Result().Header, string(b)
	}
	viewer := tokenFor(t, e.pool, "reports", console.RoleViewer)
	status, h, body := get(viewer, "?governorate=ninewa")
	if status != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" || strings.HasPrefix(body, "\uFEFF") {
		t.Fatalf("export: %d %v\n%s", status, h, body)
	}
	rows := readExport(t, body)
	if r := rows[string(planted.ref)]; len(rows) != 2 || r["opened_at"] != "2026-11-23T07:00:00Z" || rows[string(sea.ref)] != nil {
		t.Errorf("the API's export: %v", rows)
	}
	if strings.Contains(body, "Layla") || strings.Contains(body, "07701112233") {
		t.Errorf("the API's export has personal data:\n%s", body)
	}
	for _, role := range []string{console.RoleAdmin, console.RoleCaseworker, console.RoleCWC} {
		if status, _, _ := get(tokenFor(t, e.pool, role+"-bot", role), ""); status != http.StatusOK {
			t.Errorf("a %s token: %d", role, status)
		}
	}
	psea := tokenFor(t, e.pool, "psea-bot", console.RolePSEA)
	for _, tc := range []struct {
		token, query string
		status       int
		says         string
	}{
		{psea, "", http.StatusForbidden, ""},
		{viewer, "?page=2", http.StatusBadRequest, `unknown parameter \"page\"`},
		{viewer, "?channel=pigeon", http.StatusBadRequest, "channel"},
		{viewer, "?overdue=yes", http.StatusBadRequest, "overdue"},
	} {
		status, _, body := get(tc.token, tc.query)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d %s, want %d saying %s", tc.query, status, body, tc.status, tc.says)
		}
	}
}
