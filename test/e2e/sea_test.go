package e2e

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store/pgtest"
)

// TestConfidentialReportLeavesNoTrace: reports of abuse made on Telegram, by SMS (raised by
// words of concern in the middle of a conversation) and on the phone line (a recording), each
// carrying a unique phrase. Afterwards the phrases, and the number a reporter gave to be called
// on, are nowhere: not in any table of the database, not in serve's log at debug level, not in
// any request the fake Telegram and Twilio received, not on the metrics page. The focal point's
// identity opens the reports (and the recording); a wrong passphrase does not. Focal points are
// alerted without content, the Telegram conversation is deleted from the phone, and every look
// at a report is in the audit log, whose chain verifies.
func TestConfidentialReportLeavesNoTrace(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "focal.age")
	const passphrase = "olive tree by the river"
	base := map[string]string{"DATABASE_URL": dbURL, "SAWT_DATA_DIR": dir}

	code, out, errOut := runSawt(t, base, passphrase+"\n"+passphrase+"\n", "psea", "keygen", "--out", keyFile, "--work-factor", "10")
	if code != 0 {
		t.Fatalf("psea keygen: %d\n%s%s", code, out, errOut)
	}
	pub := regexp.MustCompile(`age1[0-9a-z]{50,}`).FindString(out)
	if pub == "" {
		t.Fatalf("psea keygen printed no public key:\n%s", out)
	}
	const focalChat, focalPhone = "880001", "+9647709990001"
	if code, out, errOut := runSawt(t, base, "", "psea", "recipients", "add", "Focal One", pub, "--telegram", focalChat, "--phone", focalPhone); code != 0 {
		t.Fatalf("psea recipients add: %d\n%s%s", code, out, errOut)
	}

	token := randomToken(t)
	tg := channeltest.NewTelegramAPI(t, token)
	sid, authToken := "AC"+randomHex(t, 32), randomHex(t, 32)
	tw := channeltest.NewTwilioAPI(t, sid, authToken)
	env := telegramServeEnv(dbURL, token, tg.URL)
	for k, v := range map[string]string{
		"TELEGRAM_MODE": "poll", "SAWT_PUBLIC_URL": twilioPublic, "SAWT_DATA_DIR": dir, "SAWT_LOG_LEVEL": "debug",
		"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": authToken, "TWILIO_FROM": "+9647800000001",
		"TWILIO_API_URL": tw.URL, "TWILIO_SMS_RATE_LIMIT": "100", "SAWT_GBV_HELPLINE": "+964 750 000 1234",
	} {
		env[k] = v
	}
	p := start(t, env, "", "serve")
	public, admin := waitReady(t, p, 60*time.Second)
	e := &twilioEnv{fake: tw, pool: openPool(t, dbURL), public: public, client: &http.Client{Timeout: 30 * time.Second}}

	tgPhrase := "blue heron " + randomWord(t, 16)
	smsPhrase := "red kite " + randomWord(t, 16)
	voicePhrase := "grey owl " + randomWord(t, 16)
	const otherNumber = "0770 555 1234" // the number an SMS reporter asks to be called on

	// Telegram: from the main menu, every question answered, contact here, then deleted.
	user := channeltest.TelegramUser{ID: 52000077, FirstName: "Noor", LanguageCode: "en"}
	chat := &replies{fake: tg, chat: fmt.Sprint(user.ID)}
	updateID := int64(7000)
	// The person's messages get ids of their own: at Telegram one sequence numbers both sides
	// of a private chat, while the fake numbers only the bot's.
	var personIDs []string
	send := func(update json.RawMessage) {
		updateID++
		var u map[string]map[string]any
		if err := json.Unmarshal(update, &u); err != nil {
			t.Fatal(err)
		}
		if m, ok := u["message"]; ok {
			m["message_id"] = 900000 + updateID
			personIDs = append(personIDs, fmt.Sprint(900000+updateID))
			update, _ = json.Marshal(u)
		}
		tg.QueueUpdates(withUpdateID(t, update, updateID))
	}
	send(channeltest.TelegramStartUpdate(user, ""))
	langMenu, langMenuID := chat.next(t, "Choose your language")
	update, _ := press(t, user, langMenu, langMenuID, buttonData(t, langMenu, "English"))
	send(update)
	menu, menuID := chat.next(t, "How can we help you?")
	update, _ = press(t, user, menu, menuID, buttonData(t, menu, "Report abuse or exploitation by aid workers (confidential)"))
	send(update)
	intro, _ := chat.next(t, "This report is confidential")
	if !strings.Contains(intro.Params["text"], "+964 750 000 1234") || !strings.Contains(intro.Params["text"], "What happened?") {
		t.Errorf("the help line or the first question is not told: %q", intro.Params["text"])
	}
	send(channeltest.TelegramTextUpdate(user, "The driver of the water truck "+tgPhrase))
	phraseID := personIDs[len(personIDs)-1]
	chat.next(t, "Where did it happen?")
	for _, step := range []struct{ send, want string }{
		{"1", "What is the name of the camp"}, {"Jeddah 5", "When did it happen?"}, {"2", "Are you safe now?"},
		{"2", "May someone from the protection team contact you"}, {"1", "Do you want us to delete this conversation"},
	} {
		send(channeltest.TelegramTextUpdate(user, step.send))
		chat.next(t, step.want)
	}
	send(channeltest.TelegramTextUpdate(user, "yes"))
	chat.next(t, "Done.")
	deletedAt := func() map[string]bool {
		deleted := map[string]bool{}
		for _, c := range tg.Calls("deleteMessage") {
			if c.Params["chat_id"] == chat.chat {
				deleted[c.Params["message_id"]] = true
			}
		}
		return deleted
	}
	// Theirs since the report began (the start and the language choice stay), and ours: the
	// seven questions from the first to the offer to delete.
	want := len(personIDs) - 1 + 7
	waitFor(t, "the conversation deleted at Telegram", func() bool { return len(deletedAt()) >= want })
	deleted := deletedAt()
	if !deleted[phraseID] {
		t.Errorf("the message with the report was not deleted")
	}
	for _, id := range personIDs[1:] {
		if !deleted[id] {
			t.Errorf("the person's message %s was not deleted (deleted: %v)", id, deleted)
		}
	}
	if len(deleted) != want {
		t.Errorf("%d messages deleted from the chat, want %d: %v", len(deleted), want, deleted)
	}

	// SMS: words of concern at the main menu raise the question; the report asks to be called
	// on another number.
	from := "+9647701234001"
	n := 0
	sms := func(body string) string {
		n++
		var text []string
		for _, m := range e.sms(t, from, fmt.Sprintf("SMsea%027d", n), body) {
			text = append(text, m.Body)
		}
		return strings.Join(text, "\n")
	}
	sms("hello")
	sms("4") // English
	if got := sms("The guard asked me for sex for a place on the list " + smsPhrase); !strings.Contains(got, "confidential report") {
		t.Fatalf("words of concern did not raise the question: %q", got)
	}
	sms("1") // yes: what happened?
	sms("1") // skipped: where?
	sms("9") // skipped: when?
	sms("4") // skipped: safe now?
	sms("3") // skipped: may we contact you?
	sms("2") // on another number: which?
	if got := sms(otherNumber); !strings.Contains(got, "Your report number is") {
		t.Fatalf("no report number by SMS: %q", got)
	}

	// The phone line: the caller records what happened.
	audio := []byte("ID3 " + voicePhrase)
	cl := &call{e: e, sid: "CA" + randomHex(t, 32), from: "+9647502229999", next: "/channels/twilio/voice"}
	cl.step(t, nil)
	cl.press(t, "4") // English
	cl.press(t, "3") // report abuse: would you like to tell us what happened?
	cl.press(t, "1")
	recs := cl.last.all("Record")
	if len(recs) == 0 || recs[0].attr("recordingStatusCallback") != twilioPublic+"/channels/twilio/status?confidential=1" {
		t.Fatalf("the recording of a confidential answer is not marked so:\n%s", cl.lastBody)
	}
	recSid := "RE" + randomHex(t, 32)
	tw.AddRecording(recSid, audio)
	recURL := tw.URL + "/2010-04-01/Accounts/" + sid + "/Recordings/" + recSid
	cl.step(t, map[string][]string{"RecordingSid": {recSid}, "RecordingUrl": {recURL}, "RecordingDuration": {"9"}, "Digits": {"#"}})
	if code, body := e.post(t, "/channels/twilio/status?confidential=1", map[string][]string{
		"AccountSid": {sid}, "CallSid": {cl.sid}, "RecordingSid": {recSid}, "RecordingUrl": {recURL},
		"RecordingStatus": {"completed"}, "RecordingDuration": {"9"},
	}); code != http.StatusNoContent {
		t.Fatalf("recording status callback: %d %s", code, body)
	}
	cl.press(t, "2") // Duhok
	cl.press(t, "1") // in the last few days
	cl.press(t, "1") // safe
	done := cl.press(t, "3")
	if !strings.Contains(done.spoken(), "Your report is registered") {
		t.Errorf("the phone line does not give the report number:\n%s", done.spoken())
	}
	waitFor(t, "the recording kept encrypted and deleted at Twilio", func() bool {
		return queryInt(t, e.pool, `SELECT count(*) FROM recordings WHERE provider_id = $1 AND confidential
			AND sea_report_id IS NOT NULL AND audio IS NOT NULL AND deleted_at_provider IS NOT NULL`, recSid) == 1
	})
	if tw.HasRecording(recSid) {
		t.Error("the recording is still at Twilio")
	}

	// Focal points are told, without content.
	waitFor(t, "focal point alerted on Telegram and by SMS", func() bool {
		tgAlerts := 0
		for _, c := range tg.Calls("sendMessage") {
			if c.Params["chat_id"] == focalChat && strings.Contains(c.Params["text"], "New confidential report") {
				tgAlerts++
			}
		}
		smsAlerts := 0
		for _, m := range tw.Messages() {
			if m.To == focalPhone && strings.Contains(m.Body, "New confidential report") {
				smsAlerts++
			}
		}
		return tgAlerts == 3 && smsAlerts == 3
	})

	var refs []string
	rows, err := e.pool.Query(ctxTimeout(t), `SELECT reference FROM sea_reports ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	rows.Close()
	if len(refs) != 3 {
		t.Fatalf("%d reports, want 3", len(refs))
	}

	// Where the phrases must not be.
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stopServe(t, p, syscall.SIGTERM)

	places := map[string]string{
		"the database (data-only dump)": dumpDatabase(t, e),
		"serve's log":                   p.stderr.String() + p.stdout.String(),
		"the metrics page":              string(metrics),
		"requests to Telegram":          telegramRequests(tg),
		"requests to Twilio":            twilioRequests(tw),
	}
	secrets := map[string]string{"the Telegram report": tgPhrase, "the SMS report": smsPhrase, "the recording": voicePhrase,
		"the number to call": "5551234"}
	for where, text := range places {
		for what, secret := range secrets {
			for _, form := range []string{secret, strings.ToLower(secret), hex.EncodeToString([]byte(secret))} {
				if strings.Contains(text, form) {
					t.Errorf("%s is in %s", what, where)
					break
				}
			}
		}
	}

	// The focal point's identity opens them; nothing else does.
	recDir := t.TempDir()
	shown := map[string]string{}
	for _, ref := range refs {
		code, out, errOut := runSawt(t, base, passphrase+"\n", "psea", "show", ref, "--identity", keyFile, "--recordings", recDir, "--as", "focal.one")
		if code != 0 {
			t.Fatalf("psea show %s: %d\n%s%s", ref, code, out, errOut)
		}
		shown[ref] = out
	}
	all := strings.Join([]string{shown[refs[0]], shown[refs[1]], shown[refs[2]]}, "\n")
	for _, want := range []string{tgPhrase, smsPhrase, "Jeddah 5", "here: telegram:52000077", "+9647705551234", "safe_now: no"} {
		if !strings.Contains(all, want) {
			t.Errorf("the reports as shown do not hold %q:\n%s", want, all)
		}
	}
	files, _ := filepath.Glob(filepath.Join(recDir, "*"))
	if len(files) != 1 {
		t.Fatalf("recordings written: %v, want one", files)
	}
	if got, _ := os.ReadFile(files[0]); string(got) != string(audio) {
		t.Errorf("the decrypted recording is %q, want %q", got, audio)
	}
	// The recording is not among the phone line's recordings that caseworkers play back.
	code, out, errOut = runSawt(t, base, "", "recordings", "list")
	if code != 0 || out != "" || !strings.Contains(errOut, "No recordings.") {
		t.Errorf("recordings list shows a confidential recording: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runSawt(t, base, "not the passphrase\n", "psea", "show", refs[0], "--identity", keyFile, "--as", "someone")
	if code != 1 || strings.Contains(out+errOut, tgPhrase) || !strings.Contains(errOut, "wrong passphrase") {
		t.Errorf("a wrong passphrase: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runSawt(t, base, "", "psea", "list", "--as", "focal.one")
	if code != 0 || !strings.Contains(out, refs[0]) || strings.Contains(out, tgPhrase) {
		t.Errorf("psea list: exit %d\n%s", code, out)
	}
	if n := queryInt(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'psea.show' AND actor = 'focal.one'`); n != 3 {
		t.Errorf("%d audited views of reports by focal.one, want 3", n)
	}
	if code, out, errOut := runSawt(t, base, "", "audit", "verify"); code != 0 {
		t.Errorf("audit verify: %d\n%s%s", code, out, errOut)
	}
}

// dumpDatabase is every row of every table, as text (bytea as hex).
func dumpDatabase(t *testing.T, e *twilioEnv) string {
	t.Helper()
	rows, err := e.pool.Query(ctxTimeout(t), `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		var text string
		if err := e.pool.QueryRow(ctxTimeout(t), `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM `+table+` t`).Scan(&text); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		b.WriteString(table + "\n" + text + "\n")
	}
	return b.String()
}

func telegramRequests(f *channeltest.TelegramAPI) string {
	var b strings.Builder
	for _, c := range f.Calls() {
		for k, v := range c.Params {
			b.WriteString(c.Method + " " + k + "=" + v + "\n")
		}
	}
	return b.String()
}

func twilioRequests(f *channeltest.TwilioAPI) string {
	var b strings.Builder
	for _, r := range f.Requests() {
		b.WriteString(r.Method + " " + r.Path + " " + r.Form.Encode() + "\n")
	}
	return b.String()
}
