package channeltest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/sawt/sawt/channels/channeltest"
)

// newClient is the product's Bot API client pointed at the fake.
func newClient(t *testing.T, fake *channeltest.TelegramAPI, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{
		bot.WithServerURL(fake.URL),
		bot.WithSkipGetMe(),
		bot.WithErrorsHandler(func(err error) { t.Logf("bot: %v", err) }),
	}, opts...)
	b, err := bot.New(fake.Token, opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// apiAnswer is the Bot API's answer envelope, read by hand.
type apiAnswer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call POSTs a JSON body to a method, as a hand-written client would.
func call(t *testing.T, fake *channeltest.TelegramAPI, token, method string, body any) (int, apiAnswer) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fake.URL+"/bot"+token+"/"+method, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("POST %s: %v", method, err)
	}
	defer resp.Body.Close()
	return decodeAnswer(t, resp)
}

func decodeAnswer(t *testing.T, resp *http.Response) (int, apiAnswer) {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var a apiAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, raw)
	}
	if !a.OK && a.ErrorCode != resp.StatusCode {
		t.Errorf("error_code %d but HTTP status %d", a.ErrorCode, resp.StatusCode)
	}
	return resp.StatusCode, a
}

func getUpdates(t *testing.T, fake *channeltest.TelegramAPI, body map[string]any) []models.Update {
	t.Helper()
	status, a := call(t, fake, fake.Token, "getUpdates", body)
	if status != http.StatusOK || !a.OK {
		t.Fatalf("getUpdates: %d %s", status, a.Description)
	}
	var updates []models.Update
	if err := json.Unmarshal(a.Result, &updates); err != nil {
		t.Fatalf("getUpdates result %s: %v", a.Result, err)
	}
	return updates
}

func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("not JSON: %q", got)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("not JSON: %q", want)
	}
	return reflect.DeepEqual(g, w)
}

var ahmed = channeltest.TelegramUser{ID: 5550001, FirstName: "أحمد", LanguageCode: "ar"}

func TestTelegramSendMessageWithClient(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake)
	ctx := context.Background()

	markup := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "١. شكوى", CallbackData: "menu:complaint"}},
		{{Text: "٢. سؤال", CallbackData: "menu:question"}},
	}}
	msg, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: ahmed.ID, Text: "أهلاً بك في صوت", ReplyMarkup: markup})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if msg.ID != 1 || msg.Chat.ID != ahmed.ID || msg.Chat.Type != models.ChatTypePrivate || msg.Text != "أهلاً بك في صوت" || msg.Date == 0 {
		t.Errorf("message %+v", msg)
	}
	if msg.From == nil || !msg.From.IsBot || msg.From.ID != 123456789 {
		t.Errorf("from %+v, want the bot", msg.From)
	}
	if msg.ReplyMarkup == nil || len(msg.ReplyMarkup.InlineKeyboard) != 2 || msg.ReplyMarkup.InlineKeyboard[1][0].CallbackData != "menu:question" {
		t.Errorf("reply_markup %+v", msg.ReplyMarkup)
	}
	msg2, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: "-1001234567890", Text: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if msg2.ID != 2 || msg2.Chat.Type != models.ChatTypeSupergroup {
		t.Errorf("second message %+v", msg2)
	}

	calls := fake.Calls("sendMessage")
	if len(calls) != 2 {
		t.Fatalf("%d sendMessage calls, want 2", len(calls))
	}
	p := calls[0].Params
	if p["chat_id"] != "5550001" || p["text"] != "أهلاً بك في صوت" {
		t.Errorf("params %v", p)
	}
	sent, _ := json.Marshal(markup)
	if !sameJSON(t, p["reply_markup"], string(sent)) {
		t.Errorf("reply_markup %q, want the client's JSON %s", p["reply_markup"], sent)
	}
	if calls[0].Status != http.StatusOK || calls[0].At.IsZero() || calls[1].At.Before(calls[0].At) {
		t.Errorf("call %+v", calls[0])
	}
	if got := fake.Calls(); len(got) != 2 {
		t.Errorf("Calls() = %d calls, want 2", len(got))
	}
	if got := fake.Calls("SENDMESSAGE", "getUpdates"); len(got) != 2 {
		t.Errorf("Calls(SENDMESSAGE) = %d, want 2 (method names are case-insensitive)", len(got))
	}
}

func TestTelegramGetMeWithClient(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "7771234:secret-token")
	// Without WithSkipGetMe the client checks the token with getMe (an empty multipart body).
	b, err := bot.New(fake.Token, bot.WithServerURL(fake.URL))
	if err != nil {
		t.Fatalf("bot.New with getMe: %v", err)
	}
	me, err := b.GetMe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != 7771234 || !me.IsBot || me.FirstName != "Sawt" || me.Username != "sawt_test_bot" {
		t.Errorf("getMe %+v", me)
	}
	if n := len(fake.Calls("getMe")); n != 2 {
		t.Errorf("%d getMe calls, want 2", n)
	}
}

func TestTelegramScriptedFailuresWithClient(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake)
	ctx := context.Background()
	send := func() error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "hello"})
		return err
	}

	fake.Fail("sendMessage",
		channeltest.Failure{Status: 429, RetryAfter: 7},
		channeltest.Failure{Status: 403},
		channeltest.Failure{Status: 500},
		channeltest.Failure{NotJSON: true},
		channeltest.Failure{}, // lets one through
		channeltest.Failure{Status: 400, Description: "Bad Request: chat not found"},
	)

	err := send()
	var tooMany *bot.TooManyRequestsError
	if !errors.As(err, &tooMany) || tooMany.RetryAfter != 7 {
		t.Errorf("429: %v, want *bot.TooManyRequestsError with RetryAfter 7", err)
	} else if !strings.Contains(tooMany.Message, "Too Many Requests: retry after 7") {
		t.Errorf("429 message %q", tooMany.Message)
	}

	err = send()
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "Forbidden: bot was blocked by the user") {
		t.Errorf("403: %v, want bot.ErrorForbidden with the real description", err)
	}

	for _, status := range []string{"500", "502 (HTML)"} {
		err = send()
		if err == nil || errors.Is(err, bot.ErrorForbidden) || errors.Is(err, bot.ErrorBadRequest) || bot.IsTooManyRequestsError(err) {
			t.Errorf("%s: %v, want a plain error", status, err)
		}
	}

	if err := send(); err != nil {
		t.Errorf("a zero Failure should answer normally: %v", err)
	}
	if err := send(); !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "chat not found") {
		t.Errorf("400: %v", err)
	}
	if err := send(); err != nil {
		t.Errorf("after the scripted failures: %v", err)
	}

	var statuses []int
	for _, c := range fake.Calls("sendMessage") {
		statuses = append(statuses, c.Status)
	}
	if want := []int{429, 403, 500, 502, 200, 400, 200}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v (every call is recorded)", statuses, want)
	}
}

func TestTelegramScriptedAnswersOnTheWire(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	fake.Fail("sendMessage", channeltest.Failure{Status: 429, RetryAfter: 3}, channeltest.Failure{Status: 502, NotJSON: true})

	status, a := call(t, fake, fake.Token, "sendMessage", map[string]any{"chat_id": 1, "text": "x"})
	if status != 429 || a.OK || a.ErrorCode != 429 || a.Description != "Too Many Requests: retry after 3" || a.Parameters == nil || a.Parameters.RetryAfter != 3 {
		t.Errorf("429 answer: %d %+v", status, a)
	}

	resp, err := http.Post(fake.URL+"/bot"+fake.Token+"/sendMessage", "application/json", strings.NewReader(`{"chat_id":1,"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<html>") {
		t.Errorf("NotJSON answer: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestTelegramDelayTimesTheClientOut(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake, bot.WithHTTPClient(time.Second, &http.Client{Timeout: 150 * time.Millisecond}))
	fake.Fail("sendMessage", channeltest.Failure{Delay: 5 * time.Second})

	start := time.Now()
	_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 42, Text: "hello"})
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("SendMessage: %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
	// The fake gives up on a client that went away, and answers the next call normally.
	if _, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 42, Text: "again"}); err != nil {
		t.Errorf("after the delay: %v", err)
	}
	calls := fake.Calls("sendMessage")
	if len(calls) != 2 || calls[0].Params["text"] != "hello" || calls[1].Status != http.StatusOK {
		t.Errorf("calls %+v", calls)
	}
}

func TestTelegramDelayThenSuccess(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake)
	fake.Fail("sendMessage", channeltest.Failure{Delay: 200 * time.Millisecond})
	start := time.Now()
	if _, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 42, Text: "slow"}); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("answered after %v, want the delay", elapsed)
	}
}

func TestTelegramValidatesLikeTelegram(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake)
	ctx := context.Background()
	send := func(p *bot.SendMessageParams) error {
		_, err := b.SendMessage(ctx, p)
		return err
	}
	button := func(data string) *models.InlineKeyboardMarkup {
		return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x", CallbackData: data}}}}
	}
	for _, tc := range []struct {
		name   string
		params *bot.SendMessageParams
		want   string // "" for success
	}{
		{"empty text", &bot.SendMessageParams{ChatID: 1, Text: ""}, "Bad Request: message text is empty"},
		{"blank text", &bot.SendMessageParams{ChatID: 1, Text: " \n "}, "Bad Request: message text is empty"},
		{"4096 Arabic letters", &bot.SendMessageParams{ChatID: 1, Text: strings.Repeat("ب", 4096)}, ""},
		{"4097 Arabic letters", &bot.SendMessageParams{ChatID: 1, Text: strings.Repeat("ب", 4097)}, "Bad Request: message is too long"},
		{"2048 emoji are 4096 UTF-16 units", &bot.SendMessageParams{ChatID: 1, Text: strings.Repeat("😀", 2048)}, ""},
		{"2049 emoji", &bot.SendMessageParams{ChatID: 1, Text: strings.Repeat("😀", 2049)}, "Bad Request: message is too long"},
		{"HTML tags are not counted", &bot.SendMessageParams{ChatID: 1, ParseMode: models.ParseModeHTML, Text: "<b>" + strings.Repeat("x", 4096) + "</b>"}, ""},
		{"no chat", &bot.SendMessageParams{Text: "x"}, "Bad Request: chat not found"},
		{"public username", &bot.SendMessageParams{ChatID: "@somechannel", Text: "x"}, "Bad Request: chat not found"},
		{"64-byte callback data", &bot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: button(strings.Repeat("d", 64))}, ""},
		{"65-byte callback data", &bot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: button(strings.Repeat("d", 65))}, "Bad Request: BUTTON_DATA_INVALID"},
	} {
		err := send(tc.params)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.Is(err, bot.ErrorBadRequest) || !strings.HasSuffix(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}

	status, a := call(t, fake, fake.Token, "sendMessage", map[string]any{"text": "x"})
	if status != 400 || a.Description != "Bad Request: chat_id is empty" {
		t.Errorf("no chat_id: %d %q", status, a.Description)
	}
	status, a = call(t, fake, fake.Token, "sendMessage", map[string]any{"chat_id": 1, "text": "x", "reply_markup": "{not json"})
	if status != 400 || a.Description != "Bad Request: can't parse reply keyboard markup JSON object" {
		t.Errorf("bad markup: %d %q", status, a.Description)
	}
}

func TestTelegramEditsWithClient(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake)
	ctx := context.Background()
	keyboard := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "نعم", CallbackData: "yes"}}}}
	msg, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: ahmed.ID, Text: "هل توافق؟", ReplyMarkup: keyboard})
	if err != nil {
		t.Fatal(err)
	}

	// Taking the keyboard away is a change; doing it twice is not.
	edited, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: ahmed.ID, MessageID: msg.ID})
	if err != nil {
		t.Fatalf("EditMessageReplyMarkup: %v", err)
	}
	if edited.ID != msg.ID || edited.Text != "هل توافق؟" || edited.ReplyMarkup != nil || edited.EditDate == 0 {
		t.Errorf("edited %+v", edited)
	}
	_, err = b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: ahmed.ID, MessageID: msg.ID})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("second EditMessageReplyMarkup: %v, want message is not modified", err)
	}

	edited, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: ahmed.ID, MessageID: msg.ID, Text: "شكراً"})
	if err != nil || edited.Text != "شكراً" {
		t.Fatalf("EditMessageText: %+v %v", edited, err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: ahmed.ID, MessageID: msg.ID, Text: "شكراً"}); err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("same text again: %v", err)
	}
	// A message the fake did not send (say, from before a restart) is taken on trust.
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: ahmed.ID, MessageID: 9999, Text: "x"}); err != nil {
		t.Errorf("edit of an unknown message: %v", err)
	}

	if ok, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "123"}); !ok || err != nil {
		t.Errorf("AnswerCallbackQuery: %v %v", ok, err)
	}
	if ok, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: ahmed.ID, Action: models.ChatActionTyping}); !ok || err != nil {
		t.Errorf("SendChatAction: %v %v", ok, err)
	}
	if ok, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "start", Description: "ابدأ"}}}); !ok || err != nil {
		t.Errorf("SetMyCommands: %v %v", ok, err)
	}
	if ok, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: ahmed.ID, MessageID: msg.ID}); !ok || err != nil {
		t.Errorf("DeleteMessage: %v %v", ok, err)
	}
	if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: ahmed.ID, MessageID: msg.ID}); err == nil || !strings.Contains(err.Error(), "message to delete not found") {
		t.Errorf("second DeleteMessage: %v", err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: ahmed.ID, MessageID: msg.ID, Text: "late"}); err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Errorf("edit after delete: %v", err)
	}
	if got := fake.Calls("setMyCommands")[0].Params["commands"]; !sameJSON(t, got, `[{"command":"start","description":"ابدأ"}]`) {
		t.Errorf("commands %q", got)
	}
}

func TestTelegramGetUpdatesByHand(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	fake.QueueUpdates(
		channeltest.TelegramStartUpdate(ahmed, "poster-basra"),
		channeltest.TelegramTextUpdate(ahmed, "الماء مقطوع منذ ثلاثة أيام"),
		channeltest.TelegramCallbackUpdate(ahmed, 7, "اختر", "menu:complaint"),
	)

	updates := getUpdates(t, fake, map[string]any{"offset": 0, "timeout": 1})
	if len(updates) != 3 {
		t.Fatalf("%d updates, want 3", len(updates))
	}
	for i, u := range updates {
		if u.ID != int64(1000+i) {
			t.Errorf("update %d has update_id %d, want %d", i, u.ID, 1000+i)
		}
	}
	if updates[0].Message == nil || updates[0].Message.Text != "/start poster-basra" || updates[1].Message.Text != "الماء مقطوع منذ ثلاثة أيام" ||
		updates[2].CallbackQuery == nil || updates[2].CallbackQuery.Data != "menu:complaint" {
		t.Errorf("updates out of order or wrong: %+v", updates)
	}

	// Unconfirmed updates come again.
	if again := getUpdates(t, fake, map[string]any{"timeout": 0}); len(again) != 3 {
		t.Errorf("without offset: %d updates, want the 3 again", len(again))
	}
	// limit.
	if two := getUpdates(t, fake, map[string]any{"offset": 1000, "limit": 2}); len(two) != 2 || two[0].ID != 1000 {
		t.Errorf("limit 2: %+v", two)
	}

	// Confirming all of them: nothing, after the long-poll wait.
	start := time.Now()
	if none := getUpdates(t, fake, map[string]any{"offset": updates[2].ID + 1, "timeout": 1}); len(none) != 0 {
		t.Errorf("after confirming: %d updates", len(none))
	}
	if waited := time.Since(start); waited < 900*time.Millisecond || waited > 1900*time.Millisecond {
		t.Errorf("long poll of 1s took %v", waited)
	}
	if n := fake.PendingUpdates(); n != 0 {
		t.Errorf("%d updates pending after confirming", n)
	}

	// An explicit update_id is kept and moves the counter on.
	fake.QueueUpdates(json.RawMessage(`{"update_id":5000,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"x"}}`),
		channeltest.TelegramTextUpdate(ahmed, "y"))
	got := getUpdates(t, fake, map[string]any{"offset": 1003})
	if len(got) != 2 || got[0].ID != 5000 || got[1].ID != 5001 {
		t.Errorf("explicit update_id: %+v", got)
	}
	// A negative offset keeps only the last updates.
	if last := getUpdates(t, fake, map[string]any{"offset": -1}); len(last) != 1 || last[0].ID != 5001 {
		t.Errorf("offset -1: %+v", last)
	}
}

func TestTelegramLongPollIsWokenByNewUpdates(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	type result struct {
		updates []models.Update
		at      time.Time
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Post(fake.URL+"/bot"+fake.Token+"/getUpdates", "application/json", strings.NewReader(`{"offset":1000,"timeout":30}`))
		if err != nil {
			t.Errorf("getUpdates: %v", err)
			done <- result{}
			return
		}
		defer resp.Body.Close()
		var a struct {
			Result []models.Update `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Errorf("decode: %v", err)
		}
		done <- result{a.Result, time.Now()}
	}()
	fake.WaitCalls(t, "getUpdates", 1, 2*time.Second)
	time.Sleep(100 * time.Millisecond) // let the poll start waiting
	queued := time.Now()
	fake.QueueUpdates(channeltest.TelegramTextUpdate(ahmed, "مرحبا"))
	select {
	case r := <-done:
		if len(r.updates) != 1 || r.updates[0].Message.Text != "مرحبا" {
			t.Errorf("updates %+v", r.updates)
		}
		if d := r.at.Sub(queued); d > 500*time.Millisecond {
			t.Errorf("answered %v after the update was queued", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the long poll was not answered")
	}
}

func TestTelegramSecondPollTerminatesTheFirst(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	first := make(chan apiAnswer, 1)
	go func() {
		resp, err := http.Post(fake.URL+"/bot"+fake.Token+"/getUpdates", "application/json", strings.NewReader(`{"timeout":30}`))
		if err != nil {
			t.Errorf("first getUpdates: %v", err)
			first <- apiAnswer{}
			return
		}
		defer resp.Body.Close()
		var a apiAnswer
		_ = json.NewDecoder(resp.Body).Decode(&a)
		first <- a
	}()
	fake.WaitCalls(t, "getUpdates", 1, 2*time.Second)
	time.Sleep(100 * time.Millisecond)
	if got := getUpdates(t, fake, map[string]any{"timeout": 0}); len(got) != 0 {
		t.Errorf("second poll: %+v", got)
	}
	select {
	case a := <-first:
		if a.ErrorCode != 409 || a.Description != "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" {
			t.Errorf("first poll: %+v", a)
		}
	case <-time.After(time.Second):
		t.Fatal("the first poll was not terminated")
	}
}

func TestTelegramWebhook(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake)
	ctx := context.Background()

	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "http://sawt.example/telegram"}); err == nil || !strings.Contains(err.Error(), "HTTPS URL must be provided") {
		t.Errorf("http webhook: %v", err)
	}
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "https://sawt.example/telegram", SecretToken: "not/allowed="}); err == nil || !strings.Contains(err.Error(), "secret token contains unallowed characters") {
		t.Errorf("bad secret: %v", err)
	}
	ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "https://sawt.example/telegram", SecretToken: "s3cret_-X", AllowedUpdates: []string{"message", "callback_query"}})
	if !ok || err != nil {
		t.Fatalf("SetWebhook: %v %v", ok, err)
	}
	hook, secret, allowed := fake.Webhook()
	if hook != "https://sawt.example/telegram" || secret != "s3cret_-X" || !reflect.DeepEqual(allowed, []string{"message", "callback_query"}) {
		t.Errorf("Webhook() = %q %q %v", hook, secret, allowed)
	}
	fake.QueueUpdates(channeltest.TelegramTextUpdate(ahmed, "x"))
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != hook || info.PendingUpdateCount != 1 || len(info.AllowedUpdates) != 2 {
		t.Errorf("GetWebhookInfo: %+v %v", info, err)
	}

	status, a := call(t, fake, fake.Token, "getUpdates", map[string]any{"timeout": 1})
	if status != 409 || a.Description != "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" {
		t.Errorf("getUpdates with a webhook: %d %q", status, a.Description)
	}

	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{DropPendingUpdates: true}); !ok || err != nil {
		t.Fatalf("DeleteWebhook: %v %v", ok, err)
	}
	if hook, secret, allowed := fake.Webhook(); hook != "" || secret != "" || allowed != nil {
		t.Errorf("after deleteWebhook: %q %q %v", hook, secret, allowed)
	}
	if got := getUpdates(t, fake, map[string]any{"timeout": 0}); len(got) != 0 {
		t.Errorf("drop_pending_updates left %d updates", len(got))
	}
}

func TestTelegramWrongTokenUnknownMethodAndGET(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	fake.Fail("sendMessage", channeltest.Failure{Status: 403})

	status, a := call(t, fake, "123456789:wrong", "sendMessage", map[string]any{"chat_id": 1, "text": "x"})
	if status != 401 || a.OK || a.ErrorCode != 401 || a.Description != "Unauthorized" {
		t.Errorf("wrong token: %d %+v", status, a)
	}
	wrong, err := bot.New("123456789:wrong", bot.WithServerURL(fake.URL), bot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "x"}); !errors.Is(err, bot.ErrorUnauthorized) {
		t.Errorf("client with a wrong token: %v", err)
	}

	status, a = call(t, fake, fake.Token, "sendPigeon", map[string]any{})
	if status != 404 || a.Description != "Not Found" {
		t.Errorf("unknown method: %d %+v", status, a)
	}

	resp, err := http.Get(fake.URL + "/bot" + fake.Token + "/getMe")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}

	// The calls above did not reach the method: the scripted failure is still there.
	if _, err := newClient(t, fake).SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "x"}); !errors.Is(err, bot.ErrorForbidden) {
		t.Errorf("scripted 403 after the rejected calls: %v", err)
	}
	if n := len(fake.Calls()); n != 5 {
		t.Errorf("%d calls recorded, want 5 (rejected ones too)", n)
	}
}

func TestTelegramParameterEncodings(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	endpoint := fake.URL + "/bot" + fake.Token + "/sendMessage"
	markup := `{"inline_keyboard":[[{"text":"أ","callback_data":"a"}]]}`

	post := func(contentType string, body io.Reader) {
		t.Helper()
		resp, err := http.Post(endpoint, contentType, body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if status, a := decodeAnswer(t, resp); status != 200 {
			t.Errorf("%s: %d %s", contentType, status, a.Description)
		}
	}
	post("application/json", strings.NewReader(`{"chat_id":-1001234567890,"text":"json","reply_markup":`+markup+`,"disable_notification":true,"parse_mode":null}`))
	post("application/x-www-form-urlencoded", strings.NewReader(url.Values{"chat_id": {"-1001234567890"}, "text": {"form"}, "reply_markup": {markup}}.Encode()))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("chat_id", "-1001234567890")
	_ = mw.WriteField("text", "multipart")
	_ = mw.WriteField("reply_markup", markup)
	fw, _ := mw.CreateFormFile("photo", "complaint.jpg")
	_, _ = fw.Write([]byte("JPEG"))
	_ = mw.Close()
	post(mw.FormDataContentType(), &buf)
	resp, err := http.Post(endpoint+"?chat_id=-1001234567890&text=query", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	calls := fake.Calls("sendMessage")
	if len(calls) != 4 {
		t.Fatalf("%d calls", len(calls))
	}
	for i, text := range []string{"json", "form", "multipart", "query"} {
		p := calls[i].Params
		if p["chat_id"] != "-1001234567890" || p["text"] != text {
			t.Errorf("%s: params %v", text, p)
		}
		if i < 3 && !sameJSON(t, p["reply_markup"], markup) {
			t.Errorf("%s: reply_markup %q", text, p["reply_markup"])
		}
	}
	if p := calls[0].Params; p["disable_notification"] != "true" {
		t.Errorf("JSON true: %q", p["disable_notification"])
	}
	if _, ok := calls[0].Params["parse_mode"]; ok {
		t.Errorf("JSON null should be absent")
	}
	if up := calls[2].Files["photo"]; up.Filename != "complaint.jpg" || string(up.Data) != "JPEG" {
		t.Errorf("uploaded file %+v", up)
	}
}

func TestTelegramFilesWithClient(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	b := newClient(t, fake)
	ctx := context.Background()
	path := fake.AddFile("voice-1", "voice/file_1.oga", []byte("OggS-voice"))

	file, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "voice-1"})
	if err != nil || file.FilePath != path || file.FileSize != 10 {
		t.Fatalf("GetFile: %+v %v", file, err)
	}
	resp, err := http.Get(b.FileDownloadLink(file))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(data) != "OggS-voice" {
		t.Errorf("download: %d %q", resp.StatusCode, data)
	}
	if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "nope"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("unknown file_id: %v", err)
	}

	fake.Fail("downloadFile", channeltest.Failure{Status: 502, NotJSON: true})
	resp, err = http.Get(b.FileDownloadLink(file))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 {
		t.Errorf("scripted download failure: %d", resp.StatusCode)
	}
	if d := fake.Calls("downloadFile"); len(d) != 2 || d[0].Params["file_path"] != path || d[0].Status != 200 {
		t.Errorf("download calls %+v", d)
	}
}

// TestTelegramPollingClientDecodesUpdates runs the client's own getUpdates loop against the fake
// and every update builder: the client must decode each into the models it hands to handlers,
// and confirm them with its next offset.
func TestTelegramPollingClientDecodesUpdates(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	var mu sync.Mutex
	var got []*models.Update
	received := make(chan struct{}, 100)
	b := newClient(t, fake,
		bot.WithHTTPClient(3*time.Second, &http.Client{Timeout: 5 * time.Second}),
		bot.WithWorkers(1), bot.WithNotAsyncHandlers(),
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) {
			mu.Lock()
			got = append(got, u)
			mu.Unlock()
			received <- struct{}{}
		}))

	fatima := channeltest.TelegramUser{ID: 5550002, FirstName: "Fatima", LastName: "K", Username: "fatima_k", LanguageCode: "ku"}
	fake.QueueUpdates(
		channeltest.TelegramTextUpdate(fatima, "سڵاو"),
		channeltest.TelegramStartUpdate(fatima, ""),
		channeltest.TelegramStartUpdate(fatima, "camp-7"),
		channeltest.TelegramCallbackUpdate(fatima, 42, "Choose", "lang:ku"),
		channeltest.TelegramVoiceUpdate(fatima, "voice-abc", 12),
		channeltest.TelegramPhotoUpdate(fatima, "photo-abc", "the broken pipe"),
		channeltest.TelegramDocumentUpdate(fatima, "doc-abc", "letter.pdf", "application/pdf", ""),
		channeltest.TelegramContactUpdate(fatima, "+9647701234567", fatima.ID),
		channeltest.TelegramEditedUpdate(fatima, 41, "corrected"),
		channeltest.TelegramChannelPostUpdate(-1009876543210, "Sawt news", "post"),
		channeltest.TelegramGroupUpdate(-4001234, "Camp 7 volunteers", fatima, "/start@sawt_test_bot"),
	)

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { b.Start(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	for i := 0; i < 11; i++ {
		select {
		case <-received:
		case <-time.After(5 * time.Second):
			t.Fatalf("the client handled %d updates of 11", i)
		}
	}
	// The client's next poll confirms them all.
	deadline := time.Now().Add(5 * time.Second)
	for fake.PendingUpdates() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := fake.PendingUpdates(); n != 0 {
		t.Errorf("%d updates still pending: the client's offset did not confirm them", n)
	}
	polls := fake.Calls("getUpdates")
	if len(polls) < 2 || polls[0].Params["timeout"] != "2" || polls[1].Params["offset"] != "1011" {
		t.Errorf("polls %+v", polls)
	}

	mu.Lock()
	defer mu.Unlock()
	check := func(i int, ok bool, what string) {
		t.Helper()
		if !ok {
			u, _ := json.Marshal(got[i])
			t.Errorf("update %d (%s) decoded as %s", i, what, u)
		}
	}
	for i, u := range got {
		if u.ID != int64(1000+i) {
			t.Errorf("update %d has id %d", i, u.ID)
		}
	}
	m := got[0].Message
	check(0, m != nil && m.Text == "سڵاو" && m.Chat.ID == fatima.ID && m.Chat.Type == models.ChatTypePrivate &&
		m.From.ID == fatima.ID && m.From.LanguageCode == "ku" && m.From.FirstName == "Fatima" && m.Date > 0 && m.ID > 0, "text")
	m = got[1].Message
	check(1, m != nil && m.Text == "/start" && len(m.Entities) == 1 && m.Entities[0].Type == models.MessageEntityTypeBotCommand && m.Entities[0].Length == 6, "/start")
	m = got[2].Message
	check(2, m != nil && m.Text == "/start camp-7" && len(m.Entities) == 1 && m.Entities[0].Offset == 0 && m.Entities[0].Length == 6, "/start payload")
	q := got[3].CallbackQuery
	check(3, q != nil && q.Data == "lang:ku" && q.From.ID == fatima.ID && q.ID != "" && q.ChatInstance != "" &&
		q.Message.Type == models.MaybeInaccessibleMessageTypeMessage && q.Message.Message.ID == 42 &&
		q.Message.Message.Chat.ID == fatima.ID && q.Message.Message.Text == "Choose", "callback")
	m = got[4].Message
	check(4, m != nil && m.Voice != nil && m.Voice.FileID == "voice-abc" && m.Voice.FileUniqueID != "" && m.Voice.Duration == 12 && m.Voice.MimeType == "audio/ogg", "voice")
	m = got[5].Message
	check(5, m != nil && len(m.Photo) == 3 && m.Photo[2].FileID == "photo-abc" && m.Photo[2].Width > m.Photo[0].Width && m.Caption == "the broken pipe", "photo")
	m = got[6].Message
	check(6, m != nil && m.Document != nil && m.Document.FileID == "doc-abc" && m.Document.FileName == "letter.pdf" && m.Document.MimeType == "application/pdf", "document")
	m = got[7].Message
	check(7, m != nil && m.Contact != nil && m.Contact.PhoneNumber == "+9647701234567" && m.Contact.UserID == fatima.ID && m.Contact.FirstName == "Fatima", "contact")
	m = got[8].EditedMessage
	check(8, m != nil && got[8].Message == nil && m.ID == 41 && m.Text == "corrected" && m.EditDate > m.Date, "edited")
	m = got[9].ChannelPost
	check(9, m != nil && m.Chat.Type == models.ChatTypeChannel && m.Chat.ID == -1009876543210 && m.From == nil && m.SenderChat != nil && m.Text == "post", "channel post")
	m = got[10].Message
	check(10, m != nil && m.Chat.Type == models.ChatTypeGroup && m.Chat.ID == -4001234 && m.Chat.Title == "Camp 7 volunteers" && m.From.ID == fatima.ID &&
		len(m.Entities) == 1 && m.Entities[0].Length == len("/start@sawt_test_bot"), "group")
}

func TestTelegramUpdateBuildersUseBotAPIFieldNames(t *testing.T) {
	for name, tc := range map[string]struct {
		raw  json.RawMessage
		want []string
	}{
		"text":     {channeltest.TelegramTextUpdate(ahmed, "x"), []string{`"message":{`, `"from":{`, `"language_code":"ar"`, `"chat":{"id":5550001`, `"type":"private"`, `"date":`, `"text":"x"`}},
		"start":    {channeltest.TelegramStartUpdate(ahmed, "p"), []string{`"entities":[{"type":"bot_command","offset":0,"length":6}]`}},
		"callback": {channeltest.TelegramCallbackUpdate(ahmed, 3, "m", "d"), []string{`"callback_query":{`, `"data":"d"`, `"message":{"message_id":3`}},
		"voice":    {channeltest.TelegramVoiceUpdate(ahmed, "v", 3), []string{`"voice":{"file_id":"v","file_unique_id":`, `"duration":3`, `"mime_type":"audio/ogg"`}},
		"photo":    {channeltest.TelegramPhotoUpdate(ahmed, "p", "c"), []string{`"photo":[{"file_id":"p_90"`, `"caption":"c"`}},
		"document": {channeltest.TelegramDocumentUpdate(ahmed, "d", "a.pdf", "application/pdf", ""), []string{`"document":{"file_id":"d"`, `"file_name":"a.pdf"`, `"mime_type":"application/pdf"`}},
		"contact":  {channeltest.TelegramContactUpdate(ahmed, "+964", ahmed.ID), []string{`"contact":{"phone_number":"+964","first_name":"أحمد","user_id":5550001}`}},
		"edited":   {channeltest.TelegramEditedUpdate(ahmed, 9, "e"), []string{`"edited_message":{"message_id":9`, `"edit_date":`}},
		"channel":  {channeltest.TelegramChannelPostUpdate(-100123, "T", "p"), []string{`"channel_post":{`, `"sender_chat":{`, `"type":"channel"`, `"title":"T"`}},
		"group":    {channeltest.TelegramGroupUpdate(-123, "G", ahmed, "hi"), []string{`"type":"group"`, `"title":"G"`}},
	} {
		s := string(tc.raw)
		for _, w := range tc.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s: %s lacks %s", name, s, w)
			}
		}
		if strings.Contains(s, "update_id") {
			t.Errorf("%s: has an update_id: %s", name, s)
		}
	}
}

// recordingTB stands in for the test when the point is to see the fake fail it.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }
func (r *recordingTB) runCleanups() []string {
	r.mu.Lock()
	cleanups := r.cleanups
	r.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errors
}

func TestTelegramUnusedFailureFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	fake := channeltest.NewTelegramAPI(rec, "")
	fake.Fail("sendMessage", channeltest.Failure{Status: 403}, channeltest.Failure{Status: 429, RetryAfter: 2})
	fake.Fail("answerCallbackQuery", channeltest.Failure{Status: 400})
	b := newClient(t, fake)
	if _, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "x"}); !errors.Is(err, bot.ErrorForbidden) {
		t.Errorf("first send: %v", err)
	}
	errs := rec.runCleanups()
	if len(errs) != 2 || !strings.Contains(errs[0], "1 scripted failure(s) for answerCallbackQuery never used") ||
		!strings.Contains(errs[1], "1 scripted failure(s) for sendMessage never used") || !strings.Contains(errs[1], "RetryAfter:2") {
		t.Errorf("cleanup errors %q", errs)
	}

	rec = &recordingTB{TB: t}
	fake = channeltest.NewTelegramAPI(rec, "")
	fake.Fail("sendMessage", channeltest.Failure{Status: 403})
	_, _ = newClient(t, fake).SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "x"})
	if errs := rec.runCleanups(); len(errs) != 0 {
		t.Errorf("all failures used, yet: %q", errs)
	}
}

func TestTelegramWaitCallsTimesOut(t *testing.T) {
	fake := channeltest.NewTelegramAPI(t, "")
	rec := &recordingTB{TB: t}
	start := time.Now()
	calls := fake.WaitCalls(rec, "sendMessage", 1, 100*time.Millisecond)
	if len(calls) != 0 || len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "waited 100ms for 1 sendMessage call(s), got 0") {
		t.Errorf("WaitCalls: %v %q", calls, rec.errors)
	}
	if time.Since(start) > time.Second {
		t.Errorf("WaitCalls took %v", time.Since(start))
	}

	go func() {
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Post(fake.URL+"/bot"+fake.Token+"/sendMessage", "application/json", strings.NewReader(`{"chat_id":1,"text":"late"}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	if got := fake.WaitCalls(t, "sendMessage", 1, 2*time.Second); len(got) != 1 || got[0].Params["text"] != "late" {
		t.Errorf("WaitCalls: %+v", got)
	}
}
