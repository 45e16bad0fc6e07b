package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store/pgtest"
)

var complaintNumber = regexp.MustCompile(`Your complaint number is (\d{4} \d{4})\.`)

// TestTelegramWebhook: serve in webhook mode, against the fake Bot API and a PostgreSQL the
// test stops and starts. It registers its webhook; a whole complaint made with buttons and text
// through the webhook opens a case from the deep link's source; a repeated update is handled
// once; a wrong secret and a malformed body are refused; with PostgreSQL down an update is
// answered 503, and its retry once PostgreSQL is back is handled exactly once; SIGTERM exits 0.
func TestTelegramWebhook(t *testing.T) {
	t.Parallel()
	pg := newStoppablePG(t)
	if err := pg.server().EnsureDatabase(ctxTimeout(t), "sawt_telegram"); err != nil {
		t.Fatal(err)
	}
	dbURL := pg.server().URL("sawt_telegram")
	token := randomToken(t)
	fake := channeltest.NewTelegramAPI(t, token)
	secret := randomWord(t, 40)

	env := telegramServeEnv(dbURL, token, fake.URL)
	env["TELEGRAM_MODE"] = "webhook"
	env["SAWT_PUBLIC_URL"] = "https://sawt.example.org"
	env["TELEGRAM_WEBHOOK_SECRET"] = secret
	p := start(t, env, "", "serve")
	public, admin := waitReady(t, p, 60*time.Second)
	if want := `msg="telegram channel: on, webhook at https://sawt.example.org/channels/telegram/webhook"`; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("start-up log does not say %s:\n%s", want, p.stderr.String())
	}

	// The webhook is registered at start, with the secret and the update types handled.
	fake.WaitCalls(t, "setWebhook", 1, tgTimeout)
	waitFor(t, "webhook registered", func() bool { u, _, _ := fake.Webhook(); return u != "" })
	hookURL, hookSecret, allowed := fake.Webhook()
	if hookURL != "https://sawt.example.org/channels/telegram/webhook" || hookSecret != secret {
		t.Errorf("webhook %q with secret %q, want https://sawt.example.org/channels/telegram/webhook with %q", hookURL, hookSecret, secret)
	}
	for _, kind := range []string{"message", "callback_query"} {
		if !slices.Contains(allowed, kind) {
			t.Errorf("allowed_updates %v lacks %s", allowed, kind)
		}
	}
	if n := len(fake.Calls("getUpdates")); n != 0 {
		t.Errorf("serve in webhook mode called getUpdates %d times", n)
	}

	pool := openPool(t, dbURL)
	hook := &webhookClient{url: "http://" + public + "/channels/telegram/webhook", secret: secret,
		client: &http.Client{Timeout: 30 * time.Second}}
	user := channeltest.TelegramUser{ID: 52000001, FirstName: "Amal", LanguageCode: "en"}
	chat := &replies{fake: fake, chat: fmt.Sprint(user.ID)}
	updateID := int64(700000)
	next := func() int64 { updateID++; return updateID }

	// /start from a poster's deep link: the language menu, English first for an English phone.
	hook.send(t, withUpdateID(t, channeltest.TelegramStartUpdate(user, "poster-jeddah"), next()))
	langMenu, langMenuID := chat.next(t, "Choose your language")
	checkPlainSend(t, langMenu)
	kb := keyboardOf(t, langMenu)
	var labels []string
	for _, row := range kb {
		if len(row) != 1 {
			t.Errorf("keyboard row %v: want one button a row", row)
		}
		for _, b := range row {
			labels = append(labels, b.Text)
		}
	}
	if want := []string{"English", "العربية", "کوردی سۆرانی", "کوردی بادینی"}; len(labels) != 4 || labels[0] != "English" ||
		!slices.Equal(slices.Sorted(slices.Values(labels)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("language menu buttons %q, want the four languages %q with English first", labels, want)
	}

	// Pressing English: the spinner stops, the menu keeps only the choice, the main menu comes.
	update, callbackID := press(t, user, langMenu, langMenuID, buttonData(t, langMenu, "English"))
	hook.send(t, withUpdateID(t, update, next()))
	mainMenu, mainMenuID := chat.next(t, "How can we help you?")
	acks := fake.WaitCalls(t, "answerCallbackQuery", 1, tgTimeout)
	if got := acks[0].Params["callback_query_id"]; got != callbackID {
		t.Errorf("answerCallbackQuery for %q, want %q", got, callbackID)
	}
	edits := fake.WaitCalls(t, "editMessageReplyMarkup", 1, tgTimeout)
	if e := edits[0].Params; e["chat_id"] != chat.chat || e["message_id"] != fmt.Sprint(langMenuID) ||
		!strings.Contains(e["reply_markup"], `"text":"✓ English"`) || strings.Count(e["reply_markup"], `"text"`) != 1 {
		t.Errorf("editMessageReplyMarkup %v, want message %d of chat %s left with one button \"✓ English\"", e, langMenuID, chat.chat)
	}
	if keyboardOf(t, mainMenu) == nil {
		t.Fatalf("main menu %q came without buttons", mainMenu.Params["text"])
	}

	// A complaint, by buttons and text.
	update, _ = press(t, user, mainMenu, mainMenuID, buttonData(t, mainMenu, "Make a complaint"))
	hook.send(t, withUpdateID(t, update, next()))
	categories, categoriesID := chat.next(t, "What is your complaint about?")
	update, _ = press(t, user, categories, categoriesID, buttonData(t, categories, "I am unhappy with a service"))
	hook.send(t, withUpdateID(t, update, next()))
	chat.next(t, "Please tell us what happened")

	// The description is posted twice at once, then once more, as Telegram does when it did
	// not hear our answer: handled once, answered once.
	describeID := next()
	describe := withUpdateID(t, channeltest.TelegramTextUpdate(user, "The water tank in block C is broken"), describeID)
	var wg sync.WaitGroup
	codes, errs := make([]int, 2), make([]error, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, errs[i] = hook.tryPost(secret, describe)
		}()
	}
	wg.Wait()
	if codes[0] != http.StatusOK || codes[1] != http.StatusOK {
		t.Errorf("the same update posted twice at once: %v %v, want 200 and 200", codes, errs)
	}
	governorates, governoratesID := chat.next(t, "Which governorate are you in?")
	hook.send(t, describe)

	update, _ = press(t, user, governorates, governoratesID, buttonData(t, governorates, "Ninewa"))
	hook.send(t, withUpdateID(t, update, next()))
	chat.next(t, "What is the name of your camp, site or area?")
	hook.send(t, withUpdateID(t, channeltest.TelegramTextUpdate(user, "Jeddah 5"), next()))
	consent, consentID := chat.next(t, "May we contact you about this complaint?")
	time.Sleep(300 * time.Millisecond) // time for a second reply to the repeated update, if any
	if n := inboundCount(t, pool, describeID); n != 1 {
		t.Errorf("update %d posted three times is logged %d times, want once", describeID, n)
	}
	if n := replyCount(t, pool, describeID); n != 1 {
		t.Errorf("update %d posted three times has %d replies logged, want 1", describeID, n)
	}
	if n := chat.count("Which governorate are you in?"); n != 1 {
		t.Errorf("the question that answers update %d was sent %d times, want once", describeID, n)
	}

	update, _ = press(t, user, consent, consentID, buttonData(t, consent, "Yes"))
	hook.send(t, withUpdateID(t, update, next()))
	share, shareID := chat.next(t, "May we share your complaint")
	update, _ = press(t, user, share, shareID, buttonData(t, share, "Yes"))
	hook.send(t, withUpdateID(t, update, next()))
	done, _ := chat.next(t, "Your complaint number is")
	// Every press (English, complaint, category, governorate, yes, yes) was acknowledged.
	fake.WaitCalls(t, "answerCallbackQuery", 6, tgTimeout)
	m := complaintNumber.FindStringSubmatch(done.Params["text"])
	if m == nil {
		t.Fatalf("no complaint number (4 digits, a space, 4 digits) in %q", done.Params["text"])
	}

	var category, governorate, site, channel, reference, description, source string
	var consentContact, consentShare bool
	var cases int64
	err := pool.QueryRow(ctxTimeout(t), `SELECT count(*) OVER (), c.category, c.governorate, c.site, c.channel, c.reference,
		c.description, c.consent_contact, c.consent_share, coalesce(ct.source, '')
		FROM cases c JOIN contacts ct ON ct.id = c.contact_id`).Scan(&cases, &category, &governorate, &site, &channel,
		&reference, &description, &consentContact, &consentShare, &source)
	if err != nil {
		t.Fatalf("read the case: %v", err)
	}
	if cases != 1 || category != "minor_dissatisfaction" || governorate != "ninewa" || site != "Jeddah 5" || channel != "telegram" ||
		description != "The water tank in block C is broken" || !consentContact || !consentShare {
		t.Errorf("%d case(s): category %q, governorate %q, site %q, channel %q, description %q, consents %v %v; want one: minor_dissatisfaction, ninewa, Jeddah 5, telegram, the description, true true",
			cases, category, governorate, site, channel, description, consentContact, consentShare)
	}
	if strings.ReplaceAll(reference, " ", "") != strings.ReplaceAll(m[1], " ", "") {
		t.Errorf("case reference %q, but the person was told %q", reference, m[1])
	}
	if source != "poster-jeddah" {
		t.Errorf("contact source %q, want poster-jeddah (the /start payload)", source)
	}

	// Refused: a wrong or missing secret (401, nothing stored), a malformed body (400).
	intruder := next()
	body := withUpdateID(t, channeltest.TelegramTextUpdate(user, "not from Telegram"), intruder)
	for _, s := range []string{"wrong-" + secret, ""} {
		if code, resp := hook.post(t, s, body); code != http.StatusUnauthorized {
			t.Errorf("secret %q: %d %s, want 401", s, code, resp)
		}
	}
	if code, resp := hook.post(t, secret, []byte(`{"update_id": 1, "message": {`)); code != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d %s, want 400", code, resp)
	}
	if n := inboxCount(t, pool, intruder); n != 0 {
		t.Errorf("an update with a wrong secret was stored (%d)", n)
	}

	// PostgreSQL goes away: the update is answered 503, so Telegram keeps it and sends it again.
	sentBefore := len(chat.all())
	pg.stop()
	retried := next()
	body = withUpdateID(t, channeltest.TelegramTextUpdate(user, "menu"), retried)
	began := time.Now()
	if code, resp := hook.post(t, secret, body); code != http.StatusServiceUnavailable {
		t.Errorf("with PostgreSQL down the webhook answered %d %s, want 503", code, resp)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("the 503 took %v", took)
	}
	if code, _ := getJSON(&http.Client{Timeout: 10 * time.Second}, "http://"+admin+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("with PostgreSQL down /readyz answered %d, want 503", code)
	}
	pg.start()
	if got := pg.server().URL("sawt_telegram"); got != dbURL {
		t.Fatalf("PostgreSQL came back at %s, not at %s", got, dbURL)
	}
	pool.Reset() // the test's own connections died with the server
	// Telegram's retry. A connection of serve's pool that died with the server may fail the
	// first one (503 again, and Telegram tries again later): retry as Telegram does.
	var answers []int
	waitFor(t, "the retried update accepted", func() bool {
		code, _ := hook.post(t, secret, body)
		answers = append(answers, code)
		return code == http.StatusOK
	})
	if len(answers) > 1 {
		t.Logf("once PostgreSQL was back, the retried update was answered %v", answers)
	}
	chat.next(t, "How can we help you?")
	time.Sleep(300 * time.Millisecond) // time for a second reply, if any
	if n := inboundCount(t, pool, retried); n != 1 {
		t.Errorf("update %d, refused then retried, is logged %d times, want once", retried, n)
	}
	if n := replyCount(t, pool, retried); n != 1 {
		t.Errorf("update %d has %d replies logged, want 1", retried, n)
	}
	if n := len(chat.all()) - sentBefore; n != 1 {
		t.Errorf("%d messages sent for update %d, want 1", n, retried)
	}

	stopServe(t, p, syscall.SIGTERM)
	for _, c := range chat.all() {
		checkPlainSend(t, c)
	}
	for what, s := range map[string]string{"bot token": token, "webhook secret": secret} {
		if strings.Contains(p.stderr.String(), s) {
			t.Errorf("serve's log holds the %s", what)
		}
	}
}

// checkPlainSend: a sendMessage has no parse mode (nothing a person wrote is read as markup) and
// its buttons no copy_text (the client library's own buttons send an empty one).
func checkPlainSend(t *testing.T, c channeltest.TelegramCall) {
	t.Helper()
	if mode, ok := c.Params["parse_mode"]; ok {
		t.Errorf("sendMessage %q has parse_mode %q: texts must be sent as they are", c.Params["text"], mode)
	}
	for k, v := range c.Params {
		if strings.Contains(v, "copy_text") {
			t.Errorf("sendMessage %q: parameter %s holds copy_text: %s", c.Params["text"], k, v)
		}
	}
}

// TestTelegramPolling: serve without a public URL polls. It deletes any webhook before its
// first getUpdates and answers updates queued at Telegram. Updates that arrive while it is
// stopped are handled, each once, when it starts again, from the offset it stored; an update
// taken when serve is killed (SIGKILL) is neither lost nor handled twice.
func TestTelegramPolling(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	pool := openPool(t, dbURL)
	token := randomToken(t)
	fake := channeltest.NewTelegramAPI(t, token)
	env := telegramServeEnv(dbURL, token, fake.URL)

	first := start(t, env, "", "serve")
	waitReady(t, first, 60*time.Second)
	if want := `msg="telegram channel: on, polling for updates (no public URL needed)"`; !strings.Contains(first.stderr.String(), want) {
		t.Errorf("start-up log does not say %s:\n%s", want, first.stderr.String())
	}
	fake.WaitCalls(t, "getUpdates", 1, tgTimeout)
	calls := fake.Calls("deleteWebhook", "getUpdates")
	if calls[0].Method != "deleteWebhook" {
		t.Errorf("first call %s, want deleteWebhook before getUpdates", calls[0].Method)
	}
	if n := len(fake.Calls("setWebhook")); n != 0 {
		t.Errorf("serve in poll mode called setWebhook %d times", n)
	}

	user := channeltest.TelegramUser{ID: 52000002, FirstName: "Hussein", LanguageCode: "ar"}
	chat := &replies{fake: fake, chat: fmt.Sprint(user.ID)}
	fake.QueueUpdates(withUpdateID(t, channeltest.TelegramStartUpdate(user, ""), 5001))
	langMenu, langMenuID := chat.next(t, "Choose your language")
	if kb := keyboardOf(t, langMenu); len(kb) != 4 || kb[0][0].Text != "العربية" {
		t.Errorf("language menu for an Arabic phone: %v, want the four languages, Arabic first", kb)
	}
	update, _ := press(t, user, langMenu, langMenuID, buttonData(t, langMenu, "English"))
	fake.QueueUpdates(withUpdateID(t, update, 5002))
	mainMenu, mainMenuID := chat.next(t, "How can we help you?")
	waitFor(t, "offset 5003 stored", func() bool { return storedOffset(t, pool) == "5003" })
	stopServe(t, first, syscall.SIGTERM)

	// While serve is down, two presses wait at Telegram.
	update, _ = press(t, user, mainMenu, mainMenuID, buttonData(t, mainMenu, "Make a complaint"))
	fake.QueueUpdates(withUpdateID(t, update, 5003))
	// The category menu is not sent yet: the person presses the button of the one to come.
	fake.QueueUpdates(withUpdateID(t, channeltest.TelegramCallbackUpdate(user, mainMenuID+1, "What is your complaint about?", "complaint.category:4"), 5004))
	polled := len(fake.Calls("getUpdates"))

	second := start(t, env, "", "serve")
	waitReady(t, second, 60*time.Second)
	// Both replies come, in the order of the turns, although each turn's replies are a job of
	// their own and jobs run side by side.
	if got := chat.nextAll(t, "What is your complaint about?", "Please tell us what happened"); !strings.Contains(got[0].Params["text"], "What is your complaint about?") {
		t.Errorf("the replies to updates 5003 and 5004 reached the chat in the wrong order: %q, then %q", got[0].Params["text"], got[1].Params["text"])
	}
	waitFor(t, "offset 5005 stored", func() bool { return storedOffset(t, pool) == "5005" })
	if gu := fake.Calls("getUpdates"); len(gu) <= polled || gu[polled].Params["offset"] != "5003" {
		t.Errorf("the restarted serve's first getUpdates: %v, want offset 5003", gu[min(polled, len(gu)-1)].Params)
	}
	for id := int64(5001); id <= 5004; id++ {
		if n := inboundCount(t, pool, id); n != 1 {
			t.Errorf("update %d logged %d times, want once", id, n)
		}
	}
	if n := fake.PendingUpdates(); n != 0 {
		t.Errorf("%d updates still pending at Telegram", n)
	}

	// Killed (SIGKILL) right after Telegram hands out an update, then right after serve has
	// stored one: whether or not it was stored and confirmed, the next serve handles it
	// exactly once.
	running := second
	for _, k := range []struct {
		id          int64
		update      json.RawMessage
		reply       string
		afterStored bool
	}{
		{5005, channeltest.TelegramTextUpdate(user, "Someone stole the aid cards of our tent"), "Which governorate are you in?", false},
		{5006, channeltest.TelegramCallbackUpdate(user, mainMenuID+3, "Which governorate are you in?", "complaint.governorate:1"), "What is the name of your camp", true},
	} {
		fake.QueueUpdates(withUpdateID(t, k.update, k.id))
		if k.afterStored {
			waitFor(t, fmt.Sprintf("update %d stored", k.id), func() bool { return inboxCount(t, pool, k.id) > 0 })
		}
		killServe(t, running)
		polled = len(fake.Calls("getUpdates"))
		next := start(t, env, "", "serve")
		waitReady(t, next, 60*time.Second)
		offset := fmt.Sprint(k.id + 1)
		waitFor(t, "offset "+offset+" stored", func() bool { return storedOffset(t, pool) == offset })
		if n := inboundCount(t, pool, k.id); n != 1 {
			t.Errorf("update %d, taken when serve was killed, is logged %d times, want once", k.id, n)
		}
		if n := replyCount(t, pool, k.id); n != 1 {
			t.Errorf("update %d has %d replies logged, want 1", k.id, n)
		}
		gu := fake.WaitCalls(t, "getUpdates", polled+1, tgTimeout)
		t.Logf("update %d: after the SIGKILL serve polled from offset %s", k.id, gu[polled].Params["offset"])
		// The reply goes out, unless serve was killed while its job ran: River gives such a
		// job back only after RescueStuckJobsAfter (an hour by default).
		killed := riverClientID(t, running)
		waitFor(t, fmt.Sprintf("the reply to update %d sent", k.id), func() bool {
			if chat.count(k.reply) > 0 {
				return true
			}
			var state string
			var by []string
			err := pool.QueryRow(ctxTimeout(t), `SELECT j.state, coalesce(j.attempted_by, '{}') FROM river_job j, inbox i
				JOIN messages m ON m.inbox_id = i.id JOIN messages o ON o.reply_to = m.id
				WHERE i.channel = 'telegram' AND i.external_id = $1 AND j.args->'message_ids' @> to_jsonb(o.id)`,
				fmt.Sprint(k.id)).Scan(&state, &by)
			if err != nil {
				t.Fatalf("the reply's job: %v", err)
			}
			if state == "running" && len(by) > 0 && by[len(by)-1] == killed {
				t.Logf("NOTE: the reply to update %d was being sent when serve was killed: its job waits for River's rescuer", k.id)
				return true
			}
			// One person's replies go out in order: an earlier reply of theirs that the killed
			// serve was sending holds this one back until River's rescuer gives it back.
			if queryInt(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages' AND state = 'running'
				AND attempted_by[cardinality(attempted_by)] = $1`, killed) > 0 {
				t.Logf("NOTE: a send job of the killed serve is stuck until River's rescuer; the reply to update %d waits behind it (%s)", k.id, state)
				return true
			}
			return false
		})
		running = next
	}
	stopServe(t, running, syscall.SIGTERM)
}

// TestTelegramTokenNeverLeaks: the bot token is in the URL of every Bot API call, so every
// failed call is a chance to log or store it. Serve, polling through a front that hangs up
// on calls, against a fake that answers sendMessage with a 500 and a proxy's HTML 502 and
// refuses one for good (each description quoting the request path, token and all), logs no
// token and stores none with the messages or their jobs.
func TestTelegramTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	pool := openPool(t, dbURL)
	token := randomToken(t)
	fake := channeltest.NewTelegramAPI(t, token)
	front := newHangUpFront(t, fake.URL)
	quoting := " (POST /bot" + token + "/sendMessage)"

	front.hangUp("deleteWebhook", 1)
	front.hangUp("getUpdates", 1)
	p := start(t, telegramServeEnv(dbURL, token, front.URL), "", "serve")
	waitReady(t, p, 60*time.Second)
	fake.WaitCalls(t, "getUpdates", 1, tgTimeout)

	user := channeltest.TelegramUser{ID: 52000003, FirstName: "Layla", LanguageCode: "en"}
	chat := &replies{fake: fake, chat: fmt.Sprint(user.ID)}
	errorsSeen := map[string]bool{}
	// sendThrough queues an update whose reply fails once as fail says, then passes; while it
	// waits it collects the error the outbox records between the attempts.
	sendThrough := func(id int64, update json.RawMessage, reply string, fail func()) (channeltest.TelegramCall, int) {
		t.Helper()
		fail()
		fake.QueueUpdates(withUpdateID(t, update, id))
		deadline := time.Now().Add(tgTimeout)
		for chat.delivered(reply) == 0 && time.Now().Before(deadline) {
			var e string
			_ = pool.QueryRow(ctxTimeout(t), `SELECT coalesce(string_agg(o.error, ' | '), '') FROM inbox i
				JOIN messages m ON m.inbox_id = i.id JOIN messages o ON o.reply_to = m.id
				WHERE i.channel = 'telegram' AND i.external_id = $1`, fmt.Sprint(id)).Scan(&e)
			if e != "" {
				errorsSeen[e] = true
			}
			time.Sleep(10 * time.Millisecond)
		}
		return chat.next(t, reply)
	}

	langMenu, langMenuID := sendThrough(6001, channeltest.TelegramStartUpdate(user, ""), "Choose your language", func() {
		fake.Fail("sendMessage", channeltest.Failure{Status: http.StatusInternalServerError, Description: "Internal Server Error" + quoting})
	})
	update, _ := press(t, user, langMenu, langMenuID, buttonData(t, langMenu, "English"))
	mainMenu, mainMenuID := sendThrough(6002, update, "How can we help you?", func() {
		fake.Fail("sendMessage", channeltest.Failure{Status: http.StatusBadGateway, NotJSON: true})
	})
	update, _ = press(t, user, mainMenu, mainMenuID, buttonData(t, mainMenu, "Make a complaint"))
	categories, categoriesID := sendThrough(6003, update, "What is your complaint about?", func() { front.hangUp("sendMessage", 1) })

	// A refusal for good: the message is failed, its error kept.
	fake.Fail("sendMessage", channeltest.Failure{Status: http.StatusBadRequest, Description: "Bad Request: chat not found" + quoting})
	update, _ = press(t, user, categories, categoriesID, buttonData(t, categories, "Something else"))
	fake.QueueUpdates(withUpdateID(t, update, 6004))
	var failedError string
	waitFor(t, "the reply to update 6004 failed", func() bool {
		err := pool.QueryRow(ctxTimeout(t), `SELECT coalesce(o.error, '') FROM inbox i JOIN messages m ON m.inbox_id = i.id
			JOIN messages o ON o.reply_to = m.id WHERE i.channel = 'telegram' AND i.external_id = '6004' AND o.status = 'failed'`).Scan(&failedError)
		return err == nil
	})
	stopServe(t, p, syscall.SIGTERM)

	if n := front.hungUp("deleteWebhook") + front.hungUp("getUpdates") + front.hungUp("sendMessage"); n != 3 {
		t.Errorf("the front hung up on %d calls, want 3", n)
	}
	log := p.stderr.String()
	if strings.Contains(log, token) {
		t.Errorf("serve's log holds the bot token:\n%s", log)
	}
	for _, want := range []string{"send failed, will retry", "send failed for good", "telegram getUpdates failed", `call=deleteWebhook`} {
		if !strings.Contains(log, want) {
			t.Errorf("serve's log does not say %q: the failure went unnoticed, or the test did not provoke it:\n%s", want, log)
		}
	}
	if !strings.Contains(failedError, "chat not found") || strings.Contains(failedError, token) {
		t.Errorf("the error kept with the failed message is %q: want Telegram's reason without the token", failedError)
	}
	for e := range errorsSeen {
		if strings.Contains(e, token) {
			t.Errorf("an error recorded while retrying holds the token: %q", e)
		}
	}
	if len(errorsSeen) != 3 {
		t.Errorf("errors recorded between attempts: %q, want one for each of the three failures", slices.Sorted(maps.Keys(errorsSeen)))
	}
	// Whatever the database holds: messages, jobs (River keeps each attempt's error), state.
	for _, q := range []string{
		`SELECT count(*) FROM messages WHERE strpos(coalesce(error, ''), $1) > 0`,
		`SELECT count(*) FROM river_job WHERE strpos(errors::text, $1) > 0 OR strpos(args::text, $1) > 0 OR strpos(metadata::text, $1) > 0`,
		`SELECT count(*) FROM channel_state WHERE strpos(value, $1) > 0`,
	} {
		if n := queryInt(t, pool, q, token); n != 0 {
			t.Errorf("%d rows hold the token: %s", n, q)
		}
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM river_job WHERE errors IS NOT NULL`); n == 0 {
		t.Errorf("no job recorded an error: the failures were not provoked")
	}
}
