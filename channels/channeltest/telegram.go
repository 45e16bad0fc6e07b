package channeltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// TelegramLongPollCap is the longest a getUpdates long poll waits in the fake, whatever timeout
// the client asked for, so that tests stay fast.
const TelegramLongPollCap = 2 * time.Second

// TelegramMaxMessageLength is Telegram's limit on a message's text, in UTF-16 code units.
const TelegramMaxMessageLength = 4096

// DefaultTelegramToken is the token NewTelegramAPI uses when it is given none.
const DefaultTelegramToken = "123456789:AAEsawt-test-token"

// Real Bot API descriptions that the fake answers with.
const (
	telegramBlocked       = "Forbidden: bot was blocked by the user"
	telegramChatNotFound  = "Bad Request: chat not found"
	telegramUnauthorized  = "Unauthorized"
	telegramNotFound      = "Not Found"
	telegramPollConflict  = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	telegramHookConflict  = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	telegramNotModified   = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	telegramTextEmpty     = "Bad Request: message text is empty"
	telegramTextTooLong   = "Bad Request: message is too long"
	telegramChatIDEmpty   = "Bad Request: chat_id is empty"
	telegramBadMarkup     = "Bad Request: can't parse reply keyboard markup JSON object"
	telegramButtonData    = "Bad Request: BUTTON_DATA_INVALID"
	telegramBadWebhookURL = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
	telegramBadSecret     = "Bad Request: secret token contains unallowed characters"
)

// TelegramAPI is a fake Telegram Bot API server. Point the client at URL (for
// github.com/go-telegram/bot: bot.WithServerURL(fake.URL), bot.WithSkipGetMe()) and use Token.
//
// It answers POST {URL}/bot{Token}/{method} with the real wire format: parameters as
// multipart/form-data, application/x-www-form-urlencoded, a JSON object or the query string;
// answers {"ok":true,"result":…} or {"ok":false,"error_code":N,"description":…} with HTTP
// status N. Method names are case-insensitive, as in the real API. It implements getMe,
// getUpdates, sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage,
// answerCallbackQuery, sendChatAction, setMyCommands, setWebhook, deleteWebhook,
// getWebhookInfo and getFile, and serves files added with AddFile at
// {URL}/file/bot{Token}/{file_path}. Other methods answer 404 "Not Found", as unknown methods do
// at Telegram, so that a product starting to use a new method fails loudly until the fake
// learns it. Requests that are not POST answer 405 (Telegram also takes GET: the fake is
// stricter).
//
// It keeps what Telegram would check and products get wrong: empty and over-long texts,
// unparsable reply markup, callback_data over 64 bytes, editing a message to what it already is
// ("message is not modified"), editing or deleting a deleted message, a webhook URL that is not
// HTTPS, a webhook secret with forbidden characters, getUpdates while a webhook is set, and
// two getUpdates at once (the older one is answered 409, as Telegram does).
//
// It is safe for concurrent use.
type TelegramAPI struct {
	URL   string
	Token string

	t       testing.TB
	srv     *httptest.Server
	closing chan struct{}

	mu           sync.Mutex
	calls        []*TelegramCall
	callsChanged chan struct{}
	failures     map[string][]Failure // by lower-case method
	failureNames map[string]string    // lower-case method → as the test spelled it

	updates        []queuedUpdate
	updatesChanged chan struct{}
	nextUpdateID   int64
	poll           chan struct{} // closed to end the waiting getUpdates with 409

	webhookURL     string
	webhookSecret  string
	allowedUpdates []string

	nextMessageID int
	messages      map[telegramMessageKey]*telegramSent
	files         map[string]telegramFile
	nextFile      int
}

// TelegramCall is one request the fake received.
type TelegramCall struct {
	// Method is the Bot API method, spelled as Telegram documents it when the fake knows it
	// (a call to /bot…/SENDMESSAGE is recorded as "sendMessage"), as received otherwise.
	// File downloads are recorded as "downloadFile" with the parameter file_path.
	Method string
	// Params are the request's parameters as strings: complex values (reply_markup,
	// allowed_updates) are the JSON text the client sent.
	Params map[string]string
	// Files are the uploaded files of a multipart request, by field name.
	Files map[string]TelegramUpload
	// At is when the request arrived.
	At time.Time
	// Status is the HTTP status the fake answered with; 0 while it is being answered, or
	// when the client went away before the answer.
	Status int
}

// TelegramUpload is a file uploaded in a multipart request.
type TelegramUpload struct {
	Filename string
	Data     []byte
}

// Failure scripts the answer to one call of a method.
type Failure struct {
	// Status is the HTTP status and error_code: 429, 403, 400, 401, 409, 500, 502… A Failure
	// with no Status (nor NotJSON) answers the call normally, after Delay: use it for a slow
	// success, or to let one call through between failures.
	Status int
	// Description defaults to the real description for the status.
	Description string
	// RetryAfter is the parameters.retry_after of a 429; it defaults to 1, as Telegram never
	// sends 0.
	RetryAfter int
	// NotJSON answers with an HTML body, as a proxy does, with Status (default 502).
	NotJSON bool
	// Delay is how long to wait before answering; if the client gives up first, the call gets
	// no answer (and the failure is still used).
	Delay time.Duration
}

type queuedUpdate struct {
	id  int64
	raw json.RawMessage
}

type telegramMessageKey struct {
	chat int64
	id   int
}

type telegramSent struct {
	text    string
	markup  string // canonical JSON of an inline keyboard, "" for none
	date    int64
	deleted bool
}

type telegramFile struct {
	path string
	data []byte
}

// telegramError is a failed answer; a zero Status means the client went away and gets none.
type telegramError struct {
	Status      int
	Description string
	RetryAfter  int
}

var telegramGone = &telegramError{}

func badRequest(desc string) *telegramError { return &telegramError{Status: 400, Description: desc} }

// NewTelegramAPI starts the fake on 127.0.0.1; it is closed in t.Cleanup. At cleanup it fails the
// test if failures were scripted but never used. An empty token means DefaultTelegramToken.
func NewTelegramAPI(t testing.TB, token string) *TelegramAPI {
	t.Helper()
	if token == "" {
		token = DefaultTelegramToken
	}
	f := &TelegramAPI{
		Token:          token,
		t:              t,
		closing:        make(chan struct{}),
		callsChanged:   make(chan struct{}),
		failures:       map[string][]Failure{},
		failureNames:   map[string]string{},
		updatesChanged: make(chan struct{}),
		nextUpdateID:   1000,
		messages:       map[telegramMessageKey]*telegramSent{},
		files:          map[string]telegramFile{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.srv.URL
	t.Cleanup(func() {
		close(f.closing)
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		methods := make([]string, 0, len(f.failures))
		for m, left := range f.failures {
			if len(left) > 0 {
				methods = append(methods, m)
			}
		}
		sort.Strings(methods)
		for _, m := range methods {
			t.Errorf("channeltest: TelegramAPI: %d scripted failure(s) for %s never used: %+v",
				len(f.failures[m]), f.failureNames[m], f.failures[m])
		}
	})
	return f
}

// Calls returns the calls received so far, or only those of these methods (case-insensitive), in
// arrival order.
func (f *TelegramAPI) Calls(methods ...string) []TelegramCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.callsLocked(methods...)
}

func (f *TelegramAPI) callsLocked(methods ...string) []TelegramCall {
	out := []TelegramCall{}
	for _, c := range f.calls {
		if len(methods) > 0 && !matchesAny(c.Method, methods) {
			continue
		}
		cp := *c
		cp.Params = make(map[string]string, len(c.Params))
		for k, v := range c.Params {
			cp.Params[k] = v
		}
		if c.Files != nil {
			cp.Files = make(map[string]TelegramUpload, len(c.Files))
			for k, v := range c.Files {
				cp.Files[k] = v
			}
		}
		out = append(out, cp)
	}
	return out
}

func matchesAny(method string, methods []string) bool {
	for _, m := range methods {
		if strings.EqualFold(m, method) {
			return true
		}
	}
	return false
}

// WaitCalls waits until at least n calls of method have arrived (they may still be being
// answered) and returns all calls of that method; it fails the test (t.Fatalf: call it from the
// test's goroutine) if that takes longer than timeout.
func (f *TelegramAPI) WaitCalls(t testing.TB, method string, n int, timeout time.Duration) []TelegramCall {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		calls := f.callsLocked(method)
		changed := f.callsChanged
		f.mu.Unlock()
		if len(calls) >= n {
			return calls
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("channeltest: TelegramAPI: waited %v for %d %s call(s), got %d; all calls: %s",
				timeout, n, method, len(calls), f.summary())
			return calls
		}
	}
}

func (f *TelegramAPI) summary() string {
	var b strings.Builder
	for i, c := range f.Calls() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s→%d", c.Method, c.Status)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// Fail scripts the answers to the next calls of method (case-insensitive), in order; each is used
// once. Calls with the wrong token or HTTP method do not use them.
func (f *TelegramAPI) Fail(method string, failures ...Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(method)
	f.failures[key] = append(f.failures[key], failures...)
	f.failureNames[key] = method
}

// QueueUpdates queues updates for getUpdates, each an Update object as JSON. An update without
// update_id (or with 0) gets the next one from the fake: 1000, 1001, …; explicit ones move the
// counter past them. A long poll waiting for updates is answered at once.
func (f *TelegramAPI) QueueUpdates(updates ...json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, u := range updates {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(u, &obj); err != nil || obj == nil {
			f.t.Errorf("channeltest: TelegramAPI.QueueUpdates: update %d is not a JSON object: %s", i, u)
			continue
		}
		var id int64
		if raw, ok := obj["update_id"]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &id); err != nil {
				f.t.Errorf("channeltest: TelegramAPI.QueueUpdates: update %d has update_id %s, not an integer", i, raw)
				continue
			}
		}
		if id == 0 {
			id = f.nextUpdateID
		}
		obj["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
		raw, err := json.Marshal(obj)
		if err != nil {
			f.t.Errorf("channeltest: TelegramAPI.QueueUpdates: update %d: %v", i, err)
			continue
		}
		if id >= f.nextUpdateID {
			f.nextUpdateID = id + 1
		}
		f.updates = append(f.updates, queuedUpdate{id: id, raw: raw})
	}
	close(f.updatesChanged)
	f.updatesChanged = make(chan struct{})
}

// PendingUpdates returns how many queued updates getUpdates has not yet seen confirmed (by an
// offset past them).
func (f *TelegramAPI) PendingUpdates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.updates)
}

// Webhook returns the webhook as last set by setWebhook; deleteWebhook (or setWebhook with an
// empty url) clears it.
func (f *TelegramAPI) Webhook() (url, secret string, allowedUpdates []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhookURL, f.webhookSecret, append([]string(nil), f.allowedUpdates...)
}

// AddFile makes a file known to getFile under fileID and downloadable at
// {URL}/file/bot{Token}/{file_path}. An empty filePath becomes "documents/file_N". It returns the
// file_path.
func (f *TelegramAPI) AddFile(fileID, filePath string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if filePath == "" {
		filePath = fmt.Sprintf("documents/file_%d", f.nextFile)
	}
	f.nextFile++
	f.files[fileID] = telegramFile{path: filePath, data: append([]byte(nil), data...)}
	return filePath
}

// BotID is the bot's user id: the number before ':' in the token (1 if there is none).
func (f *TelegramAPI) BotID() int64 {
	id, err := strconv.ParseInt(strings.SplitN(f.Token, ":", 2)[0], 10, 64)
	if err != nil || id <= 0 {
		return 1
	}
	return id
}

// ---- serving ----

type telegramMethod func(f *TelegramAPI, r *http.Request, p map[string]string) (any, *telegramError)

// lookupMethod finds a Bot API method by name, case-insensitively as Telegram does, and
// returns its canonical name.
func lookupMethod(method string) (name string, fn telegramMethod, ok bool) {
	for name, fn := range map[string]telegramMethod{
		"getMe":                  (*TelegramAPI).getMe,
		"getUpdates":             (*TelegramAPI).getUpdates,
		"sendMessage":            (*TelegramAPI).sendMessage,
		"editMessageText":        (*TelegramAPI).editMessageText,
		"editMessageReplyMarkup": (*TelegramAPI).editMessageReplyMarkup,
		"deleteMessage":          (*TelegramAPI).deleteMessage,
		"answerCallbackQuery":    (*TelegramAPI).answerCallbackQuery,
		"sendChatAction":         (*TelegramAPI).answerTrue,
		"setMyCommands":          (*TelegramAPI).answerTrue,
		"setWebhook":             (*TelegramAPI).setWebhook,
		"deleteWebhook":          (*TelegramAPI).deleteWebhook,
		"getWebhookInfo":         (*TelegramAPI).getWebhookInfo,
		"getFile":                (*TelegramAPI).getFile,
	} {
		if strings.EqualFold(name, method) {
			return name, fn, true
		}
	}
	return "", nil, false
}

func (f *TelegramAPI) serveHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		f.serveFile(w, r, at, rest)
		return
	}
	token, method, pathOK := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	pathOK = pathOK && strings.HasPrefix(r.URL.Path, "/bot")
	if name, _, ok := lookupMethod(method); ok {
		method = name
	}
	params, files, parseErr := readTelegramParams(r)
	call := f.record(method, params, files, at)

	var result any
	var terr *telegramError
	switch {
	case !pathOK:
		terr = &telegramError{Status: 404, Description: telegramNotFound}
	case r.Method != http.MethodPost:
		terr = &telegramError{Status: 405, Description: "Method Not Allowed"}
	case token != f.Token:
		terr = &telegramError{Status: 401, Description: telegramUnauthorized}
	default:
		result, terr = f.answer(r, method, params, parseErr)
	}
	f.finish(w, call, result, terr)
}

// answer runs a call past its scripted failure, if any, then the method.
func (f *TelegramAPI) answer(r *http.Request, method string, p map[string]string, parseErr error) (any, *telegramError) {
	if terr := f.scripted(r, method); terr != nil {
		return nil, terr
	}
	if parseErr != nil {
		return nil, badRequest("Bad Request: " + parseErr.Error())
	}
	_, fn, ok := lookupMethod(method)
	if !ok {
		return nil, &telegramError{Status: 404, Description: telegramNotFound}
	}
	return fn(f, r, p)
}

// scripted uses the next scripted failure of method, if any: it waits its Delay and returns the
// failed answer, or nil when the call is to be answered normally.
func (f *TelegramAPI) scripted(r *http.Request, method string) *telegramError {
	fl, ok := f.nextFailure(method)
	if !ok {
		return nil
	}
	if fl.Delay > 0 {
		t := time.NewTimer(fl.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return telegramGone
		case <-f.closing:
			panic(http.ErrAbortHandler)
		}
	}
	if fl.NotJSON {
		status := fl.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		return &telegramError{Status: -status} // negative: an HTML body
	}
	if fl.Status == 0 || fl.Status == http.StatusOK {
		return nil
	}
	retry := fl.RetryAfter
	if fl.Status == http.StatusTooManyRequests && retry <= 0 {
		retry = 1
	}
	desc := fl.Description
	if desc == "" {
		desc = telegramDescription(fl.Status, retry)
	}
	return &telegramError{Status: fl.Status, Description: desc, RetryAfter: retry}
}

func (f *TelegramAPI) nextFailure(method string) (Failure, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(method)
	left := f.failures[key]
	if len(left) == 0 {
		return Failure{}, false
	}
	f.failures[key] = left[1:]
	return left[0], true
}

func telegramDescription(status, retryAfter int) string {
	switch status {
	case 400:
		return telegramChatNotFound
	case 401:
		return telegramUnauthorized
	case 403:
		return telegramBlocked
	case 404:
		return telegramNotFound
	case 409:
		return telegramPollConflict
	case 429:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return fmt.Sprintf("Error %d", status)
}

func (f *TelegramAPI) record(method string, params map[string]string, files map[string]TelegramUpload, at time.Time) *TelegramCall {
	c := &TelegramCall{Method: method, Params: params, Files: files, At: at}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	close(f.callsChanged)
	f.callsChanged = make(chan struct{})
	return c
}

// finish writes the answer and records its status.
func (f *TelegramAPI) finish(w http.ResponseWriter, call *TelegramCall, result any, terr *telegramError) {
	status := writeTelegram(w, result, terr)
	f.mu.Lock()
	call.Status = status
	f.mu.Unlock()
}

const proxyHTML = "<html>\r\n<head><title>%[1]d %[2]s</title></head>\r\n<body>\r\n<center><h1>%[1]d %[2]s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

func writeTelegram(w http.ResponseWriter, result any, terr *telegramError) int {
	switch {
	case terr == telegramGone:
		return 0
	case terr != nil && terr.Status < 0:
		status := -terr.Status
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, proxyHTML, status, http.StatusText(status))
		return status
	case terr != nil:
		body := map[string]any{"ok": false, "error_code": terr.Status, "description": terr.Description}
		if terr.RetryAfter > 0 {
			body["parameters"] = map[string]int{"retry_after": terr.RetryAfter}
		}
		writeJSON(w, terr.Status, body)
		return terr.Status
	default:
		writeJSON(w, http.StatusOK, struct {
			OK     bool `json:"ok"`
			Result any  `json:"result"`
		}{true, result})
		return http.StatusOK
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"ok":false,"error_code":500,"description":"fake: ` + strings.ReplaceAll(err.Error(), `"`, `'`) + `"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func (f *TelegramAPI) serveFile(w http.ResponseWriter, r *http.Request, at time.Time, rest string) {
	token, path, _ := strings.Cut(rest, "/")
	call := f.record("downloadFile", map[string]string{"file_path": path}, nil, at)
	var terr *telegramError
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		terr = &telegramError{Status: 405, Description: "Method Not Allowed"}
	case token != f.Token:
		terr = &telegramError{Status: 401, Description: telegramUnauthorized}
	default:
		terr = f.scripted(r, "downloadFile")
	}
	if terr != nil {
		f.finish(w, call, nil, terr)
		return
	}
	f.mu.Lock()
	var data []byte
	found := false
	for _, file := range f.files {
		if file.path == path {
			data, found = file.data, true
			break
		}
	}
	f.mu.Unlock()
	if !found {
		f.finish(w, call, nil, &telegramError{Status: 404, Description: telegramNotFound})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
	f.mu.Lock()
	call.Status = http.StatusOK
	f.mu.Unlock()
}

// readTelegramParams normalises the query string and a multipart, urlencoded or JSON body to
// one map of strings; body values win over query values.
func readTelegramParams(r *http.Request) (map[string]string, map[string]TelegramUpload, error) {
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return params, nil, fmt.Errorf("can't read the request: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil, nil // go-telegram/bot sends an empty multipart body for getMe
	}
	mediaType, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		form, err := multipart.NewReader(bytes.NewReader(body), mp["boundary"]).ReadForm(64 << 20)
		if err != nil {
			return params, nil, fmt.Errorf("can't parse multipart form: %v", err)
		}
		defer form.RemoveAll()
		for k, v := range form.Value {
			if len(v) > 0 {
				params[k] = v[0]
			}
		}
		var files map[string]TelegramUpload
		for k, fhs := range form.File {
			if len(fhs) == 0 {
				continue
			}
			fh, err := fhs[0].Open()
			if err != nil {
				return params, nil, err
			}
			data, err := io.ReadAll(fh)
			fh.Close()
			if err != nil {
				return params, nil, err
			}
			if files == nil {
				files = map[string]TelegramUpload{}
			}
			files[k] = TelegramUpload{Filename: fhs[0].Filename, Data: data}
		}
		return params, files, nil
	case "application/x-www-form-urlencoded":
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return params, nil, fmt.Errorf("can't parse the form: %v", err)
		}
		for k, v := range values {
			params[k] = v[0]
		}
		return params, nil, nil
	case "application/json":
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return params, nil, fmt.Errorf("can't parse JSON object: %v", err)
		}
		for k, raw := range obj {
			raw = bytes.TrimSpace(raw)
			switch {
			case string(raw) == "null":
			case len(raw) > 0 && raw[0] == '"':
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return params, nil, fmt.Errorf("can't parse JSON object: %v", err)
				}
				params[k] = s
			default:
				var buf bytes.Buffer
				if err := json.Compact(&buf, raw); err != nil {
					return params, nil, fmt.Errorf("can't parse JSON object: %v", err)
				}
				params[k] = buf.String()
			}
		}
		return params, nil, nil
	}
	return params, nil, nil // Telegram ignores bodies it can't read; so does the fake
}

// ---- methods ----

func (f *TelegramAPI) answerTrue(*http.Request, map[string]string) (any, *telegramError) {
	return true, nil
}

type telegramUserJSON struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	Username  string `json:"username,omitempty"`
}

type telegramChatJSON struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

type telegramMessageJSON struct {
	MessageID   int              `json:"message_id"`
	From        telegramUserJSON `json:"from"`
	Chat        telegramChatJSON `json:"chat"`
	Date        int64            `json:"date"`
	EditDate    int64            `json:"edit_date,omitempty"`
	Text        string           `json:"text,omitempty"`
	ReplyMarkup json.RawMessage  `json:"reply_markup,omitempty"`
}

func (f *TelegramAPI) bot() telegramUserJSON {
	return telegramUserJSON{ID: f.BotID(), IsBot: true, FirstName: "Sawt", Username: "sawt_test_bot"}
}

func (f *TelegramAPI) getMe(*http.Request, map[string]string) (any, *telegramError) {
	return f.bot(), nil
}

// telegramChat resolves chat_id: numbers only, as the fake knows no public @usernames.
func telegramChat(chatID string) (telegramChatJSON, *telegramError) {
	if chatID == "" {
		return telegramChatJSON{}, badRequest(telegramChatIDEmpty)
	}
	id, err := strconv.ParseInt(chatID, 10, 64)
	if err != nil || id == 0 {
		return telegramChatJSON{}, badRequest(telegramChatNotFound)
	}
	switch {
	case id > 0:
		return telegramChatJSON{ID: id, Type: "private"}, nil
	case id <= -1000000000000:
		return telegramChatJSON{ID: id, Type: "supergroup"}, nil
	default:
		return telegramChatJSON{ID: id, Type: "group"}, nil
	}
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// visibleText is the text a person sees: with parse_mode HTML, tags are dropped and entities
// decoded; Markdown is counted as sent (the fake does not parse it).
func visibleText(text, parseMode string) string {
	if strings.EqualFold(parseMode, "HTML") {
		return html.UnescapeString(htmlTag.ReplaceAllString(text, ""))
	}
	return text
}

// utf16Len counts UTF-16 code units, as Telegram measures texts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func checkText(text, parseMode string) (string, *telegramError) {
	visible := visibleText(text, parseMode)
	if strings.TrimSpace(visible) == "" {
		return "", badRequest(telegramTextEmpty)
	}
	if utf16Len(visible) > TelegramMaxMessageLength {
		return "", badRequest(telegramTextTooLong)
	}
	return visible, nil
}

// checkMarkup validates reply_markup and returns the inline keyboard, in canonical JSON ("" when
// the markup is absent, empty or not an inline keyboard).
func checkMarkup(markup string) (string, *telegramError) {
	if strings.TrimSpace(markup) == "" {
		return "", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(markup), &obj); err != nil || obj == nil {
		return "", badRequest(telegramBadMarkup)
	}
	raw, ok := obj["inline_keyboard"]
	if !ok {
		return "", nil
	}
	var rows [][]map[string]any
	if err := json.Unmarshal(raw, &rows); err != nil {
		return "", badRequest(telegramBadMarkup)
	}
	empty := true
	for _, row := range rows {
		for _, button := range row {
			empty = false
			if data, ok := button["callback_data"]; ok {
				s, isString := data.(string)
				if !isString || len(s) < 1 || len(s) > 64 {
					return "", badRequest(telegramButtonData)
				}
			}
		}
	}
	if empty {
		return "", nil
	}
	canonical, _ := json.Marshal(map[string]any{"inline_keyboard": rows})
	return string(canonical), nil
}

func (f *TelegramAPI) sendMessage(_ *http.Request, p map[string]string) (any, *telegramError) {
	chat, terr := telegramChat(p["chat_id"])
	if terr != nil {
		return nil, terr
	}
	text, terr := checkText(p["text"], p["parse_mode"])
	if terr != nil {
		return nil, terr
	}
	markup, terr := checkMarkup(p["reply_markup"])
	if terr != nil {
		return nil, terr
	}
	now := time.Now().Unix()
	f.mu.Lock()
	f.nextMessageID++
	id := f.nextMessageID
	f.messages[telegramMessageKey{chat.ID, id}] = &telegramSent{text: text, markup: markup, date: now}
	f.mu.Unlock()
	return telegramMessageJSON{MessageID: id, From: f.bot(), Chat: chat, Date: now, Text: text, ReplyMarkup: rawOrNil(markup)}, nil
}

func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// editTarget finds the message an edit names; nil sent means a message the fake did not send
// (or an inline message), which it takes on trust.
func (f *TelegramAPI) editTarget(p map[string]string, notFound string) (telegramChatJSON, int, *telegramError) {
	chat, terr := telegramChat(p["chat_id"])
	if terr != nil {
		return chat, 0, terr
	}
	id, err := strconv.Atoi(p["message_id"])
	if err != nil || id <= 0 {
		return chat, 0, badRequest("Bad Request: message identifier is not specified")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if sent := f.messages[telegramMessageKey{chat.ID, id}]; sent != nil && sent.deleted {
		return chat, 0, badRequest(notFound)
	}
	return chat, id, nil
}

func (f *TelegramAPI) editMessageText(_ *http.Request, p map[string]string) (any, *telegramError) {
	return f.edit(p, true)
}

func (f *TelegramAPI) editMessageReplyMarkup(_ *http.Request, p map[string]string) (any, *telegramError) {
	return f.edit(p, false)
}

func (f *TelegramAPI) edit(p map[string]string, withText bool) (any, *telegramError) {
	var text string
	if withText {
		var terr *telegramError
		if text, terr = checkText(p["text"], p["parse_mode"]); terr != nil {
			if terr.Description == telegramTextEmpty {
				terr = badRequest("Bad Request: text must be non-empty")
			}
			return nil, terr
		}
	}
	markup, terr := checkMarkup(p["reply_markup"])
	if terr != nil {
		return nil, terr
	}
	if p["inline_message_id"] != "" {
		return true, nil
	}
	chat, id, terr := f.editTarget(p, "Bad Request: message to edit not found")
	if terr != nil {
		return nil, terr
	}
	now := time.Now().Unix()
	f.mu.Lock()
	defer f.mu.Unlock()
	date := now
	if sent := f.messages[telegramMessageKey{chat.ID, id}]; sent != nil {
		if !withText {
			text = sent.text
		}
		if text == sent.text && markup == sent.markup {
			return nil, badRequest(telegramNotModified)
		}
		sent.text, sent.markup = text, markup
		date = sent.date
	}
	return telegramMessageJSON{MessageID: id, From: f.bot(), Chat: chat, Date: date, EditDate: now, Text: text, ReplyMarkup: rawOrNil(markup)}, nil
}

func (f *TelegramAPI) deleteMessage(_ *http.Request, p map[string]string) (any, *telegramError) {
	chat, id, terr := f.editTarget(p, "Bad Request: message to delete not found")
	if terr != nil {
		return nil, terr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := telegramMessageKey{chat.ID, id}
	if sent := f.messages[key]; sent != nil {
		sent.deleted = true
	} else {
		f.messages[key] = &telegramSent{deleted: true}
	}
	return true, nil
}

func (f *TelegramAPI) answerCallbackQuery(_ *http.Request, p map[string]string) (any, *telegramError) {
	if p["callback_query_id"] == "" {
		return nil, badRequest("Bad Request: query is too old and response timeout expired or query ID is invalid")
	}
	return true, nil
}

var webhookSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (f *TelegramAPI) setWebhook(_ *http.Request, p map[string]string) (any, *telegramError) {
	hook := p["url"]
	if hook != "" {
		u, err := url.Parse(hook)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, badRequest(telegramBadWebhookURL)
		}
	}
	secret, hasSecret := p["secret_token"]
	if hasSecret && secret != "" && !webhookSecret.MatchString(secret) {
		return nil, badRequest(telegramBadSecret)
	}
	allowed, hasAllowed, terr := allowedUpdatesParam(p)
	if terr != nil {
		return nil, terr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if hook == "" {
		f.clearWebhookLocked()
	} else {
		f.webhookURL, f.webhookSecret = hook, secret
		if hasAllowed { // as at Telegram, an absent allowed_updates keeps the previous one
			f.allowedUpdates = allowed
		}
	}
	f.dropPendingLocked(p)
	return true, nil
}

func allowedUpdatesParam(p map[string]string) ([]string, bool, *telegramError) {
	raw, ok := p["allowed_updates"]
	if !ok {
		return nil, false, nil
	}
	allowed := []string{}
	if strings.TrimSpace(raw) != "" {
		if err := json.Unmarshal([]byte(raw), &allowed); err != nil {
			return nil, false, badRequest("Bad Request: can't parse allowed updates")
		}
	}
	return allowed, true, nil
}

func (f *TelegramAPI) clearWebhookLocked() {
	f.webhookURL, f.webhookSecret, f.allowedUpdates = "", "", nil
}

func (f *TelegramAPI) dropPendingLocked(p map[string]string) {
	if drop, _ := strconv.ParseBool(p["drop_pending_updates"]); drop {
		f.updates = nil
	}
}

func (f *TelegramAPI) deleteWebhook(_ *http.Request, p map[string]string) (any, *telegramError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clearWebhookLocked()
	f.dropPendingLocked(p)
	return true, nil
}

func (f *TelegramAPI) getWebhookInfo(*http.Request, map[string]string) (any, *telegramError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return struct {
		URL                  string   `json:"url"`
		HasCustomCertificate bool     `json:"has_custom_certificate"`
		PendingUpdateCount   int      `json:"pending_update_count"`
		AllowedUpdates       []string `json:"allowed_updates,omitempty"`
	}{f.webhookURL, false, len(f.updates), f.allowedUpdates}, nil
}

func (f *TelegramAPI) getFile(_ *http.Request, p map[string]string) (any, *telegramError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.files[p["file_id"]]
	if !ok {
		return nil, badRequest("Bad Request: invalid file_id")
	}
	return struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		FileSize     int    `json:"file_size"`
		FilePath     string `json:"file_path"`
	}{p["file_id"], "u-" + p["file_id"], len(file.data), file.path}, nil
}

// getUpdates answers the updates after offset, waiting up to timeout seconds (at most
// TelegramLongPollCap) while there are none.
func (f *TelegramAPI) getUpdates(r *http.Request, p map[string]string) (any, *telegramError) {
	offset, _ := strconv.ParseInt(p["offset"], 10, 64)
	limit, _ := strconv.Atoi(p["limit"])
	if limit < 1 || limit > 100 {
		limit = 100
	}
	seconds, _ := strconv.Atoi(p["timeout"])
	wait := min(time.Duration(max(seconds, 0))*time.Second, TelegramLongPollCap)

	kick := make(chan struct{})
	f.mu.Lock()
	if f.webhookURL != "" {
		f.mu.Unlock()
		return nil, &telegramError{Status: 409, Description: telegramHookConflict}
	}
	if f.poll != nil {
		close(f.poll) // Telegram ends the older request when a newer one comes
	}
	f.poll = kick
	f.confirmLocked(offset)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		if f.poll == kick {
			f.poll = nil
		}
		f.mu.Unlock()
	}()

	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		batch := make([]json.RawMessage, 0, min(limit, len(f.updates)))
		for _, u := range f.updates {
			if len(batch) == limit {
				break
			}
			batch = append(batch, u.raw)
		}
		changed := f.updatesChanged
		f.mu.Unlock()
		if len(batch) > 0 || wait == 0 {
			return batch, nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return batch, nil
		case <-kick:
			return nil, &telegramError{Status: 409, Description: telegramPollConflict}
		case <-r.Context().Done():
			return nil, telegramGone
		case <-f.closing:
			panic(http.ErrAbortHandler)
		}
	}
}

// confirmLocked drops the updates an offset confirms: those before it, or for a negative offset
// all but the last -offset.
func (f *TelegramAPI) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		kept := f.updates[:0:0]
		for _, u := range f.updates {
			if u.id >= offset { // ids queued out of order are dropped too
				kept = append(kept, u)
			}
		}
		f.updates = kept
	case offset < 0 && int64(len(f.updates)) > -offset:
		f.updates = append([]queuedUpdate(nil), f.updates[int64(len(f.updates))+offset:]...)
	}
}
