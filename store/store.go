// Package store is Sawt's only door to PostgreSQL: the pool, the embedded migrations and the
// queries of each aggregate (contacts, sessions, messages, cases). It knows nothing of flows
// or channels' providers; callers pass a transaction when several writes must stand or fall
// together.
package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// DB is what the queries need: a pool or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// PoolConfig tunes the connection pool. Zero values mean the defaults.
type PoolConfig struct {
	// MaxConns is the largest number of connections. Defaults to DefaultMaxConns().
	MaxConns int32
}

// DefaultMaxConns is twice the processors plus two: a turn is CPU work on both sides, and
// more backends than cores only queue for them (measured on 2 cores with Postgres alongside:
// 4–6 connections took ~1,150 messages/s at 64 concurrent contacts, 16 took ~870). The two
// spare connections are for River's listener and job completion. A database on its own
// bigger machine may want more: SAWT_DB_MAX_CONNS.
func DefaultMaxConns() int32 { return int32(2*runtime.GOMAXPROCS(0) + 2) }

// ParseURL checks a connection string without connecting.
func ParseURL(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("DATABASE_URL is not a valid connection string: %v", pe.Unwrap())
		}
		return nil, fmt.Errorf("DATABASE_URL is not a valid connection string: %w", err)
	}
	return cfg, nil
}

// Open connects a pool and checks that the server answers.
func Open(ctx context.Context, url string, pc PoolConfig) (*pgxpool.Pool, error) {
	cfg, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = DefaultMaxConns()
	if pc.MaxConns > 0 {
		cfg.MaxConns = pc.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

// IsNoRows reports whether err says a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// trimPage cuts a page read with LIMIT limit+1 to limit rows, and says whether there were
// more: the one extra row is how a list knows it has a next page without counting.
func trimPage[T any](list []T, limit int) ([]T, bool) {
	if len(list) > limit {
		return list[:limit], true
	}
	return list, false
}
