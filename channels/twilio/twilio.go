// Package twilio is Sawt's SMS and voice channel through Twilio: signed webhooks for SMS in,
// the phone line (an IVR answered in TwiML, step by step, from the same conversation as every
// other channel), delivery and recording reports, and the Sender that sends SMS through the
// Messages API. It knows Twilio and the channels contract, nothing of flows, cases or the
// database. The auth token never appears in a log line; phone numbers appear masked.
package twilio

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sawt/sawt/channels"
	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	"golang.org/x/time/rate"
)

// Paths on the public listener.
const (
	SMSPath    = "/channels/twilio/sms"
	VoicePath  = "/channels/twilio/voice"
	StatusPath = "/channels/twilio/status"
)

// DefaultAPIURL is Twilio's REST API.
const DefaultAPIURL = "https://api.twilio.com"

// Defaults of Config.
const (
	DefaultSMSRate     = 1 // messages a second from one number; messaging services allow more
	DefaultMaxSegments = 3
	DefaultTimeout     = 15 * time.Second
	DefaultMaxWait     = 2 * time.Second
	DefaultVoiceAR     = "Google.ar-XA-Standard-A"
	DefaultVoiceEN     = "Google.en-GB-Standard-A"
)

// maxBody caps a webhook's form: real ones are a few kilobytes.
const maxBody = 64 << 10

// Prompts gives the phone line its words: recordings where they exist, texts to speak where not.
type Prompts interface {
	// Recorded is the URL path of key's recording in lang, if there is one.
	Recorded(lang, key string) (path string, ok bool)
	// Text is key's text in lang, or "" when there is none.
	Text(lang, key string) string
}

// Config assembles a Channel. AccountSID, AuthToken, PublicURL, Receiver, Reports and Prompts
// are required; From too for sending SMS.
type Config struct {
	AccountSID, AuthToken string
	// From is the sender: a phone number, or a messaging service SID (MG…).
	From string
	// APIURL replaces the scheme and host of every REST call. Defaults to DefaultAPIURL.
	APIURL string
	// PublicURL is the base URL Twilio calls us at: signatures are checked against it and
	// the phone line's links (next step, audio) are made from it.
	PublicURL string
	Receiver  channels.Receiver
	Reports   channels.Reports
	Prompts   Prompts
	// SMSRate is the most SMS a second sent from From. Defaults to DefaultSMSRate.
	SMSRate float64
	// MaxSegments is the most segments one SMS may have; a longer reply goes as several.
	MaxSegments int
	// VoiceAR and VoiceEN are the text-to-speech voices for prompts without a recording.
	VoiceAR, VoiceEN string
	// Timeout bounds each REST call. Defaults to DefaultTimeout.
	Timeout time.Duration
	// MaxWait is the longest a send waits for the rate limit before it is put back for later.
	MaxWait time.Duration
	Logger  *slog.Logger
}

// Channel is the Twilio SMS and voice channel.
type Channel struct {
	cfg     Config
	public  string // PublicURL without a trailing slash
	rest    *twilio.RestClient
	http    *http.Client // for fetching recordings, with the same rewriting and timeout
	limiter *rate.Limiter
	log     *slog.Logger
	callers callerLanguages
}

// New checks the configuration and makes a Channel. It sends nothing.
// maxIdleConns is how many connections to the API stay open for reuse: more than the send
// workers of the outbox and of broadcasts together.
const maxIdleConns = 64

func New(cfg Config) (*Channel, error) {
	switch {
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return nil, errors.New("twilio: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
	case cfg.PublicURL == "":
		return nil, errors.New("twilio: SAWT_PUBLIC_URL is required: Twilio signs its requests with the URL it calls")
	case cfg.Receiver == nil || cfg.Reports == nil || cfg.Prompts == nil:
		return nil, errors.New("twilio: Receiver, Reports and Prompts are required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	api, err := url.Parse(cfg.APIURL)
	if err != nil || api.Scheme == "" || api.Host == "" {
		return nil, fmt.Errorf("twilio: TWILIO_API_URL %q is not a URL like %s", cfg.APIURL, DefaultAPIURL)
	}
	if _, err := url.Parse(cfg.PublicURL); err != nil {
		return nil, fmt.Errorf("twilio: SAWT_PUBLIC_URL: %w", err)
	}
	if cfg.SMSRate <= 0 {
		cfg.SMSRate = DefaultSMSRate
	}
	if cfg.MaxSegments <= 0 {
		cfg.MaxSegments = DefaultMaxSegments
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.VoiceAR == "" {
		cfg.VoiceAR = DefaultVoiceAR
	}
	if cfg.VoiceEN == "" {
		cfg.VoiceEN = DefaultVoiceEN
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// Connections to the API are kept for reuse by every sender at once: the default keeps two
	// idle per host, so a campaign's senders opened (and TLS-handshook) a new one for about a
	// third of their messages.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = maxIdleConns
	hc := &http.Client{Timeout: cfg.Timeout, Transport: rewriter{base: api, next: transport}}
	c := &client.Client{Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: hc}
	c.SetAccountSid(cfg.AccountSID)
	ch := &Channel{
		cfg:     cfg,
		public:  strings.TrimRight(cfg.PublicURL, "/"),
		rest:    twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}),
		http:    hc,
		limiter: rate.NewLimiter(rate.Limit(cfg.SMSRate), max(1, int(cfg.SMSRate))),
		log:     cfg.Logger,
	}
	return ch, nil
}

// Routes registers the webhooks on mux.
func (c *Channel) Routes(mux *http.ServeMux) {
	mux.HandleFunc(SMSPath, c.ServeSMS)
	mux.HandleFunc(VoicePath, c.ServeVoice)
	mux.HandleFunc(StatusPath, c.ServeStatus)
}

// rewriter sends every REST call to base's scheme and host, paths unchanged (TWILIO_API_URL).
type rewriter struct {
	base *url.URL
	next http.RoundTripper
}

func (t rewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == t.base.Host && r.URL.Scheme == t.base.Scheme {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
	return t.next.RoundTrip(r)
}

// webhookError is a webhook request refused, with the status that says why.
type webhookError struct {
	status int
	msg    string
}

func (e *webhookError) Error() string { return e.msg }

// form checks a webhook: the signature header first (403 when missing), then the capped body
// (413), its form encoding (400) and the signature over the URL Twilio called and every
// parameter (403). Nothing is read from the form before the signature holds.
func (c *Channel) form(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &webhookError{http.StatusMethodNotAllowed, "use POST"}
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return nil, &webhookError{http.StatusForbidden, "missing X-Twilio-Signature"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &webhookError{http.StatusRequestEntityTooLarge, "request larger than 64 KiB"}
		}
		return nil, &webhookError{http.StatusBadRequest, "could not read the body"}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &webhookError{http.StatusBadRequest, "malformed form body"}
	}
	if !c.signed(r, form, sig) {
		return nil, &webhookError{http.StatusForbidden, "wrong X-Twilio-Signature"}
	}
	return form, nil
}

// signed checks sig against the URL as Twilio called it: the public URL with this request's
// path and query (behind a proxy the request's own host is not the one Twilio saw).
func (c *Channel) signed(r *http.Request, form url.Values, sig string) bool {
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) != 1 {
			return false // Twilio never repeats a parameter; the validator could not sign it
		}
		params[k] = v[0]
	}
	v := client.NewRequestValidator(c.cfg.AuthToken)
	return v.Validate(c.public+r.URL.RequestURI(), params, sig)
}

func (c *Channel) fail(w http.ResponseWriter, err error) {
	var we *webhookError
	if errors.As(err, &we) {
		if we.status == http.StatusForbidden {
			c.log.Warn("twilio webhook refused", "reason", we.msg)
		}
		http.Error(w, we.msg, we.status)
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// emptyTwiML acknowledges a message without answering it: replies go through the outbox.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

func writeTwiML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}
