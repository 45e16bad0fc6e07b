package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/store"
)

// openDatabase opens the database the environment names (without DATABASE_URL, starting the
// private server under SAWT_DATA_DIR); closeDB closes it and stops that server again.
func openDatabase(ctx context.Context, e *env) (_ *pgxpool.Pool, _ app.Config, closeDB func(), _ error) {
	cfg, err := config(e)
	if err != nil {
		return nil, cfg, nil, err
	}
	pool, srv, err := app.OpenDatabase(ctx, cfg)
	if err != nil {
		return nil, cfg, nil, err
	}
	return pool, cfg, func() {
		pool.Close()
		if srv != nil {
			_ = srv.Stop()
		}
	}, nil
}

// openMigrated is openDatabase with the schema brought up to date, for commands that work on
// a database that may be fresh.
func openMigrated(ctx context.Context, e *env) (*pgxpool.Pool, app.Config, func(), error) {
	pool, cfg, closeDB, err := openDatabase(ctx, e)
	if err != nil {
		return nil, cfg, nil, err
	}
	if _, err := store.Migrate(ctx, pool); err != nil {
		closeDB()
		return nil, cfg, nil, err
	}
	return pool, cfg, closeDB, nil
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate", "migrate", `Applies the database migrations that are not applied yet (River's job tables, then Sawt's),
each in its own transaction, under a lock, so several processes may run it at once. Without
DATABASE_URL it migrates the private PostgreSQL under SAWT_DATA_DIR.`)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	pool, _, closeDB, err := openDatabase(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
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
