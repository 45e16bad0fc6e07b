package app

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/telegram"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// Config is everything an App is made from. ConfigFromEnv reads it from the environment;
// tests fill it directly. Zero values mean the defaults.
type Config struct {
	// DatabaseURL points at PostgreSQL. Empty: a private server is run from the system's
	// binaries with its cluster under DataDir.
	DatabaseURL string
	// DataDir holds the private server's cluster and other local state. Defaults to DefaultDataDir.
	DataDir string
	// SpoolMaxBytes caps the local spool of messages the database could not take
	// (DataDir/spool). Defaults to spool.DefaultMaxBytes.
	SpoolMaxBytes int64
	// DBMaxConns caps the connection pool. Defaults to store.DefaultMaxConns().
	DBMaxConns int32
	// HTTPAddr is the public listener (provider webhooks). Defaults to DefaultHTTPAddr.
	HTTPAddr string
	// AdminAddr is the private listener (health, metrics, console). Defaults to DefaultAdminAddr.
	AdminAddr string
	// PublicURL is the URL providers call us at.
	PublicURL string
	// AdminEmail is the email of the administrator serve makes on a database without any
	// staff user. Defaults to console.DefaultAdminEmail.
	AdminEmail string
	// Timezone is where schedules and deadlines are read. Defaults to DefaultTimezone.
	Timezone string
	// FlowsDir holds flow files that add to or replace the shipped ones.
	FlowsDir string
	// SessionIdle is how long a conversation waits for an answer. Defaults to 30 minutes.
	SessionIdle time.Duration

	// Provider credentials; a channel without them is off.
	TelegramToken, TelegramSecret, TelegramAPIURL string
	// TelegramMode is "webhook" or "poll". Defaults to webhook when PublicURL is set, else poll.
	TelegramMode string
	// TelegramRate and TelegramChatRate are the most messages a second the bot sends, in all
	// and to one chat. Default to telegram.DefaultRate and telegram.DefaultChatRate.
	TelegramRate, TelegramChatRate float64
	// TelegramTimeout bounds each Bot API call. Defaults to telegram.DefaultTimeout.
	TelegramTimeout time.Duration
	// Twilio's account, sender (a number or a messaging service SID) and REST API address.
	TwilioSID, TwilioToken, TwilioFrom, TwilioAPIURL string
	// TwilioSMSRate is the most SMS a second sent from TwilioFrom. Defaults to 1.
	TwilioSMSRate float64
	// TwilioMaxSegments is the most segments of one SMS; longer replies go as several.
	TwilioMaxSegments int
	// TwilioVoiceAR and TwilioVoiceEN are the text-to-speech voices of the phone line.
	TwilioVoiceAR, TwilioVoiceEN string
	// AudioDir holds voice recordings that add to or replace the shipped ones.
	AudioDir string

	// BroadcastWorkers is how many campaign send jobs run at once on this node. Defaults to 8.
	BroadcastWorkers int
	// CampaignReplyWindow is how long after a campaign reached someone a case they open
	// records it. Defaults to gateway.DefaultReplyWindow (72 hours).
	CampaignReplyWindow time.Duration

	// GBVHelpline is the support line told to a person making a confidential report; empty:
	// that sentence is left out.
	GBVHelpline string
	// PSEAAckHours and PSEAResolveHours are the deadlines of a confidential report. Default
	// to 24 hours and 7 days.
	PSEAAckHours, PSEAResolveHours int
	// PSEAEscrowKey is the public key (age1…) of an escrow identity kept offline. Empty: one is
	// generated under DataDir on first start.
	PSEAEscrowKey string

	// Senders sends outbox messages per channel (tests give fakes of the providers).
	Senders map[channels.Kind]channels.Sender
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Rand draws case references. Defaults to a source seeded by the operating system.
	Rand *rand.Rand
	// Logger receives the logs. Defaults to text on standard error.
	Logger *slog.Logger
	// Logf receives progress lines of the private PostgreSQL server (initialising, starting).
	Logf func(format string, args ...any)
}

// Defaults of Config.
const (
	DefaultDataDir   = "./sawt-data"
	DefaultHTTPAddr  = ":8080"
	DefaultAdminAddr = "127.0.0.1:8081"
	DefaultTimezone  = "Asia/Baghdad"
	// DefaultBroadcastWorkers is how many campaign send jobs run at once on a node.
	DefaultBroadcastWorkers = 8
)

// ErrConfig wraps every configuration mistake (the command exits 2 on it).
var ErrConfig = errors.New("configuration")

// ConfigFromEnv reads the configuration from environment variables (see the README), and
// checks it. An error names the variable and says what is wrong, on one line.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:    getenv("DATABASE_URL"),
		DataDir:        getenv("SAWT_DATA_DIR"),
		HTTPAddr:       getenv("SAWT_HTTP_ADDR"),
		AdminAddr:      getenv("SAWT_ADMIN_ADDR"),
		PublicURL:      getenv("SAWT_PUBLIC_URL"),
		AdminEmail:     getenv("SAWT_ADMIN_EMAIL"),
		Timezone:       getenv("SAWT_TIMEZONE"),
		FlowsDir:       getenv("SAWT_FLOWS_DIR"),
		TelegramToken:  getenv("TELEGRAM_BOT_TOKEN"),
		TelegramSecret: getenv("TELEGRAM_WEBHOOK_SECRET"),
		TelegramAPIURL: getenv("TELEGRAM_API_URL"),
		TelegramMode:   getenv("TELEGRAM_MODE"),
		TwilioSID:      getenv("TWILIO_ACCOUNT_SID"),
		TwilioToken:    getenv("TWILIO_AUTH_TOKEN"),
		TwilioFrom:     getenv("TWILIO_FROM"),
		TwilioAPIURL:   getenv("TWILIO_API_URL"),
		TwilioVoiceAR:  getenv("TWILIO_VOICE_AR"),
		TwilioVoiceEN:  getenv("TWILIO_VOICE_EN"),
		AudioDir:       getenv("SAWT_AUDIO_DIR"),
		GBVHelpline:    strings.TrimSpace(getenv("SAWT_GBV_HELPLINE")),
		PSEAEscrowKey:  strings.TrimSpace(getenv("SAWT_PSEA_ESCROW_KEY")),
	}
	for _, h := range []struct {
		name string
		dst  *int
	}{{"SAWT_PSEA_ACK_HOURS", &c.PSEAAckHours}, {"SAWT_PSEA_RESOLVE_HOURS", &c.PSEAResolveHours}} {
		if v := getenv(h.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 24*90 {
				return c, fmt.Errorf("%w: %s=%q must be a number of hours from 1 to 2160", ErrConfig, h.name, v)
			}
			*h.dst = n
		}
	}
	if v := getenv("SAWT_SESSION_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%w: SAWT_SESSION_IDLE=%q is not a duration like 30m", ErrConfig, v)
		}
		c.SessionIdle = d
	}
	for _, r := range []struct {
		name string
		dst  *float64
	}{{"TELEGRAM_RATE_LIMIT", &c.TelegramRate}, {"TELEGRAM_CHAT_RATE_LIMIT", &c.TelegramChatRate}, {"TWILIO_SMS_RATE_LIMIT", &c.TwilioSMSRate}} {
		if v := getenv(r.name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 100000 {
				return c, fmt.Errorf("%w: %s=%q must be a number of messages per second, e.g. 30", ErrConfig, r.name, v)
			}
			*r.dst = f
		}
	}
	if v := getenv("SAWT_CAMPAIGN_REPLY_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%w: SAWT_CAMPAIGN_REPLY_WINDOW=%q is not a duration like 72h", ErrConfig, v)
		}
		c.CampaignReplyWindow = d
	}
	if v := getenv("TELEGRAM_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%w: TELEGRAM_TIMEOUT=%q is not a duration like 30s", ErrConfig, v)
		}
		c.TelegramTimeout = d
	}
	if v := getenv("TWILIO_SMS_MAX_SEGMENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10 {
			return c, fmt.Errorf("%w: TWILIO_SMS_MAX_SEGMENTS=%q must be a number from 1 to 10", ErrConfig, v)
		}
		c.TwilioMaxSegments = n
	}
	if v := getenv("SAWT_BROADCAST_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return c, fmt.Errorf("%w: SAWT_BROADCAST_WORKERS=%q must be a number from 1 to 200", ErrConfig, v)
		}
		c.BroadcastWorkers = n
	}
	if v := getenv("SAWT_SPOOL_MAX_BYTES"); v != "" {
		n, err := parseBytes(v)
		if err != nil || n < 1<<20 {
			return c, fmt.Errorf("%w: SAWT_SPOOL_MAX_BYTES=%q must be a size of at least 1MiB, e.g. 1GiB or 500MiB", ErrConfig, v)
		}
		c.SpoolMaxBytes = n
	}
	if v := getenv("SAWT_DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 1000 {
			return c, fmt.Errorf("%w: SAWT_DB_MAX_CONNS=%q must be a number from 2 to 1000", ErrConfig, v)
		}
		c.DBMaxConns = int32(n)
	}
	return c.withDefaults(), c.Validate()
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.AdminAddr == "" {
		c.AdminAddr = DefaultAdminAddr
	}
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	if c.AdminEmail == "" {
		c.AdminEmail = console.DefaultAdminEmail
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.BroadcastWorkers <= 0 {
		c.BroadcastWorkers = DefaultBroadcastWorkers
	}
	if c.TelegramToken != "" && c.TelegramMode == "" {
		c.TelegramMode = telegram.ModePoll
		if c.PublicURL != "" {
			c.TelegramMode = telegram.ModeWebhook
		}
	}
	return c
}

// Validate checks the configuration in one pass; the error holds every mistake found.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []string
	for _, a := range []struct{ name, value string }{{"SAWT_HTTP_ADDR", c.HTTPAddr}, {"SAWT_ADMIN_ADDR", c.AdminAddr}} {
		if err := checkAddr(a.value); err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q %v", a.name, a.value, err))
		}
	}
	if c.DatabaseURL != "" {
		if _, err := store.ParseURL(c.DatabaseURL); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("SAWT_PUBLIC_URL=%q must be an http(s) URL such as https://sawt.example.org", c.PublicURL))
		}
	}
	if _, err := console.NormalizeEmail(c.AdminEmail); err != nil {
		errs = append(errs, fmt.Sprintf("SAWT_ADMIN_EMAIL: %v", err))
	}
	errs = append(errs, c.validateTelegram()...)
	errs = append(errs, c.validateTwilio()...)
	if c.PSEAEscrowKey != "" {
		if _, err := safeguarding.ParseRecipient(c.PSEAEscrowKey); err != nil {
			errs = append(errs, fmt.Sprintf("SAWT_PSEA_ESCROW_KEY is not an age public key (age1…): %v", err))
		}
	}
	if c.PSEAAckHours > 0 && c.PSEAResolveHours > 0 && c.PSEAAckHours > c.PSEAResolveHours {
		errs = append(errs, "SAWT_PSEA_ACK_HOURS must not be later than SAWT_PSEA_RESOLVE_HOURS")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Sprintf("SAWT_TIMEZONE=%q is not a known time zone (e.g. Asia/Baghdad)", c.Timezone))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(errs, "; "))
	}
	return nil
}

// telegramSecret is what Telegram accepts as a webhook secret token.
var telegramSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (c Config) validateTelegram() []string {
	var errs []string
	switch c.TelegramMode {
	case "", telegram.ModePoll:
	case telegram.ModeWebhook:
		if c.TelegramToken == "" {
			break
		}
		if c.PublicURL == "" {
			errs = append(errs, "TELEGRAM_MODE=webhook needs SAWT_PUBLIC_URL, the address Telegram calls (or use TELEGRAM_MODE=poll)")
		}
		if c.TelegramSecret == "" {
			errs = append(errs, "TELEGRAM_WEBHOOK_SECRET must be set for the Telegram webhook (letters, digits, _ and -, up to 256)")
		}
	default:
		errs = append(errs, fmt.Sprintf("TELEGRAM_MODE=%q must be webhook or poll", c.TelegramMode))
	}
	if c.TelegramSecret != "" && !telegramSecret.MatchString(c.TelegramSecret) {
		errs = append(errs, "TELEGRAM_WEBHOOK_SECRET may hold only letters, digits, _ and - (1 to 256 of them)")
	}
	if c.TelegramAPIURL != "" {
		if u, err := url.Parse(c.TelegramAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("TELEGRAM_API_URL=%q must be an http(s) URL", c.TelegramAPIURL))
		}
	}
	return errs
}

// twilioCredential is what twilio-go accepts as an account SID or auth token.
var twilioCredential = regexp.MustCompile(`^[A-Za-z0-9]+$`)

func (c Config) validateTwilio() []string {
	var errs []string
	if (c.TwilioSID == "") != (c.TwilioToken == "") {
		errs = append(errs, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together")
	}
	if c.TwilioSID == "" {
		return errs
	}
	if !twilioCredential.MatchString(c.TwilioSID) || !twilioCredential.MatchString(c.TwilioToken) {
		errs = append(errs, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN may hold only letters and digits")
	}
	if c.PublicURL == "" {
		errs = append(errs, "the Twilio channels need SAWT_PUBLIC_URL, the address Twilio calls and signs its requests with")
	}
	if c.TwilioFrom == "" {
		errs = append(errs, "TWILIO_FROM must be set: the number SMS are sent from (+964…), or a messaging service SID (MG…)")
	}
	if c.TwilioAPIURL != "" {
		if u, err := url.Parse(c.TwilioAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("TWILIO_API_URL=%q must be an http(s) URL", c.TwilioAPIURL))
		}
	}
	return errs
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not host:port (e.g. :8080 or 127.0.0.1:8081)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("has no valid port")
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return errors.New("has an invalid host")
	}
	return nil
}

// parseBytes reads a size: a number of bytes, or with a unit (KiB, MiB, GiB, also KB, MB, GB
// meaning the same powers of two, as operators write them).
func parseBytes(v string) (int64, error) {
	v = strings.TrimSpace(v)
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := v, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(v[:i]), strings.ToLower(strings.TrimSpace(v[i:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("not a size: %q", v)
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
		"mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}[unit]
	if mult == 0 || f*mult > 1<<50 {
		return 0, fmt.Errorf("not a size: %q", v)
	}
	return int64(f * mult), nil
}
