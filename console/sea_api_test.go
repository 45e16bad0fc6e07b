package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// newSEAAPI is the JSON API on the SEA inbox's database and clock (newSEAEnv).
func newSEAAPI(t *testing.T) (*seaEnv, apiCall) {
	t.Helper()
	e := newSEAEnv(t)
	api := &console.API{Auth: &console.Auth{Pool: e.pool, Now: e.clock.Now}}
	mux := http.NewServeMux()
	api.Routes(mux)
	return e, apiCaller(t, mux)
}

// A psea token lists the reports without content and moves one on with a note sealed like
// the report, each audited as the token; a move not allowed, an unknown status or report,
// and a note too long are refused saying why. Reading content is not offered.
func TestSEAAPI(t *testing.T) {
	e, do := newSEAAPI(t)
	ctx := context.Background()
	psea := tokenFor(t, e.pool, "focal-bot", console.RolePSEA)

	code, out := do("GET", "/api/v1/sea/reports", psea, "", "")
	if code != 200 {
		t.Fatalf("list: %d %v", code, out)
	}
	list := out["reports"].([]any)
	if len(list) != 1 {
		t.Fatalf("list: %v", out)
	}
	rep := list[0].(map[string]any)
	for k, want := range map[string]any{"reference": seaRef, "channel": "voice", "status": "new", "complete": false,
		"recordings": 2.0, "ack_overdue": true, "resolve_overdue": false, "acknowledged_at": nil,
		"ack_due_at": "2026-11-23T08:00:00Z", "created_at": "2026-11-22T08:00:00Z"} {
		if rep[k] != want {
			t.Errorf("listed %s = %v, want %v", k, rep[k], want)
		}
	}
	for _, k := range []string{"content", "parts", "answers", "notes"} {
		if _, ok := rep[k]; ok {
			t.Errorf("the list has %q", k)
		}
	}

	path := "/api/v1/sea/reports/" + seaRef + "/status"
	for _, tc := range []struct {
		name, path, body string
		status           int
		says, field      string
	}{
		{"a move not allowed", path, `{"status": "closed"}`, 409, "cannot move from new to closed", ""},
		{"an unknown status", path, `{"status": "done"}`, 400, `status "done"`, "status"},
		{"no status", path, `{"note": "x"}`, 400, `status ""`, "status"},
		{"a note too long", path, `{"status": "acknowledged", "note": "` + strings.Repeat("x", safeguarding.MaxNoteLength+1) + `"}`, 400, "longer than", "note"},
		{"an unknown field", path, `{"status": "acknowledged", "content": "x"}`, 400, "unknown field", "content"},
		{"no such report", "/api/v1/sea/reports/12345671/status", `{"status": "acknowledged"}`, 404, "no SEA report 12345671", ""},
		{"not a reference", "/api/v1/sea/reports/abc/status", `{"status": "acknowledged"}`, 404, "no SEA report", ""},
	} {
		code, out := do("POST", tc.path, psea, "", tc.body)
		if code != tc.status || !strings.Contains(out["error"].(string), tc.says) || (tc.field != "" && out["field"] != tc.field) {
			t.Errorf("%s: %d %v, want %d saying %q (field %q)", tc.name, code, out, tc.status, tc.says, tc.field)
		}
		if tc.field == "status" && len(out["values"].([]any)) != 6 {
			t.Errorf("%s: the statuses are not listed: %v", tc.name, out)
		}
	}
	code, out = do("POST", path, psea, "", `{"status": "acknowledged", "note": "`+seaNoteText+`"}`)
	if code != 200 || out["status"] != "acknowledged" || out["acknowledged_at"] != "2026-11-23T09:00:00Z" || out["ack_overdue"] != false {
		t.Fatalf("acknowledge: %d %v", code, out)
	}
	report, err := store.SEAReportByID(ctx, e.pool, e.reportID)
	if err != nil {
		t.Fatal(err)
	}
	id, err := safeguarding.OpenIdentity(e.file, func() (string, error) { return seaPassphrase, nil })
	if err != nil {
		t.Fatal(err)
	}
	parts, _, err := safeguarding.OpenReport(ctx, e.pool, report, id, false)
	if err != nil || len(parts) != 4 || parts[3].Note.Note != seaNoteText || parts[3].Note.By != "token:focal-bot" {
		t.Errorf("the note, sealed: %+v %v", parts, err)
	}
	wantAudit(t, e.pool,
		"token:focal-bot psea.list 1 reports",
		"token:focal-bot psea.status "+seaRef+" new → acknowledged",
	)
	if strings.Contains(strings.Join(auditLines(t, e.pool), "\n"), "notetext") {
		t.Error("the audit log holds the note")
	}
	// no route reads content
	if code, _ := do("GET", "/api/v1/sea/reports/"+seaRef, psea, "", ""); code != 404 {
		t.Errorf("GET a report: %d, want 404 (no such route)", code)
	}
}

// The SEA routes are for psea tokens only (admin included in the refused), the audit log for
// admin tokens only.
func TestSEAAPIRoles(t *testing.T) {
	e, do := newSEAAPI(t)
	routes := []struct {
		method, path, body, role string
	}{
		{"GET", "/api/v1/sea/reports", "", console.RolePSEA},
		{"POST", "/api/v1/sea/reports/" + seaRef + "/status", `{"status": "acknowledged"}`, console.RolePSEA},
		{"GET", "/api/v1/audit", "", console.RoleAdmin},
	}
	for _, rt := range routes {
		if code, out := do(rt.method, rt.path, "", "", rt.body); code != 401 {
			t.Errorf("%s %s without a token: %d %v", rt.method, rt.path, code, out)
		}
		for _, role := range console.Roles() {
			if role == rt.role {
				continue
			}
			token := tokenFor(t, e.pool, role+strings.ReplaceAll(rt.path, "/", "-"), role)
			if code, out := do(rt.method, rt.path, token, "", rt.body); code != 403 || !strings.Contains(out["error"].(string), "it needs one of: "+rt.role) {
				t.Errorf("%s %s as %s: %d %v, want 403", rt.method, rt.path, role, code, out)
			}
		}
	}
	if rep, _ := store.SEAReportByID(context.Background(), e.pool, e.reportID); rep.Status != "new" {
		t.Errorf("moved by a role that may not: %s", rep.Status)
	}
	if lines := auditLines(t, e.pool); len(lines) != 0 {
		t.Errorf("refused requests were audited: %v", lines)
	}
}

// An admin token reads the audit log newest first, a page at a time, with whether the chain
// is intact: events, never content.
func TestAuditAPI(t *testing.T) {
	e, do := newSEAAPI(t)
	admin := tokenFor(t, e.pool, "auditor", console.RoleAdmin)
	psea := tokenFor(t, e.pool, "focal-bot", console.RolePSEA)
	for range 3 {
		do("GET", "/api/v1/sea/reports", psea, "", "")
	}
	do("POST", "/api/v1/sea/reports/"+seaRef+"/status", psea, "", `{"status": "acknowledged", "note": "`+seaNoteText+`"}`)

	code, out := do("GET", "/api/v1/audit?limit=3", admin, "", "")
	if code != 200 {
		t.Fatalf("audit: %d %v", code, out)
	}
	entries := out["entries"].([]any)
	first := entries[0].(map[string]any)
	if len(entries) != 3 || first["action"] != "psea.status" || first["actor"] != "token:focal-bot" || first["subject"] != seaRef ||
		first["detail"] != "new → acknowledged" {
		t.Errorf("the newest entries: %v", entries)
	}
	chain := out["chain"].(map[string]any)
	if chain["intact"] != true || chain["checked"] != 4.0 {
		t.Errorf("chain: %v", chain)
	}
	older, _ := out["older"].(string)
	if !strings.HasPrefix(older, "/api/v1/audit?before=") {
		t.Fatalf("no link to older entries: %v", out)
	}
	code, out = do("GET", older, admin, "", "")
	if code != 200 || len(out["entries"].([]any)) != 1 || out["older"] != nil {
		t.Errorf("the older page: %d %v", code, out)
	}
	for _, q := range []string{"limit=0", "limit=x", "limit=1001", "before=-1", "before=x"} {
		if code, out := do("GET", "/api/v1/audit?"+q, admin, "", ""); code != 400 || out["field"] == nil {
			t.Errorf("?%s: %d %v, want 400 naming the field", q, code, out)
		}
	}
	if _, err := e.pool.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(context.Background(), `DELETE FROM audit_log WHERE id = (SELECT min(id) + 1 FROM audit_log)`); err != nil {
		t.Fatal(err)
	}
	_, out = do("GET", "/api/v1/audit", admin, "", "")
	chain = out["chain"].(map[string]any)
	if chain["intact"] != false || chain["checked"] != 1.0 || !strings.Contains(chain["problem"].(string), "was removed") {
		t.Errorf("after a removal, chain: %v", chain)
	}
}
