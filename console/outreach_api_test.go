package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sawt/sawt/console"
)

// The lists of campaigns and distributions and the campaign preview, under the cwc and
// admin rule of the rest of the campaign and distribution API.
func TestOutreachListsAndPreviewAPI(t *testing.T) {
	pool, _, do := newAPI(t)
	cwc, admin := tokenFor(t, pool, "cwc-team", console.RoleCWC), tokenFor(t, pool, "admin", console.RoleAdmin)
	ctx := context.Background()
	for _, urn := range []string{"tel:+9647700000001", "telegram:3002", "tel:+9647700000003"} {
		var id int64
		lang := map[string]string{"tel:+9647700000001": "ar", "telegram:3002": "ckb", "tel:+9647700000003": "en"}[urn]
		if err := pool.QueryRow(ctx, `INSERT INTO contacts (language) VALUES ($1) RETURNING id`, lang).Scan(&id); err != nil {
			t.Fatal(err)
		}
		scheme, _, _ := strings.Cut(urn, ":")
		if _, err := pool.Exec(ctx, `INSERT INTO urns (urn, scheme, contact_id) VALUES ($1, $2, $3)`, urn, scheme, id); err != nil {
			t.Fatal(err)
		}
	}
	others := map[string]string{}
	for _, role := range []string{console.RoleViewer, console.RoleCaseworker, console.RolePSEA} {
		others[role] = tokenFor(t, pool, "t-"+role, role)
	}
	for _, path := range []string{"/api/v1/campaigns", "/api/v1/distributions"} {
		for role, token := range others {
			if code, out := do("GET", path, token, "", ""); code != 403 {
				t.Errorf("GET %s as %s: %d %v", path, role, code, out)
			}
		}
		if code, _ := do("GET", path, "", "", ""); code != 401 {
			t.Errorf("GET %s without a token: %d", path, code)
		}
		if code, out := do("GET", path+"?page=0", cwc, "", ""); code != 400 || out["field"] != "page" {
			t.Errorf("GET %s?page=0: %d %v", path, code, out)
		}
	}
	if code, out := do("POST", "/api/v1/campaigns/preview", others[console.RoleViewer], "", `{}`); code != 403 {
		t.Errorf("preview as viewer: %d %v", code, out)
	}

	// the preview: counts, segments, missing languages, what create would refuse; nothing stored
	arabic := strings.Repeat("ب", 80)
	code, out := do("POST", "/api/v1/campaigns/preview", cwc, "application/json",
		`{"texts": {"ar": "`+arabic+`", "en": "Free vaccination on Sunday."}, "schedule": {"now": true}}`)
	if code != 200 {
		t.Fatalf("preview: %d %v", code, out)
	}
	if got := fmt.Sprint(out["audience"]); got != "map[by_language:map[ar:2 en:1] opted_out:0 reached:3 skipped:0]" {
		t.Errorf("audience %s", got)
	}
	if got := fmt.Sprint(out["texts"]); got != "map[ar:map[characters:80 encoding:UCS-2 segments:2] en:map[characters:27 encoding:GSM-7 segments:1]]" {
		t.Errorf("texts %s", got)
	}
	if got := fmt.Sprint(out["missing"]); got != "[map[fallback:ar language:ckb] map[fallback:ar language:badini]]" {
		t.Errorf("missing %s", got)
	}
	if r, _ := out["refusal"].(map[string]any); r["field"] != "name" {
		t.Errorf("refusal %v, want the missing name", out["refusal"])
	}
	for _, tc := range []struct{ body, field string }{
		{`{"audience": {"topics": ["weather"]}}`, "audience.topics"},
		{`{"texts": {"fr": "texte"}}`, "texts"},
		{`{"colour": "red"}`, "colour"},
	} {
		if code, out := do("POST", "/api/v1/campaigns/preview", admin, "", tc.body); code != 400 || out["field"] != tc.field {
			t.Errorf("preview %s: %d %v, want 400 naming %s", tc.body, code, out, tc.field)
		}
	}
	if code, out := do("GET", "/api/v1/campaigns", cwc, "", ""); code != 200 || fmt.Sprint(out["campaigns"]) != "[]" || out["more"] != false {
		t.Errorf("the empty list: %d %v", code, out)
	}

	// a campaign made and started shows in the list with its newest run's counts
	code, out = do("POST", "/api/v1/campaigns", cwc, "", `{"name": "Vaccination", "texts": {"ar": "`+arabic+`", "en": "Free."},
		"allow_missing_languages": true, "schedule": {"cron": "0 18 * * 5"}}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	code, out = do("GET", "/api/v1/campaigns", admin, "", "")
	list, _ := out["campaigns"].([]any)
	if code != 200 || len(list) != 1 {
		t.Fatalf("list: %d %v", code, out)
	}
	c := list[0].(map[string]any)
	if c["name"] != "Vaccination" || c["state"] != "scheduled" || fmt.Sprint(c["schedule"]) != "map[cron:0 18 * * 5]" ||
		c["runs"] != float64(0) || c["created_by"] != "token:cwc-team" || c["next_run_at"] != "2026-11-27T15:00:00Z" {
		t.Errorf("listed %v", c)
	}
	if counts, _ := c["counts"].(map[string]any); counts["targeted"] != float64(0) {
		t.Errorf("counts %v", c["counts"])
	}

	code, out = do("POST", "/api/v1/distributions", cwc, "", `{"site": "Debaga", "starts_at": "2026-11-26T09:00:00+03:00",
		"place": "the hall", "items": "blankets"}`)
	if code != 201 {
		t.Fatalf("create a distribution: %d %v", code, out)
	}
	path := fmt.Sprintf("/api/v1/distributions/%d/households", int64(out["id"].(float64)))
	if code, out := do("POST", path, cwc, "text/csv", "phone,household,language\n+9647701234567,HH-1,ar\n"); code != 200 {
		t.Fatalf("import: %d %v", code, out)
	}
	code, out = do("GET", "/api/v1/distributions?page=1", admin, "", "")
	dl, _ := out["distributions"].([]any)
	if code != 200 || len(dl) != 1 || out["more"] != false {
		t.Fatalf("distributions: %d %v", code, out)
	}
	if d := dl[0].(map[string]any); d["site"] != "Debaga" || d["households"] != float64(1) || d["state"] != "planned" ||
		fmt.Sprint(d["reminders_hours"]) != "[24 2]" || d["created_by"] != "token:cwc-team" {
		t.Errorf("listed %v", d)
	}
}
