package e2e

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store/pgtest"
)

// The public URL Twilio calls: signatures are made over it, not over the address the test
// reaches serve at (as behind a proxy).
const twilioPublic = "https://sawt.example.org"

type twilioEnv struct {
	fake   *channeltest.TwilioAPI
	dbURL  string
	pool   *pgxpool.Pool
	public string // where serve listens
	admin  string // its admin listener: API, health, metrics
	client *http.Client
}

// startTwilio runs serve with the Twilio channels on, against the fake Twilio API.
func startTwilio(t *testing.T) (*twilioEnv, *proc) {
	t.Helper()
	dbURL := pgtest.NewURL(t)
	sid, token := "AC"+randomHex(t, 32), randomHex(t, 32)
	fake := channeltest.NewTwilioAPI(t, sid, token)
	p := start(t, map[string]string{
		"DATABASE_URL":          dbURL,
		"SAWT_HTTP_ADDR":        "127.0.0.1:0",
		"SAWT_ADMIN_ADDR":       "127.0.0.1:0",
		"SAWT_PUBLIC_URL":       twilioPublic,
		"TWILIO_ACCOUNT_SID":    sid,
		"TWILIO_AUTH_TOKEN":     token,
		"TWILIO_FROM":           "+9647800000001",
		"TWILIO_API_URL":        fake.URL,
		"TWILIO_SMS_RATE_LIMIT": "100",
	}, "", "serve")
	public, admin := waitReady(t, p, 60*time.Second)
	if want := "twilio channels: on; SMS webhook " + twilioPublic + "/channels/twilio/sms"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("start-up log does not say %q:\n%s", want, p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), token) {
		t.Error("the auth token is in the log")
	}
	return &twilioEnv{fake: fake, dbURL: dbURL, pool: openPool(t, dbURL), public: public, admin: admin, client: &http.Client{Timeout: 30 * time.Second}}, p
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	const hex = "0123456789abcdef"
	w := randomWord(t, n)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(hex[int(w[i])%16])
	}
	return b.String()
}

// post sends a webhook signed as Twilio signs it and returns the status and body.
func (e *twilioEnv) post(t *testing.T, pathAndQuery string, params url.Values) (int, string) {
	t.Helper()
	req := channeltest.SignedForm(e.fake.AuthToken, twilioPublic+pathAndQuery, params)
	u, err := url.Parse("http://" + e.public + pathAndQuery)
	if err != nil {
		t.Fatal(err)
	}
	req.URL, req.Host = u, u.Host
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", pathAndQuery, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// sms sends one SMS from a number, waits until its replies are sent and returns them as the
// SMS Twilio was asked to send (a long reply is several).
func (e *twilioEnv) sms(t *testing.T, from, sid, body string) []channeltest.TwilioMessage {
	t.Helper()
	code, resp := e.post(t, "/channels/twilio/sms", url.Values{
		"MessageSid": {sid}, "AccountSid": {e.fake.AccountSID}, "From": {from}, "To": {"+9647800000001"},
		"Body": {body}, "NumMedia": {"0"},
	})
	if code != http.StatusOK || !strings.Contains(resp, "<Response>") {
		t.Fatalf("SMS %q: %d %s", body, code, resp)
	}
	const replies = `FROM inbox x JOIN messages i ON i.inbox_id = x.id JOIN messages o ON o.reply_to = i.id
		WHERE x.channel = 'sms' AND x.external_id = $1`
	waitFor(t, "replies to "+sid+" sent", func() bool {
		return queryInt(t, e.pool, `SELECT count(*) `+replies+` AND o.status <> 'queued'`, sid) > 0 &&
			queryInt(t, e.pool, `SELECT count(*) `+replies+` AND o.status = 'queued'`, sid) == 0
	})
	rows, err := e.pool.Query(ctxTimeout(t), `SELECT p.provider_id FROM provider_messages p
		JOIN messages o ON o.id = p.message_id JOIN messages i ON i.id = o.reply_to JOIN inbox x ON x.id = i.inbox_id
		WHERE x.channel = 'sms' AND x.external_id = $1`, sid)
	if err != nil {
		t.Fatal(err)
	}
	sids := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		sids[s] = true
	}
	rows.Close()
	var got []channeltest.TwilioMessage
	for _, m := range e.fake.Messages() {
		if !sids[m.Sid] {
			continue
		}
		if m.To != from {
			t.Errorf("reply to %s went to %s", from, m.To)
		}
		got = append(got, m)
	}
	if len(got) == 0 {
		t.Fatalf("no SMS sent for the replies to %s", sid)
	}
	return got
}

// TestTwilioSMSComplaint: a whole complaint by SMS in Arabic and in Sorani through serve and
// the fake Twilio: every reply comes back as an SMS of at most three segments from our number
// with a status callback, the case is opened in the person's language, and delivery reports
// update the replies.
func TestTwilioSMSComplaint(t *testing.T) {
	t.Parallel()
	e, p := startTwilio(t)
	for _, c := range []struct {
		lang, from, hello, languageDigit, description, site, done string
	}{
		{"ar", "+9647701110001", "مرحبا", "1", "الماء مقطوع عن خيمتنا منذ ثلاثة أيام", "مخيم حمام العليل", "رقم شكواك هو"},
		{"ckb", "+9647501110002", "سڵاو", "2", "سێ ڕۆژە ئاو نییە لە کەمپەکەمان", "کەمپی دارەشەکران", "ژمارەی سکاڵاکەت"},
	} {
		n := 0
		step := func(body string) string {
			n++
			var text []string
			for _, m := range e.sms(t, c.from, fmt.Sprintf("SM%s%030d", c.lang, n), body) {
				text = append(text, m.Body)
			}
			return strings.Join(text, "\n")
		}
		if got := step(c.hello); !strings.Contains(got, "English") {
			t.Fatalf("%s: first reply is not the language menu: %q", c.lang, got)
		}
		step(c.languageDigit) // welcome and the main menu
		step("1")             // complaint: the categories
		step("2")             // unhappy with a service: what happened?
		step(c.description)   // the governorates
		step("1")             // Ninewa: the site
		step(c.site)          // consent to be contacted
		step("1")             // consent to share
		if done := step("1"); !strings.Contains(done, c.done) {
			t.Errorf("%s: last reply %q does not give the complaint number", c.lang, done)
		}
		var lang, desc, site, channel string
		err := e.pool.QueryRow(ctxTimeout(t), `
			SELECT c.language, c.description, c.site, c.channel FROM cases c
			JOIN urns u ON u.contact_id = c.contact_id WHERE u.urn = $1`, "tel:"+c.from).Scan(&lang, &desc, &site, &channel)
		if err != nil {
			t.Fatalf("%s: the case: %v", c.lang, err)
		}
		if lang != c.lang || desc != c.description || site != c.site || channel != "sms" {
			t.Errorf("%s: case language=%s channel=%s description=%q site=%q", c.lang, lang, channel, desc, site)
		}
	}
	sent := e.fake.Messages()
	for _, m := range sent {
		if m.From != "+9647800000001" || m.StatusCallback != twilioPublic+"/channels/twilio/status" {
			t.Errorf("message from %q with callback %q", m.From, m.StatusCallback)
		}
		if m.NumSegments > 3 {
			t.Errorf("a reply of %d segments: %q", m.NumSegments, m.Body)
		}
	}

	// Delivery reports: delivered, a late "sent" that does not undo it, and a failure.
	delivered, failed := sent[len(sent)-1], sent[len(sent)-2]
	for _, r := range []struct{ sid, status, code string }{
		{delivered.Sid, "delivered", ""}, {delivered.Sid, "sent", ""}, {failed.Sid, "undelivered", "30003"},
	} {
		params := url.Values{"MessageSid": {r.sid}, "MessageStatus": {r.status}, "AccountSid": {e.fake.AccountSID}}
		if r.code != "" {
			params.Set("ErrorCode", r.code)
		}
		if code, body := e.post(t, "/channels/twilio/status", params); code != http.StatusNoContent {
			t.Fatalf("status callback %s: %d %s", r.status, code, body)
		}
	}
	var s1, s2, code2 string
	err := e.pool.QueryRow(ctxTimeout(t), `
		SELECT (SELECT status FROM messages WHERE provider_id = $1), (SELECT status FROM messages WHERE provider_id = $2),
		       (SELECT coalesce(error_code, '') FROM messages WHERE provider_id = $2)`, delivered.Sid, failed.Sid).Scan(&s1, &s2, &code2)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != "delivered" || s2 != "undelivered" || code2 != "30003" {
		t.Errorf("after the reports: %s, %s (code %q); want delivered, undelivered (code 30003)", s1, s2, code2)
	}
	stopServe(t, p, syscall.SIGTERM)
}

// twimlNode is parsed TwiML: attribute order is not stable, so tests read elements.
type twimlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr  `xml:",any,attr"`
	Text     string      `xml:",chardata"`
	Children []twimlNode `xml:",any"`
}

func (n twimlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all lists the node's descendants of one kind, in document order.
func (n twimlNode) all(kind string) []twimlNode {
	var out []twimlNode
	for _, c := range n.Children {
		if c.XMLName.Local == kind {
			out = append(out, c)
		}
		out = append(out, c.all(kind)...)
	}
	return out
}

// spoken is everything the step says, in order.
func (n twimlNode) spoken() string {
	var b strings.Builder
	var walk func(twimlNode)
	walk = func(n twimlNode) {
		for _, c := range n.Children {
			if c.XMLName.Local == "Say" || c.XMLName.Local == "Play" {
				b.WriteString(strings.TrimSpace(c.Text) + "\n")
				continue
			}
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func parseTwiML(t *testing.T, body string) twimlNode {
	t.Helper()
	var n twimlNode
	if err := xml.Unmarshal([]byte(body), &n); err != nil || n.XMLName.Local != "Response" {
		t.Fatalf("not TwiML (%v): %s", err, body)
	}
	return n
}

// call is one phone call through the voice webhook, following the next-step URLs serve gives.
type call struct {
	e        *twilioEnv
	sid      string
	from     string
	next     string // path and query of the next step
	last     twimlNode
	lastBody string
}

func (c *call) step(t *testing.T, extra url.Values) twimlNode {
	t.Helper()
	params := url.Values{"CallSid": {c.sid}, "AccountSid": {c.e.fake.AccountSID}, "From": {c.from},
		"To": {"+9647800000001"}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}}
	for k, v := range extra {
		params[k] = v
	}
	code, body := c.e.post(t, c.next, params)
	if code != http.StatusOK {
		t.Fatalf("voice step %s: %d %s", c.next, code, body)
	}
	c.last, c.lastBody = parseTwiML(t, body), body
	for _, kind := range []string{"Gather", "Record"} {
		if nodes := c.last.all(kind); len(nodes) > 0 {
			next := nodes[0].attr("action")
			if !strings.HasPrefix(next, twilioPublic+"/channels/twilio/voice?n=") {
				t.Fatalf("next step %q is not on the public voice URL", next)
			}
			c.next = strings.TrimPrefix(next, twilioPublic)
		}
	}
	return c.last
}

func (c *call) press(t *testing.T, digits string) twimlNode {
	t.Helper()
	if len(c.last.all("Gather")) == 0 {
		t.Fatalf("pressing %s where nothing is gathered:\n%s", digits, c.lastBody)
	}
	return c.step(t, url.Values{"Digits": {digits}})
}

// record answers a <Record>: Twilio posts the recording to the action URL, and once the file
// is ready, reports it to the recording status callback.
func (c *call) record(t *testing.T, recordingSid string, audio []byte) twimlNode {
	t.Helper()
	recs := c.last.all("Record")
	if len(recs) == 0 {
		t.Fatalf("recording where nothing is recorded:\n%s", c.lastBody)
	}
	if r := recs[0]; r.attr("maxLength") != "120" || r.attr("finishOnKey") != "#" ||
		r.attr("recordingStatusCallback") != twilioPublic+"/channels/twilio/status" {
		t.Errorf("record verb %v", r.Attrs)
	}
	c.e.fake.AddRecording(recordingSid, audio)
	recURL := c.e.fake.URL + "/2010-04-01/Accounts/" + c.e.fake.AccountSID + "/Recordings/" + recordingSid
	next := c.step(t, url.Values{"RecordingSid": {recordingSid}, "RecordingUrl": {recURL}, "RecordingDuration": {"7"}, "Digits": {"#"}})
	code, body := c.e.post(t, "/channels/twilio/status", url.Values{
		"AccountSid": {c.e.fake.AccountSID}, "CallSid": {c.sid}, "RecordingSid": {recordingSid}, "RecordingUrl": {recURL},
		"RecordingStatus": {"completed"}, "RecordingDuration": {"7"}, "RecordingChannels": {"1"}, "RecordingSource": {"RecordVerb"},
	})
	if code != http.StatusNoContent {
		t.Fatalf("recording status callback: %d %s", code, body)
	}
	return next
}

// TestTwilioVoiceCall: a complaint made on the phone line in Arabic and in Sorani, by keypad
// and recordings, through serve and the fake Twilio. The line answers every step in TwiML:
// the language menu with each line in its own language, the menus by digits, "what happened"
// and the place as recordings; the reference is read digit by digit, and again on request.
// Each call ends with a case that links its recordings, the audio kept by Sawt and deleted at
// Twilio. A step Twilio posts twice is answered the same and handled once.
func TestTwilioVoiceCall(t *testing.T) {
	t.Parallel()
	e, p := startTwilio(t)
	refs := map[string]string{}
	audio := map[string][]byte{}
	for i, c := range []struct {
		lang, from, digit string
		sayLanguage       string // the language attribute of the main menu's speech
	}{
		{"ar", "+9647702220001", "1", "ar-XA"},
		{"ckb", "+9647502220002", "2", "ar-XA"}, // no Kurdish speech: Arabic until recordings exist
	} {
		cl := &call{e: e, sid: fmt.Sprintf("CA%032d", i+1), from: c.from, next: "/channels/twilio/voice"}
		menu := cl.step(t, nil)
		gathers := menu.all("Gather")
		if len(gathers) != 3 || gathers[0].attr("numDigits") != "1" || len(menu.all("Hangup")) != 1 {
			t.Fatalf("%s: the language menu is not a gathering said three times, then goodbye:\n%s", c.lang, cl.lastBody)
		}
		first := gathers[0].spoken()
		for _, want := range []string{"العربية", "Choose your language", "English", "اضغط واحد", "press four"} {
			if !strings.Contains(first, want) {
				t.Errorf("%s: the language menu does not say %q:\n%s", c.lang, want, first)
			}
		}
		main := cl.press(t, c.digit)
		says := main.all("Say")
		if len(says) == 0 || says[0].attr("language") != c.sayLanguage {
			t.Errorf("%s: main menu speech %v", c.lang, says)
		}
		// A step posted again (Twilio retrying) is answered the same and handled once.
		again := cl.lastBody
		cl.next = strings.Replace(cl.next, "?n=2", "?n=1", 1)
		cl.press(t, c.digit)
		if cl.lastBody != again {
			t.Errorf("%s: a repeated step answered differently", c.lang)
		}
		if n := queryInt(t, e.pool, `SELECT count(*) FROM inbox WHERE external_id = $1`, cl.sid+":1"); n != 1 {
			t.Errorf("%s: step 1 in the inbox %d times", c.lang, n)
		}

		cl.press(t, "1") // complaint
		cl.press(t, "2") // unhappy with a service
		audio1, audio2 := []byte("ID3 what happened "+c.lang), []byte("ID3 the place "+c.lang)
		recSid1, recSid2 := fmt.Sprintf("RE%031d%d", i, 1), fmt.Sprintf("RE%031d%d", i, 2)
		cl.record(t, recSid1, audio1) // governorates
		cl.press(t, "2")              // Duhok: the site, recorded
		cl.record(t, recSid2, audio2) // consent to be contacted
		cl.press(t, "1")
		done := cl.press(t, "2")

		var ref string
		var caseID int64
		err := e.pool.QueryRow(ctxTimeout(t), `SELECT c.id, c.reference FROM cases c JOIN urns u ON u.contact_id = c.contact_id
			WHERE u.urn = $1`, "tel:"+c.from).Scan(&caseID, &ref)
		if err != nil {
			t.Fatalf("%s: no case after the call: %v", c.lang, err)
		}
		refs[c.lang], audio[c.lang] = ref, audio1
		digits := strings.Join(strings.Split(ref, ""), ", ")
		if !strings.Contains(done.spoken(), digits) {
			t.Errorf("%s: the reference %s is not read digit by digit (%q):\n%s", c.lang, ref, digits, done.spoken())
		}
		if heard := cl.press(t, "1"); !strings.Contains(heard.spoken(), digits) {
			t.Errorf("%s: pressing 1 does not read the reference again:\n%s", c.lang, heard.spoken())
		}

		// The recordings: fetched, kept, deleted at Twilio, linked to the case.
		waitFor(t, c.lang+" recordings kept and deleted at Twilio", func() bool {
			return queryInt(t, e.pool, `SELECT count(*) FROM recordings WHERE case_id = $1 AND audio IS NOT NULL
				AND deleted_at_provider IS NOT NULL`, caseID) == 2
		})
		var kept []byte
		if err := e.pool.QueryRow(ctxTimeout(t), `SELECT audio FROM recordings WHERE provider_id = $1`, recSid1).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(kept, audio1) {
			t.Errorf("%s: kept audio %q, want %q", c.lang, kept, audio1)
		}
		for _, sid := range []string{recSid1, recSid2} {
			if e.fake.HasRecording(sid) {
				t.Errorf("%s: recording %s still at Twilio", c.lang, sid)
			}
		}

		// The call ends: the case is complete, nothing more is opened.
		code, body := e.post(t, "/channels/twilio/status", url.Values{"CallSid": {cl.sid}, "From": {c.from},
			"To": {"+9647800000001"}, "CallStatus": {"completed"}, "AccountSid": {e.fake.AccountSID}, "CallDuration": {"95"}})
		if code != http.StatusNoContent {
			t.Fatalf("%s: call status: %d %s", c.lang, code, body)
		}
		if n := queryInt(t, e.pool, `SELECT count(*) FROM cases c JOIN urns u ON u.contact_id = c.contact_id WHERE u.urn = $1`,
			"tel:"+c.from); n != 1 {
			t.Errorf("%s: %d cases after hanging up, want 1", c.lang, n)
		}
	}
	if deletes := e.fake.Deletes(); len(deletes) != 4 {
		t.Errorf("deleted at Twilio: %v, want the four recordings", deletes)
	}

	// The Arabic caller calls again to ask how the complaint is going: the line knows their
	// language, item 4 asks for the number, typed on the keypad and ended with #.
	cl := &call{e: e, sid: fmt.Sprintf("CA%032d", 9), from: "+9647702220001", next: "/channels/twilio/voice"}
	menu := cl.step(t, nil)
	if !strings.Contains(menu.spoken(), "متابعة شكوى") {
		t.Fatalf("a known caller does not hear the main menu in Arabic:\n%s", cl.lastBody)
	}
	ask := cl.press(t, "4")
	g := ask.all("Gather")
	if len(g) == 0 || g[0].attr("finishOnKey") != "#" || g[0].attr("numDigits") != "" {
		t.Fatalf("the reference is not gathered as digits ended with #:\n%s", cl.lastBody)
	}
	if !strings.Contains(g[0].spoken(), "رقم شكواك") || !strings.Contains(g[0].spoken(), "مفتاح المربع") {
		t.Errorf("the line does not ask for the number and say how to end it:\n%s", g[0].spoken())
	}
	ref := refs["ar"]
	wrong := ref[:7] + string('0'+(ref[7]-'0'+1)%10)
	if again := cl.press(t, wrong); !strings.Contains(again.spoken(), "في هذا الرقم خطأ") {
		t.Errorf("a mistyped reference is not caught:\n%s", again.spoken())
	}
	said := cl.press(t, ref).spoken()
	if !strings.Contains(said, "استلمناها") || !strings.Contains(said, strings.Join(strings.Split(ref, ""), ", ")) {
		t.Errorf("the status of %s is not told, with its number read digit by digit:\n%s", ref, said)
	}
	stopServe(t, p, syscall.SIGTERM)

	// A caseworker plays the recordings back: listed without audio, saved to files.
	vars := map[string]string{"DATABASE_URL": e.dbURL}
	code, out, errOut := runSawt(t, vars, "", "recordings", "list")
	if code != 0 || strings.Count(out, " kept\n") != 4 || !strings.Contains(out, refs["ar"]) || !strings.Contains(out, refs["ckb"]) {
		t.Errorf("recordings list: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runSawt(t, vars, "", "recordings", "list", "--case", refs["ckb"])
	if code != 0 || strings.Count(out, " kept\n") != 2 || strings.Contains(out, refs["ar"]) {
		t.Errorf("recordings list --case: exit %d\n%s%s", code, out, errOut)
	}
	dir := t.TempDir()
	code, out, errOut = runSawt(t, vars, "", "recordings", "save", refs["ar"], "--out", dir, "--as", "caseworker.one")
	files := strings.Fields(out)
	if code != 0 || len(files) != 2 {
		t.Fatalf("recordings save: exit %d\n%s%s", code, out, errOut)
	}
	if got, err := os.ReadFile(files[0]); err != nil || !bytes.Equal(got, audio["ar"]) {
		t.Errorf("saved %s: %q %v, want %q", files[0], got, err, audio["ar"])
	}
	if n := queryInt(t, e.pool, `SELECT count(*) FROM audit_log WHERE actor = 'caseworker.one' AND action = 'recordings.save'
		AND subject = $1`, refs["ar"]); n != 1 {
		t.Errorf("saving the recordings is in the audit log %d times, want once", n)
	}
	if code, _, errOut = runSawt(t, vars, "", "recordings", "save", "1234 5678", "--out", dir); code != 1 ||
		!strings.Contains(errOut, "no case with reference 1234 5678") {
		t.Errorf("recordings save of an unknown case: exit %d %q", code, errOut)
	}
}
