// Package telegram is Sawt's Telegram channel: the webhook and the long-polling loop that turn
// Bot API updates into channels.Inbound for the receive pipeline, and the Sender that delivers
// replies with inline buttons under Telegram's rate limits. It knows the Bot API and the
// channels contract, nothing of flows, cases or the database (its few persistent facts go
// through State). The bot token is in the URL of every API call: it never leaves this package
// in an error or a log line.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot"
	"github.com/sawt/sawt/channels"
)

// Modes of receiving updates.
const (
	ModeWebhook = "webhook"
	ModePoll    = "poll"
)

// DefaultAPIURL is the real Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// WebhookPath is where Telegram posts updates on the public listener.
const WebhookPath = "/channels/telegram/webhook"

// AllowedUpdates are the update types we ask Telegram for; the rest are never sent to us.
var AllowedUpdates = []string{"message", "edited_message", "channel_post", "callback_query"}

// State is what the channel keeps across restarts and nodes, in the database.
type State interface {
	// Offset is the update_id the next getUpdates starts from (0 when none is stored).
	Offset(ctx context.Context) (int64, error)
	SetOffset(ctx context.Context, offset int64) error
	// FirstTime reports true once only per key (a group told that we answer only in private).
	FirstTime(ctx context.Context, key string) (bool, error)
	// Lead blocks until this process is the one that polls (Telegram allows one getUpdates
	// at a time per bot), and returns a function that gives the role up.
	Lead(ctx context.Context) (release func(), err error)
}

// Config assembles a Channel. Token, Receiver and State are required.
type Config struct {
	Token string
	// Secret is checked against X-Telegram-Bot-Api-Secret-Token; required in webhook mode.
	Secret string
	// APIURL is the Bot API server. Defaults to DefaultAPIURL.
	APIURL   string
	Receiver channels.Receiver
	State    State
	// GroupNotice is said once in a group the bot was added to: it answers only in private.
	GroupNotice string
	// Rate is the most messages per second the bot sends in all. Defaults to DefaultRate.
	Rate float64
	// ChatRate is the most messages per second to one chat. Defaults to DefaultChatRate.
	ChatRate float64
	// MaxWait is the longest a send waits for the rate limits before it gives the job back to
	// be retried later. Defaults to DefaultMaxWait.
	MaxWait time.Duration
	// Timeout bounds each API call. Defaults to DefaultTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Defaults of Config: Telegram allows about 30 messages a second per bot and one a second per
// chat (short bursts pass, sustained ones get 429).
const (
	DefaultRate     = 30
	DefaultChatRate = 1
	DefaultMaxWait  = 2 * time.Second
	DefaultTimeout  = 30 * time.Second
	pollTimeout     = 25 * time.Second // getUpdates long-poll; under common proxies' 30 s idle limits
)

// Channel is the Telegram channel: webhook handler, poller and sender.
type Channel struct {
	cfg     Config
	api     *bot.Bot
	http    *http.Client
	limits  *limiter
	log     *slog.Logger
	tasks   sync.WaitGroup
	closing chan struct{}
	once    sync.Once
}

// New checks the configuration and makes a Channel. It does not call the API.
func New(cfg Config) (*Channel, error) {
	if cfg.Token == "" || cfg.Receiver == nil || cfg.State == nil {
		return nil, errors.New("telegram: Token, Receiver and State are required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.ChatRate <= 0 {
		cfg.ChatRate = DefaultChatRate
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	c := &Channel{cfg: cfg, log: cfg.Logger, closing: make(chan struct{}),
		http:   &http.Client{Timeout: cfg.Timeout},
		limits: newLimiter(cfg.Rate, cfg.ChatRate)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	api, err := bot.New(cfg.Token,
		bot.WithServerURL(cfg.APIURL),
		bot.WithSkipGetMe(),
		bot.WithHTTPClient(cfg.Timeout, c.http),
		bot.WithErrorsHandler(func(err error) { c.log.Warn("telegram client", "err", c.redact(err)) }),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s", c.redact(err))
	}
	c.api = api
	return c, nil
}

// Close waits for the channel's background calls (button acknowledgements, group notices)
// to finish, at most until ctx ends.
func (c *Channel) Close(ctx context.Context) {
	c.once.Do(func() { close(c.closing) })
	done := make(chan struct{})
	go func() { c.tasks.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// background runs a best-effort API call after the update it belongs to is stored.
func (c *Channel) background(what string, f func(ctx context.Context) error) {
	select {
	case <-c.closing:
		return
	default:
	}
	c.tasks.Add(1)
	go func() {
		defer c.tasks.Done()
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
		defer cancel()
		if err := f(ctx); err != nil {
			c.log.Warn("telegram call failed", "call", what, "err", c.redact(err))
		}
	}()
}

// redact removes the bot token from an error's text: the Bot API puts it in every URL. It also
// drops the body the client library quotes when an answer is not valid JSON: a broken answer to
// sendMessage or getUpdates may hold what people wrote, which must not reach a log.
func (c *Channel) redact(err error) string {
	if err == nil {
		return ""
	}
	return Redact(withoutBody(err.Error()), c.cfg.Token)
}

// undecodable starts the library's error for an answer that is not JSON:
// "error decode response body for method <method>, <body>, <decoding error>".
const undecodable = "error decode response body for method "

func withoutBody(s string) string {
	i := strings.Index(s, undecodable)
	if i < 0 {
		return s
	}
	method, _, _ := strings.Cut(s[i+len(undecodable):], ",")
	return s[:i] + undecodable + method + ": the answer is not JSON (body not shown)"
}

// Redact removes a bot token from s.
func Redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}

// redactedError keeps an error's chain for errors.Is/As but not the token in its text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (c *Channel) redacted(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: c.redact(err), err: err}
}
