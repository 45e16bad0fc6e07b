package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/console"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve", strings.TrimSpace(`
Runs the gateway: the public listener for provider webhooks (SAWT_HTTP_ADDR, default :8080),
the admin listener with /healthz, /readyz and /metrics (SAWT_ADMIN_ADDR, default
127.0.0.1:8081), and the job workers that send replies. Migrations are applied at start-up.
Without DATABASE_URL a private PostgreSQL runs under SAWT_DATA_DIR (default ./sawt-data).
The staff console is on the admin listener too: on a database without any console user, an
administrator (SAWT_ADMIN_EMAIL, default admin@localhost) is made and its one-time password
printed once on standard error. Stops gracefully on SIGINT or SIGTERM.`))
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := config(e)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if v := e.getenv("SAWT_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("%w: SAWT_LOG_LEVEL=%q must be debug, info, warn or error", app.ErrConfig, v)
		}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log
	a, err := app.New(ctx, cfg, app.Options{Workers: true, Spool: true})
	if err != nil {
		return err
	}
	defer a.Close()
	for _, line := range a.ChannelStatus() {
		log.Info(line)
	}
	l, err := a.Listen()
	if err != nil {
		return err
	}
	firstAdmin(ctx, e, a, l)
	log.Info("sawt is running", "public", l.Public.Addr().String(), "admin", l.Admin.Addr().String())
	if err := a.Run(ctx, l); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// firstAdminMark starts the line that gives the first administrator's password, so that it
// stands out in the log and can be found in it.
const firstAdminMark = "*** FIRST CONSOLE ADMINISTRATOR ***"

// firstAdmin makes the console's first administrator when there is no console user at all,
// and prints its one-time password once on stderr, on one clearly marked line. Of several
// serve processes starting at once on an empty database, only the one that made it prints.
// A failure is logged, not fatal: the gateway runs without a console user, and sawt users add
// makes one.
func firstAdmin(ctx context.Context, e *env, a *app.App, l app.Listeners) {
	email, err := console.NormalizeEmail(a.Config.AdminEmail) // checked with the configuration
	if err != nil {
		a.Log.Error("could not make the first console administrator", "error", err)
		return
	}
	password, err := console.EnsureFirstAdmin(ctx, a.Pool, email, time.Now())
	if err != nil {
		a.Log.Error("could not make the first console administrator; make one with sawt users add EMAIL --role admin", "error", err)
		return
	}
	if password == "" {
		return
	}
	fmt.Fprintf(e.stderr, "%s email: %s one-time password: %s (shown only this once: sign in at http://%s/login and choose your own)\n",
		firstAdminMark, email, password, l.Admin.Addr())
}
