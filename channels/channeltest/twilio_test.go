package channeltest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/sawt/sawt/channels/channeltest"
)

// Made-up credentials of the right shape (twilio-go refuses anything but letters and digits).
const (
	twilioSID   = "ACfeedfacefeedfacefeedfacefeedface"
	twilioToken = "deadbeefdeadbeefdeadbeefdeadbeef"
	recording1  = "RE0123456789abcdef0123456789abcdef"
)

// rewriteHost sends every request to the fake, keeping its path, as the product does.
type rewriteHost struct {
	target *url.URL
	base   http.RoundTripper
}

func (rt rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme = rt.target.Scheme
	req.URL.Host = rt.target.Host
	req.Host = ""
	return rt.base.RoundTrip(req)
}

// newTwilioClient is the real twilio-go client pointed at the fake, with these credentials and
// a client timeout (0 for none).
func newTwilioClient(t *testing.T, fake *channeltest.TwilioAPI, sid, token string, timeout time.Duration) *twilio.RestClient {
	t.Helper()
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient: &http.Client{
			Transport: rewriteHost{target: target, base: http.DefaultTransport},
			Timeout:   timeout,
		},
	}
	c.SetAccountSid(sid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
}

func sms(to, from, body string) *api.CreateMessageParams {
	p := &api.CreateMessageParams{}
	p.SetTo(to)
	if from != "" {
		p.SetFrom(from)
	}
	if body != "" {
		p.SetBody(body)
	}
	return p
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func restError(t *testing.T, err error) *client.TwilioRestError {
	t.Helper()
	var terr *client.TwilioRestError
	if !errors.As(err, &terr) {
		t.Fatalf("error %v (%T), want a *client.TwilioRestError", err, err)
	}
	return terr
}

// twilioGet GETs a path of the fake by hand, with these credentials ("" for none).
func twilioGet(t *testing.T, fake *channeltest.TwilioAPI, method, path, user, pass string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, fake.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

type twilioErrorJSON struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func decodeTwilioError(t *testing.T, resp *http.Response, body []byte) twilioErrorJSON {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e twilioErrorJSON
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if e.Status != resp.StatusCode {
		t.Errorf("status %d in the body, %d on the wire", e.Status, resp.StatusCode)
	}
	return e
}

func TestTwilioCreateMessageWithClient(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	rc := newTwilioClient(t, fake, twilioSID, twilioToken, 0)

	p := sms("+9647501234567", "+15005550006", "سڵاو، چۆنی؟")
	p.SetStatusCallback("https://sawt.example/twilio/status?x=1")
	msg, err := rc.Api.CreateMessage(p)
	if err != nil {
		t.Fatalf("CreateMessage: %v", err)
	}
	sid := str(msg.Sid)
	if len(sid) != 34 || !strings.HasPrefix(sid, "SM") {
		t.Errorf("sid %q, want SM + 32 hex digits", sid)
	}
	if str(msg.Status) != "queued" || str(msg.AccountSid) != twilioSID || str(msg.To) != "+9647501234567" ||
		str(msg.From) != "+15005550006" || str(msg.Body) != "سڵاو، چۆنی؟" || str(msg.NumSegments) != "1" ||
		str(msg.Direction) != "outbound-api" || msg.MessagingServiceSid != nil || msg.ErrorCode != nil ||
		str(msg.Uri) != "/2010-04-01/Accounts/"+twilioSID+"/Messages/"+sid+".json" || msg.DateCreated == nil {
		t.Errorf("message %+v", msg)
	}
	if _, err := time.Parse(time.RFC1123Z, str(msg.DateCreated)); err != nil {
		t.Errorf("date_created %q is not RFC 2822: %v", str(msg.DateCreated), err)
	}

	// Through a Messaging Service, without From: "accepted", no sender or segments yet.
	p = &api.CreateMessageParams{}
	p.SetTo("whatsapp:+9647501234567")
	p.SetMessagingServiceSid("MG0123456789abcdef0123456789abcdef")
	p.SetBody(strings.Repeat("a", 161))
	msg2, err := rc.Api.CreateMessage(p)
	if err != nil {
		t.Fatalf("CreateMessage via service: %v", err)
	}
	if str(msg2.Sid) == sid || str(msg2.Status) != "accepted" || msg2.From != nil ||
		str(msg2.MessagingServiceSid) != "MG0123456789abcdef0123456789abcdef" || str(msg2.NumSegments) != "0" {
		t.Errorf("message via service %+v", msg2)
	}

	got := fake.WaitMessages(t, 2, 2*time.Second)
	want := []channeltest.TwilioMessage{
		{Sid: sid, To: "+9647501234567", From: "+15005550006", Body: "سڵاو، چۆنی؟",
			StatusCallback: "https://sawt.example/twilio/status?x=1", Status: "queued", NumSegments: 1},
		{Sid: str(msg2.Sid), To: "whatsapp:+9647501234567", MessagingServiceSid: "MG0123456789abcdef0123456789abcdef",
			Body: strings.Repeat("a", 161), Status: "accepted"},
	}
	for i := range got {
		if got[i].Params.Get("To") != want[i].To || got[i].At.IsZero() {
			t.Errorf("message %d: Params %v, At %v", i, got[i].Params, got[i].At)
		}
		got[i].Params, got[i].At, got[i].MediaURLs = nil, time.Time{}, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Messages:\n got %+v\nwant %+v", got, want)
	}

	// Messages is a copy.
	fake.Messages()[0].Params.Set("To", "changed")
	if fake.Messages()[0].Params.Get("To") != "+9647501234567" {
		t.Error("Messages shares its Params with the fake")
	}

	// The fake also answers a fetch of the message.
	fetched, err := rc.Api.FetchMessage(sid, nil)
	if err != nil || str(fetched.Sid) != sid || str(fetched.Body) != "سڵاو، چۆنی؟" {
		t.Errorf("FetchMessage: %+v, %v", fetched, err)
	}

	reqs := fake.Requests("/Messages.json")
	if len(reqs) != 2 || reqs[0].Method != http.MethodPost || reqs[0].Status != http.StatusCreated ||
		reqs[0].Path != "/2010-04-01/Accounts/"+twilioSID+"/Messages.json" || reqs[0].Form.Get("Body") != "سڵاو، چۆنی؟" {
		t.Errorf("requests %+v", reqs)
	}
	if n := fake.RequestCount(); n != 3 {
		t.Errorf("RequestCount %d, want 3", n)
	}
}

func TestTwilioSMSSegments(t *testing.T) {
	for body, want := range map[string]int{
		"":                             1,
		"hello":                        1,
		strings.Repeat("a", 160):       1,
		strings.Repeat("a", 161):       2,
		strings.Repeat("a", 306):       2,
		strings.Repeat("a", 307):       3,
		strings.Repeat("€", 80):        1, // extension characters take two septets
		strings.Repeat("€", 81):        2,
		strings.Repeat("ب", 70):        1,
		strings.Repeat("ب", 71):        2,
		strings.Repeat("a", 100) + "ب": 2,
	} {
		if got := channeltest.SMSSegments(body); got != want {
			t.Errorf("SMSSegments(%d runes starting %q) = %d, want %d", len([]rune(body)), []rune(body + " ")[0], got, want)
		}
	}
}

func TestTwilioValidatesLikeTwilio(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	rc := newTwilioClient(t, fake, twilioSID, twilioToken, 0)

	withCallback := sms("+9647501234567", "+15005550006", "x")
	withCallback.SetStatusCallback("/relative")
	noSender := &api.CreateMessageParams{}
	noSender.SetTo("+9647501234567")
	noSender.SetBody("x")
	for name, tc := range map[string]struct {
		params *api.CreateMessageParams
		code   int
	}{
		"no To":           {&api.CreateMessageParams{}, 21604},
		"bad To":          {sms("07501234567", "+15005550006", "x"), 21211},
		"bad WhatsApp To": {sms("whatsapp:0750", "whatsapp:+15005550006", "x"), 21211},
		"no From":         {noSender, 21603},
		"no Body":         {sms("+9647501234567", "+15005550006", ""), 21602},
		"long Body":       {sms("+9647501234567", "+15005550006", strings.Repeat("ب", 1601)), 21617},
		"bad callback":    {withCallback, 21609},
	} {
		_, err := rc.Api.CreateMessage(tc.params)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		terr := restError(t, err)
		if terr.Status != 400 || terr.Code != tc.code || terr.Message == "" {
			t.Errorf("%s: %+v, want 400 with code %d", name, terr, tc.code)
		}
	}
	if _, err := rc.Api.CreateMessage(sms("+9647501234567", "+15005550006", strings.Repeat("ب", 1600))); err != nil {
		t.Errorf("1600 characters: %v", err)
	}
	if n := len(fake.Messages()); n != 1 {
		t.Errorf("%d messages, want only the valid one", n)
	}

	// Bad credentials, and another account's path.
	bad := newTwilioClient(t, fake, twilioSID, "0000000000000000000000000000000f", 0)
	if terr := restError(t, func() error { _, err := bad.Api.CreateMessage(sms("+9647501234567", "+15005550006", "x")); return err }()); terr.Status != 401 || terr.Code != 20003 || terr.MoreInfo != "https://www.twilio.com/docs/errors/20003" {
		t.Errorf("wrong token: %+v", terr)
	}
	other := sms("+9647501234567", "+15005550006", "x")
	other.SetPathAccountSid("AC00000000000000000000000000000000")
	if terr := restError(t, func() error { _, err := rc.Api.CreateMessage(other); return err }()); terr.Status != 401 || terr.Code != 20003 {
		t.Errorf("other account: %+v", terr)
	}
	resp, body := twilioGet(t, fake, http.MethodPost, "/2010-04-01/Accounts/"+twilioSID+"/Messages.json", "", "")
	if e := decodeTwilioError(t, resp, body); resp.StatusCode != 401 || e.Code != 20003 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no credentials: %d %+v", resp.StatusCode, e)
	}

	// Unknown resources answer 404 20404.
	for _, path := range []string{"/2010-04-01/Accounts/" + twilioSID + "/Calls.json", "/v1/Services"} {
		resp, body := twilioGet(t, fake, http.MethodGet, path, twilioSID, twilioToken)
		if e := decodeTwilioError(t, resp, body); resp.StatusCode != 404 || e.Code != 20404 || !strings.Contains(e.Message, path) {
			t.Errorf("GET %s: %d %+v", path, resp.StatusCode, e)
		}
	}
	if n := len(fake.Messages()); n != 1 {
		t.Errorf("%d messages after the refused requests, want 1", n)
	}
}

// CountOnly: messages are still answered as before and counted, but no longer kept.
func TestTwilioCountOnly(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	rc := newTwilioClient(t, fake, twilioSID, twilioToken, 0)
	if _, err := rc.Api.CreateMessage(sms("+9647501234567", "+15005550006", "kept")); err != nil {
		t.Fatal(err)
	}
	fake.CountOnly()
	for range 3 {
		m, err := rc.Api.CreateMessage(sms("+9647501234567", "+15005550006", "counted"))
		if err != nil || m.Sid == nil || str(m.Status) != "queued" {
			t.Fatalf("after CountOnly: %+v %v", m, err)
		}
	}
	if _, err := rc.Api.CreateMessage(sms("bad", "+15005550006", "x")); err == nil {
		t.Error("an invalid To was accepted after CountOnly")
	}
	if n := fake.MessageCount(); n != 4 {
		t.Errorf("MessageCount %d, want 4", n)
	}
	if msgs, reqs := fake.Messages(), fake.Requests(); len(msgs) != 1 || msgs[0].Body != "kept" || len(reqs) != 1 {
		t.Errorf("kept %d messages and %d requests, want only the first of each", len(msgs), len(reqs))
	}
}

func TestTwilioScriptedFailuresWithClient(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	rc := newTwilioClient(t, fake, twilioSID, twilioToken, 0)
	send := func() error {
		_, err := rc.Api.CreateMessage(sms("+9647501234567", "+15005550006", "hello"))
		return err
	}

	fake.Fail("/Messages.json", 1, 400, 21610, "Attempt to send to unsubscribed recipient")
	fake.Fail("/Messages.json", 2, 429, 20429, "")
	fake.FailNotJSON("/Messages.json", 1, 502)
	fake.FailNotJSON("/Messages.json", 1, 503)
	fake.Fail("/Recordings/", 1, 500, 20500, "Internal Server Error") // another path: not used by sends

	terr := restError(t, send())
	if terr.Code != 21610 || terr.Status != 400 || terr.Message != "Attempt to send to unsubscribed recipient" ||
		terr.MoreInfo != "https://www.twilio.com/docs/errors/21610" {
		t.Errorf("21610: %+v", terr)
	}
	for i := 0; i < 2; i++ {
		if terr := restError(t, send()); terr.Code != 20429 || terr.Status != 429 || terr.Message != "Too Many Requests" {
			t.Errorf("429 #%d: %+v", i+1, terr)
		}
	}
	for _, status := range []string{"502", "503"} {
		err := send()
		var terr *client.TwilioRestError
		if err == nil || errors.As(err, &terr) || !strings.Contains(err.Error(), status) {
			t.Errorf("%s (HTML): %v, want a decoding error naming the status", status, err)
		}
	}
	if err := send(); err != nil {
		t.Errorf("after the scripted failures: %v", err)
	}

	var statuses []int
	for _, r := range fake.Requests("/Messages.json") {
		statuses = append(statuses, r.Status)
	}
	if want := []int{400, 429, 429, 502, 503, 201}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v (every request is recorded)", statuses, want)
	}
	if n := len(fake.Messages()); n != 1 {
		t.Errorf("%d messages, want 1: failed requests send nothing", n)
	}

	fake.AddRecording(recording1, []byte("ID3"))
	if terr := restError(t, rc.Api.DeleteRecording(recording1, nil)); terr.Code != 20500 || terr.Status != 500 {
		t.Errorf("recording failure: %+v", terr)
	}
	if !fake.HasRecording(recording1) || len(fake.Deletes()) != 0 {
		t.Error("a failed delete deleted the recording")
	}
}

func TestTwilioFailuresOnTheWire(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	fake.Fail("/Messages.json", 1, 400, 21610, "Attempt to send to unsubscribed recipient")
	fake.FailNotJSON("/Messages.json", 1, 0)

	path := "/2010-04-01/Accounts/" + twilioSID + "/Messages.json"
	// Bad credentials do not use a failure.
	if resp, _ := twilioGet(t, fake, http.MethodPost, path, twilioSID, "nope"); resp.StatusCode != 401 {
		t.Errorf("bad credentials: %d", resp.StatusCode)
	}
	resp, body := twilioGet(t, fake, http.MethodPost, path, twilioSID, twilioToken)
	want := twilioErrorJSON{Code: 21610, Message: "Attempt to send to unsubscribed recipient", MoreInfo: "https://www.twilio.com/docs/errors/21610", Status: 400}
	if e := decodeTwilioError(t, resp, body); resp.StatusCode != 400 || e != want {
		t.Errorf("21610 answer: %d %s", resp.StatusCode, body)
	}
	resp, body = twilioGet(t, fake, http.MethodPost, path, twilioSID, twilioToken)
	if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<html>") {
		t.Errorf("NotJSON answer: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestTwilioDelayTimesTheClientOut(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	rc := newTwilioClient(t, fake, twilioSID, twilioToken, 150*time.Millisecond)
	fake.SetDelay(5 * time.Second)

	start := time.Now()
	_, err := rc.Api.CreateMessage(sms("+9647501234567", "+15005550006", "hello"))
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("CreateMessage: %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
	// The timed-out request sent nothing and is recorded without an answer.
	reqs := fake.WaitRequests(t, "/Messages.json", 1, 2*time.Second)
	if len(reqs) != 1 || reqs[0].Form.Get("Body") != "hello" {
		t.Errorf("requests %+v", reqs)
	}
	deadline := time.Now().Add(2 * time.Second)
	for fake.Requests()[0].Status != 0 || len(fake.Messages()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the timeout: requests %+v, messages %+v", fake.Requests(), fake.Messages())
		}
		time.Sleep(10 * time.Millisecond)
	}

	fake.SetDelay(200 * time.Millisecond)
	slow := newTwilioClient(t, fake, twilioSID, twilioToken, 5*time.Second)
	start = time.Now()
	if _, err := slow.Api.CreateMessage(sms("+9647501234567", "+15005550006", "slow")); err != nil {
		t.Fatalf("slow send: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("answered after %v, want the delay", elapsed)
	}
	fake.SetDelay(0)
	if _, err := rc.Api.CreateMessage(sms("+9647501234567", "+15005550006", "again")); err != nil {
		t.Errorf("without a delay: %v", err)
	}
	if msgs := fake.Messages(); len(msgs) != 2 || msgs[0].Body != "slow" || msgs[1].Body != "again" {
		t.Errorf("messages %+v", msgs)
	}
}

func TestTwilioRecordings(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	rc := newTwilioClient(t, fake, twilioSID, twilioToken, 0)
	audio := []byte("ID3\x04\x00fake mp3 bytes")
	fake.AddRecording(recording1, audio)
	base := "/2010-04-01/Accounts/" + twilioSID + "/Recordings/" + recording1

	for ext, contentType := range map[string]string{".mp3": "audio/mpeg", ".wav": "audio/x-wav", "": "audio/x-wav"} {
		resp, body := twilioGet(t, fake, http.MethodGet, base+ext, twilioSID, twilioToken)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != contentType || string(body) != string(audio) {
			t.Errorf("GET %q: %d %q %q", ext, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	resp, body := twilioGet(t, fake, http.MethodGet, base+".mp3", "", "")
	if e := decodeTwilioError(t, resp, body); resp.StatusCode != 401 || e.Code != 20003 {
		t.Errorf("GET without credentials: %d %s", resp.StatusCode, body)
	}
	unknown := "/2010-04-01/Accounts/" + twilioSID + "/Recordings/RE00000000000000000000000000000000.mp3"
	resp, body = twilioGet(t, fake, http.MethodGet, unknown, twilioSID, twilioToken)
	if e := decodeTwilioError(t, resp, body); resp.StatusCode != 404 || e.Code != 20404 {
		t.Errorf("GET unknown: %d %s", resp.StatusCode, body)
	}

	rec, err := rc.Api.FetchRecording(recording1, nil)
	if err != nil || str(rec.Sid) != recording1 || str(rec.AccountSid) != twilioSID || str(rec.Status) != "completed" {
		t.Errorf("FetchRecording: %+v, %v", rec, err)
	}

	if err := rc.Api.DeleteRecording(recording1, nil); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	if got := fake.WaitDeletes(t, 1, 2*time.Second); !reflect.DeepEqual(got, []string{recording1}) {
		t.Errorf("WaitDeletes %v", got)
	}
	if fake.HasRecording(recording1) {
		t.Error("HasRecording after the delete")
	}
	if reqs := fake.Requests(".json"); len(reqs) != 2 || reqs[1].Method != http.MethodDelete || reqs[1].Status != http.StatusNoContent {
		t.Errorf("requests %+v", reqs)
	}
	resp, body = twilioGet(t, fake, http.MethodGet, base+".mp3", twilioSID, twilioToken)
	if e := decodeTwilioError(t, resp, body); resp.StatusCode != 404 || e.Code != 20404 {
		t.Errorf("GET after delete: %d %s", resp.StatusCode, body)
	}
	terr := restError(t, rc.Api.DeleteRecording(recording1, nil))
	if terr.Status != 404 || terr.Code != 20404 || !strings.Contains(terr.Message, recording1+".json") {
		t.Errorf("second DeleteRecording: %+v", terr)
	}
	if got := fake.Deletes(); !reflect.DeepEqual(got, []string{recording1}) {
		t.Errorf("Deletes %v, want only the one that deleted", got)
	}
}

// The example of https://www.twilio.com/docs/usage/security#validating-requests.
var (
	twilioDocToken  = "12345"
	twilioDocURL    = "https://mycompany.com/myapp.php?foo=1&bar=2"
	twilioDocParams = url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	twilioDocSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
)

func TestTwilioSignatureMatchesTheDocumentedExample(t *testing.T) {
	if got := channeltest.TwilioSignature(twilioDocToken, twilioDocURL, twilioDocParams); got != twilioDocSignature {
		t.Errorf("TwilioSignature = %q, want %q", got, twilioDocSignature)
	}
	params := map[string]string{}
	for k, v := range twilioDocParams {
		params[k] = v[0]
	}
	v := client.NewRequestValidator(twilioDocToken)
	if !v.Validate(twilioDocURL, params, channeltest.TwilioSignature(twilioDocToken, twilioDocURL, twilioDocParams)) {
		t.Error("twilio-go's validator rejects the signature")
	}
	if v.Validate(twilioDocURL, params, channeltest.TwilioSignature("54321", twilioDocURL, twilioDocParams)) {
		t.Error("twilio-go's validator accepts a signature made with another token")
	}
	// A GET webhook: the parameters are in the URL only.
	getURL := "https://sawt.example/twilio/voice?CallSid=CA1&From=%2B9647501234567"
	if !v.Validate(getURL, map[string]string{}, channeltest.TwilioSignature(twilioDocToken, getURL, nil)) {
		t.Error("twilio-go's validator rejects a GET signature")
	}
}

func TestTwilioSignedForm(t *testing.T) {
	req := channeltest.SignedForm(twilioDocToken, twilioDocURL, twilioDocParams)
	if req.Method != http.MethodPost || req.URL.String() != twilioDocURL ||
		req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		req.Header.Get("X-Twilio-Signature") != twilioDocSignature {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	v := client.NewRequestValidator(twilioDocToken)
	if !v.ValidateBody(twilioDocURL, body, req.Header.Get("X-Twilio-Signature")) {
		t.Error("twilio-go's validator rejects the signed form")
	}

	// A handler sees the form and can check the signature of the URL it was called at.
	hookURL := "http://example.com/twilio/sms"
	params := url.Values{"From": {"+9647501234567"}, "Body": {"سڵاو"}, "MessageSid": {"SM1"}}
	var got url.Values
	var valid bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		got = r.PostForm
		full := "http://" + r.Host + r.URL.RequestURI()
		valid = channeltest.TwilioSignature("tok", full, r.PostForm) == r.Header.Get("X-Twilio-Signature")
	})
	handler.ServeHTTP(httptest.NewRecorder(), channeltest.SignedForm("tok", hookURL, params))
	if !reflect.DeepEqual(got, params) || !valid {
		t.Errorf("handler saw %v, signature valid %v", got, valid)
	}
}

func TestTwilioUnusedFailureFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	fake := channeltest.NewTwilioAPI(rec, twilioSID, twilioToken)
	fake.Fail("/Messages.json", 2, 400, 21610, "Attempt to send to unsubscribed recipient")
	fake.FailNotJSON("/Recordings/", 1, 503)
	if _, err := newTwilioClient(t, fake, twilioSID, twilioToken, 0).Api.CreateMessage(sms("+9647501234567", "+15005550006", "x")); err == nil {
		t.Error("no error from the scripted failure")
	}
	errs := rec.runCleanups()
	if len(errs) != 2 || !strings.Contains(errs[0], `1 scripted failure(s) for "/Messages.json" never used`) ||
		!strings.Contains(errs[0], "Code:21610") || !strings.Contains(errs[1], `1 scripted failure(s) for "/Recordings/" never used`) {
		t.Errorf("cleanup errors %q", errs)
	}

	rec = &recordingTB{TB: t}
	fake = channeltest.NewTwilioAPI(rec, twilioSID, twilioToken)
	fake.Fail("/Messages.json", 0, 400, 21610, "")
	fake.Fail("/Messages.json", 1, 200, 0, "")
	if errs := rec.runCleanups(); len(errs) != 2 || !strings.Contains(errs[0], "want times ≥ 1") {
		t.Errorf("bad Fail calls: %q", errs)
	}
}

func TestTwilioWaitHelpersTimeOut(t *testing.T) {
	fake := channeltest.NewTwilioAPI(t, twilioSID, twilioToken)
	rec := &recordingTB{TB: t}
	start := time.Now()
	if msgs := fake.WaitMessages(rec, 1, 100*time.Millisecond); len(msgs) != 0 || len(rec.errors) != 1 ||
		!strings.Contains(rec.errors[0], "waited 100ms for 1 message(s), got 0; requests: none") {
		t.Errorf("WaitMessages: %v %q", msgs, rec.errors)
	}
	if sids := fake.WaitDeletes(rec, 1, 50*time.Millisecond); len(sids) != 0 || len(rec.errors) != 2 {
		t.Errorf("WaitDeletes: %v %q", sids, rec.errors)
	}
	if time.Since(start) > time.Second {
		t.Errorf("the waits took %v", time.Since(start))
	}

	rc := newTwilioClient(t, fake, twilioSID, twilioToken, 0)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = rc.Api.CreateMessage(sms("+9647501234567", "+15005550006", "late"))
	}()
	if got := fake.WaitMessages(t, 1, 2*time.Second); len(got) != 1 || got[0].Body != "late" {
		t.Errorf("WaitMessages: %+v", got)
	}
}
