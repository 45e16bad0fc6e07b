package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// api calls the JSON API on serve's admin listener with a bearer token.
func (e *twilioEnv) api(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+e.admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// A campaign made through the API with a token from sawt tokens create goes out through the
// real serve to every reachable person of its audience, once each, in their language, and
// its counts follow it to the delivery reports.
func TestCampaignThroughTheAPI(t *testing.T) {
	t.Parallel()
	e, p := startTwilio(t)
	ctx := ctxTimeout(t)
	// 300 people of Ninewa and 50 of Duhok; every tenth in Ninewa said STOP.
	_, err := e.pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO contacts (language, governorate, opted_out_at)
			SELECT CASE WHEN i % 2 = 0 THEN 'ar' ELSE 'ckb' END,
			       CASE WHEN i <= 300 THEN 'ninewa' ELSE 'duhok' END,
			       CASE WHEN i <= 300 AND i % 10 = 0 THEN now() END
			FROM generate_series(1, 350) AS i RETURNING id)
		INSERT INTO urns (urn, scheme, contact_id)
		SELECT 'tel:+964770' || lpad(id::text, 7, '0'), 'tel', id FROM c`)
	if err != nil {
		t.Fatal(err)
	}
	code, token, errOut := runSawt(t, map[string]string{"DATABASE_URL": e.dbURL}, "", "tokens", "create", "cwc-e2e", "--role", "cwc")
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "sawt_") {
		t.Fatalf("tokens create: %d %q %s", code, token, errOut)
	}

	body := `{"name": "Fire safety in the camp", "topic": "safety",
		"texts": {"ar": "لا تترك الموقد مشتعلا في الخيمة ليلا.", "ckb": "شەو ئاگردان لە چادردا داگیرساو جێمەهێڵە.",
		          "badini": "شەڤێ ئاگردانێ د چادرێ دا هەلکری نەهێلە.", "en": "Do not leave a heater burning in the tent at night."},
		"audience": {"governorates": ["ninewa"], "channels": ["sms"]}, "schedule": {"now": true}}`
	if code, out := e.api(t, "POST", "/api/v1/campaigns", "not-a-token", body); code != 401 {
		t.Errorf("a wrong token: %d %v", code, out)
	}
	code, out := e.api(t, "POST", "/api/v1/campaigns", token, body)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	path := fmt.Sprintf("/api/v1/campaigns/%d", int64(out["id"].(float64)))

	msgs := e.fake.WaitMessages(t, 270, 60*time.Second)
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.To] {
			t.Errorf("%s got the campaign twice", m.To)
		}
		seen[m.To] = true
		if !strings.Contains(m.Body, "الموقد") && !strings.Contains(m.Body, "ئاگردان") {
			t.Errorf("%s got %q", m.To, m.Body)
		}
		if m.StatusCallback != twilioPublic+"/channels/twilio/status" {
			t.Errorf("status callback %q", m.StatusCallback)
		}
	}
	var counts map[string]any
	waitFor(t, "the run to finish", func() bool {
		_, st := e.api(t, "GET", path, token, "")
		runs, _ := st["runs"].([]any)
		if len(runs) != 1 {
			return false
		}
		run := runs[0].(map[string]any)
		counts = run["counts"].(map[string]any)
		return run["state"] == "done" && st["state"] == "done"
	})
	if counts["targeted"] != 300.0 || counts["sent"] != 270.0 || counts["opted_out"] != 30.0 {
		t.Errorf("counts %v, want 300 targeted, 270 sent, 30 opted out", counts)
	}

	// Twilio reports one delivered: the count follows.
	sid := msgs[0].Sid
	code, resp := e.post(t, "/channels/twilio/status", url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"},
		"AccountSid": {e.fake.AccountSID}, "From": {"+9647800000001"}, "To": {msgs[0].To}})
	if code != http.StatusNoContent {
		t.Fatalf("status callback: %d %s", code, resp)
	}
	_, st := e.api(t, "GET", path, token, "")
	counts = st["runs"].([]any)[0].(map[string]any)["counts"].(map[string]any)
	if counts["delivered"] != 1.0 || counts["sent"] != 269.0 {
		t.Errorf("after a delivery report: %v", counts)
	}
	if bytes.Contains([]byte(p.stderr.String()), []byte(token)) {
		t.Error("the token is in the log")
	}
	stopServe(t, p, syscall.SIGTERM)
}
