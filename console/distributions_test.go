package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sawt/sawt/console"
)

// The distributions API: every bad input gets its status and a message naming what is wrong,
// a household list with bad lines is refused whole with every line named, and a good one is
// imported.
func TestDistributionsAPI(t *testing.T) {
	pool, _, do := newAPI(t)
	cwc, viewer := tokenFor(t, pool, "cwc-team", console.RoleCWC), tokenFor(t, pool, "viewer", console.RoleViewer)
	good := `{"site": "Mamrashan camp", "governorate": "duhok", "starts_at": "2026-11-26T09:00:00+03:00",
		"place": "the hall near gate 2", "items": "food basket", "bring": "ration card"}`
	for _, tc := range []struct {
		name, token, body string
		status            int
		says, field       string
	}{
		{"no token", "", good, 401, "missing bearer token", ""},
		{"wrong role", viewer, good, 403, "needs one of: cwc, admin", ""},
		{"unknown field", cwc, `{"site": "x", "date": "tomorrow"}`, 400, `unknown field "date"`, "date"},
		{"bad date", cwc, `{"site": "x", "starts_at": "thursday"}`, 400, "bad JSON", ""},
		{"no site", cwc, `{"starts_at": "2026-11-26T09:00:00+03:00", "place": "p", "items": "i"}`, 400, "site: is required", "site"},
		{"past", cwc, `{"site": "x", "starts_at": "2026-11-01T09:00:00+03:00", "place": "p", "items": "i"}`, 400, "in the past", "starts_at"},
		{"link", cwc, `{"site": "x", "starts_at": "2026-11-26T09:00:00+03:00", "place": "see bit.ly/x", "items": "i"}`, 400, "link", "place"},
		{"bad reminders", cwc, `{"site": "x", "starts_at": "2026-11-26T09:00:00+03:00", "place": "p", "items": "i", "reminders_hours": [1000]}`,
			400, "from 1 to 336", "reminders_hours"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := do("POST", "/api/v1/distributions", tc.token, "", tc.body)
			msg, _ := out["error"].(string)
			if code != tc.status || !strings.Contains(msg, tc.says) {
				t.Errorf("%d %q, want %d saying %q", code, msg, tc.status, tc.says)
			}
			if field, _ := out["field"].(string); field != tc.field {
				t.Errorf("field %q, want %q", field, tc.field)
			}
		})
	}
	code, out := do("POST", "/api/v1/distributions", cwc, "application/json", good)
	if code != 201 || out["state"] != "planned" {
		t.Fatalf("create: %d %v", code, out)
	}
	path := fmt.Sprintf("/api/v1/distributions/%d", int64(out["id"].(float64)))

	// Every bad line is named, and nothing is imported.
	bad := "phone,household,language\n+9647701234567,HH-1,ar\nnot a phone,HH-2,ar\n+9647701234568,,ckb\n+9647701234569,HH-4,french\n"
	code, out = do("POST", path+"/households", cwc, "text/csv", bad)
	lines, _ := out["lines"].([]any)
	if code != 400 || len(lines) != 3 || !strings.Contains(out["error"].(string), "nothing was imported") {
		t.Fatalf("bad list: %d %v", code, out)
	}
	for i, want := range []float64{3, 4, 5} {
		if l := lines[i].(map[string]any); l["line"] != want || l["message"] == "" {
			t.Errorf("problem %d: %v, want line %v", i, l, want)
		}
	}
	if code, out := do("GET", path, cwc, "", ""); code != 200 || out["households"] != float64(0) {
		t.Errorf("after a refused list: %d %v", code, out)
	}
	if code, out := do("POST", path+"/households", cwc, "application/json", `{}`); code != 415 {
		t.Errorf("JSON for a household list: %d %v", code, out)
	}
	goodList := "phone,household,language,name\n+9647701234567,HH-1,ar,Layla\n07501234568,HH-2,badini,\n"
	if code, out := do("POST", path+"/households", cwc, "text/csv", goodList); code != 200 || out["added"] != float64(2) || out["households"] != float64(2) {
		t.Errorf("good list: %d %v", code, out)
	}
	for _, step := range []struct {
		method, path, body string
		status             int
		says, field        string
	}{
		{"GET", "/api/v1/distributions/404", "", 404, "no distribution 404", ""},
		{"PATCH", path, `{"starts_at": "2026-11-01T09:00:00+03:00"}`, 400, "in the past", "starts_at"},
		{"PATCH", path, `{"place": "the school"}`, 200, "", ""},
		{"POST", path + "/cancel", "", 200, "", ""},
		{"PATCH", path, `{"place": "the mosque"}`, 409, "the distribution is cancelled", ""},
		{"POST", path + "/households", goodList, 409, "the distribution is cancelled", ""},
	} {
		code, out := do(step.method, step.path, cwc, "", step.body)
		msg, _ := out["error"].(string)
		field, _ := out["field"].(string)
		if code != step.status || !strings.Contains(msg, step.says) || field != step.field {
			t.Errorf("%s %s %s: %d %v", step.method, step.path, step.body, code, out)
		}
	}
	if code, out := do("GET", path, cwc, "", ""); code != 200 || out["place"] != "the school" || out["state"] != "cancelled" {
		t.Errorf("read back: %d %v", code, out)
	}
}
