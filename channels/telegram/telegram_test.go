package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/telegram"
	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const secret = "s3cret_for-tests"

// env is a Sawt with the Telegram channel on, in webhook mode, against the fake Bot API and a
// fresh database. The outbox does not run: replies stay queued, where tests read them.
type env struct {
	app  *app.App
	api  *channeltest.TelegramAPI
	pool *pgxpool.Pool
	web  http.Handler
	log  *bytes.Buffer
}

func newEnv(t testing.TB, edit func(*app.Config)) *env {
	t.Helper()
	api := channeltest.NewTelegramAPI(t, channeltest.DefaultTelegramToken)
	logs := &bytes.Buffer{}
	cfg := app.Config{
		DataDir: t.TempDir(), DatabaseURL: pgtest.NewURL(t),
		TelegramToken:  api.Token,
		TelegramSecret: secret,
		TelegramAPIURL: api.URL,
		PublicURL:      "https://sawt.example.org",
		Logger:         slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Telegram.Close(context.Background())
		a.Close()
	})
	return &env{app: a, api: api, pool: a.Pool, web: a.PublicHandler(), log: logs}
}

var nextID atomic.Int64

// withID gives a built update an update_id, as Telegram does.
func withID(t *testing.T, raw json.RawMessage) (int64, []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	id := 5000 + nextID.Add(1)
	m["update_id"] = id
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return id, b
}

func (e *env) post(t *testing.T, body []byte, secretHeader string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, telegram.WebhookPath, bytes.NewReader(body))
	if secretHeader != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretHeader)
	}
	w := httptest.NewRecorder()
	e.web.ServeHTTP(w, req)
	return w
}

// send posts an update as Telegram would and expects 200.
func (e *env) send(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	id, body := withID(t, raw)
	if w := e.post(t, body, secret); w.Code != http.StatusOK {
		t.Fatalf("update %d: status %d %s", id, w.Code, w.Body)
	}
	return id
}

func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// lastReply is the newest reply queued for a chat.
func (e *env) lastReply(t *testing.T, chatID int64) (text string, choices []map[string]string) {
	t.Helper()
	var raw []byte
	err := e.pool.QueryRow(context.Background(), `
		SELECT m.text, coalesce(m.choices, '[]') FROM messages m JOIN urns u ON u.id = m.urn_id
		WHERE u.urn = $1 AND m.direction = 'out' ORDER BY m.id DESC LIMIT 1`, "telegram:"+itoa(chatID)).Scan(&text, &raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &choices); err != nil {
		t.Fatal(err)
	}
	return text, choices
}

var amira = channeltest.TelegramUser{ID: 71001, FirstName: "Amira", LanguageCode: "ar"}

func TestWebhookRefusesBadRequests(t *testing.T) {
	e := newEnv(t, nil)
	_, good := withID(t, channeltest.TelegramTextUpdate(amira, "hello"))
	huge := append([]byte(`{"update_id": 1, "message": {"text": "`), bytes.Repeat([]byte("a"), 1<<20)...)
	for _, tc := range []struct {
		name   string
		body   []byte
		secret string
		want   int
	}{
		{"no secret", good, "", http.StatusUnauthorized},
		{"wrong secret", good, "not-the-secret", http.StatusUnauthorized},
		{"secret with one character more", good, secret + "x", http.StatusUnauthorized},
		{"oversized body", huge, secret, http.StatusRequestEntityTooLarge},
		{"malformed JSON", []byte(`{"update_id": 12, "message": `), secret, http.StatusBadRequest},
		{"not an object", []byte(`[1,2,3]`), secret, http.StatusBadRequest},
		{"no update_id", []byte(`{"message": {"text": "hi"}}`), secret, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.post(t, tc.body, tc.secret)
			if w.Code != tc.want {
				t.Errorf("status %d %s, want %d", w.Code, w.Body, tc.want)
			}
			if !strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("body %q is not a JSON error", w.Body)
			}
		})
	}
	if n := e.count(t, `SELECT count(*) FROM inbox`); n != 0 {
		t.Errorf("%d updates stored from refused requests", n)
	}
	get := httptest.NewRequest(http.MethodGet, telegram.WebhookPath, nil)
	w := httptest.NewRecorder()
	e.web.ServeHTTP(w, get)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", w.Code)
	}
}

func TestTextMessageAndRepeat(t *testing.T) {
	e := newEnv(t, nil)
	id, body := withID(t, channeltest.TelegramTextUpdate(amira, "مرحبا"))
	for range 2 {
		if w := e.post(t, body, secret); w.Code != http.StatusOK {
			t.Fatalf("status %d %s", w.Code, w.Body)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM messages m JOIN inbox i ON i.id = m.inbox_id WHERE i.external_id = $1 AND m.text = 'مرحبا'`, itoa(id)); n != 1 {
		t.Errorf("inbound messages for update %d: %d, want 1", id, n)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job`); n != 1 {
		t.Errorf("send jobs: %d, want 1", n)
	}
	// A new person who writes in Arabic is offered the languages, Arabic first (the hint).
	text, choices := e.lastReply(t, amira.ID)
	if !strings.Contains(text, "Choose your language") || len(choices) != 4 || choices[0]["label"] != "العربية" {
		t.Errorf("first reply %q %v, want the language menu with Arabic first", text, choices)
	}
}

func TestStartWithDeepLink(t *testing.T) {
	e := newEnv(t, nil)
	e.send(t, channeltest.TelegramStartUpdate(amira, "poster-jeddah5"))
	var source string
	if err := e.pool.QueryRow(context.Background(), `SELECT coalesce(source, '') FROM contacts`).Scan(&source); err != nil {
		t.Fatal(err)
	}
	if source != "poster-jeddah5" {
		t.Errorf("contact source %q, want poster-jeddah5", source)
	}
	e.send(t, channeltest.TelegramStartUpdate(amira, "another-poster"))
	e.pool.QueryRow(context.Background(), `SELECT source FROM contacts`).Scan(&source)
	if source != "poster-jeddah5" {
		t.Errorf("source changed to %q: the first one is kept", source)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in' AND text LIKE '%start%'`); n != 0 {
		t.Errorf("/start was taken as text (the START command would answer with a subscription notice)")
	}
}

// callbackOn makes a button press on a message that carries the given buttons.
func callbackOn(t *testing.T, from channeltest.TelegramUser, messageID int, choices []map[string]string, data string) json.RawMessage {
	t.Helper()
	var u models.Update
	if err := json.Unmarshal(channeltest.TelegramCallbackUpdate(from, messageID, "menu", data), &u); err != nil {
		t.Fatal(err)
	}
	markup := &models.InlineKeyboardMarkup{}
	for _, c := range choices {
		markup.InlineKeyboard = append(markup.InlineKeyboard, []models.InlineKeyboardButton{{Text: c["label"], CallbackData: c["payload"]}})
	}
	u.CallbackQuery.Message.Message.ReplyMarkup = markup
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestButtonPress(t *testing.T) {
	e := newEnv(t, nil)
	e.send(t, channeltest.TelegramTextUpdate(amira, "hi"))
	_, choices := e.lastReply(t, amira.ID)
	english := choices[3]
	e.send(t, callbackOn(t, amira, 900, choices, english["payload"]))
	text, menu := e.lastReply(t, amira.ID)
	// The main menu, whatever its options (they grow: a confidential report was added).
	if !strings.Contains(text, "How can we help you?") || len(menu) < 6 || menu[0]["payload"] != "menu.main:1" {
		t.Fatalf("after pressing English: %q %v", text, menu)
	}
	e.api.WaitCalls(t, "answerCallbackQuery", 1, 5e9)
	edits := e.api.WaitCalls(t, "editMessageReplyMarkup", 1, 5e9)
	if got := edits[0].Params["reply_markup"]; !strings.Contains(got, `"✓ English"`) || strings.Contains(got, "copy_text") || edits[0].Params["message_id"] != "900" {
		t.Errorf("old menu edited to %s (message %s), want one ✓ English button on message 900", got, edits[0].Params["message_id"])
	}
	// Pressing the ✓ button, or a button of an old menu, does not move the conversation.
	before := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`)
	e.send(t, channeltest.TelegramCallbackUpdate(amira, 900, "menu", "-"))
	if after := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`); after != before {
		t.Errorf("the ✓ button was handled as a message")
	}
	e.send(t, callbackOn(t, amira, 900, choices, choices[1]["payload"])) // Sorani, from the old language menu
	if text, _ := e.lastReply(t, amira.ID); !strings.Contains(text, "How can we help you?") {
		t.Errorf("an old menu's button changed the conversation: %q", text)
	}
}

func TestMediaAndContacts(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, raw := range []json.RawMessage{
		channeltest.TelegramVoiceUpdate(amira, "voice-file-1", 12),
		channeltest.TelegramPhotoUpdate(amira, "photo-file-1", "the broken tank"),
		channeltest.TelegramDocumentUpdate(amira, "doc-file-1", "list.pdf", "application/pdf", ""),
	} {
		e.send(t, raw)
	}
	rows, err := e.pool.Query(ctx, `SELECT text, media::text FROM messages WHERE direction = 'in' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var text, media string
		rows.Scan(&text, &media)
		got = append(got, text+"|"+media)
	}
	want := []string{
		`|[{"id": "voice-file-1", "type": "audio"}]`,
		`the broken tank|[{"id": "photo-file-1", "type": "image"}]`,
		`|[{"id": "doc-file-1", "type": "document"}]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Someone else's contact card is not kept anywhere; one's own number is asked about.
	e.send(t, channeltest.TelegramTextUpdate(amira, "4")) // choose English at the language menu
	e.send(t, channeltest.TelegramContactUpdate(amira, "9647701110000", 99999))
	if n := e.count(t, `SELECT count(*) FROM sessions WHERE state::text LIKE '%7701110000%'`); n != 0 {
		t.Errorf("another person's number was kept in the conversation")
	}
	e.send(t, channeltest.TelegramContactUpdate(amira, "9647702220000", amira.ID))
	if text, _ := e.lastReply(t, amira.ID); !strings.Contains(text, "May we keep this phone number") {
		t.Errorf("own number shared: reply %q, want the consent question", text)
	}
	if n := e.count(t, `SELECT count(*) FROM urns WHERE urn LIKE 'tel:%'`); n != 0 {
		t.Errorf("the number was linked before the person agreed")
	}
	e.send(t, channeltest.TelegramTextUpdate(amira, "yes"))
	if n := e.count(t, `SELECT count(*) FROM urns WHERE urn = 'tel:+9647702220000'`); n != 1 {
		t.Errorf("after yes the number is not linked")
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE text LIKE '%7702220000%' OR text LIKE '%7701110000%'`); n != 0 {
		t.Errorf("a shared number was written into the message log")
	}
}

func TestIgnoredUpdates(t *testing.T) {
	e := newEnv(t, nil)
	group := int64(-1001234567)
	e.send(t, channeltest.TelegramEditedUpdate(amira, 77, "edited text"))
	e.send(t, channeltest.TelegramChannelPostUpdate(-1009999, "News", "a post"))
	e.send(t, channeltest.TelegramGroupUpdate(group, "Camp group", amira, "hello bot"))
	e.send(t, channeltest.TelegramGroupUpdate(group, "Camp group", amira, "hello again"))
	if n := e.count(t, `SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("%d messages stored from edits, channel posts and groups", n)
	}
	calls := e.api.WaitCalls(t, "sendMessage", 1, 5e9)
	if calls[0].Params["chat_id"] != itoa(group) || !strings.Contains(calls[0].Params["text"], "private chats") {
		t.Errorf("group notice: %+v", calls[0].Params)
	}
	e.app.Telegram.Close(context.Background())
	if n := len(e.api.Calls("sendMessage")); n != 1 {
		t.Errorf("the group was told %d times, want once", n)
	}
}

func TestStorageFailureAnswers503(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
		t.Fatal(err)
	}
	id, body := withID(t, channeltest.TelegramTextUpdate(amira, "hello"))
	if w := e.post(t, body, secret); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 so that Telegram sends the update again", w.Code)
	}
	if _, err := e.pool.Exec(ctx, `ALTER TABLE sessions_away RENAME TO sessions`); err != nil {
		t.Fatal(err)
	}
	if w := e.post(t, body, secret); w.Code != http.StatusOK {
		t.Fatalf("retry: status %d", w.Code)
	}
	if n := e.count(t, `SELECT count(*) FROM inbox WHERE external_id = $1`, itoa(id)); n != 1 {
		t.Errorf("update stored %d times, want once", n)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
