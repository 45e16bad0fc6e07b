package console_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store/pgtest"
)

// apiCall is one JSON API request: its status and the JSON object answered.
type apiCall func(method, path, token, contentType, body string) (int, map[string]any)

// newAPI is the JSON API on its own database, at a fixed time, with a way to call it.
func newAPI(t *testing.T) (*pgxpool.Pool, *http.ServeMux, apiCall) {
	t.Helper()
	pool := pgtest.New(t)
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	api := &console.API{
		Auth:     &console.Auth{Pool: pool, Now: func() time.Time { return now }},
		Outreach: &outreach.Service{Pool: pool, River: rc, Location: time.FixedZone("Asia/Baghdad", 3*3600), Now: func() time.Time { return now }},
	}
	mux := http.NewServeMux()
	api.Routes(mux)
	return pool, mux, apiCaller(t, mux)
}

// apiCaller calls the API served by h.
func apiCaller(t *testing.T, h http.Handler) apiCall {
	return func(method, path, token, contentType, body string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: not JSON: %q", method, path, rec.Body.String())
		}
		return rec.Code, out
	}
}

// Every bad input to the campaigns API gets the status it deserves and a message naming what
// is wrong; good ones make, read and steer a campaign.
func TestCampaignsAPI(t *testing.T) {
	pool, mux, do := newAPI(t)
	cwc, admin, viewer := tokenFor(t, pool, "cwc-team", console.RoleCWC), tokenFor(t, pool, "admin", console.RoleAdmin), tokenFor(t, pool, "viewer", console.RoleViewer)

	texts := `"texts": {"ar": "نص", "ckb": "دەق", "badini": "تێکست", "en": "text"}`
	good := `{"name": "Fire safety", "topic": "safety", ` + texts + `, "audience": {"governorates": ["duhok"]}, "schedule": {"cron": "0 18 * * 5"}}`

	for _, tc := range []struct {
		name, token, contentType, body string
		status                         int
		says, field                    string
	}{
		{"no token", "", "", good, 401, "missing bearer token", ""},
		{"wrong role", viewer, "", good, 403, "needs one of: cwc, admin", ""},
		{"not JSON", cwc, "text/plain", good, 415, "send JSON", ""},
		{"empty", cwc, "", "", 400, "body is empty", ""},
		{"broken JSON", cwc, "", `{"name": "x",`, 400, "bad JSON", ""},
		{"two objects", cwc, "", good + good, 400, "more than one JSON value", ""},
		{"unknown field", cwc, "", `{"name": "x", "colour": "red"}`, 400, `unknown field "colour"`, "colour"},
		{"wrong type", cwc, "", `{"name": 7}`, 400, "expected string", "name"},
		{"no name", cwc, "", `{` + texts + `, "schedule": {"now": true}}`, 400, "name: is required", "name"},
		{"unknown topic", cwc, "", `{"name": "x", "topic": "weather", ` + texts + `, "schedule": {"now": true}}`, 400, "not a topic", "topic"},
		{"bad cron", cwc, "", `{"name": "x", ` + texts + `, "schedule": {"cron": "every friday"}}`, 400, "schedule.cron", "schedule.cron"},
		{"past date", cwc, "", `{"name": "x", ` + texts + `, "schedule": {"at": "2026-11-01T09:00:00+03:00"}}`, 400, "in the past", "schedule.at"},
		{"bad date", cwc, "", `{"name": "x", ` + texts + `, "schedule": {"at": "next friday"}}`, 400, "bad JSON", ""},
		{"no schedule", cwc, "", `{"name": "x", ` + texts + `}`, 400, "exactly one", "schedule"},
		{"link", cwc, "", `{"name": "x", "texts": {"ar": "سجل في http://x.example", "ckb": "a", "badini": "b", "en": "c"}, "schedule": {"now": true}}`,
			400, "contains a link", "texts.ar"},
		{"missing language", cwc, "", `{"name": "x", "texts": {"ar": "a", "en": "b"}, "schedule": {"now": true}}`, 400, "no text in ckb, badini", "texts"},
		{"bad channel", cwc, "", `{"name": "x", ` + texts + `, "audience": {"channels": ["voice"]}, "schedule": {"now": true}}`, 400, "cannot carry", "audience.channels"},
		{"too large", cwc, "", `{"name": "` + strings.Repeat("x", 1<<20) + `"}`, 413, "larger than", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := do("POST", "/api/v1/campaigns", tc.token, tc.contentType, tc.body)
			msg, _ := out["error"].(string)
			if code != tc.status || !strings.Contains(msg, tc.says) {
				t.Errorf("%d %q, want %d saying %q", code, msg, tc.status, tc.says)
			}
			if field, _ := out["field"].(string); field != tc.field {
				t.Errorf("field %q, want %q", field, tc.field)
			}
		})
	}

	code, out := do("POST", "/api/v1/campaigns", cwc, "application/json; charset=utf-8", good)
	if code != 201 || out["state"] != "scheduled" || out["next_run_at"] != "2026-11-27T15:00:00Z" {
		t.Fatalf("create: %d %v", code, out)
	}
	id := int64(out["id"].(float64))
	path := fmt.Sprintf("/api/v1/campaigns/%d", id)
	if code, out := do("GET", path, admin, "", ""); code != 200 || out["name"] != "Fire safety" || out["runs"] == nil {
		t.Errorf("get: %d %v", code, out)
	}
	for _, step := range []struct {
		method, path, token string
		status              int
		state, says         string
	}{
		{"GET", "/api/v1/campaigns/999", cwc, 404, "", "no campaign 999"},
		{"GET", "/api/v1/campaigns/abc", cwc, 404, "", "no campaign"},
		{"GET", path, viewer, 403, "", "may not"},
		{"POST", path + "/pause", cwc, 200, "paused", ""},
		{"POST", path + "/pause", cwc, 200, "paused", ""},
		{"POST", path + "/resume", cwc, 200, "scheduled", ""},
		{"POST", path + "/explode", cwc, 404, "", "use pause, resume or cancel"},
		{"POST", "/api/v1/campaigns/999/pause", cwc, 404, "", "no campaign 999"},
		{"POST", path + "/cancel", admin, 200, "cancelled", ""},
		{"POST", path + "/resume", cwc, 409, "", "the campaign is cancelled: it cannot be resumed"},
		{"DELETE", path, cwc, 404, "", "no such API route: DELETE"},
		{"GET", "/api/v1/nothing", cwc, 404, "", "no such API route"},
	} {
		req := httptest.NewRequest(step.method, step.path, nil)
		req.Header.Set("Authorization", "Bearer "+step.token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var got map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &got)
		msg, _ := got["error"].(string)
		if rec.Code != step.status || (step.state != "" && got["state"] != step.state) || !strings.Contains(msg, step.says) {
			t.Errorf("%s %s: %d %s", step.method, step.path, rec.Code, rec.Body.String())
		}
	}
}
