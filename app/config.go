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
	// DBMaxConns caps the connection pool. Defaults to store.DefaultMaxConns().
	DBMaxConns int32
	// HTTPAddr is the public listener (provider webhooks). Defaults to DefaultHTTPAddr.
	HTTPAddr string
	// AdminAddr is the private listener (health, metrics, console). Defaults to DefaultAdminAddr.
	AdminAddr string
	// PublicURL is the URL providers call us at.
	PublicURL string
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
	TelegramTimeout                                  time.Duration
	TwilioSID, TwilioToken, TwilioFrom, TwilioAPIURL string

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
	}{{"TELEGRAM_RATE_LIMIT", &c.TelegramRate}, {"TELEGRAM_CHAT_RATE_LIMIT", &c.TelegramChatRate}} {
		if v := getenv(r.name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 100000 {
				return c, fmt.Errorf("%w: %s=%q must be a number of messages per second, e.g. 30", ErrConfig, r.name, v)
			}
			*r.dst = f
		}
	}
	if v := getenv("TELEGRAM_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%w: TELEGRAM_TIMEOUT=%q is not a duration like 30s", ErrConfig, v)
		}
		c.TelegramTimeout = d
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
	if c.Now == nil {
		c.Now = time.Now
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
	errs = append(errs, c.validateTelegram()...)
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
