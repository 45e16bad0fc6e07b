package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sawt/sawt/channels/telegram"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/spool"
)

// ShutdownTimeout is how long Run lets in-flight webhooks and jobs finish once asked to stop.
const ShutdownTimeout = 20 * time.Second

// Listeners are the two HTTP listeners, opened before Run so that a port in use is reported
// at start-up and tests can listen on port 0.
type Listeners struct {
	Public, Admin net.Listener
}

// Listen opens the public and admin listeners.
func (a *App) Listen() (Listeners, error) {
	pub, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return Listeners{}, fmt.Errorf("public listener SAWT_HTTP_ADDR=%s: %w", a.Config.HTTPAddr, err)
	}
	adm, err := net.Listen("tcp", a.Config.AdminAddr)
	if err != nil {
		pub.Close()
		return Listeners{}, fmt.Errorf("admin listener SAWT_ADMIN_ADDR=%s: %w", a.Config.AdminAddr, err)
	}
	return Listeners{Public: pub, Admin: adm}, nil
}

// PublicHandler serves the providers' webhooks.
func (a *App) PublicHandler() http.Handler {
	mux := http.NewServeMux()
	if a.Telegram != nil && a.Config.TelegramMode == telegram.ModeWebhook {
		mux.Handle(telegram.WebhookPath, a.Telegram) // the handler answers 405 to other methods
	}
	if a.Twilio != nil {
		a.Twilio.Routes(mux)
	}
	mux.Handle(locales.PromptPattern, a.Prompts.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	})
	return mux
}

// AdminHandler serves health, readiness, metrics, the JSON API and the staff console.
func (a *App) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		err := a.Ready(r.Context())
		if a.Spool != nil {
			// Spooling or replaying, the node still takes SMS and calls: a load balancer
			// should keep sending it traffic. Only a full spool makes it unready.
			st := a.Spool.Stats()
			if err != nil || st.Pending > 0 {
				body := map[string]any{"status": "degraded", "spool": spoolStatus(st, a.Config.Now()), "database": "ok"}
				code := http.StatusOK
				if err != nil {
					body["database"] = err.Error()
				}
				if st.Bytes+spoolHeadroom > a.spoolMax() { // the next message would not fit
					body["status"], code = "unavailable", http.StatusServiceUnavailable
				}
				writeJSON(w, code, body)
				return
			}
		}
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{Registry: a.Registry}))
	api := &console.API{Auth: &console.Auth{Pool: a.Pool, Now: a.Config.Now, Logger: a.Log}, Outreach: a.Outreach, Cases: a.Gateway,
		Simulator: a.Gateway, Logger: a.Log}
	api.Routes(mux)
	// The console's pages (/login, /, /account, …): each route of its table behind its role
	// check and cross-origin protection. Cookies are Secure but for a browser on this machine
	// over plain HTTP (console.Web.Secure).
	web := &console.Web{Pool: a.Pool, Now: a.Config.Now, Logger: a.Log.With("component", "console"), Secure: true,
		Location: a.Outreach.Location, Cases: a.Gateway, Outreach: a.Outreach, Simulator: a.Gateway}
	web.Mount(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	})
	return mux
}

// Run serves the listeners and runs the workers until ctx is done, then shuts down
// gracefully: listeners stop accepting, in-flight requests and jobs get ShutdownTimeout to
// finish. It returns the first error that stopped it, or nil after a requested stop.
func (a *App) Run(ctx context.Context, l Listeners) error {
	servers := []*http.Server{
		{Handler: a.PublicHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second},
		{Handler: a.AdminHandler(), ReadHeaderTimeout: 10 * time.Second},
	}
	if a.workers {
		if err := a.River.Start(ctx); err != nil {
			return fmt.Errorf("start job workers: %w", err)
		}
	}
	errc := make(chan error, len(servers)+1)
	var wg sync.WaitGroup
	var channelsWG sync.WaitGroup
	chanCtx, stopChannels := context.WithCancel(ctx)
	defer stopChannels()
	if a.Telegram != nil {
		channelsWG.Add(1)
		go func() {
			defer channelsWG.Done()
			var err error
			if a.Config.TelegramMode == telegram.ModeWebhook {
				err = a.Telegram.EnsureWebhook(chanCtx, strings.TrimRight(a.Config.PublicURL, "/")+telegram.WebhookPath)
			} else {
				err = a.Telegram.Poll(chanCtx)
			}
			if err != nil && chanCtx.Err() == nil {
				errc <- fmt.Errorf("telegram: %w", err)
			}
		}()
	}
	if a.Spooler != nil {
		channelsWG.Add(1)
		go func() {
			defer channelsWG.Done()
			a.Spooler.Run(chanCtx, time.Second)
		}()
	}
	for i, ln := range []net.Listener{l.Public, l.Admin} {
		wg.Add(1)
		go func(s *http.Server, ln net.Listener) {
			defer wg.Done()
			if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(servers[i], ln)
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.Log.Info("shutting down: finishing in-flight requests and jobs")
	shutCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	stopChannels() // the poller stops taking updates; what it took is stored
	for _, s := range servers {
		if err := s.Shutdown(shutCtx); err != nil {
			a.Log.Warn("http shutdown", "err", err)
		}
	}
	wg.Wait()
	channelsWG.Wait()
	if a.workers {
		if err := a.River.Stop(shutCtx); err != nil {
			a.Log.Warn("jobs did not finish in time; stopping them (they will run again)", "err", err)
			hard, cancelHard := context.WithTimeout(context.Background(), 5*time.Second)
			_ = a.River.StopAndCancel(hard)
			cancelHard()
		}
	}
	if a.Telegram != nil {
		a.Telegram.Close(shutCtx)
	}
	return runErr
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// spoolStatus is the spool as /readyz shows it.
func spoolStatus(st spool.Stats, now time.Time) map[string]any {
	return map[string]any{"pending": st.Pending, "bytes": st.Bytes, "oldest_age_seconds": st.OldestAge(now).Seconds()}
}

// spoolHeadroom is room for a few more messages: a spool with less free is full to /readyz.
const spoolHeadroom = 16 << 10

// spoolMax is the spool's cap.
func (a *App) spoolMax() int64 {
	if a.Config.SpoolMaxBytes > 0 {
		return a.Config.SpoolMaxBytes
	}
	return spool.DefaultMaxBytes
}
