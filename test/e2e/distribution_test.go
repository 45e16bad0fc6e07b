package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sawt/sawt/channels/channeltest"
)

// alertsByPhone gathers the SMS sent to each number (a long alert may be several SMS).
func alertsByPhone(msgs []channeltest.TwilioMessage) map[string]string {
	out := map[string]string{}
	for _, m := range msgs {
		out[m.To] += m.Body
	}
	return out
}

// A distribution made and filled through the API on the real serve: its households get the
// announcement in their language, with a code; a person who sends the code back is told the
// message is ours, one who sends another code is told it is not; a change reaches everyone.
func TestDistributionThroughTheAPI(t *testing.T) {
	t.Parallel()
	e, p := startTwilio(t)
	code, token, errOut := runSawt(t, map[string]string{"DATABASE_URL": e.dbURL}, "", "tokens", "create", "dist-e2e", "--role", "cwc")
	token = strings.TrimSpace(token)
	if code != 0 {
		t.Fatalf("tokens create: %d %s", code, errOut)
	}
	starts := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	code, out := e.api(t, "POST", "/api/v1/distributions", token, `{"site": "Mamrashan camp", "starts_at": "`+starts+`",
		"place": "the hall near gate 2", "items": "food basket", "bring": "ration card"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	path := fmt.Sprintf("/api/v1/distributions/%d", int64(out["id"].(float64)))

	var csv strings.Builder
	csv.WriteString("phone,household,language\n")
	langs := []string{"ar", "ckb", "badini", "en"}
	for i := range 20 {
		fmt.Fprintf(&csv, "+96477020000%02d,HH-%d,%s\n", i, i, langs[i%4])
	}
	req, err := http.NewRequest("POST", "http://"+e.admin+path+"/households", strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"added":20`) {
		t.Fatalf("households: %d %s", resp.StatusCode, body)
	}

	waitFor(t, "the announcement to reach 20 households", func() bool { return len(alertsByPhone(e.fake.Messages())) == 20 })
	time.Sleep(500 * time.Millisecond) // the last parts of long alerts
	alerts := alertsByPhone(e.fake.Messages())
	codes := map[string]bool{}
	digits := regexp.MustCompile(`\b\d{6}\b`)
	for phone, text := range alerts {
		codes[digits.FindString(text)] = true
		if !strings.Contains(text, "Mamrashan camp") {
			t.Errorf("%s: %q", phone, text)
		}
	}
	if len(codes) != 1 || codes[""] {
		t.Fatalf("codes in the announcement: %v", codes)
	}
	var alertCode string
	for c := range codes {
		alertCode = c
	}
	if !strings.Contains(alerts["+9647702000000"], "المساعدة مجانية") || !strings.Contains(alerts["+9647702000003"], "Assistance is free") {
		t.Errorf("the alerts do not say assistance is free: %q %q", alerts["+9647702000000"], alerts["+9647702000003"])
	}

	// The Arabic speaker sends the code back; the English speaker sends one we never sent.
	replies := e.sms(t, "+9647702000000", "SMverify1", alertCode)
	if len(replies) == 0 || !strings.Contains(replies[0].Body, "نعم، هذه الرسالة من صوت") || !strings.Contains(replies[0].Body, alertCode) {
		t.Errorf("a genuine code: %v", replies)
	}
	other := "100000"
	if other == alertCode {
		other = "100001"
	}
	replies = e.sms(t, "+9647702000003", "SMverify2", other)
	if len(replies) == 0 || !strings.Contains(replies[0].Body, "We did not send any message with code "+other) {
		t.Errorf("a false code: %v", replies)
	}

	before := len(e.fake.Messages())
	if code, out := e.api(t, "PATCH", path, token, `{"place": "the school"}`); code != 200 || out["place"] != "the school" {
		t.Fatalf("change: %d %v", code, out)
	}
	waitFor(t, "the change to reach 20 households", func() bool {
		return len(alertsByPhone(e.fake.Messages()[before:])) == 20
	})
	changes := alertsByPhone(e.fake.Messages()[before:])
	if !strings.Contains(changes["+9647702000003"], "Change to the aid distribution") || !strings.Contains(changes["+9647702000003"], "the school") {
		t.Errorf("change notice: %q", changes["+9647702000003"])
	}
	waitFor(t, "both alerts done", func() bool {
		_, st := e.api(t, "GET", path, token, "")
		alerts, _ := st["alerts"].([]any)
		if len(alerts) != 2 {
			return false
		}
		for _, a := range alerts {
			if a.(map[string]any)["state"] != "done" {
				return false
			}
		}
		return true
	})
	stopServe(t, p, syscall.SIGTERM)
}
