package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/twilio"
)

const amira = "+9647701234567" // an Iraqi mobile number, as Twilio writes it

func TestSMSIsStoredAndAnsweredThroughTheOutbox(t *testing.T) {
	e := newEnv(t, nil)
	p := smsParams(amira, "مرحبا")
	w := e.post(t, twilio.SMSPath, p)
	root := parseTwiML(t, w)
	if len(root.Kids) != 0 || strings.TrimSpace(root.Text) != "" {
		t.Errorf("answer %s, want an empty <Response/>: replies go through the outbox", root)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in' AND channel = 'sms' AND text = 'مرحبا' AND status = 'received'`); n != 1 {
		t.Errorf("inbound messages %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM inbox WHERE channel = 'sms' AND external_id = $1`, p.Get("MessageSid")); n != 1 {
		t.Errorf("inbox rows for the MessageSid: %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM urns WHERE urn = $1`, "tel:"+amira); n != 1 {
		t.Errorf("the sender's number is not its URN")
	}
	out := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'out'`)
	queued := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'out' AND channel = 'sms' AND status = 'queued' AND NOT inline`)
	if out == 0 || queued != out {
		t.Errorf("replies %d, queued for the outbox %d: want every reply queued", out, queued)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`); n != 1 {
		t.Errorf("send jobs %d, want 1", n)
	}
	// A new person is offered the languages, in a numbered list (SMS has no buttons).
	if text, _ := e.lastReply(t, amira); !strings.Contains(text, "اختر لغتك") || !strings.Contains(text, "Choose your language") || !strings.Contains(text, "1") {
		t.Errorf("first reply %q, want the language menu", text)
	}

	// Twilio sends the same message again (it did not hear our 200): nothing new is done.
	if w := e.post(t, twilio.SMSPath, p); w.Code != http.StatusOK {
		t.Fatalf("repeat: status %d %s", w.Code, w.Body)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != 1 {
		t.Errorf("inbound messages after the repeat: %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'out'`); n != out {
		t.Errorf("replies after the repeat: %d, want %d", n, out)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job`); n != 1 {
		t.Errorf("jobs after the repeat: %d, want 1", n)
	}

	// The conversation goes on: 1 is Arabic, then the main menu.
	e.sms(t, amira, "1")
	if text, _ := e.lastReply(t, amira); !strings.Contains(text, "كيف يمكننا مساعدتك؟ أرسل رقمًا.") {
		t.Errorf("after choosing Arabic: %q, want the main menu", text)
	}
}

func TestSMSMediaAndOtherSenders(t *testing.T) {
	e := newEnv(t, nil)
	p := smsParams(amira, "")
	p.Set("NumMedia", "2")
	p.Set("MediaContentType0", "image/jpeg")
	p.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/MM1/Media/ME1")
	p.Set("MediaContentType1", "application/pdf")
	p.Set("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/MM1/Media/ME2")
	if w := e.post(t, twilio.SMSPath, p); w.Code != http.StatusOK {
		t.Fatalf("MMS: status %d %s", w.Code, w.Body)
	}
	var media string
	if err := e.pool.QueryRow(context.Background(), `SELECT media::text FROM messages WHERE direction = 'in'`).Scan(&media); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(media, `"type": "image"`) || !strings.Contains(media, "/Media/ME1") || !strings.Contains(media, `"type": "document"`) {
		t.Errorf("media %s, want the image and the document with their URLs", media)
	}

	// A network's own message from an alphanumeric sender: acknowledged, not kept.
	w := e.post(t, twilio.SMSPath, smsParams("Asiacell", "Your balance is low"))
	if root := parseTwiML(t, w); len(root.Kids) != 0 {
		t.Errorf("answer to an alphanumeric sender %s, want empty", root)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE text LIKE '%balance%'`); n != 0 {
		t.Errorf("a message from an alphanumeric sender was kept")
	}
	// A number written in the national form is kept in E.164.
	e.sms(t, "07709876543", "hello")
	if n := e.count(t, `SELECT count(*) FROM urns WHERE urn = 'tel:+9647709876543'`); n != 1 {
		t.Errorf("national-form number not normalised")
	}
}

func TestSMSStorageFailureAnswers503(t *testing.T) {
	t.Run("table gone, then back", func(t *testing.T) {
		e := newEnv(t, nil)
		ctx := context.Background()
		if _, err := e.pool.Exec(ctx, `ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
			t.Fatal(err)
		}
		p := smsParams(amira, "hello")
		w := e.post(t, twilio.SMSPath, p)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Fatalf("status %d (Retry-After %q), want 503 so that Twilio sends it again", w.Code, w.Header().Get("Retry-After"))
		}
		if _, err := e.pool.Exec(ctx, `ALTER TABLE sessions_away RENAME TO sessions`); err != nil {
			t.Fatal(err)
		}
		if w := e.post(t, twilio.SMSPath, p); w.Code != http.StatusOK {
			t.Fatalf("retry: status %d %s", w.Code, w.Body)
		}
		if n := e.count(t, `SELECT count(*) FROM inbox WHERE external_id = $1`, p.Get("MessageSid")); n != 1 {
			t.Errorf("message stored %d times, want once", n)
		}
	})
	t.Run("database closed", func(t *testing.T) {
		e := newEnv(t, nil)
		e.pool.Close()
		if w := e.post(t, twilio.SMSPath, smsParams(amira, "hello")); w.Code != http.StatusServiceUnavailable {
			t.Errorf("SMS: status %d %s, want 503", w.Code, w.Body)
		}
		// The phone line never answers with silence or an error tone: it apologises.
		w := e.post(t, twilio.VoicePath, url.Values{"CallSid": {newSid("CA")}, "From": {amira}, "To": {fromNumber}})
		root := parseTwiML(t, w)
		says := strings.Join(root.texts("Say"), "\n")
		if !strings.Contains(says, "لا نستطيع استقبال مكالمتك الآن") || !strings.Contains(says, "we cannot take your call right now") {
			t.Errorf("apology %s", root)
		}
		if v := root.verbs(); len(v) == 0 || v[len(v)-1] != "Hangup" {
			t.Errorf("verbs %v, want the apology then <Hangup/>", v)
		}
		w = e.post(t, twilio.StatusPath, url.Values{"MessageSid": {newSid("SM")}, "MessageStatus": {"delivered"}})
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("status report: status %d, want 503", w.Code)
		}
	})
}

func optedOut(t *testing.T, e *env, number string) bool {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM contacts c JOIN urns u ON u.contact_id = c.id
		WHERE u.urn = $1 AND c.opted_out_at IS NOT NULL`, "tel:"+number) == 1
}

func TestSMSStopAndStart(t *testing.T) {
	e := newEnv(t, nil)
	e.sms(t, amira, "hello")
	if optedOut(t, e, amira) {
		t.Fatal("opted out from the start")
	}
	e.sms(t, amira, "STOP")
	if !optedOut(t, e, amira) {
		t.Fatal("STOP did not opt out")
	}
	// Before a language is chosen, the notice is in the language of the word (STOP: English).
	if text, status := e.lastReply(t, amira); !strings.Contains(text, "You will not get our updates") || status != "queued" {
		t.Errorf("after STOP: %q (%s), want the notice, queued", text, status)
	}
	// Opting out of broadcasts does not end the conversation: replies are still queued.
	e.sms(t, amira, "1")
	if text, status := e.lastReply(t, amira); !strings.Contains(text, "كيف يمكننا مساعدتك؟") || status != "queued" {
		t.Errorf("after STOP then 1: %q (%s), want the main menu, queued", text, status)
	}
	e.sms(t, amira, "start")
	if optedOut(t, e, amira) {
		t.Error("START did not opt back in")
	}

	// Twilio's OptOutType says so whatever the words.
	const other = "+9647501112233"
	e.sms(t, other, "hello")
	p := smsParams(other, "Stop please")
	p.Set("OptOutType", "STOP")
	if w := e.post(t, twilio.SMSPath, p); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if !optedOut(t, e, other) {
		t.Error("OptOutType=STOP did not opt out")
	}
	p = smsParams(other, "unstop")
	p.Set("OptOutType", "START")
	e.post(t, twilio.SMSPath, p)
	if optedOut(t, e, other) {
		t.Error("OptOutType=START did not opt back in")
	}

	// The conversation's own words in Arabic.
	const third = "+9647803334455"
	e.sms(t, third, "مرحبا")
	e.sms(t, third, "توقف")
	if !optedOut(t, e, third) {
		t.Error("توقف did not opt out")
	}
}

// ---- sending ----

func TestSend(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	res, err := e.app.Twilio.Send(ctx, channels.Outbound{ID: 1, Channel: channels.SMS, URN: "tel:" + amira, Language: "ar", Text: "شكرًا لك"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.api.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages at Twilio, want 1", len(msgs))
	}
	m := msgs[0]
	if m.To != amira || m.From != fromNumber || m.MessagingServiceSid != "" || m.Body != "شكرًا لك" ||
		m.StatusCallback != publicURL+twilio.StatusPath {
		t.Errorf("sent %+v", m)
	}
	if res.ProviderID != m.Sid || len(res.ProviderIDs) != 1 || res.ProviderIDs[0] != m.Sid || res.Status != channels.StatusSent {
		t.Errorf("result %+v, want Twilio's SID %s", res, m.Sid)
	}

	// Only phone numbers get SMS.
	_, err = e.app.Twilio.Send(ctx, channels.Outbound{Channel: channels.SMS, URN: "telegram:12345", Text: "hi"})
	var se *channels.SendError
	if !errors.As(err, &se) || se.Retryable || se.OptedOut {
		t.Errorf("send to a Telegram chat: %v, want a permanent SendError", err)
	}
	if n := len(e.api.Messages()); n != 1 {
		t.Errorf("%d messages at Twilio, want still 1", n)
	}
}

func TestSendThroughMessagingService(t *testing.T) {
	const service = "MG0123456789abcdef0123456789abcdef"
	e := newEnv(t, func(c *app.Config) { c.TwilioFrom = service })
	if _, err := e.app.Twilio.Send(context.Background(), channels.Outbound{URN: "tel:" + amira, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	m := e.api.Messages()[0]
	if m.MessagingServiceSid != service || m.From != "" || m.To != amira {
		t.Errorf("sent %+v, want MessagingServiceSid %s and no From", m, service)
	}
}

func TestSendErrors(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.TwilioSMSRate = 1000 })
	const path = "/Messages.json"
	for _, tc := range []struct {
		name           string
		script         func()
		retryable      bool
		optedOut       bool
		wantRetryAfter bool
		code           string
	}{
		{"unsubscribed", func() { e.api.Fail(path, 1, 400, 21610, "Attempt to send to unsubscribed recipient") }, false, true, false, "21610"},
		{"invalid To", func() { e.api.Fail(path, 1, 400, 21211, "Invalid 'To' Phone Number") }, false, false, false, "21211"},
		{"not a mobile", func() { e.api.Fail(path, 1, 400, 21614, "'To' number is not a valid mobile number") }, false, false, false, "21614"},
		{"bad credentials", func() { e.api.Fail(path, 1, 401, 20003, "Authenticate") }, false, false, false, "20003"},
		{"too many requests", func() { e.api.Fail(path, 1, 429, 20429, "Too Many Requests") }, true, false, true, "20429"},
		{"HTTP 429", func() { e.api.Fail(path, 1, 429, 14107, "Message rate limit exceeded") }, true, false, true, "14107"},
		{"server error", func() { e.api.Fail(path, 1, 500, 20500, "Internal Server Error") }, true, false, false, "20500"},
		{"HTML 502 from a proxy", func() { e.api.FailNotJSON(path, 1, 502) }, true, false, false, ""},
		{"HTML 500", func() { e.api.FailNotJSON(path, 1, 500) }, true, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.api.Messages())
			tc.script()
			_, err := e.app.Twilio.Send(context.Background(), channels.Outbound{URN: "tel:" + amira, Text: "hello"})
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *channels.SendError", err, err)
			}
			if se.Retryable != tc.retryable || se.OptedOut != tc.optedOut || (se.RetryAfter > 0) != tc.wantRetryAfter {
				t.Errorf("%v: Retryable %v OptedOut %v RetryAfter %v, want %v %v retry-after %v",
					se, se.Retryable, se.OptedOut, se.RetryAfter, tc.retryable, tc.optedOut, tc.wantRetryAfter)
			}
			if tc.code != "" && se.Code != tc.code {
				t.Errorf("code %q, want %q", se.Code, tc.code)
			}
			if strings.Contains(se.Error(), authToken) {
				t.Error("the auth token is in the error")
			}
			if n := len(e.api.Messages()); n != before {
				t.Errorf("a message was sent despite the failure")
			}
		})
	}
}

// channelFor is a Twilio channel made directly, for settings the app does not expose, with the
// app's real gateway behind it.
func channelFor(t *testing.T, e *env, edit func(*twilio.Config)) *twilio.Channel {
	t.Helper()
	cfg := twilio.Config{
		AccountSID: accountSID, AuthToken: authToken, From: fromNumber, APIURL: e.api.URL, PublicURL: publicURL,
		Receiver: e.app.Gateway, Reports: e.app.Gateway, Prompts: e.app.Prompts,
	}
	edit(&cfg)
	ch, err := twilio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestSendTimeout(t *testing.T) {
	e := newEnv(t, nil)
	ch := channelFor(t, e, func(c *twilio.Config) { c.Timeout = 100 * time.Millisecond })
	e.api.SetDelay(time.Second)
	start := time.Now()
	_, err := ch.Send(context.Background(), channels.Outbound{URN: "tel:" + amira, Text: "hello"})
	e.api.SetDelay(0)
	var se *channels.SendError
	if !errors.As(err, &se) || !se.Retryable {
		t.Fatalf("error %v, want a retryable SendError", err)
	}
	if d := time.Since(start); d > 800*time.Millisecond {
		t.Errorf("send gave up after %v, want about the 100ms timeout", d)
	}
	if n := len(e.api.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

func TestLongSMSIsSentInParts(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.TwilioMaxSegments = 2; c.TwilioSMSRate = 100 })
	text := strings.TrimSpace(strings.Repeat("سلام ", 80)) // 400 Arabic characters, UCS-2
	if n, ucs2 := twilio.Segments(text); n <= 2 || !ucs2 {
		t.Fatalf("test text: %d segments (UCS-2 %v), want more than 2", n, ucs2)
	}
	res, err := e.app.Twilio.Send(context.Background(), channels.Outbound{URN: "tel:" + amira, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.api.Messages()
	if len(msgs) < 2 {
		t.Fatalf("sent as %d messages, want several", len(msgs))
	}
	var bodies, sids []string
	for _, m := range msgs {
		if n, _ := twilio.Segments(m.Body); n > 2 || m.NumSegments > 2 {
			t.Errorf("part of %d segments (Twilio counts %d), want at most 2: %q", n, m.NumSegments, m.Body)
		}
		bodies = append(bodies, m.Body)
		sids = append(sids, m.Sid)
	}
	if got := strings.Join(strings.Fields(strings.Join(bodies, " ")), " "); got != text {
		t.Errorf("parts do not make the text again:\n%q", bodies)
	}
	if strings.Join(res.ProviderIDs, ",") != strings.Join(sids, ",") || res.ProviderID != sids[0] {
		t.Errorf("result %+v, want every part's SID %v", res, sids)
	}
}

func TestSMSRateLimit(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("burst", func(t *testing.T) {
		ch := channelFor(t, e, func(c *twilio.Config) { c.SMSRate = 1; c.MaxWait = 50 * time.Millisecond })
		send := func() error {
			_, err := ch.Send(context.Background(), channels.Outbound{URN: "tel:" + amira, Text: "hello"})
			return err
		}
		if err := send(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err := send()
		var se *channels.SendError
		if !errors.As(err, &se) || !se.Retryable || se.RetryAfter <= 0 || se.RetryAfter > time.Second {
			t.Fatalf("second send at once: %v, want a SendError with RetryAfter up to 1s", err)
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("held back after %v: it must not wait longer than MaxWait", d)
		}
		if n := len(e.api.Messages()); n != 1 {
			t.Errorf("%d messages sent, want 1", n)
		}
	})
	t.Run("a long SMS goes whole or not at all", func(t *testing.T) {
		before := len(e.api.Messages())
		// 10 a second, a burst of 10; a retry sends a message again from its first part, so
		// none may be cut short by the rate.
		ch := channelFor(t, e, func(c *twilio.Config) {
			c.SMSRate, c.MaxWait, c.MaxSegments = 10, 150*time.Millisecond, 1
		})
		text := strings.TrimSpace(strings.Repeat("Please keep this number. ", 24)) // 4 parts of 1 segment
		if got := len(twilio.Split(text, 1)); got != 4 {
			t.Fatalf("test text splits into %d parts, want 4", got)
		}
		res, err := ch.Send(context.Background(), channels.Outbound{URN: "tel:" + amira, Text: text})
		if err != nil {
			t.Fatalf("%v (after %d of 4 parts): a retry would send the first parts again", err, len(e.api.Messages())-before)
		}
		if len(res.ProviderIDs) != 4 || len(e.api.Messages())-before != 4 {
			t.Errorf("result %+v, %d messages: want 4 parts", res, len(e.api.Messages())-before)
		}
		// Several at once, as the outbox sends: those behind the queue wait whole for later.
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = ch.Send(context.Background(), channels.Outbound{URN: "tel:" + amira, Text: text})
			}()
		}
		wg.Wait()
		held := 0
		for _, err := range errs {
			var se *channels.SendError
			switch {
			case err == nil:
			case errors.As(err, &se) && se.RetryAfter > 0:
				held++
			default:
				t.Errorf("unexpected error %v", err)
			}
		}
		if got, want := len(e.api.Messages())-before, 4*(1+len(errs)-held); got != want || held == 0 {
			t.Errorf("%d of 3 held back, %d messages sent, want %d: whole messages only", held, got, want)
		}
	})
}

// ---- delivery reports, after a real send by the outbox ----

// waitSent waits until the outbox has recorded the reply sent to Twilio as sid.
func waitSent(t *testing.T, e *env, sid string) int64 {
	t.Helper()
	var id int64
	eventually(t, 10*time.Second, "reply "+sid+" marked sent", func() bool {
		err := e.pool.QueryRow(context.Background(),
			`SELECT id FROM messages WHERE provider_id = $1 AND status = 'sent'`, sid).Scan(&id)
		return err == nil
	})
	return id
}

func messageStatus(t *testing.T, e *env, id int64) (status, code string) {
	t.Helper()
	err := e.pool.QueryRow(context.Background(), `SELECT status, coalesce(error_code, '') FROM messages WHERE id = $1`, id).Scan(&status, &code)
	if err != nil {
		t.Fatal(err)
	}
	return status, code
}

func (e *env) report(t *testing.T, params url.Values) {
	t.Helper()
	if w := e.post(t, twilio.StatusPath, params); w.Code != http.StatusNoContent {
		t.Fatalf("status report %v: %d %s, want 204", params, w.Code, w.Body)
	}
}

func TestDeliveryReports(t *testing.T) {
	e := newEnvOpts(t, func(c *app.Config) { c.TwilioSMSRate = 100 }, app.Options{Workers: true})
	e.sms(t, amira, "hello")
	first := e.api.WaitMessages(t, 1, 10*time.Second)[0]
	if first.To != amira || !strings.Contains(first.Body, "Choose your language") || first.StatusCallback != publicURL+twilio.StatusPath {
		t.Errorf("sent %+v", first)
	}
	id := waitSent(t, e, first.Sid)

	e.report(t, url.Values{"MessageSid": {first.Sid}, "MessageStatus": {"delivered"}, "AccountSid": {accountSID}})
	if s, _ := messageStatus(t, e, id); s != "delivered" {
		t.Errorf("after delivered: %s", s)
	}
	e.report(t, url.Values{"MessageSid": {first.Sid}, "MessageStatus": {"sent"}})
	if s, _ := messageStatus(t, e, id); s != "delivered" {
		t.Errorf("a late 'sent' took the message back to %s", s)
	}

	e.sms(t, amira, "1")
	msgs := e.api.WaitMessages(t, 2, 10*time.Second)
	second := msgs[len(msgs)-1]
	id2 := waitSent(t, e, second.Sid)
	e.report(t, url.Values{"MessageSid": {second.Sid}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}})
	if s, code := messageStatus(t, e, id2); s != "undelivered" || code != "30003" {
		t.Errorf("after undelivered 30003: %s %q", s, code)
	}

	// A report about a message we never sent changes nothing, and Twilio need not retry it.
	var before string
	e.pool.QueryRow(context.Background(), `SELECT string_agg(id || status, ',' ORDER BY id) FROM messages`).Scan(&before)
	e.report(t, url.Values{"MessageSid": {newSid("SM")}, "MessageStatus": {"delivered"}})
	e.report(t, url.Values{"MessageSid": {second.Sid}, "MessageStatus": {"receiving"}})
	var after string
	e.pool.QueryRow(context.Background(), `SELECT string_agg(id || status, ',' ORDER BY id) FROM messages`).Scan(&after)
	if before != after {
		t.Errorf("messages changed:\n%s\n%s", before, after)
	}

	// Twilio says the person replied STOP to the network: the number is marked, not retried.
	e.api.Fail("/Messages.json", 1, 400, 21610, "Attempt to send to unsubscribed recipient")
	e.sms(t, amira, "1")
	eventually(t, 10*time.Second, "the number marked opted out", func() bool {
		return e.count(t, `SELECT count(*) FROM urns WHERE urn = $1 AND opted_out_at IS NOT NULL`, "tel:"+amira) == 1
	})
}
