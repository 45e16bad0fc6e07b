package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sawt/sawt/app"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve", strings.TrimSpace(`
Runs the gateway: the public listener for provider webhooks (SAWT_HTTP_ADDR, default :8080),
the admin listener with /healthz, /readyz and /metrics (SAWT_ADMIN_ADDR, default
127.0.0.1:8081), and the job workers that send replies. Migrations are applied at start-up.
Without DATABASE_URL a private PostgreSQL runs under SAWT_DATA_DIR (default ./sawt-data).
Stops gracefully on SIGINT or SIGTERM.`))
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
	a, err := app.New(ctx, cfg, app.Options{Workers: true})
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
	log.Info("sawt is running", "public", l.Public.Addr().String(), "admin", l.Admin.Addr().String())
	if err := a.Run(ctx, l); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}
