package main

import (
	"context"
	"fmt"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/store"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate", "migrate", `Applies the database migrations that are not applied yet (River's job tables, then Sawt's),
each in its own transaction, under a lock, so several processes may run it at once. Without
DATABASE_URL it migrates the private PostgreSQL under SAWT_DATA_DIR.`)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := config(e)
	if err != nil {
		return err
	}
	pool, srv, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		pool.Close()
		if srv != nil {
			_ = srv.Stop()
		}
	}()
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "The database is up to date.")
		return nil
	}
	for _, m := range applied {
		fmt.Fprintln(e.stdout, "applied", m)
	}
	return nil
}
