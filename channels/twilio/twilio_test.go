package twilio_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/twilio"
	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Credentials as twilio-go accepts them: letters and digits only.
const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "feedfacefeedfacefeedfacefeedface"
	fromNumber = "+9647800000001"
	publicURL  = "https://sawt.example.org"
)

// env is a Sawt with the Twilio channels on, against the fake Twilio REST API and a fresh
// database. Unless started with workers, the outbox does not run: replies stay queued, where
// tests read them.
type env struct {
	app  *app.App
	api  *channeltest.TwilioAPI
	pool *pgxpool.Pool
	web  http.Handler
	log  *bytes.Buffer
}

func newEnv(t testing.TB, edit func(*app.Config)) *env {
	t.Helper()
	return newEnvOpts(t, edit, app.Options{})
}

func newEnvOpts(t testing.TB, edit func(*app.Config), opts app.Options) *env {
	t.Helper()
	logs := &bytes.Buffer{}
	cfg := app.Config{
		DataDir: t.TempDir(), DatabaseURL: pgtest.NewURL(t),
		TwilioSID:   accountSID,
		TwilioToken: authToken,
		TwilioFrom:  fromNumber,
		PublicURL:   publicURL,
		Logger:      slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	api := channeltest.NewTwilioAPI(t, cfg.TwilioSID, cfg.TwilioToken)
	if cfg.TwilioAPIURL == "" {
		cfg.TwilioAPIURL = api.URL
	}
	a, err := app.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if opts.Workers {
		ctx, cancel := context.WithCancel(context.Background())
		if err := a.River.Start(ctx); err != nil {
			cancel()
			t.Fatal(err)
		}
		t.Cleanup(func() { // before the pool closes
			stop, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			_ = a.River.Stop(stop)
			cancel()
		})
	}
	return &env{app: a, api: api, pool: a.Pool, web: a.PublicHandler(), log: logs}
}

// signedRequest is a webhook as Twilio sends it to the public URL.
func signedRequest(pathAndQuery string, params url.Values) *http.Request {
	return channeltest.SignedForm(authToken, publicURL+pathAndQuery, params)
}

func (e *env) serve(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.web.ServeHTTP(w, req)
	return w
}

// post sends a signed webhook through the public handler.
func (e *env) post(t testing.TB, pathAndQuery string, params url.Values) *httptest.ResponseRecorder {
	t.Helper()
	return e.serve(signedRequest(pathAndQuery, params))
}

var nextSid atomic.Int64

// newSid is a Twilio resource ID: a two-letter prefix and 32 hex digits.
func newSid(prefix string) string { return fmt.Sprintf("%s%032x", prefix, 0xa000+nextSid.Add(1)) }

// smsParams is an incoming SMS as Twilio posts it.
func smsParams(from, body string) url.Values {
	return url.Values{
		"MessageSid": {newSid("SM")}, "SmsSid": {""}, "AccountSid": {accountSID},
		"From": {from}, "To": {fromNumber}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"FromCountry": {"IQ"}, "ToCountry": {"IQ"}, "ApiVersion": {"2010-04-01"},
	}
}

// sms posts an SMS and expects Twilio to be told 200.
func (e *env) sms(t testing.TB, from, body string) url.Values {
	t.Helper()
	p := smsParams(from, body)
	if w := e.post(t, twilio.SMSPath, p); w.Code != http.StatusOK {
		t.Fatalf("SMS %q: status %d %s", body, w.Code, w.Body)
	}
	return p
}

func (e *env) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// lastReply is the newest reply logged for a phone number.
func (e *env) lastReply(t testing.TB, number string) (text, status string) {
	t.Helper()
	err := e.pool.QueryRow(context.Background(), `
		SELECT m.text, m.status FROM messages m JOIN urns u ON u.id = m.urn_id
		WHERE u.urn = $1 AND m.direction = 'out' ORDER BY m.id DESC LIMIT 1`, "tel:"+number).Scan(&text, &status)
	if err != nil {
		t.Fatalf("last reply to %s: %v", number, err)
	}
	return text, status
}

// eventually polls cond until it holds, or fails the test after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- TwiML, parsed into a generic tree (attribute order is not stable) ----

type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []*node    `xml:",any"`
}

func (n *node) name() string { return n.XMLName.Local }

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// attrs is the node's attributes as a map.
func (n *node) attrs() map[string]string {
	m := map[string]string{}
	for _, a := range n.Attrs {
		m[a.Name.Local] = a.Value
	}
	return m
}

// all is every element named name under n, depth first, in document order.
func (n *node) all(name string) []*node {
	var out []*node
	for _, k := range n.Kids {
		if k.name() == name {
			out = append(out, k)
		}
		out = append(out, k.all(name)...)
	}
	return out
}

// texts is the text of every element named name under n.
func (n *node) texts(name string) []string {
	var out []string
	for _, k := range n.all(name) {
		out = append(out, strings.TrimSpace(k.Text))
	}
	return out
}

// verbs names n's children in order.
func (n *node) verbs() []string {
	var out []string
	for _, k := range n.Kids {
		out = append(out, k.name())
	}
	return out
}

// String prints the tree on one line, attributes sorted, for failure messages.
func (n *node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	fmt.Fprintf(b, "<%s", n.name())
	for _, k := range sortedKeys(n.attrs()) {
		fmt.Fprintf(b, " %s=%q", k, n.attr(k))
	}
	b.WriteString(">")
	b.WriteString(strings.TrimSpace(n.Text))
	for _, k := range n.Kids {
		k.write(b)
	}
	fmt.Fprintf(b, "</%s>", n.name())
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// parseTwiML checks a webhook's answer is TwiML and parses it.
func parseTwiML(t testing.TB, w *httptest.ResponseRecorder) *node {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d %s, want 200 with TwiML", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("Content-Type %q, want text/xml", ct)
	}
	var root node
	if err := xml.Unmarshal(w.Body.Bytes(), &root); err != nil {
		t.Fatalf("not XML: %v\n%s", err, w.Body)
	}
	if root.name() != "Response" {
		t.Fatalf("root element <%s>, want <Response>", root.name())
	}
	return &root
}

// ---- signatures and refusals ----

func TestSignatures(t *testing.T) {
	e := newEnv(t, nil)
	const number = "+9647701234567"
	ok := func(t *testing.T, req *http.Request) {
		t.Helper()
		if w := e.serve(req); w.Code != http.StatusOK {
			t.Errorf("status %d %s, want 200", w.Code, w.Body)
		}
	}
	refused := func(t *testing.T, req *http.Request) {
		t.Helper()
		if w := e.serve(req); w.Code != http.StatusForbidden {
			t.Errorf("status %d %s, want 403", w.Code, w.Body)
		}
	}

	t.Run("valid", func(t *testing.T) { ok(t, signedRequest(twilio.SMSPath, smsParams(number, "hello"))) })
	t.Run("missing header", func(t *testing.T) {
		req := signedRequest(twilio.SMSPath, smsParams(number, "hello"))
		req.Header.Del("X-Twilio-Signature")
		refused(t, req)
	})
	t.Run("wrong signature", func(t *testing.T) {
		req := signedRequest(twilio.SMSPath, smsParams(number, "hello"))
		req.Header.Set("X-Twilio-Signature", channeltest.TwilioSignature("0000aaaa0000aaaa0000aaaa0000aaaa", publicURL+twilio.SMSPath, smsParams(number, "hello")))
		refused(t, req)
	})
	t.Run("tampered parameter", func(t *testing.T) {
		p := smsParams(number, "hello")
		req := signedRequest(twilio.SMSPath, p)
		p.Set("Body", "hello!")
		req.Body = io.NopCloser(strings.NewReader(p.Encode()))
		req.ContentLength = int64(len(p.Encode()))
		refused(t, req)
	})
	t.Run("signed for the request's own host", func(t *testing.T) {
		// Behind a proxy the request reaches us at another host than the one Twilio called.
		const internal = "http://10.0.0.5:8080"
		p := smsParams(number, "hello")
		refused(t, channeltest.SignedForm(authToken, internal+twilio.SMSPath, p))
		req := channeltest.SignedForm(authToken, internal+twilio.SMSPath, p)
		req.Header.Set("X-Twilio-Signature", channeltest.TwilioSignature(authToken, publicURL+twilio.SMSPath, p))
		ok(t, req)
	})
	t.Run("parameters in another order", func(t *testing.T) {
		p := smsParams(number, "hello & goodbye")
		var parts []string
		for _, k := range []string{"To", "NumSegments", "MessageSid", "FromCountry", "From", "Body", "ApiVersion", "AccountSid", "ToCountry", "SmsSid", "NumMedia"} {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(p.Get(k)))
		}
		req := httptest.NewRequest(http.MethodPost, publicURL+twilio.SMSPath, strings.NewReader(strings.Join(parts, "&")))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", channeltest.TwilioSignature(authToken, publicURL+twilio.SMSPath, p))
		ok(t, req)
	})
	t.Run("query string is signed", func(t *testing.T) {
		p := url.Values{"CallSid": {newSid("CA")}, "From": {number}, "To": {fromNumber}, "Digits": {"1"}}
		ok(t, signedRequest(twilio.VoicePath+"?n=2", p))
		// The same signature does not hold for another step.
		req := signedRequest(twilio.VoicePath+"?n=2", p)
		req.URL.RawQuery = "n=3"
		refused(t, req)
	})
	if n := e.count(t, `SELECT count(*) FROM inbox`); n != 4 {
		t.Errorf("inbox rows %d, want 4: one per accepted request", n)
	}
}

// TestDocumentedSignature checks the example of Twilio's security documentation through our
// handler: token 12345, https://mycompany.com/myapp.php?foo=1&bar=2.
func TestDocumentedSignature(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.TwilioToken = "12345"; c.PublicURL = "https://mycompany.com" })
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	call := func(sig string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "https://mycompany.com/myapp.php?foo=1&bar=2", strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		w := httptest.NewRecorder()
		e.app.Twilio.ServeVoice(w, req) // /myapp.php is not one of our routes
		return w
	}
	if root := parseTwiML(t, call("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")); len(root.all("Gather")) == 0 {
		t.Errorf("documented signature: %s, want the language menu", root)
	}
	if w := call("1/KCTR6DLpKmkAf8muzZqo1nDgQ="); w.Code != http.StatusForbidden {
		t.Errorf("altered signature: status %d, want 403", w.Code)
	}
}

func TestRefusedRequests(t *testing.T) {
	e := newEnv(t, nil)
	const number = "+9647701234567"
	huge := smsParams(number, strings.Repeat("a", 70<<10))
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"no signature", func() *http.Request {
			r := signedRequest(twilio.SMSPath, smsParams(number, "hi"))
			r.Header.Del("X-Twilio-Signature")
			return r
		}, http.StatusForbidden},
		{"wrong signature", func() *http.Request {
			r := signedRequest(twilio.SMSPath, smsParams(number, "hi"))
			r.Header.Set("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==")
			return r
		}, http.StatusForbidden},
		{"body over 64 KiB", func() *http.Request { return signedRequest(twilio.SMSPath, huge) }, http.StatusRequestEntityTooLarge},
		{"malformed form", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, publicURL+twilio.SMSPath, strings.NewReader("From=%2B9647701234567&Body=%zz"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Twilio-Signature", channeltest.TwilioSignature(authToken, publicURL+twilio.SMSPath, nil))
			return r
		}, http.StatusBadRequest},
		{"repeated parameter", func() *http.Request {
			p := smsParams(number, "hi")
			p.Add("Body", "again")
			return signedRequest(twilio.SMSPath, p)
		}, http.StatusForbidden},
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, publicURL+twilio.SMSPath, nil) }, http.StatusMethodNotAllowed},
		{"GET voice", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, publicURL+twilio.VoicePath+"?CallSid=CA1&From=%2B9647701234567", nil)
		}, http.StatusMethodNotAllowed},
		{"SMS without MessageSid", func() *http.Request {
			p := smsParams(number, "hi")
			p.Del("MessageSid")
			return signedRequest(twilio.SMSPath, p)
		}, http.StatusBadRequest},
		{"SMS without From", func() *http.Request {
			p := smsParams(number, "hi")
			p.Del("From")
			return signedRequest(twilio.SMSPath, p)
		}, http.StatusBadRequest},
		{"call without CallSid", func() *http.Request {
			return signedRequest(twilio.VoicePath, url.Values{"From": {number}, "To": {fromNumber}})
		}, http.StatusBadRequest},
		{"status without a known report", func() *http.Request {
			return signedRequest(twilio.StatusPath, url.Values{"AccountSid": {accountSID}, "Foo": {"bar"}})
		}, http.StatusBadRequest},
		{"status, signed for the SMS path", func() *http.Request {
			p := url.Values{"MessageSid": {newSid("SM")}, "MessageStatus": {"delivered"}}
			r := signedRequest(twilio.SMSPath, p)
			r.URL.Path = twilio.StatusPath
			return r
		}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.serve(tc.req())
			if w.Code != tc.want {
				t.Errorf("status %d %s, want %d", w.Code, w.Body, tc.want)
			}
			if tc.want == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow %q, want POST", w.Header().Get("Allow"))
			}
		})
	}
	for _, table := range []string{"inbox", "messages", "contacts", "recordings", "river_job"} {
		if n := e.count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows in %s after refused requests", n, table)
		}
	}
	if strings.Contains(e.log.String(), authToken) {
		t.Error("the auth token is in the log")
	}
	if !strings.Contains(e.log.String(), "twilio webhook refused") {
		t.Error("a refused signature is not logged")
	}
}

func TestNewChecksConfig(t *testing.T) {
	e := newEnv(t, nil)
	base := twilio.Config{AccountSID: accountSID, AuthToken: authToken, PublicURL: publicURL,
		Receiver: e.app.Gateway, Reports: e.app.Gateway, Prompts: e.app.Prompts}
	for _, tc := range []struct {
		name string
		edit func(*twilio.Config)
	}{
		{"no account", func(c *twilio.Config) { c.AccountSID = "" }},
		{"no token", func(c *twilio.Config) { c.AuthToken = "" }},
		{"no public URL", func(c *twilio.Config) { c.PublicURL = "" }},
		{"no receiver", func(c *twilio.Config) { c.Receiver = nil }},
		{"no reports", func(c *twilio.Config) { c.Reports = nil }},
		{"no prompts", func(c *twilio.Config) { c.Prompts = nil }}, // the phone line could not speak
		{"API URL without scheme", func(c *twilio.Config) { c.APIURL = "api.twilio.com" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			if _, err := twilio.New(cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := twilio.New(base); err != nil {
		t.Errorf("New(minimal config): %v", err)
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
