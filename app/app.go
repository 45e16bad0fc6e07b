// Package app assembles configuration, store, engine, gateway, workers and HTTP into one
// runnable App. cmd/sawt and the end-to-end tests both build the gateway through it, so what
// is tested is what runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/telegram"
	"github.com/sawt/sawt/channels/twilio"
	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/spool"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/localpg"
)

// App is a running Sawt: database, engine, gateway and job workers.
type App struct {
	Config   Config
	Pool     *pgxpool.Pool
	Engine   *flows.Engine
	Texts    *locales.Catalog
	Gateway  *gateway.Gateway
	River    *river.Client[pgx.Tx]
	Registry *prometheus.Registry
	Log      *slog.Logger
	// Telegram is the Telegram channel, nil when it is off.
	Telegram *telegram.Channel
	// Twilio is the SMS and voice channel, nil when it is off.
	Twilio *twilio.Channel
	// Prompts are the phone line's recordings.
	Prompts *locales.Prompts
	// Outreach makes and steers campaigns.
	Outreach *outreach.Service
	// Spool keeps what Twilio's webhooks bring while the database cannot take it, and Spooler
	// feeds it back (nil unless Options.Spool and Twilio is on).
	Spool   *spool.Spool
	Spooler *gateway.Spooler

	localPG *localpg.Server
	workers bool
}

// Options chooses what New starts.
type Options struct {
	// Workers runs the job workers (the outbox). `sawt chat` runs without: its replies are
	// printed, not sent.
	Workers bool
	// Spool keeps Twilio's messages on local disk (SAWT_DATA_DIR/spool) while the database
	// cannot take them; serve sets it. One process at a time holds a spool.
	Spool bool
}

// OpenDatabase connects to DATABASE_URL, or starts the private server under DataDir and
// returns it too, for the caller to stop after closing the pool.
func OpenDatabase(ctx context.Context, cfg Config) (*pgxpool.Pool, *localpg.Server, error) {
	cfg = cfg.withDefaults()
	url := cfg.DatabaseURL
	var srv *localpg.Server
	if url == "" {
		var err error
		srv, err = localpg.Start(ctx, localpg.Options{Dir: cfg.DataDir, Durable: true, Logf: cfg.Logf})
		if err != nil {
			return nil, nil, err
		}
		if err := srv.EnsureDatabase(ctx, "sawt"); err != nil {
			_ = srv.Stop()
			return nil, nil, err
		}
		url = srv.URL("sawt")
	}
	pool, err := store.Open(ctx, url, store.PoolConfig{MaxConns: cfg.DBMaxConns})
	if err != nil {
		if srv != nil {
			_ = srv.Stop()
		}
		return nil, nil, err
	}
	return pool, srv, nil
}

// New opens the database, applies migrations under a lock and assembles the gateway.
func New(ctx context.Context, cfg Config, opts Options) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	texts, err := locales.Default()
	if err != nil {
		return nil, fmt.Errorf("load texts: %w", err)
	}
	prompts, err := locales.DefaultPrompts(texts, cfg.AudioDir)
	if err != nil {
		return nil, fmt.Errorf("load voice recordings: %w", err)
	}
	for _, p := range prompts.Problems() {
		log.Warn("voice recording not used", "problem", p)
	}
	defs, err := flows.Load(cfg.FlowsDir)
	if err != nil {
		return nil, fmt.Errorf("load flows: %w", err)
	}
	detector := safeguarding.NewDetector(texts)
	engine, err := flows.New(defs, texts, gateway.EngineConfig(flows.Config{IdleTimeout: cfg.SessionIdle, Detect: detector.MatchFolded}))
	if err != nil {
		return nil, err
	}
	if cfg.FlowsDir != "" {
		if probs := flows.Check(defs, texts, gateway.EngineConfig(flows.Config{})); len(probs) > 0 {
			return nil, fmt.Errorf("flows in %s have %d problems, first: %s (run sawt flows check)", cfg.FlowsDir, len(probs), probs[0])
		}
	}

	pool, srv, err := OpenDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Pool: pool, Engine: engine, Texts: texts, Prompts: prompts, Log: log, localPG: srv, workers: opts.Workers}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	for _, m := range applied {
		log.Info("migration applied", "migration", m)
	}
	// Reports are taken even before a focal point is registered: encrypted to the escrow key.
	warnings, err := safeguarding.EnsureEscrow(ctx, pool, cfg.DataDir, cfg.PSEAEscrowKey, cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("PSEA escrow key: %w", err)
	}
	for _, w := range warnings {
		if opts.Workers { // serve says it at every start; a terminal chat need not
			log.Warn(w)
		} else {
			log.Info(w)
		}
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	sealer := safeguarding.NewSealer()
	sea := gateway.SEAConfig{Sealer: sealer, Helpline: cfg.GBVHelpline, AckHours: cfg.PSEAAckHours,
		ResolveHours: cfg.PSEAResolveHours, Texts: texts, Location: loc}

	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := gateway.NewMetrics(a.Registry)
	broadcastMetrics := outreach.NewMetrics(a.Registry)

	// The senders are filled in below, once the channels exist; the workers start in Run.
	senders := map[channels.Kind]channels.Sender{}
	for k, s := range cfg.Senders {
		senders[k] = s
	}
	// A send job that outlives JobTimeout is cancelled and retried; one left running by a
	// crashed node is taken back after RescueStuckJobsAfter instead of River's hour — River
	// waits for the job's own timeout too, which is why no job of ours has a longer one
	// (outreach.JobTimeout).
	riverCfg := &river.Config{Logger: log.With("component", "river"), JobTimeout: 2 * time.Minute, RescueStuckJobsAfter: 3 * time.Minute}
	a.Outreach = &outreach.Service{Pool: pool, Location: loc, Now: cfg.Now, Texts: texts, Metrics: broadcastMetrics,
		Logger: log.With("component", "outreach")}
	if cfg.Rand != nil {
		// Codes drawn from a source of their own, seeded from the given one: reproducible.
		a.Outreach.Rand = rand.New(rand.NewPCG(cfg.Rand.Uint64(), cfg.Rand.Uint64()))
	}
	// The recording fetcher is filled in below too, once the Twilio channel exists.
	fetchRecordings := &gateway.FetchRecordingWorker{Pool: pool, Sealer: sealer, Now: cfg.Now, Logger: log}
	erasers := map[channels.Kind]channels.Eraser{}
	sweep := &gateway.SEASweepWorker{Pool: pool, SEA: sea, Now: cfg.Now, Logger: log}
	overdue := &gateway.OverdueAlertWorker{Pool: pool, Texts: texts, Location: loc, Now: cfg.Now, Logger: log}
	if opts.Workers {
		workers := river.NewWorkers()
		river.AddWorker(workers, &gateway.SendWorker{
			Pool: pool, Senders: senders, Now: cfg.Now, Metrics: metrics, Logger: log,
		})
		river.AddWorker(workers, fetchRecordings)
		river.AddWorker(workers, &gateway.PurgeRecordingsWorker{Pool: pool, Now: cfg.Now, Logger: log})
		river.AddWorker(workers, &gateway.EraseWorker{Pool: pool, Erasers: erasers, Logger: log})
		river.AddWorker(workers, sweep)
		river.AddWorker(workers, overdue)
		river.AddWorker(workers, &outreach.StartRunWorker{Service: a.Outreach})
		river.AddWorker(workers, &outreach.AlertWorker{Service: a.Outreach})
		river.AddWorker(workers, &outreach.SendBatchWorker{Pool: pool, Senders: senders, Now: cfg.Now, Logger: log, Metrics: broadcastMetrics})
		riverCfg.PeriodicJobs = []*river.PeriodicJob{gateway.PurgeRecordingsPeriodic(), gateway.SEASweepPeriodic(),
			gateway.OverdueAlertPeriodic()}
		riverCfg.Workers = workers
		riverCfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault:  {MaxWorkers: 10},
			gateway.OutboxQueue: {MaxWorkers: 20},
			// Broadcasts have their own workers: a campaign never holds up a reply.
			outreach.BroadcastQueue: {MaxWorkers: cfg.BroadcastWorkers},
		}
	}
	a.River, err = river.NewClient(riverpgxv5.New(pool), riverCfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	a.Gateway, err = gateway.New(gateway.Config{
		Pool: pool, Engine: engine, River: a.River, Now: cfg.Now, Rand: cfg.Rand, Metrics: metrics, Logger: log,
		SEA: sea, Outreach: gateway.OutreachConfig{Texts: texts, Location: loc, ReplyWindow: cfg.CampaignReplyWindow},
	})
	if err != nil {
		return nil, err
	}
	sweep.River = a.River
	overdue.River = a.River
	a.Outreach.River = a.River
	if cfg.TelegramToken != "" {
		a.Telegram, err = telegram.New(telegram.Config{
			Token: cfg.TelegramToken, Secret: cfg.TelegramSecret, APIURL: cfg.TelegramAPIURL,
			Receiver: a.Gateway, State: store.NewChannelState(pool, "telegram"),
			GroupNotice: a.everyLanguage("telegram.private_only"),
			Rate:        cfg.TelegramRate, ChatRate: cfg.TelegramChatRate, Timeout: cfg.TelegramTimeout,
			Logger: log.With("channel", "telegram"),
		})
		if err != nil {
			return nil, err
		}
		if senders[channels.Telegram] == nil {
			senders[channels.Telegram] = a.Telegram
		}
		erasers[channels.Telegram] = a.Telegram
	}
	if cfg.TwilioSID != "" {
		// Twilio does not send a failed webhook again: what the database cannot take waits on
		// disk. Telegram does (for a day), so its webhook answers 503 and Telegram keeps it.
		var twilioIn interface {
			channels.Receiver
			channels.Reports
		} = a.Gateway
		if opts.Spool {
			if err := a.openSpool(); err != nil {
				return nil, err
			}
			if a.Spooler != nil {
				twilioIn = a.Spooler
			}
		}
		a.Twilio, err = twilio.New(twilio.Config{
			AccountSID: cfg.TwilioSID, AuthToken: cfg.TwilioToken, From: cfg.TwilioFrom, APIURL: cfg.TwilioAPIURL,
			PublicURL: cfg.PublicURL, Receiver: twilioIn, Reports: twilioIn, Prompts: prompts,
			SMSRate: cfg.TwilioSMSRate, MaxSegments: cfg.TwilioMaxSegments,
			VoiceAR: cfg.TwilioVoiceAR, VoiceEN: cfg.TwilioVoiceEN,
			Logger: log.With("channel", "twilio"),
		})
		if err != nil {
			return nil, err
		}
		if senders[channels.SMS] == nil {
			senders[channels.SMS] = a.Twilio
		}
		fetchRecordings.Fetcher = a.Twilio
	}
	return a, nil
}

// openSpool opens the spool under DataDir and the Spooler in front of the gateway. A spool
// held by another process (two serve on one data directory) leaves this one without: said
// once, not fatal.
func (a *App) openSpool() error {
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(a.Config.DataDir, "spool"), MaxBytes: a.Config.SpoolMaxBytes,
		Logger: a.Log.With("component", "spool"), Now: a.Config.Now})
	if errors.Is(err, spool.ErrLocked) {
		a.Log.Warn("another process holds the inbound spool in this data directory: SMS that arrive while the database is down will be refused (503) here", "dir", filepath.Join(a.Config.DataDir, "spool"))
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the inbound spool: %w", err)
	}
	a.Spool = sp
	a.Spooler = &gateway.Spooler{Next: a.Gateway, Spool: sp, Logger: a.Log.With("component", "spool"), Now: a.Config.Now,
		Ping: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			return a.Pool.Ping(ctx)
		}}
	a.Registry.MustRegister(gateway.SpoolCollector(sp, a.Config.Now))
	if st := sp.Stats(); st.Pending > 0 {
		a.Log.Warn("messages from before a stop wait in the inbound spool; they are handed on once the database answers", "pending", st.Pending)
	}
	return nil
}

// everyLanguage is a text in all four languages, one line each, for messages sent before
// anyone's language is known.
func (a *App) everyLanguage(key string) string {
	var lines []string
	for _, lang := range locales.Languages {
		if text, err := a.Texts.Text(lang, key, nil, nil); err == nil {
			lines = append(lines, text)
		}
	}
	return strings.Join(lines, "\n")
}

// ChannelStatus says, for each provider, whether it is on and how.
func (a *App) ChannelStatus() []string {
	cfg := a.Config
	var lines []string
	switch {
	case a.Telegram == nil:
		lines = append(lines, "telegram channel: off (TELEGRAM_BOT_TOKEN is not set)")
	case cfg.TelegramMode == telegram.ModeWebhook:
		lines = append(lines, "telegram channel: on, webhook at "+strings.TrimRight(cfg.PublicURL, "/")+telegram.WebhookPath)
	default:
		lines = append(lines, "telegram channel: on, polling for updates (no public URL needed)")
	}
	if a.Twilio == nil {
		lines = append(lines, "twilio channels (SMS, voice): off (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set)")
	} else {
		base := strings.TrimRight(cfg.PublicURL, "/")
		lines = append(lines, "twilio channels: on; SMS webhook "+base+twilio.SMSPath+", voice webhook "+base+twilio.VoicePath+
			", status callbacks "+base+twilio.StatusPath+"; SMS from "+maskSender(cfg.TwilioFrom))
	}
	return lines
}

// maskSender shows a sender number's country code and last digits; a messaging service SID
// is not personal.
func maskSender(from string) string {
	if strings.HasPrefix(from, "MG") {
		return "messaging service " + from
	}
	if urn, err := channels.NewTelURN(from); err == nil {
		return urn.Masked()
	}
	return "•••"
}

// Close releases the database (and stops a private server). It does not stop workers: Run does.
func (a *App) Close() {
	if a.Telegram != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.Telegram.Close(ctx) // its acknowledgements of pressed buttons
		cancel()
	}
	if a.Spool != nil {
		if err := a.Spool.Close(); err != nil {
			a.Log.Error("close the inbound spool", "err", err)
		}
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
	if a.localPG != nil {
		if err := a.localPG.Stop(); err != nil {
			a.Log.Error("stop PostgreSQL", "err", err)
		}
	}
}

// Ready reports whether the database answers and its schema is up to date.
func (a *App) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := a.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if err := store.CheckMigrated(ctx, a.Pool); err != nil {
		if errors.Is(err, store.ErrNotMigrated) {
			return err
		}
		return fmt.Errorf("database: %w", err)
	}
	return nil
}
