package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels/twilio"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

// newCasesAPI is the JSON API on the console's database and clock (newConsole), so that the
// case page's seeding helpers and newCaseGateway serve it too. It has no gateway: a test that
// replies or resolves sets api.Cases.
func newCasesAPI(t *testing.T) (*consoleEnv, *console.API, apiCall) {
	t.Helper()
	e := newConsole(t)
	api := &console.API{Auth: &console.Auth{Pool: e.pool, Now: e.clock.Now}}
	mux := http.NewServeMux()
	api.Routes(mux)
	return e, api, apiCaller(t, mux)
}

// caseIDs are the IDs of the cases a queue answer lists, in its order.
func caseIDs(t *testing.T, out map[string]any) []int64 {
	t.Helper()
	list, ok := out["cases"].([]any)
	if !ok {
		t.Fatalf("no list of cases in %v", out)
	}
	var ids []int64
	for _, c := range list {
		ids = append(ids, int64(c.(map[string]any)["id"].(float64)))
	}
	return ids
}

// The queue lists open cases as the queue page does, filtered the same way; SEA cases never;
// a filter value, parameter or page it does not know is refused naming it, not ignored.
func TestCasesAPIQueue(t *testing.T) {
	e, _, do := newCasesAPI(t)
	ctx := context.Background()
	now := e.clock.Now()
	cw := tokenFor(t, e.pool, "case-bot", console.RoleCaseworker)
	late := seedCase(t, e.pool, now, caseSpec{ref: "1234567"})
	fresh := seedCase(t, e.pool, now, caseSpec{ref: "2345678", status: "new", category: cases.CategoryFeedback})
	inTime := seedCase(t, e.pool, now, caseSpec{ref: "3456789"})
	if _, err := e.pool.Exec(ctx, `UPDATE cases SET resolve_due_at = $2, priority = 'high' WHERE id = $1`, inTime.id, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	seedCase(t, e.pool, now, caseSpec{ref: "4567890", category: cases.CategorySEA})
	closed := seedCase(t, e.pool, now, caseSpec{ref: "5678901", status: "closed"})

	code, out := do("GET", "/api/v1/cases", cw, "", "")
	if code != 200 || out["page"] != 1.0 || out["more"] != false {
		t.Fatalf("queue: %d %v", code, out)
	}
	if got := caseIDs(t, out); !slices.Equal(got, []int64{inTime.id, fresh.id, late.id}) {
		t.Errorf("queue %v, want the high priority first, then by deadline: %v", got, []int64{inTime.id, fresh.id, late.id})
	}
	first := out["cases"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"reference": string(inTime.ref), "category": cases.CategoryAssistanceRequest,
		"priority": "high", "status": "in_progress", "channel": "sms", "language": "ar", "governorate": "ninewa",
		"site": "Hasansham U3", "assignee": "", "overdue": false, "due_at": "2026-11-23T10:00:00Z"} {
		if first[k] != want {
			t.Errorf("queue row %s = %v, want %v", k, first[k], want)
		}
	}

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"category=feedback", []int64{fresh.id}},
		{"status=closed", []int64{closed.id}},
		{"status=new&channel=sms&language=ar&governorate=ninewa&site=Hasansham+U3", []int64{fresh.id}},
		{"overdue=1", []int64{fresh.id, late.id}},
		{"overdue=0&page=1", []int64{inTime.id, fresh.id, late.id}},
		{"reference=" + strings.ReplaceAll(closed.ref.Display(), " ", "+"), []int64{closed.id}},
		{"page=2", nil},
	} {
		code, out := do("GET", "/api/v1/cases?"+tc.query, cw, "", "")
		if got := caseIDs(t, out); code != 200 || !slices.Equal(got, tc.want) {
			t.Errorf("?%s: %d %v, want %v", tc.query, code, got, tc.want)
		}
	}

	for _, tc := range []struct{ query, field, says string }{
		{"category=sea", "category", "use one of: feedback"},
		{"status=lost", "status", "This filter is not known: status=lost."},
		{"channel=fax", "channel", "channel=fax"},
		{"language=fr", "language", "language=fr"},
		{"governorate=mars", "governorate", "governorate=mars"},
		{"overdue=yes", "overdue", "use 1"},
		{"page=0", "page", "from 1 to 10000"},
		{"page=two", "page", "from 1 to 10000"},
		{"reference=abc", "reference", "digits"},
		{"catgory=feedback", "catgory", `unknown parameter "catgory"`},
		{"status=new&status=closed", "status", "give it once"},
	} {
		code, out := do("GET", "/api/v1/cases?"+tc.query, cw, "", "")
		msg, _ := out["error"].(string)
		if code != 400 || out["field"] != tc.field || !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.says)) {
			t.Errorf("?%s: %d %v, want 400 naming %s and saying %q", tc.query, code, out, tc.field, tc.says)
		}
	}

	// a page at a time: 50, and whether more follow
	for i := range 48 {
		seedCase(t, e.pool, now, caseSpec{ref: fmt.Sprintf("6%06d", i)})
	}
	if code, out := do("GET", "/api/v1/cases", cw, "", ""); code != 200 || len(caseIDs(t, out)) != 50 || out["more"] != true {
		t.Errorf("page 1 of 51: %d, %d cases, more %v", code, len(caseIDs(t, out)), out["more"])
	}
	if code, out := do("GET", "/api/v1/cases?page=2", cw, "", ""); code != 200 || len(caseIDs(t, out)) != 1 || out["more"] != false || out["page"] != 2.0 {
		t.Errorf("page 2 of 51: %d %v", code, out)
	}
}

// A case is read whole, as its page shows it: the conversation (a confidential message as its
// placeholder), the history, the recordings without audio, the addresses only with consent.
// SEA cases and cases that do not exist are not found.
func TestCasesAPIGet(t *testing.T) {
	e, _, do := newCasesAPI(t)
	now := e.clock.Now()
	cw := tokenFor(t, e.pool, "case-bot", console.RoleCaseworker)
	c := seedCase(t, e.pool, now, caseSpec{ref: "1234567", noShare: true, conversation: true, events: true})
	private := seedCase(t, e.pool, now, caseSpec{ref: "2345678", noContact: true, status: "acknowledged"})
	sea := seedCase(t, e.pool, now, caseSpec{ref: "3456789", category: cases.CategorySEA})

	code, out := do("GET", fmt.Sprintf("/api/v1/cases/%d", c.id), cw, "", "")
	if code != 200 {
		t.Fatalf("GET: %d %v", code, out)
	}
	for k, want := range map[string]any{"id": float64(c.id), "reference": string(c.ref), "status": "in_progress",
		"category": cases.CategoryAssistanceRequest, "priority": "normal", "description": "الحنفية في المخيم مكسورة منذ أسبوع",
		"consent_contact": true, "consent_share": false, "partner": nil, "resolution": "", "satisfied": nil,
		"resolve_due_at": "2026-11-23T08:00:00Z", "created_at": "2026-11-23T07:00:00Z"} {
		if out[k] != want {
			t.Errorf("%s = %#v, want %#v", k, out[k], want)
		}
	}
	if m, _ := out["moves"].([]any); m == nil || len(m) != 0 {
		t.Errorf("moves %#v, want [] (in progress goes on by referral or resolution)", out["moves"])
	}
	if a, _ := out["addresses"].([]any); len(a) != 1 || a[0] != "tel:+964771234567" {
		t.Errorf("addresses %v", out["addresses"])
	}
	conv, _ := out["conversation"].([]any)
	if len(conv) != 3 {
		t.Fatalf("conversation %v", out["conversation"])
	}
	in, reply, secret := conv[0].(map[string]any), conv[1].(map[string]any), conv[2].(map[string]any)
	if in["direction"] != "in" || in["text"] != "الحنفية مكسورة" || reply["direction"] != "out" || reply["status"] != "delivered" ||
		secret["redacted"] != true || secret["text"] != store.RedactedText || in["at"] != "2026-11-23T06:30:00Z" {
		t.Errorf("conversation %v", conv)
	}
	events, _ := out["events"].([]any)
	if len(events) != 3 || events[2].(map[string]any)["to_status"] != "in_progress" || events[2].(map[string]any)["actor"] != "amal@example.org" {
		t.Errorf("events %v", events)
	}
	recs, _ := out["recordings"].([]any)
	if len(recs) != 1 || recs[0].(map[string]any)["duration_seconds"] != 75.0 || recs[0].(map[string]any)["pending"] != true {
		t.Errorf("recordings %v", recs)
	}
	raw, _ := json.Marshal(out)
	if strings.Contains(string(raw), "the-secret-words") || strings.Contains(string(raw), `"audio`) {
		t.Errorf("the case shows a confidential message, or audio: %s", raw)
	}

	code, out = do("GET", fmt.Sprintf("/api/v1/cases/%d", private.id), cw, "", "")
	if a, _ := out["addresses"].([]any); code != 200 || a == nil || len(a) != 0 {
		t.Errorf("the addresses of a person who did not agree to be contacted: %d %v", code, out["addresses"])
	}
	if m, _ := out["moves"].([]any); len(m) != 1 || m[0] != "in_progress" {
		t.Errorf("an acknowledged case's moves: %v", out["moves"])
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/cases/%d", sea.id), "/api/v1/cases/999999", "/api/v1/cases/abc", "/api/v1/cases/-1"} {
		if code, out := do("GET", path, cw, "", ""); code != 404 || !strings.HasPrefix(out["error"].(string), "no case") {
			t.Errorf("GET %s: %d %v, want 404", path, code, out)
		}
	}
}

// Each action does what the case page's form does, as the token ("token:NAME" in the
// history), and answers the case as it is now, or what was sent; what the rules refuse is
// said with the field at fault (400) or as a conflict (409), and changes nothing.
func TestCasesAPIActions(t *testing.T) {
	e, api, do := newCasesAPI(t)
	api.Cases = newCaseGateway(t, e)
	ctx := context.Background()
	now := e.clock.Now()
	cw := tokenFor(t, e.pool, "case-bot", console.RoleCaseworker)
	c := seedCase(t, e.pool, now, caseSpec{ref: "1234567", urn: "tel:+9647701234567"})
	private := seedCase(t, e.pool, now, caseSpec{ref: "7654321", noShare: true, noContact: true})
	fresh := seedCase(t, e.pool, now, caseSpec{ref: "2345678", status: "new"})
	sea := seedCase(t, e.pool, now, caseSpec{ref: "3456789", category: cases.CategorySEA})
	e.addUser("karwan@example.org", console.RoleCaseworker, "en", "a long enough password", false)
	e.addUser("admin@example.org", console.RoleAdmin, "en", "a long enough password", false)
	water, err := store.InsertPartner(ctx, e.pool, store.Partner{Name: "Water Agency", Sector: "WASH", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	post := func(id int64, action, body string) (int, map[string]any) {
		t.Helper()
		return do("POST", fmt.Sprintf("/api/v1/cases/%d/%s", id, action), cw, "application/json", body)
	}
	// done checks an action went through: 200, the case's field as wanted, the event the
	// token's.
	done := func(code int, out map[string]any, id int64, field string, want any, event string) {
		t.Helper()
		if code != 200 || out["id"] != float64(id) || out[field] != want {
			t.Fatalf("%d %s = %v, want 200 with %v\n%v", code, field, out[field], want, out)
		}
		if got := lastEvent(t, e.pool, id); got != event {
			t.Errorf("last event %s, want %s", got, event)
		}
		evs, _ := store.CaseEvents(ctx, e.pool, id)
		if actor := evs[len(evs)-1].Actor; actor != "token:case-bot" {
			t.Errorf("the event's actor is %q, want token:case-bot", actor)
		}
	}
	refused := func(code int, out map[string]any, status int, field, says string) {
		t.Helper()
		msg, _ := out["error"].(string)
		if got, _ := out["field"].(string); code != status || got != field || !strings.Contains(msg, says) {
			t.Errorf("%d %v, want %d naming %q and saying %q", code, out, status, field, says)
		}
	}
	outbound := func() int {
		t.Helper()
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE direction = 'out'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// status: a new case is acknowledged, then taken in hand; not resolved this way
	code, out := post(fresh.id, "status", `{"status": "acknowledged", "note": "called back"}`)
	done(code, out, fresh.id, "status", "acknowledged", "status:new>acknowledged")
	if m, _ := out["moves"].([]any); len(m) != 1 || m[0] != "in_progress" {
		t.Errorf("moves after acknowledging: %v", out["moves"])
	}
	code, out = post(fresh.id, "status", `{"status": "resolved"}`)
	refused(code, out, 400, "status", "status: Choose one of the statuses offered. Use one of: new, acknowledged, in_progress, closed.")
	code, out = post(fresh.id, "status", `{}`)
	refused(code, out, 400, "status", "Choose one of the statuses")
	code, out = post(fresh.id, "status", `{"status": "new"}`)
	refused(code, out, 409, "", "This cannot be done now: the case is “Acknowledged”.")
	code, out = post(fresh.id, "status", `{"status": "in_progress", "note": "`+strings.Repeat("x", cases.MaxNoteLength+1)+`"}`)
	refused(code, out, 400, "note", "at most 1000 characters")
	code, out = post(fresh.id, "status", `{"status": "in_progress"}`)
	done(code, out, fresh.id, "status", "in_progress", "status:acknowledged>in_progress")

	// assign: to a caseworker with an account, in any case, or to no one
	code, out = post(c.id, "assign", `{"assignee": "Karwan@example.org"}`)
	done(code, out, c.id, "assignee", "karwan@example.org", "assigned:>karwan@example.org")
	code, out = post(c.id, "assign", `{"assignee": "admin@example.org"}`)
	refused(code, out, 400, "assignee", "can only be assigned to a caseworker")
	code, out = post(c.id, "assign", `{}`)
	refused(code, out, 400, "assignee", "assignee: is required")
	code, out = post(c.id, "assign", `{"assignee": ""}`)
	done(code, out, c.id, "assignee", "", "assigned:karwan@example.org>")

	// category: the priority follows it; SEA is not a category of cases
	code, out = post(c.id, "category", `{"category": "major_dissatisfaction"}`)
	done(code, out, c.id, "category", cases.CategoryMajorDissatisfaction, "priority_changed:normal>high")
	if out["priority"] != "high" {
		t.Errorf("priority %v after the category, want high", out["priority"])
	}
	code, out = post(c.id, "category", `{"category": "sea"}`)
	refused(code, out, 400, "category", "This category is not known.")

	// priority
	code, out = post(c.id, "priority", `{"priority": "critical"}`)
	done(code, out, c.id, "priority", "critical", "priority_changed:high>critical")
	if out["priority_manual"] != true {
		t.Error("a priority set by hand is not marked so")
	}
	code, out = post(c.id, "priority", `{"priority": "urgent"}`)
	refused(code, out, 400, "priority", "Use one of: low, normal, high, critical.")
	code, out = post(c.id, "priority", `{"priority": "low", "colour": "red"}`)
	refused(code, out, 400, "colour", `unknown field "colour"`)
	code, out = post(c.id, "priority", `{"priority": 3}`)
	refused(code, out, 400, "priority", "expected string")

	// refer: to an active partner, with the person's consent; not twice to the same one
	code, out = do("GET", "/api/v1/partners", cw, "", "")
	if ps, _ := out["partners"].([]any); code != 200 || len(ps) != 1 || ps[0].(map[string]any)["id"] != float64(water) {
		t.Fatalf("partners: %d %v", code, out)
	}
	code, out = post(c.id, "refer", fmt.Sprintf(`{"partner_id": %d, "note": "Please repair the tap.\nBlock C."}`, water))
	done(code, out, c.id, "status", "referred", "referred:in_progress>Water Agencyreferred")
	if p, _ := out["partner"].(map[string]any); p["name"] != "Water Agency" || p["sector"] != "WASH" || out["referred_at"] != "2026-11-23T09:00:00Z" {
		t.Errorf("referred to %v at %v", out["partner"], out["referred_at"])
	}
	code, out = post(c.id, "refer", fmt.Sprintf(`{"partner_id": %d}`, water))
	refused(code, out, 409, "", "already referred")
	code, out = post(c.id, "refer", fmt.Sprintf(`{"partner_id": %d}`, water+100))
	refused(code, out, 400, "partner_id", "This partner organisation is not known.")
	code, out = post(c.id, "refer", `{"note": "to whom?"}`)
	refused(code, out, 400, "partner_id", "Choose a partner organisation.")
	code, out = post(c.id, "refer", `{"partner_id": "water"}`)
	refused(code, out, 400, "partner_id", "expected int64")
	before := kinds(t, e.pool, private.id)
	code, out = post(private.id, "refer", fmt.Sprintf(`{"partner_id": %d, "note": "kept"}`, water))
	refused(code, out, 409, "", "did not agree to their case being shared")
	if after := kinds(t, e.pool, private.id); len(after) != len(before) {
		t.Errorf("a refused referral wrote %v", after)
	}

	// reply: queued on the case's channel, answering the SMS parts it takes
	reply := strings.Repeat("تم إصلاح الحنفية في القطاع ج. ", 3)
	code, out = post(c.id, "reply", `{"text": "  \n "}`)
	refused(code, out, 400, "text", "The text is empty")
	if outbound() != 0 {
		t.Fatal("an empty reply queued a message")
	}
	code, out = post(c.id, "reply", fmt.Sprintf(`{"text": %q}`, reply))
	var text, channel, status, urn string
	if err := e.pool.QueryRow(ctx, `
		SELECT m.text, m.channel, m.status, u.urn FROM messages m JOIN urns u ON u.id = m.urn_id
		WHERE m.direction = 'out' ORDER BY m.id DESC LIMIT 1`).Scan(&text, &channel, &status, &urn); err != nil {
		t.Fatalf("no message queued: %v (%d %v)", err, code, out)
	}
	if !strings.Contains(text, strings.TrimSpace(reply)) || channel != "sms" || status != "queued" || urn != "tel:+9647701234567" {
		t.Errorf("queued %q on %s (%s) to %s", text, channel, status, urn)
	}
	parts, _ := twilio.Segments(text)
	if code != 200 || out["parts"] != float64(parts) || len(out) != 1 {
		t.Errorf("reply: %d %v, want 200 {parts: %d}", code, out, parts)
	}
	if got := lastEvent(t, e.pool, c.id); got != "replied:>" {
		t.Errorf("last event %s, want replied", got)
	}
	code, out = post(private.id, "reply", `{"text": "hello"}`)
	refused(code, out, 409, "", "did not agree to be contacted")

	// resolve: the person, who agreed to be contacted, is sent the answer and asked whether
	// they are satisfied; one who did not is told nothing
	sent := outbound()
	code, out = post(c.id, "resolve", `{"resolution": "أُصلحت الحنفية يوم الأحد."}`)
	if code != 200 || out["told"] != true || len(out) != 1 {
		t.Fatalf("resolve: %d %v, want 200 {told: true}", code, out)
	}
	if k, _ := store.CaseByID(ctx, e.pool, c.id); k.Status != "resolved" || k.Resolution != "أُصلحت الحنفية يوم الأحد." {
		t.Errorf("after resolving: %+v", k)
	}
	if err := e.pool.QueryRow(ctx, `SELECT text FROM messages WHERE direction = 'out' ORDER BY id DESC LIMIT 1`).Scan(&text); err != nil ||
		outbound() != sent+1 || !strings.Contains(text, "أُصلحت الحنفية يوم الأحد.") || !strings.Contains(text, "هل تعاملنا مع شكواك بطريقة ترضيك؟") {
		t.Errorf("the answer and the question were not queued: %q %v", text, err)
	}
	code, out = post(c.id, "resolve", `{"resolution": "again"}`)
	refused(code, out, 409, "", "This cannot be done now: the case is “Resolved”.")
	code, out = post(c.id, "resolve", `{"resolution": ""}`)
	refused(code, out, 400, "resolution", "The text is empty")
	code, out = post(private.id, "resolve", `{"resolution": "Done."}`)
	if code != 200 || out["told"] != false || outbound() != sent+1 {
		t.Errorf("resolving without consent to contact: %d %v, %d messages queued", code, out, outbound()-sent-1)
	}
	if got := lastEvent(t, e.pool, private.id); got != "resolved:in_progress>resolved" {
		t.Errorf("last event %s", got)
	}

	// a closed case can no longer be changed
	if _, err := e.pool.Exec(ctx, `UPDATE cases SET status = 'closed', closed_at = $2 WHERE id = $1`, private.id, now); err != nil {
		t.Fatal(err)
	}
	code, out = post(private.id, "priority", `{"priority": "low"}`)
	refused(code, out, 409, "", "This case is closed")

	// cases that are not caseworkers' to see, or do not exist; bodies that are not JSON
	for _, path := range []string{fmt.Sprintf("/api/v1/cases/%d/priority", sea.id), "/api/v1/cases/999999/priority", "/api/v1/cases/x/priority"} {
		if code, out := do("POST", path, cw, "", `{"priority": "low"}`); code != 404 {
			t.Errorf("POST %s: %d %v, want 404", path, code, out)
		}
	}
	if k, _ := store.CaseByID(ctx, e.pool, sea.id); k.Priority != "normal" {
		t.Errorf("an SEA case's priority became %s", k.Priority)
	}
	if code, out := do("POST", fmt.Sprintf("/api/v1/cases/%d/priority", fresh.id), cw, "application/x-www-form-urlencoded", "priority=low"); code != 415 {
		t.Errorf("a form: %d %v, want 415", code, out)
	}
	if code, out := post(fresh.id, "priority", ""); code != 400 || !strings.Contains(out["error"].(string), "body is empty") {
		t.Errorf("no body: %d %v", code, out)
	}
	if code, out := post(fresh.id, "escalate", `{}`); code != 404 {
		t.Errorf("an unknown action: %d %v", code, out)
	}

	// without the gateway, nothing can be written to a person
	api.Cases = nil
	code, out = post(fresh.id, "reply", `{"text": "hello"}`)
	refused(code, out, 503, "", "messages cannot be sent")
	code, out = post(fresh.id, "resolve", `{"resolution": "Done."}`)
	refused(code, out, 503, "", "messages cannot be sent")
	if k, _ := store.CaseByID(ctx, e.pool, fresh.id); k.Status != "in_progress" {
		t.Errorf("resolved without a gateway: %s", k.Status)
	}
}

// Only caseworkers' tokens read the queue, a case or the partners, or act on a case: no
// token is 401, any other role 403, and nothing changes.
func TestCasesAPIRoles(t *testing.T) {
	e, api, do := newCasesAPI(t)
	api.Cases = newCaseGateway(t, e)
	ctx := context.Background()
	c := seedCase(t, e.pool, e.clock.Now(), caseSpec{ref: "1234567"})
	water, err := store.InsertPartner(ctx, e.pool, store.Partner{Name: "Water Agency", CreatedAt: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	e.addUser("karwan@example.org", console.RoleCaseworker, "en", "a long enough password", false)
	path := fmt.Sprintf("/api/v1/cases/%d", c.id)
	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/cases", ""},
		{"GET", path, ""},
		{"GET", "/api/v1/partners", ""},
		{"POST", path + "/assign", `{"assignee": "karwan@example.org"}`},
		{"POST", path + "/category", `{"category": "feedback"}`},
		{"POST", path + "/priority", `{"priority": "critical"}`},
		{"POST", path + "/refer", fmt.Sprintf(`{"partner_id": %d}`, water)},
		{"POST", path + "/reply", `{"text": "hello"}`},
		{"POST", path + "/resolve", `{"resolution": "done"}`},
		{"POST", path + "/status", `{"status": "closed"}`},
	}
	for _, rt := range routes {
		if code, out := do(rt.method, rt.path, "", "", rt.body); code != 401 || !strings.Contains(out["error"].(string), "missing bearer token") {
			t.Errorf("%s %s without a token: %d %v", rt.method, rt.path, code, out)
		}
		for _, role := range []string{console.RoleAdmin, console.RoleCWC, console.RolePSEA, console.RoleViewer} {
			token := tokenFor(t, e.pool, role+"-"+strings.ReplaceAll(rt.path, "/", "-")+rt.method, role)
			if code, out := do(rt.method, rt.path, token, "", rt.body); code != 403 || !strings.Contains(out["error"].(string), "it needs one of: caseworker") {
				t.Errorf("%s %s as %s: %d %v, want 403", rt.method, rt.path, role, code, out)
			}
		}
	}
	if k, _ := store.CaseByID(ctx, e.pool, c.id); k.Assignee != "" || k.Priority != "normal" || k.Status != "in_progress" ||
		k.Category != cases.CategoryAssistanceRequest || len(kinds(t, e.pool, c.id)) != 0 {
		t.Errorf("changed by roles that may not: %+v", k)
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d messages queued by roles that may not (%v)", n, err)
	}

	// and a caseworker's token does each
	cw := tokenFor(t, e.pool, "case-bot", console.RoleCaseworker)
	for _, rt := range routes {
		if code, out := do(rt.method, rt.path, cw, "", rt.body); code != 200 {
			t.Errorf("%s %s as a caseworker: %d %v", rt.method, rt.path, code, out)
		}
	}
}

// The partners are those cases may be referred to: a retired one is left out.
func TestCasesAPIPartners(t *testing.T) {
	e, _, do := newCasesAPI(t)
	ctx := context.Background()
	cw := tokenFor(t, e.pool, "case-bot", console.RoleCaseworker)
	if code, out := do("GET", "/api/v1/partners", cw, "", ""); code != 200 || out["partners"] == nil || len(out["partners"].([]any)) != 0 {
		t.Errorf("no partners: %d %v, want an empty list", code, out)
	}
	water, _ := store.InsertPartner(ctx, e.pool, store.Partner{Name: "Water Agency", Sector: "WASH", Contact: "+964 750 000 0000", CreatedAt: e.clock.Now()})
	old, _ := store.InsertPartner(ctx, e.pool, store.Partner{Name: "Old Shelter", Sector: "Shelter", CreatedAt: e.clock.Now()})
	health, _ := store.InsertPartner(ctx, e.pool, store.Partner{Name: "Health Clinic", Sector: "Health", CreatedAt: e.clock.Now()})
	if err := store.SetPartnerActive(ctx, e.pool, old, false); err != nil {
		t.Fatal(err)
	}
	code, out := do("GET", "/api/v1/partners", cw, "", "")
	ps, _ := out["partners"].([]any)
	if code != 200 || len(ps) != 2 {
		t.Fatalf("partners: %d %v", code, out)
	}
	h, w := ps[0].(map[string]any), ps[1].(map[string]any)
	if h["id"] != float64(health) || h["name"] != "Health Clinic" || w["id"] != float64(water) || w["sector"] != "WASH" || w["contact"] != "+964 750 000 0000" {
		t.Errorf("partners %v", ps)
	}
}
