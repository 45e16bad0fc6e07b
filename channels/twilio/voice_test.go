package twilio_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels/twilio"
)

// call is one phone call, driven as Twilio drives it: each step is posted to the action URL
// of the previous answer.
type call struct {
	e        *env
	sid      string
	from     string
	last     *node  // the previous answer
	lastBody string // its bytes
	next     string // path and query of the next step
}

func callParams(sid, from string) url.Values {
	return url.Values{
		"CallSid": {sid}, "AccountSid": {accountSID}, "From": {from}, "Caller": {from}, "To": {fromNumber},
		"Direction": {"inbound"}, "CallStatus": {"in-progress"}, "ApiVersion": {"2010-04-01"},
	}
}

// dial starts a call: Twilio posts the number's voice URL.
func (e *env) dial(t testing.TB, from string) *call {
	t.Helper()
	c := &call{e: e, sid: newSid("CA"), from: from}
	c.step(t, twilio.VoicePath, callParams(c.sid, from))
	return c
}

func (c *call) step(t testing.TB, pathAndQuery string, p url.Values) *node {
	t.Helper()
	w := c.e.post(t, pathAndQuery, p)
	c.lastBody = w.Body.String()
	c.last = parseTwiML(t, w)
	c.next = ""
	if verbs := append(c.last.all("Gather"), c.last.all("Record")...); len(verbs) > 0 {
		u, err := url.Parse(verbs[0].attr("action"))
		if err != nil || u.Scheme+"://"+u.Host != publicURL {
			t.Fatalf("action %q is not on the public URL", verbs[0].attr("action"))
		}
		c.next = u.RequestURI()
	}
	return c.last
}

// press answers the gathering with keys.
func (c *call) press(t testing.TB, digits string) *node {
	t.Helper()
	if len(c.last.all("Gather")) == 0 {
		t.Fatalf("pressing %s, but the last answer gathers nothing: %s", digits, c.last)
	}
	p := callParams(c.sid, c.from)
	p.Set("Digits", digits)
	return c.step(t, c.next, p)
}

// speak answers a recording: Twilio posts the Record's action with the recording.
func (c *call) speak(t testing.TB) (recordingSid string) {
	t.Helper()
	if len(c.last.all("Record")) == 0 {
		t.Fatalf("speaking, but the last answer records nothing: %s", c.last)
	}
	recordingSid = newSid("RE")
	p := callParams(c.sid, c.from)
	p.Set("RecordingSid", recordingSid)
	p.Set("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Recordings/"+recordingSid)
	p.Set("RecordingDuration", "9")
	p.Set("Digits", "#")
	c.step(t, c.next, p)
	return recordingSid
}

// hangUp is Twilio's report that the call ended.
func (c *call) hangUp(t testing.TB) {
	t.Helper()
	p := callParams(c.sid, c.from)
	p.Set("CallStatus", "completed")
	p.Set("CallDuration", "95")
	if w := c.e.post(t, twilio.StatusPath, p); w.Code != http.StatusNoContent {
		t.Fatalf("call ended: status %d %s", w.Code, w.Body)
	}
}

// says is the text of every <Say> of the answer.
func (c *call) says() string { return strings.Join(c.last.texts("Say"), "\n") }

// checkSays checks that every <Say> of n speaks lang with its voice.
func checkSays(t testing.TB, n *node, language, voice string) {
	t.Helper()
	for _, s := range n.all("Say") {
		if s.attr("language") != language || s.attr("voice") != voice {
			t.Errorf("<Say> %s, want language %s voice %s", s, language, voice)
		}
	}
}

const (
	arabicVoice  = "Google.ar-XA-Standard-A"
	englishVoice = "Google.en-GB-Standard-A"
	caller       = "+9647701234567"
)

func TestNewCallerHearsTheLanguageMenu(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(t, caller)
	r := c.last
	if got, want := r.verbs(), []string{"Gather", "Gather", "Gather", "Say", "Say", "Hangup"}; !slices.Equal(got, want) {
		t.Fatalf("verbs %v, want %v: the menu, twice more after silence, goodbye in Arabic and English\n%s", got, want, r)
	}
	want := map[string]string{
		"input": "dtmf", "numDigits": "1", "timeout": "6", "method": "POST",
		"action": publicURL + twilio.VoicePath + "?n=1",
	}
	for i, g := range r.all("Gather") {
		if got := g.attrs(); !hasAll(got, want) {
			t.Errorf("gather %d: %v, want %v", i, got, want)
		}
		if len(g.all("Play")) != 0 {
			t.Errorf("gather %d plays a recording, but none exist", i)
		}
	}
	first := r.Kids[0]
	var texts []string
	for _, s := range first.Kids {
		if s.name() != "Say" {
			t.Fatalf("in the first gather: <%s>, want only <Say>", s.name())
		}
		texts = append(texts, strings.TrimSpace(s.Text))
	}
	wantTexts := []string{"اختر لغتك", "Choose your language", "العربية", "اضغط واحد",
		"الكردية السورانية", "اضغط اثنين", "الكردية البادينية", "اضغط ثلاثة", "English", "press four"}
	if !slices.Equal(texts, wantTexts) {
		t.Errorf("first gather says\n%q\nwant\n%q", texts, wantTexts)
	}
	// Arabic and English by their voices; Kurdish, which has no text-to-speech, in Arabic.
	for _, s := range first.Kids {
		text := strings.TrimSpace(s.Text)
		wantVoice, wantLang := arabicVoice, "ar-XA"
		if text == "Choose your language" || text == "English" || text == "press four" {
			wantVoice, wantLang = englishVoice, "en-GB"
		}
		if s.attr("voice") != wantVoice || s.attr("language") != wantLang {
			t.Errorf("%q said by %s in %s, want %s in %s", text, s.attr("voice"), s.attr("language"), wantVoice, wantLang)
		}
	}
	for i, g := range r.all("Gather")[1:] {
		if says := g.texts("Say"); len(says) < 2 || says[0] != "لم نسمع جوابك." || says[1] != "We did not hear your answer." {
			t.Errorf("gather %d after silence starts %q, want 'we did not hear you' in Arabic and English", i+2, says)
		}
	}
	if goodbye := r.Kids[3].Text + r.Kids[4].Text; !strings.Contains(goodbye, "مع السلامة") || !strings.Contains(goodbye, "Goodbye") {
		t.Errorf("goodbye %q", goodbye)
	}

	// 1 is Arabic: the welcome and the main menu, by keys.
	r = c.press(t, "1")
	checkSays(t, r, "ar-XA", arabicVoice)
	says := c.says()
	for _, want := range []string{"مرحبًا بك في صوت", "كيف يمكننا مساعدتك؟", "تقديم شكوى", "اضغط واحد", "معلومات", "اضغط أربعة", "تغيير اللغة", "اضغط ستة"} {
		if !strings.Contains(says, want) {
			t.Errorf("main menu does not say %q:\n%s", want, says)
		}
	}
	if strings.Contains(says, "أرسل رقمًا") {
		t.Errorf("the phone line says the SMS text %q", "أرسل رقمًا")
	}
	if g := r.all("Gather"); len(g) != 3 || g[0].attr("action") != publicURL+twilio.VoicePath+"?n=2" {
		t.Errorf("main menu gathers %s", r)
	}
	// Every step is logged as one inbound message and inline (not queued) replies.
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in' AND channel = 'voice'`); n != 2 {
		t.Errorf("inbound voice messages %d, want 2", n)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'out' AND (status <> 'sent' OR NOT inline)`); n != 0 {
		t.Errorf("%d voice replies not inline", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("%d jobs: voice replies must not go through the outbox", n)
	}
}

// hasAll reports whether got has every entry of want.
func hasAll(got, want map[string]string) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

var spokenReference = regexp.MustCompile(`^[0-9](, [0-9]){7}$`)

func TestComplaintByPhone(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.dial(t, caller)
	c.press(t, "1") // Arabic
	c.press(t, "1") // make a complaint
	if !strings.Contains(c.says(), "ما موضوع شكواك؟") {
		t.Fatalf("after 1: %s", c.says())
	}

	// Twilio posts a step again: the same answer, nothing new stored.
	inbound := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`)
	again := callParams(c.sid, c.from)
	again.Set("Digits", "1")
	prev := c.lastBody
	w := e.post(t, twilio.VoicePath+"?n=2", again)
	if w.Body.String() != prev {
		t.Errorf("repeated step answers differently:\n%s\nfirst:\n%s", w.Body, prev)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != inbound {
		t.Errorf("repeated step stored: %d inbound messages, want %d", n, inbound)
	}

	c.press(t, "1") // I need help or assistance: what happened is recorded
	rec := c.last.all("Record")
	if len(rec) != 3 || len(c.last.all("Gather")) != 0 {
		t.Fatalf("describe step: %s, want three <Record>", c.last)
	}
	wantRec := map[string]string{
		"action": publicURL + twilio.VoicePath + "?n=4", "method": "POST", "maxLength": "120", "finishOnKey": "#",
		"recordingStatusCallback": publicURL + twilio.StatusPath, "recordingStatusCallbackEvent": "completed", "playBeep": "true",
	}
	if got := rec[0].attrs(); !hasAll(got, wantRec) {
		t.Errorf("<Record> %v, want %v", got, wantRec)
	}
	if !strings.Contains(c.says(), "تحدّث بعد سماع الصافرة") {
		t.Errorf("no 'speak after the tone' before the recording: %s", c.says())
	}
	described := c.speak(t)
	recordBody := c.lastBody
	if !strings.Contains(c.says(), "في أي محافظة أنت؟") {
		t.Fatalf("after the recording: %s", c.says())
	}
	// The recording's step posted again (Twilio retried it): the same answer.
	p := callParams(c.sid, c.from)
	p.Set("RecordingSid", described)
	p.Set("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Recordings/"+described)
	p.Set("Digits", "#")
	if w := e.post(t, twilio.VoicePath+"?n=4", p); w.Body.String() != recordBody {
		t.Errorf("repeated recording step answers differently")
	}

	c.press(t, "1") // Ninewa
	if len(c.last.all("Record")) == 0 {
		t.Fatalf("site step: %s, want a <Record>", c.last)
	}
	site := c.speak(t)
	c.press(t, "1") // may we contact you: yes
	c.press(t, "1") // may we share: yes
	var digits []string
	for _, s := range c.last.all("Gather")[0].texts("Say") {
		if spokenReference.MatchString(s) {
			digits = append(digits, s)
		}
	}
	if len(digits) != 1 {
		t.Fatalf("the reference is not read digit by digit in the first gather: %s", c.says())
	}
	var reference string
	if err := e.pool.QueryRow(ctx, `SELECT reference FROM cases`).Scan(&reference); err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(digits[0], ", ", ""); got != reference {
		t.Errorf("read %q, the case's reference is %s", digits[0], reference)
	}
	if says := c.says(); !strings.Contains(says, "رقم شكواك") || !strings.Contains(says, "لسماع الرقم مرة أخرى") || !strings.Contains(says, "اضغط واحد") {
		t.Errorf("done: %s", says)
	}
	c.press(t, "1") // hear it again
	if first := c.last.all("Gather")[0].texts("Say"); len(first) == 0 || first[0] != digits[0] {
		t.Errorf("hear again: %q, want %q first", first, digits[0])
	}

	var category, governorate, channel string
	var consentContact, consentShare, incomplete bool
	err := e.pool.QueryRow(ctx, `SELECT category, governorate, channel, consent_contact, consent_share, incomplete FROM cases`).
		Scan(&category, &governorate, &channel, &consentContact, &consentShare, &incomplete)
	if err != nil {
		t.Fatal(err)
	}
	if category != "assistance_request" || governorate != "ninewa" || channel != "voice" || !consentContact || !consentShare || incomplete {
		t.Errorf("case: %s %s %s contact=%v share=%v incomplete=%v", category, governorate, channel, consentContact, consentShare, incomplete)
	}
	if n := e.count(t, `SELECT count(*) FROM recordings r JOIN cases c ON c.id = r.case_id WHERE r.provider_id = ANY($1)`, []string{described, site}); n != 2 {
		t.Errorf("%d recordings linked to the case, want 2", n)
	}
	c.hangUp(t)
	if n := e.count(t, `SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("%d cases after hanging up at the end, want 1", n)
	}
}

func TestHiddenCaller(t *testing.T) {
	e := newEnv(t, nil)
	for _, from := range []string{"anonymous", "+266696687", "+7378742833", "+86282452253", ""} {
		t.Run(from, func(t *testing.T) {
			c := e.dial(t, from)
			if got := c.last.verbs(); len(got) < 2 || got[len(got)-1] != "Hangup" || slices.Contains(got, "Gather") {
				t.Errorf("verbs %v, want words then <Hangup/>", got)
			}
			if says := c.says(); !strings.Contains(says, "لا نستطيع أن نرى رقم هاتفك") || !strings.Contains(says, "We cannot see your phone number") {
				t.Errorf("says %q", says)
			}
			c.hangUp(t)
		})
	}
	for _, table := range []string{"inbox", "messages", "contacts", "urns", "sessions"} {
		if n := e.count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows in %s from hidden callers", n, table)
		}
	}
}

func TestHangUpMidComplaint(t *testing.T) {
	e := newEnv(t, nil)
	walk := func(from string, consent bool) *call {
		c := e.dial(t, from)
		c.press(t, "1") // Arabic
		c.press(t, "1") // complaint
		c.press(t, "2") // a service
		c.speak(t)
		c.press(t, "3") // Erbil
		c.speak(t)
		if consent {
			c.press(t, "1") // may we contact you: yes
		}
		return c
	}

	c := walk("+9647501000001", false)
	c.hangUp(t)
	if n := e.count(t, `SELECT count(*) FROM cases`); n != 0 {
		t.Errorf("hanging up before consent left %d cases", n)
	}

	c = walk("+9647501000002", true)
	c.hangUp(t)
	var incomplete, callBack, consent bool
	var category string
	err := e.pool.QueryRow(context.Background(), `SELECT incomplete, call_back, consent_contact, category FROM cases`).
		Scan(&incomplete, &callBack, &consent, &category)
	if err != nil {
		t.Fatalf("no case after hanging up after consent: %v", err)
	}
	if !incomplete || !callBack || !consent || category != "minor_dissatisfaction" {
		t.Errorf("case incomplete=%v call_back=%v consent=%v category=%s, want an unfinished case to call back", incomplete, callBack, consent, category)
	}
	if n := e.count(t, `SELECT count(*) FROM recordings WHERE case_id IS NOT NULL`); n != 2 {
		t.Errorf("%d recordings linked to the unfinished case, want 2", n)
	}
	c.hangUp(t) // Twilio repeats the report
	if n := e.count(t, `SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("%d cases after the repeated report, want 1", n)
	}

	// A call that is still going is not ended by a report about it.
	c = walk("+9647501000003", true)
	p := callParams(c.sid, c.from)
	p.Set("CallStatus", "ringing")
	if w := e.post(t, twilio.StatusPath, p); w.Code != http.StatusNoContent {
		t.Errorf("ringing: status %d", w.Code)
	}
	if n := e.count(t, `SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("a ringing report made a case")
	}
	c.press(t, "2") // may we share: no
	if !strings.Contains(c.says(), "رقم شكواك") {
		t.Errorf("the call did not go on: %s", c.says())
	}
	if n := e.count(t, `SELECT count(*) FROM cases WHERE NOT incomplete`); n != 1 {
		t.Errorf("%d finished cases, want 1", n)
	}
}

func TestSoraniCaller(t *testing.T) {
	dir := t.TempDir()
	audio := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x00}, 64)...)
	if err := os.MkdirAll(filepath.Join(dir, "ckb"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ckb", "voice.menu_ask.mp3"), audio, 0o644); err != nil {
		t.Fatal(err)
	}
	plain := newEnv(t, nil)
	recorded := newEnv(t, func(c *app.Config) { c.AudioDir = dir })

	// Without recordings, Sorani is spoken in Arabic.
	c := plain.dial(t, caller)
	c.press(t, "2")
	checkSays(t, c.last, "ar-XA", arabicVoice)
	if len(c.last.all("Play")) != 0 {
		t.Errorf("plays a recording, but none exist")
	}
	for _, want := range []string{"كيف يمكننا مساعدتك؟", "تقديم شكوى", "اضغط واحد"} {
		if !strings.Contains(c.says(), want) {
			t.Errorf("Sorani main menu without recordings does not say %q in Arabic:\n%s", want, c.says())
		}
	}

	// With the Sorani recording of the question, it is played instead.
	c = recorded.dial(t, caller)
	c.press(t, "2")
	plays := c.last.all("Gather")[0].texts("Play")
	if want := publicURL + "/audio/ckb/voice.menu_ask.mp3"; !slices.Contains(plays, want) {
		t.Errorf("plays %q, want %s", plays, want)
	}
	if strings.Contains(strings.Join(c.last.all("Gather")[0].texts("Say"), "\n"), "كيف يمكننا مساعدتك؟") {
		t.Errorf("the recorded question is also spoken: %s", c.last)
	}
	req := httptest.NewRequest(http.MethodGet, publicURL+"/audio/ckb/voice.menu_ask.mp3", nil)
	w := recorded.serve(req)
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "audio/mpeg" || !bytes.Equal(body, audio) {
		t.Errorf("GET the recording: %d %q %d bytes", w.Code, w.Header().Get("Content-Type"), len(body))
	}
	if w := recorded.serve(httptest.NewRequest(http.MethodGet, publicURL+"/audio/ckb/menu.ask.mp3", nil)); w.Code != http.StatusNotFound {
		t.Errorf("GET a recording that does not exist: %d", w.Code)
	}
}

func TestRecordingReports(t *testing.T) {
	e := newEnv(t, nil)
	callSid, rec := newSid("CA"), newSid("RE")
	report := url.Values{
		"AccountSid": {accountSID}, "CallSid": {callSid}, "RecordingSid": {rec}, "RecordingStatus": {"completed"},
		"RecordingUrl":      {"https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Recordings/" + rec},
		"RecordingDuration": {"14"}, "RecordingChannels": {"1"}, "RecordingSource": {"RecordVerb"},
	}
	for range 2 { // Twilio may report it more than once
		if w := e.post(t, twilio.StatusPath, report); w.Code != http.StatusNoContent {
			t.Fatalf("status %d %s", w.Code, w.Body)
		}
	}
	var callID, u string
	var duration int
	err := e.pool.QueryRow(context.Background(), `SELECT call_id, url, duration_seconds FROM recordings WHERE provider_id = $1`, rec).
		Scan(&callID, &u, &duration)
	if err != nil {
		t.Fatal(err)
	}
	if callID != callSid || u != report.Get("RecordingUrl") || duration != 14 {
		t.Errorf("recording %s %s %d", callID, u, duration)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'fetch_recording' AND args->>'provider_id' = $1`, rec); n != 1 {
		t.Errorf("%d fetch jobs, want 1", n)
	}
	failed := url.Values{"CallSid": {callSid}, "RecordingSid": {newSid("RE")}, "RecordingStatus": {"failed"}}
	if w := e.post(t, twilio.StatusPath, failed); w.Code != http.StatusNoContent {
		t.Errorf("failed recording: status %d", w.Code)
	}
	if n := e.count(t, `SELECT count(*) FROM recordings`); n != 1 {
		t.Errorf("a failed recording was kept")
	}
}

// TestRecordingIsKept runs the real job workers: a finished recording is fetched from Twilio
// into the database, then deleted at Twilio.
func TestRecordingIsKept(t *testing.T) {
	e := newEnvOpts(t, nil, app.Options{Workers: true})
	c := e.dial(t, caller)
	c.press(t, "1")
	c.press(t, "1")
	c.press(t, "1")
	rec := c.speak(t)
	audio := []byte("ID3 recorded complaint")
	e.api.AddRecording(rec, audio)
	report := url.Values{"CallSid": {c.sid}, "RecordingSid": {rec}, "RecordingStatus": {"completed"},
		"RecordingUrl": {"https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Recordings/" + rec}, "RecordingDuration": {"7"}}
	if w := e.post(t, twilio.StatusPath, report); w.Code != http.StatusNoContent {
		t.Fatalf("status %d", w.Code)
	}
	if got := e.api.WaitDeletes(t, 1, 10*time.Second); got[0] != rec {
		t.Errorf("deleted %v, want %s", got, rec)
	}
	eventually(t, 5*time.Second, "deletion recorded", func() bool {
		return e.count(t, `SELECT count(*) FROM recordings WHERE provider_id = $1 AND deleted_at_provider IS NOT NULL`, rec) == 1
	})
	var kept []byte
	var contentType string
	err := e.pool.QueryRow(context.Background(), `SELECT audio, content_type FROM recordings WHERE provider_id = $1`, rec).Scan(&kept, &contentType)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept, audio) || contentType != "audio/mpeg" {
		t.Errorf("kept %q (%s), want the recording's audio", kept, contentType)
	}
}

// TestStepNumbers: a step's number comes from the signed URL; a negative or missing one is the
// call's start.
func TestStepNumbers(t *testing.T) {
	e := newEnv(t, nil)
	sid := newSid("CA")
	p := callParams(sid, caller)
	first := e.post(t, twilio.VoicePath, p)
	neg := e.post(t, twilio.VoicePath+"?n=-3", p)
	if first.Body.String() != neg.Body.String() {
		t.Errorf("n=-3 is not the start of the call")
	}
	if n := e.count(t, `SELECT count(*) FROM inbox WHERE external_id = $1`, sid+":0"); n != 1 {
		t.Errorf("the call's start is not stored once under %s:0", sid)
	}
}
