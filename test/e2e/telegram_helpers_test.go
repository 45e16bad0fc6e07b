package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store/localpg"
)

// tgTimeout bounds every wait for something serve does in reaction to an update.
const tgTimeout = 20 * time.Second

// randomWord is n random characters of [A-Za-z0-9], fit for a bot token or a webhook secret.
func randomWord(t *testing.T, n int) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// randomToken is a bot token in Telegram's form, unique to the test so that grepping for it
// finds only leaks.
func randomToken(t *testing.T) string {
	return "7" + fmt.Sprint(time.Now().UnixNano()%100000000) + ":AA" + randomWord(t, 33)
}

// telegramServeEnv is serve on databaseURL with the Telegram channel pointed at apiURL, both
// listeners on ports the system picks, and no per-chat rate limit to wait for.
func telegramServeEnv(databaseURL, token, apiURL string) map[string]string {
	return map[string]string{
		"DATABASE_URL":             databaseURL,
		"SAWT_HTTP_ADDR":           "127.0.0.1:0",
		"SAWT_ADMIN_ADDR":          "127.0.0.1:0",
		"TELEGRAM_BOT_TOKEN":       token,
		"TELEGRAM_API_URL":         apiURL,
		"TELEGRAM_CHAT_RATE_LIMIT": "1000",
	}
}

// stopServe sends sig to serve (on an external database) and checks that it exits 0 within
// 30s, having said so.
func stopServe(t *testing.T, p *proc, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v: %v", sig, err)
	}
	code, ok := p.wait(30 * time.Second)
	if !ok {
		t.Fatalf("serve still running 30s after %v; stderr:\n%s", sig, p.stderr.String())
	}
	if code != 0 {
		t.Errorf("serve exited with %d after %v, want 0; stderr:\n%s", code, sig, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Errorf("after %v serve did not log that it stopped:\n%s", sig, p.stderr.String())
	}
}

// killServe ends serve with SIGKILL and waits for it to be gone.
func killServe(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	if _, ok := p.wait(10 * time.Second); !ok {
		t.Fatal("serve still running 10s after SIGKILL")
	}
}

var riverClientLine = regexp.MustCompile(`msg="River client started" component=river client_id=(\S+)`)

// riverClientID is the id of the job client serve started, as it logged it.
func riverClientID(t *testing.T, p *proc) string {
	t.Helper()
	m := riverClientLine.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("serve did not log its River client's id:\n%s", p.stderr.String())
	}
	return m[1]
}

// ---- a PostgreSQL the test can stop and start ----

// stoppablePG is a private, non-durable PostgreSQL server of one test, under a directory the
// postgres user may traverse, that the test can stop and start again on the same cluster.
type stoppablePG struct {
	t    *testing.T
	dir  string
	mu   sync.Mutex
	srv  *localpg.Server
	base string
}

func newStoppablePG(t *testing.T) *stoppablePG {
	t.Helper()
	base, err := os.MkdirTemp("", "sawt-e2e-tg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	pg := &stoppablePG{t: t, dir: filepath.Join(base, "pg"), base: base}
	t.Cleanup(func() {
		pg.mu.Lock()
		srv := pg.srv
		pg.mu.Unlock()
		if srv != nil {
			if err := srv.Stop(); err != nil {
				t.Errorf("stop PostgreSQL: %v", err)
			}
		}
		// pg_ctl stop returns once the pid file is gone, a moment before the
		// postmaster process itself has exited: give it that moment.
		if pid, gone := waitNoPostmaster(pg.dir, 10*time.Second); !gone {
			t.Errorf("PostgreSQL (PID %d) still running on %s at the end of the test: stopping it", pid, pg.dir)
			killPostmaster(pid, pg.dir)
		}
		os.RemoveAll(base)
	})
	pg.start()
	return pg
}

func (pg *stoppablePG) start() {
	pg.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := localpg.Start(ctx, localpg.Options{Dir: pg.dir, Durable: false})
	if err != nil {
		pg.t.Fatalf("start PostgreSQL in %s: %v", pg.dir, err)
	}
	pg.mu.Lock()
	pg.srv = srv
	pg.mu.Unlock()
}

func (pg *stoppablePG) stop() {
	pg.t.Helper()
	pg.mu.Lock()
	srv := pg.srv
	pg.mu.Unlock()
	if err := srv.Stop(); err != nil {
		pg.t.Fatalf("stop PostgreSQL: %v", err)
	}
	if pid, gone := waitNoPostmaster(pg.dir, 10*time.Second); !gone {
		pg.t.Fatalf("PostgreSQL (PID %d) still runs after Stop", pid)
	}
}

func (pg *stoppablePG) server() *localpg.Server {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return pg.srv
}

// ---- talking to serve and to the database ----

// withUpdateID sets update_id on an update built by channeltest.
func withUpdateID(t *testing.T, update json.RawMessage, id int64) []byte {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(update, &obj); err != nil {
		t.Fatal(err)
	}
	obj["update_id"] = json.RawMessage(fmt.Sprint(id))
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// press is a press on button data of the bot's message sent: the callback's message carries
// the keyboard it was sent with, as Telegram's does. messageID is the fake's id of it.
func press(t *testing.T, user channeltest.TelegramUser, sent channeltest.TelegramCall, messageID int, data string) (update json.RawMessage, callbackID string) {
	t.Helper()
	raw := channeltest.TelegramCallbackUpdate(user, messageID, sent.Params["text"], data)
	var u map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatal(err)
	}
	cq := u["callback_query"]
	if err := json.Unmarshal(cq["id"], &callbackID); err != nil {
		t.Fatal(err)
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(cq["message"], &msg); err != nil {
		t.Fatal(err)
	}
	if markup := sent.Params["reply_markup"]; markup != "" {
		msg["reply_markup"] = json.RawMessage(markup)
	}
	cq["message"], _ = json.Marshal(msg)
	update, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return update, callbackID
}

// tgButton is an inline keyboard button as the channel sends it.
type tgButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// keyboardOf reads the inline keyboard of a sendMessage call (nil when it has none).
func keyboardOf(t *testing.T, c channeltest.TelegramCall) [][]tgButton {
	t.Helper()
	raw := c.Params["reply_markup"]
	if raw == "" {
		return nil
	}
	var m struct {
		InlineKeyboard [][]tgButton `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("reply_markup %s: %v", raw, err)
	}
	return m.InlineKeyboard
}

// buttonData is the callback data of the button labelled label.
func buttonData(t *testing.T, c channeltest.TelegramCall, label string) string {
	t.Helper()
	for _, row := range keyboardOf(t, c) {
		for _, b := range row {
			if b.Text == label {
				return b.CallbackData
			}
		}
	}
	t.Fatalf("no button %q under %q: reply_markup %s", label, c.Params["text"], c.Params["reply_markup"])
	return ""
}

// replies follows the sendMessage calls to one chat.
type replies struct {
	fake *channeltest.TelegramAPI
	chat string
	seen int // sendMessage calls already looked at
}

// all are the sendMessage calls to the chat, in order.
func (r *replies) all() []channeltest.TelegramCall {
	var out []channeltest.TelegramCall
	for _, c := range r.fake.Calls("sendMessage") {
		if c.Params["chat_id"] == r.chat {
			out = append(out, c)
		}
	}
	return out
}

// next waits for a sendMessage to the chat, after those seen, whose text contains want, and
// returns it with the message_id the fake gave it (the fake numbers the messages it accepts
// 1, 2, 3…). Messages before it are taken as seen too.
func (r *replies) next(t *testing.T, want string) (channeltest.TelegramCall, int) {
	t.Helper()
	deadline := time.Now().Add(tgTimeout)
	for {
		all := r.fake.Calls("sendMessage")
		ok := 0
		for i, c := range all {
			if c.Status == http.StatusOK || c.Status == 0 {
				ok++
			}
			if i < r.seen || c.Params["chat_id"] != r.chat || !strings.Contains(c.Params["text"], want) {
				continue
			}
			if c.Status == 0 { // still being answered: wait for its status
				break
			}
			if c.Status != http.StatusOK {
				continue
			}
			r.seen = i + 1
			return c, ok
		}
		if time.Now().After(deadline) {
			var texts []string
			for _, c := range all[min(r.seen, len(all)):] {
				texts = append(texts, fmt.Sprintf("%d %q", c.Status, c.Params["text"]))
			}
			t.Fatalf("no sendMessage to chat %s saying %q within %v; since the last one seen: %v", r.chat, want, tgTimeout, texts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nextAll waits for sendMessage calls to the chat, after those seen, one saying each of wants,
// in whatever order, and returns them in the order they were sent. Everything before the last
// of them is taken as seen.
func (r *replies) nextAll(t *testing.T, wants ...string) []channeltest.TelegramCall {
	t.Helper()
	deadline := time.Now().Add(tgTimeout)
	for {
		all := r.fake.Calls("sendMessage")
		var got []channeltest.TelegramCall
		last := -1
		found := make([]bool, len(wants))
		for i := r.seen; i < len(all); i++ {
			c := all[i]
			if c.Params["chat_id"] != r.chat || c.Status != http.StatusOK {
				continue
			}
			for j, want := range wants {
				if !found[j] && strings.Contains(c.Params["text"], want) {
					found[j], last = true, i
					got = append(got, c)
					break
				}
			}
		}
		if len(got) == len(wants) {
			r.seen = last + 1
			return got
		}
		if time.Now().After(deadline) {
			var texts []string
			for _, c := range all[min(r.seen, len(all)):] {
				texts = append(texts, fmt.Sprintf("%d %q", c.Status, c.Params["text"]))
			}
			t.Fatalf("no sendMessage to chat %s saying each of %q within %v; since the last one seen: %v", r.chat, wants, tgTimeout, texts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count is how many sendMessage calls to the chat say want.
func (r *replies) count(want string) int {
	n := 0
	for _, c := range r.all() {
		if strings.Contains(c.Params["text"], want) {
			n++
		}
	}
	return n
}

// delivered is how many sendMessage calls to the chat that say want were accepted.
func (r *replies) delivered(want string) int {
	n := 0
	for _, c := range r.all() {
		if c.Status == http.StatusOK && strings.Contains(c.Params["text"], want) {
			n++
		}
	}
	return n
}

// webhookClient posts updates to serve's webhook as Telegram does.
type webhookClient struct {
	url    string
	secret string
	client *http.Client
}

func (w *webhookClient) post(t *testing.T, secret string, body []byte) (int, string) {
	t.Helper()
	code, resp, err := w.tryPost(secret, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, resp
}

// tryPost is post for any goroutine: it reports a failed request instead of ending the test.
func (w *webhookClient) tryPost(secret string, body []byte) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("POST %s: %w", w.url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), nil
}

// send posts an update with the right secret and wants 200.
func (w *webhookClient) send(t *testing.T, body []byte) {
	t.Helper()
	if code, resp := w.post(t, w.secret, body); code != http.StatusOK {
		t.Fatalf("webhook answered %d %s to %s, want 200", code, resp, body)
	}
}

func openPool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(ctxTimeout(t), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// queryInt runs a query that returns one integer.
func queryInt(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(ctxTimeout(t), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// inboundCount is how many inbound messages of Telegram update id are logged.
func inboundCount(t *testing.T, pool *pgxpool.Pool, updateID int64) int64 {
	t.Helper()
	return queryInt(t, pool, `SELECT count(*) FROM inbox i JOIN messages m ON m.inbox_id = i.id
		WHERE i.channel = 'telegram' AND i.external_id = $1 AND m.direction = 'in'`, fmt.Sprint(updateID))
}

// inboxCount is how many times Telegram update id is in the inbox.
func inboxCount(t *testing.T, pool *pgxpool.Pool, updateID int64) int64 {
	t.Helper()
	return queryInt(t, pool, `SELECT count(*) FROM inbox WHERE channel = 'telegram' AND external_id = $1`, fmt.Sprint(updateID))
}

// replyCount is how many replies to Telegram update id are logged.
func replyCount(t *testing.T, pool *pgxpool.Pool, updateID int64) int64 {
	t.Helper()
	return queryInt(t, pool, `SELECT count(*) FROM inbox i JOIN messages m ON m.inbox_id = i.id
		JOIN messages o ON o.reply_to = m.id WHERE i.channel = 'telegram' AND i.external_id = $1`, fmt.Sprint(updateID))
}

// waitFor polls cond until it holds, failing the test after tgTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(tgTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, tgTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storedOffset is the Telegram polling offset in channel_state, "" when none.
func storedOffset(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var v string
	err := pool.QueryRow(ctxTimeout(t), `SELECT coalesce((SELECT value FROM channel_state WHERE key = 'telegram:offset'), '')`).Scan(&v)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ---- a front for the fake Bot API that can hang up ----

// hangUpFront forwards requests to the fake Bot API, except that it closes the connection
// without an answer on the next calls of the methods it is told to: what a proxy or a broken
// network does, and what makes an HTTP client's error carry the request URL, token and all.
type hangUpFront struct {
	URL string

	mu      sync.Mutex
	pending map[string]int // lower-case method → hang-ups left
	done    map[string]int
}

func newHangUpFront(t *testing.T, target string) *hangUpFront {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &hangUpFront{pending: map[string]int{}, done: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // a long poll cut short is not news
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := strings.ToLower(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
		f.mu.Lock()
		hang := f.pending[method] > 0
		if hang {
			f.pending[method]--
			f.done[method]++
		}
		f.mu.Unlock()
		if !hang {
			proxy.ServeHTTP(w, r)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	f.URL = "http://" + ln.Addr().String()
	return f
}

// hangUp makes the next n calls of method get no answer.
func (f *hangUpFront) hangUp(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[strings.ToLower(method)] += n
}

// hungUp is how many calls of method were hung up on.
func (f *hangUpFront) hungUp(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done[strings.ToLower(method)]
}
