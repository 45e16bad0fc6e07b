package channeltest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
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
	"unicode/utf8"
)

// TwilioMaxBodyLength is Twilio's limit on a message's Body, in characters.
const TwilioMaxBodyLength = 1600

// twilioAPIPrefix starts the path of every resource the fake serves.
const twilioAPIPrefix = "/2010-04-01/Accounts/"

// twilioTimeFormat is RFC 2822 in GMT, as Twilio writes date_created and friends.
const twilioTimeFormat = "Mon, 02 Jan 2006 15:04:05 -0700"

// TwilioAPI is a fake Twilio REST API (api.twilio.com). Point the client at it by rewriting the
// scheme and host of each request to those of URL, leaving paths alone (with
// github.com/twilio/twilio-go: a client.Client whose HTTPClient has such a Transport).
//
// It serves, at the real paths and with the real wire format (form-encoded requests, JSON
// answers, Twilio's error object {"code","message","more_info","status"} with the HTTP status):
//
//   - POST /2010-04-01/Accounts/{AccountSid}/Messages.json: sends a message, answering 201
//     with the Message resource;
//   - GET  …/Messages/{Sid}.json: a message it sent;
//   - GET  …/Recordings/{Sid}.mp3, .wav or without extension: the audio added with
//     AddRecording (audio/mpeg, audio/x-wav);
//   - GET  …/Recordings/{Sid}.json: the Recording resource;
//   - DELETE …/Recordings/{Sid}.json: deletes it (204).
//
// Every request needs HTTP Basic auth with AccountSID and AuthToken (401, code 20003, otherwise,
// and also when the path names another account). Anything else answers 404 with code 20404, as
// Twilio does for an unknown resource, so that a product starting to use a new resource fails
// loudly until the fake learns it.
//
// It keeps what Twilio would check on a message: a To (21604) that is a phone number in E.164
// form, optionally with a channel prefix such as "whatsapp:" (21211); a From or
// MessagingServiceSid (21603); a Body, MediaUrl or ContentSid (21602); a Body of at most
// TwilioMaxBodyLength characters (21617); and a StatusCallback that is an absolute http(s) URL
// (21609).
//
// It is safe for concurrent use.
type TwilioAPI struct {
	URL        string
	AccountSID string
	AuthToken  string

	t       testing.TB
	srv     *httptest.Server
	closing chan struct{}

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change a Wait… helper may wait for
	requests   []*TwilioRequest
	messages   []*TwilioMessage
	failures   []*twilioFailure
	delay      time.Duration
	recordings map[string][]byte
	deletes    []string
	nextSid    int
	countOnly  bool // CountOnly: requests and messages are counted, not kept
}

// TwilioRequest is one request the fake received.
type TwilioRequest struct {
	// Method is the HTTP method and Path the URL path, e.g.
	// "/2010-04-01/Accounts/AC…/Messages.json".
	Method string
	Path   string
	// Form holds the query string and the form-encoded body's parameters.
	Form url.Values
	// At is when the request arrived.
	At time.Time
	// Status is the HTTP status the fake answered with; 0 while it is being answered, or when
	// the client went away before the answer.
	Status int
}

// TwilioMessage is a message the fake accepted (answered 201).
type TwilioMessage struct {
	Sid                 string
	To                  string
	From                string
	MessagingServiceSid string
	Body                string
	StatusCallback      string
	MediaURLs           []string
	// Status is the status it was created with: "queued", or "accepted" when it was sent
	// through a Messaging Service without a From, as at Twilio.
	Status string
	// NumSegments is the num_segments it was answered with: the SMS segments of the Body
	// (GSM-7 or UCS-2), or 0 when sent through a Messaging Service without a From (Twilio
	// has not chosen a sender yet).
	NumSegments int
	// Params are all the form parameters of the request.
	Params url.Values
	// At is when the request arrived.
	At time.Time
}

// twilioFailure is one Fail or FailNotJSON call, used for up to left requests.
type twilioFailure struct {
	Path    string
	Left    int
	Status  int
	Code    int
	Message string
	NotJSON bool
}

// twilioError is a failed answer. A negative Status answers that status with an HTML body; a
// zero Status means the client went away and gets no answer.
type twilioError struct {
	Status  int
	Code    int
	Message string
}

var twilioGone = &twilioError{}

// NewTwilioAPI starts the fake on 127.0.0.1 for that account; it is closed in t.Cleanup. At
// cleanup it fails the test if failures were scripted with Fail or FailNotJSON but not all used.
//
// twilio-go refuses credentials that are not made of letters and digits, so use e.g.
// "AC" + 32 hex digits and a token of 32 hex digits.
func NewTwilioAPI(t testing.TB, accountSID, authToken string) *TwilioAPI {
	t.Helper()
	f := &TwilioAPI{
		AccountSID: accountSID,
		AuthToken:  authToken,
		t:          t,
		closing:    make(chan struct{}),
		changed:    make(chan struct{}),
		recordings: map[string][]byte{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.srv.URL
	t.Cleanup(func() {
		close(f.closing)
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, fl := range f.failures {
			if fl.Left > 0 {
				t.Errorf("channeltest: TwilioAPI: %d scripted failure(s) for %q never used: %+v", fl.Left, fl.Path, *fl)
			}
		}
	})
	return f
}

// Fail makes the next times requests whose path contains path (e.g. "/Messages.json",
// "/Recordings/") answer status with Twilio's error object
// {"code":code,"message":message,"more_info":"https://www.twilio.com/docs/errors/<code>","status":status}.
// An empty message becomes the status text. Failures are used in the order they were scripted;
// requests with bad credentials or to other paths do not use them.
func (f *TwilioAPI) Fail(path string, times int, status int, code int, message string) {
	if times < 1 || status < 400 || status > 599 {
		f.t.Errorf("channeltest: TwilioAPI.Fail(%q, %d, %d, …): want times ≥ 1 and a 4xx or 5xx status", path, times, status)
		return
	}
	if message == "" {
		message = http.StatusText(status)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &twilioFailure{Path: path, Left: times, Status: status, Code: code, Message: message})
}

// FailNotJSON is Fail with an HTML body, as a proxy or load balancer in front of Twilio answers
// (status is typically 502 or 503; 0 means 502).
func (f *TwilioAPI) FailNotJSON(path string, times int, status int) {
	if status == 0 {
		status = http.StatusBadGateway
	}
	if times < 1 || status < 400 || status > 599 {
		f.t.Errorf("channeltest: TwilioAPI.FailNotJSON(%q, %d, %d): want times ≥ 1 and a 4xx or 5xx status", path, times, status)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &twilioFailure{Path: path, Left: times, Status: status, NotJSON: true})
}

// SetDelay makes every request from now on wait d before it is answered (0 for none). A request
// whose client gives up during the delay gets no answer and has no effect: no message is sent,
// no recording deleted, no scripted failure used.
func (f *TwilioAPI) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// AddRecording makes a recording known under sid (e.g. "RE" + 32 hex digits). Its media is data
// whatever the format asked for: the fake does not transcode.
func (f *TwilioAPI) AddRecording(sid string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recordings[sid] = append([]byte(nil), data...)
}

// HasRecording tells whether a recording exists (was added and not deleted).
func (f *TwilioAPI) HasRecording(sid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.recordings[sid]
	return ok
}

// CountOnly makes the fake keep neither the requests nor the messages it answers from now on,
// only count the messages (MessageCount): for load tests, where a million kept messages take
// gigabytes of the test's memory. Messages, Requests and the Wait… helpers see nothing of what
// comes after.
func (f *TwilioAPI) CountOnly() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.countOnly = true
}

// MessageCount is how many messages have been sent so far (answered 201), kept or only counted.
func (f *TwilioAPI) MessageCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nextSid
}

// Messages returns the messages sent so far (answered 201), in arrival order.
func (f *TwilioAPI) Messages() []TwilioMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.messagesLocked()
}

func (f *TwilioAPI) messagesLocked() []TwilioMessage {
	out := make([]TwilioMessage, 0, len(f.messages))
	for _, m := range f.messages {
		cp := *m
		cp.MediaURLs = append([]string(nil), m.MediaURLs...)
		cp.Params = cloneValues(m.Params)
		out = append(out, cp)
	}
	return out
}

// WaitMessages waits until at least n messages have been sent and returns them all; it fails the
// test (t.Fatalf: call it from the test's goroutine) if that takes longer than timeout.
func (f *TwilioAPI) WaitMessages(t testing.TB, n int, timeout time.Duration) []TwilioMessage {
	t.Helper()
	var msgs []TwilioMessage
	if !f.waitFor(timeout, func() bool { msgs = f.messagesLocked(); return len(msgs) >= n }) {
		t.Fatalf("channeltest: TwilioAPI: waited %v for %d message(s), got %d; requests: %s", timeout, n, len(msgs), f.summary())
	}
	return msgs
}

// Deletes returns the SIDs of the recordings deleted so far (answered 204), in order. Every
// DELETE, answered or not, is in Requests.
func (f *TwilioAPI) Deletes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.deletes...)
}

// WaitDeletes waits until at least n recordings have been deleted and returns their SIDs; it
// fails the test (t.Fatalf) if that takes longer than timeout.
func (f *TwilioAPI) WaitDeletes(t testing.TB, n int, timeout time.Duration) []string {
	t.Helper()
	var sids []string
	if !f.waitFor(timeout, func() bool { sids = append([]string{}, f.deletes...); return len(sids) >= n }) {
		t.Fatalf("channeltest: TwilioAPI: waited %v for %d recording deletion(s), got %d; requests: %s", timeout, n, len(sids), f.summary())
	}
	return sids
}

// Requests returns the requests received so far, or only those whose path contains one of these
// strings, in arrival order.
func (f *TwilioAPI) Requests(pathContains ...string) []TwilioRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requestsLocked(pathContains...)
}

func (f *TwilioAPI) requestsLocked(pathContains ...string) []TwilioRequest {
	out := []TwilioRequest{}
	for _, r := range f.requests {
		if len(pathContains) > 0 && !containsAny(r.Path, pathContains) {
			continue
		}
		cp := *r
		cp.Form = cloneValues(r.Form)
		out = append(out, cp)
	}
	return out
}

// RequestCount is len(Requests(pathContains...)).
func (f *TwilioAPI) RequestCount(pathContains ...string) int {
	return len(f.Requests(pathContains...))
}

// WaitRequests waits until at least n requests whose path contains path have arrived (they may
// still be being answered) and returns them; it fails the test (t.Fatalf) if that takes longer
// than timeout.
func (f *TwilioAPI) WaitRequests(t testing.TB, path string, n int, timeout time.Duration) []TwilioRequest {
	t.Helper()
	var reqs []TwilioRequest
	if !f.waitFor(timeout, func() bool { reqs = f.requestsLocked(path); return len(reqs) >= n }) {
		t.Fatalf("channeltest: TwilioAPI: waited %v for %d request(s) to %q, got %d; requests: %s", timeout, n, path, len(reqs), f.summary())
	}
	return reqs
}

// waitFor calls done, under the lock, on every change until it is true (true) or timeout
// passes (false).
func (f *TwilioAPI) waitFor(timeout time.Duration, done func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok := done()
		changed := f.changed
		f.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (f *TwilioAPI) summary() string {
	var b strings.Builder
	for i, r := range f.Requests() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s→%d", r.Method, strings.TrimPrefix(r.Path, twilioAPIPrefix+f.AccountSID), r.Status)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// notifyLocked wakes the Wait… helpers.
func (f *TwilioAPI) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// ---- serving ----

func (f *TwilioAPI) serveHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	form, parseErr := readTwilioForm(r)
	req := &TwilioRequest{Method: r.Method, Path: r.URL.Path, Form: form, At: at}
	f.mu.Lock()
	keep := !f.countOnly
	if keep {
		f.requests = append(f.requests, req)
		f.notifyLocked()
	}
	f.mu.Unlock()

	status := f.answer(w, r, form, parseErr)

	if keep {
		f.mu.Lock()
		req.Status = status
		f.notifyLocked()
		f.mu.Unlock()
	}
}

// answer answers a request and returns the status it answered with (0 for none).
func (f *TwilioAPI) answer(w http.ResponseWriter, r *http.Request, form url.Values, parseErr error) int {
	if !f.sleep(r) {
		return 0
	}
	rest, ok := strings.CutPrefix(r.URL.Path, twilioAPIPrefix)
	if !ok {
		return writeTwilioError(w, twilioNotFound(r.URL.Path))
	}
	if terr := f.authenticate(r, rest); terr != nil {
		return writeTwilioError(w, terr)
	}
	if terr := f.scripted(r.URL.Path); terr != nil {
		return writeTwilioError(w, terr)
	}
	if parseErr != nil {
		return writeTwilioError(w, &twilioError{Status: 400, Code: 20001, Message: "Unable to parse the request: " + parseErr.Error()})
	}
	_, resource, _ := strings.Cut(rest, "/")
	switch {
	case resource == "Messages.json" && r.Method == http.MethodPost:
		return f.createMessage(w, form)
	case strings.HasPrefix(resource, "Messages/") && r.Method == http.MethodGet:
		if sid, ok := strings.CutSuffix(strings.TrimPrefix(resource, "Messages/"), ".json"); ok && !strings.Contains(sid, "/") {
			return f.fetchMessage(w, r, sid)
		}
	case strings.HasPrefix(resource, "Recordings/"):
		name := strings.TrimPrefix(resource, "Recordings/")
		if strings.Contains(name, "/") {
			break
		}
		sid, ext := name, ""
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			sid, ext = name[:i], name[i:]
		}
		switch {
		case ext == ".json" && r.Method == http.MethodDelete:
			return f.deleteRecording(w, r, sid)
		case ext == ".json" && r.Method == http.MethodGet:
			return f.fetchRecording(w, r, sid)
		case (ext == ".mp3" || ext == ".wav" || ext == "") && r.Method == http.MethodGet:
			return f.recordingMedia(w, r, sid, ext)
		}
	}
	return writeTwilioError(w, twilioNotFound(r.URL.Path))
}

// sleep waits the delay; false means the client went away (or the fake is closing).
func (f *TwilioAPI) sleep(r *http.Request) bool {
	f.mu.Lock()
	d := f.delay
	f.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-f.closing:
		panic(http.ErrAbortHandler)
	}
}

// authenticate checks HTTP Basic auth and that the path's account is the authenticated one.
func (f *TwilioAPI) authenticate(r *http.Request, rest string) *twilioError {
	user, pass, ok := r.BasicAuth()
	account, _, _ := strings.Cut(rest, "/")
	if !ok || user != f.AccountSID || pass != f.AuthToken || account != f.AccountSID {
		return &twilioError{Status: 401, Code: 20003, Message: "Authenticate"}
	}
	return nil
}

// scripted uses the first scripted failure for path, if any.
func (f *TwilioAPI) scripted(path string) *twilioError {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fl := range f.failures {
		if fl.Left == 0 || !strings.Contains(path, fl.Path) {
			continue
		}
		fl.Left--
		if fl.NotJSON {
			return &twilioError{Status: -fl.Status}
		}
		return &twilioError{Status: fl.Status, Code: fl.Code, Message: fl.Message}
	}
	return nil
}

func twilioNotFound(path string) *twilioError {
	return &twilioError{Status: 404, Code: 20404, Message: fmt.Sprintf("The requested resource %s was not found", path)}
}

func writeTwilioError(w http.ResponseWriter, terr *twilioError) int {
	switch {
	case terr == twilioGone:
		return 0
	case terr.Status < 0:
		status := -terr.Status
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, proxyHTML, status, http.StatusText(status))
		return status
	}
	if terr.Status == 401 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	return writeTwilioJSON(w, terr.Status, struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
		Status   int    `json:"status"`
	}{terr.Code, terr.Message, fmt.Sprintf("https://www.twilio.com/docs/errors/%d", terr.Code), terr.Status})
}

func writeTwilioJSON(w http.ResponseWriter, status int, body any) int {
	data, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"code":20500,"message":"fake: ` + strings.ReplaceAll(err.Error(), `"`, `'`) + `","more_info":"https://www.twilio.com/docs/errors/20500","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
	return status
}

// readTwilioForm reads the query string and a form-encoded body; body values come first.
func readTwilioForm(r *http.Request) (url.Values, error) {
	form := url.Values{}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return form, fmt.Errorf("can't read the request: %v", err)
	}
	var parseErr error
	if len(body) > 0 {
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mediaType == "application/x-www-form-urlencoded" || mediaType == "" {
			values, err := url.ParseQuery(string(body))
			if err != nil {
				parseErr = err
			}
			for k, v := range values {
				form[k] = append(form[k], v...)
			}
		}
	}
	for k, v := range r.URL.Query() {
		form[k] = append(form[k], v...)
	}
	return form, parseErr
}

// ---- messages ----

type twilioMessageJSON struct {
	AccountSid          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func (f *TwilioAPI) createMessage(w http.ResponseWriter, form url.Values) int {
	to, from, service := form.Get("To"), form.Get("From"), form.Get("MessagingServiceSid")
	body, callback := form.Get("Body"), form.Get("StatusCallback")
	media := form["MediaUrl"]
	// A channel address (whatsapp:+…, messenger:…, rcs:…) is checked only for WhatsApp, whose
	// addresses are phone numbers.
	channel, number, hasChannel := strings.Cut(to, ":")
	if !hasChannel {
		number = to
	}
	switch {
	case to == "":
		return writeTwilioError(w, &twilioError{Status: 400, Code: 21604, Message: "A 'To' phone number is required."})
	case (!hasChannel || channel == "whatsapp") && !e164.MatchString(number):
		return writeTwilioError(w, &twilioError{Status: 400, Code: 21211, Message: fmt.Sprintf("Invalid 'To' Phone Number: %s", to)})
	case from == "" && service == "":
		return writeTwilioError(w, &twilioError{Status: 400, Code: 21603, Message: "A 'From' or 'MessagingServiceSid' parameter is required."})
	case body == "" && len(media) == 0 && form.Get("ContentSid") == "":
		return writeTwilioError(w, &twilioError{Status: 400, Code: 21602, Message: "Message body is required."})
	case utf8.RuneCountInString(body) > TwilioMaxBodyLength:
		return writeTwilioError(w, &twilioError{Status: 400, Code: 21617, Message: "The concatenated message body exceeds the 1600 character limit."})
	case callback != "" && !absoluteHTTPURL(callback):
		return writeTwilioError(w, &twilioError{Status: 400, Code: 21609, Message: fmt.Sprintf("Invalid StatusCallback: %s", callback)})
	}

	status, segments := "queued", SMSSegments(body)
	if from == "" {
		status, segments = "accepted", 0
	}
	now := time.Now()
	f.mu.Lock()
	f.nextSid++
	m := &TwilioMessage{
		Sid:                 fmt.Sprintf("SM%032x", f.nextSid),
		To:                  to,
		From:                from,
		MessagingServiceSid: service,
		Body:                body,
		StatusCallback:      callback,
		MediaURLs:           append([]string(nil), media...),
		Status:              status,
		NumSegments:         segments,
		Params:              cloneValues(form),
		At:                  now,
	}
	if !f.countOnly {
		f.messages = append(f.messages, m)
		f.notifyLocked()
	}
	f.mu.Unlock()
	return writeTwilioJSON(w, http.StatusCreated, f.messageJSON(m))
}

func (f *TwilioAPI) messageJSON(m *TwilioMessage) twilioMessageJSON {
	uri := fmt.Sprintf("%s%s/Messages/%s", twilioAPIPrefix, f.AccountSID, m.Sid)
	date := m.At.UTC().Format(twilioTimeFormat)
	return twilioMessageJSON{
		AccountSid:          f.AccountSID,
		APIVersion:          "2010-04-01",
		Body:                m.Body,
		DateCreated:         date,
		DateUpdated:         date,
		Direction:           "outbound-api",
		From:                stringOrNull(m.From),
		MessagingServiceSid: stringOrNull(m.MessagingServiceSid),
		NumMedia:            strconv.Itoa(len(m.MediaURLs)),
		NumSegments:         strconv.Itoa(m.NumSegments),
		PriceUnit:           "USD",
		Sid:                 m.Sid,
		Status:              m.Status,
		SubresourceURIs:     map[string]string{"media": uri + "/Media.json"},
		To:                  m.To,
		URI:                 uri + ".json",
	}
}

func (f *TwilioAPI) fetchMessage(w http.ResponseWriter, r *http.Request, sid string) int {
	f.mu.Lock()
	var found *TwilioMessage
	for _, m := range f.messages {
		if m.Sid == sid {
			found = m
			break
		}
	}
	f.mu.Unlock()
	if found == nil {
		return writeTwilioError(w, twilioNotFound(r.URL.Path))
	}
	return writeTwilioJSON(w, http.StatusOK, f.messageJSON(found))
}

func stringOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// gsm7 is the GSM 03.38 default alphabet (without the escape) and gsm7Ext its extension table,
// whose characters take two septets.
const (
	gsm7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

// SMSSegments is how many SMS segments a body takes: up to 160 GSM-7 septets in one, 153 per
// segment beyond; with any other character, up to 70 UTF-16 code units in one, 67 per segment
// beyond. An empty body takes 1.
func SMSSegments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		if septets <= 160 {
			return 1
		}
		return (septets + 152) / 153
	}
	units := len(utf16.Encode([]rune(body)))
	if units <= 70 {
		return 1
	}
	return (units + 66) / 67
}

// ---- recordings ----

func (f *TwilioAPI) recording(sid string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, ok := f.recordings[sid]
	return data, ok
}

func (f *TwilioAPI) recordingMedia(w http.ResponseWriter, r *http.Request, sid, ext string) int {
	data, ok := f.recording(sid)
	if !ok {
		return writeTwilioError(w, twilioNotFound(r.URL.Path))
	}
	contentType := "audio/x-wav"
	if ext == ".mp3" {
		contentType = "audio/mpeg"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return http.StatusOK
}

func (f *TwilioAPI) fetchRecording(w http.ResponseWriter, r *http.Request, sid string) int {
	if _, ok := f.recording(sid); !ok {
		return writeTwilioError(w, twilioNotFound(r.URL.Path))
	}
	uri := fmt.Sprintf("%s%s/Recordings/%s", twilioAPIPrefix, f.AccountSID, sid)
	return writeTwilioJSON(w, http.StatusOK, map[string]any{
		"account_sid":      f.AccountSID,
		"api_version":      "2010-04-01",
		"sid":              sid,
		"status":           "completed",
		"channels":         1,
		"uri":              uri + ".json",
		"media_url":        "https://api.twilio.com" + uri,
		"subresource_uris": map[string]string{"transcriptions": uri + "/Transcriptions.json"},
	})
}

func (f *TwilioAPI) deleteRecording(w http.ResponseWriter, r *http.Request, sid string) int {
	f.mu.Lock()
	_, ok := f.recordings[sid]
	if ok {
		delete(f.recordings, sid)
		f.deletes = append(f.deletes, sid)
		f.notifyLocked()
	}
	f.mu.Unlock()
	if !ok {
		return writeTwilioError(w, twilioNotFound(r.URL.Path))
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// ---- webhooks ----

// TwilioSignature is the X-Twilio-Signature Twilio sends with a webhook request to fullURL (as
// configured at Twilio, with its query string) whose POST parameters are params: the base64
// HMAC-SHA1, keyed with the auth token, of fullURL followed by each parameter's name and value,
// parameters sorted by name (byte order), the values of a repeated name sorted too. For a GET
// webhook, pass the parameters in fullURL and nil params.
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, fullURL)
	for _, name := range names {
		values := append([]string(nil), params[name]...)
		sort.Strings(values)
		for _, v := range values {
			io.WriteString(mac, name)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignedForm is a webhook request as Twilio sends it: a POST of params, form-encoded, to fullURL,
// with X-Twilio-Signature. It can be sent with an http.Client or given to a handler's ServeHTTP.
// It panics if fullURL does not parse.
func SignedForm(authToken, fullURL string, params url.Values) *http.Request {
	req, err := http.NewRequest(http.MethodPost, fullURL, strings.NewReader(params.Encode()))
	if err != nil {
		panic(fmt.Sprintf("channeltest.SignedForm: %v", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", TwilioSignature(authToken, fullURL, params))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	return req
}
