package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ChannelState keeps a channel's small facts in channel_state, under keys prefixed with the
// channel's name: a polling offset, keys seen once, and the leadership of one poller.
type ChannelState struct {
	pool   *pgxpool.Pool
	prefix string
	// Retry is how often Lead tries again for a role another node holds.
	Retry time.Duration
}

// leadLockSpace is the first key of the advisory locks that elect a channel's poller.
const leadLockSpace = 0x5a78

// NewChannelState makes the state of the named channel.
func NewChannelState(pool *pgxpool.Pool, channel string) *ChannelState {
	return &ChannelState{pool: pool, prefix: channel + ":", Retry: 5 * time.Second}
}

// Offset reads the stored polling offset, 0 when none.
func (s *ChannelState) Offset(ctx context.Context) (int64, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM channel_state WHERE key = $1`, s.prefix+"offset").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// SetOffset stores the polling offset.
func (s *ChannelState) SetOffset(ctx context.Context, offset int64) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO channel_state (key, value, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
		s.prefix+"offset", strconv.FormatInt(offset, 10))
	return err
}

// FirstTime reports true the first time it is asked about key, on any node, and false after.
func (s *ChannelState) FirstTime(ctx context.Context, key string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO channel_state (key, value) VALUES ($1, 'seen') ON CONFLICT (key) DO NOTHING`, s.prefix+key)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// Lead waits until this process holds the channel's session advisory lock, on a connection
// kept for as long as it leads; the lock goes with the connection if the process dies.
func (s *ChannelState) Lead(ctx context.Context) (func(), error) {
	for {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("lead %s: %w", s.prefix, err)
		}
		var got bool
		err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, leadLockSpace, s.prefix).Scan(&got)
		if err == nil && got {
			return func() {
				// A failed unlock drops the connection, which ends the lock with it.
				if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext($2))`, leadLockSpace, s.prefix); err != nil {
					_ = conn.Conn().Close(context.WithoutCancel(ctx))
				}
				conn.Release()
			}, nil
		}
		conn.Release()
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("lead %s: %w", s.prefix, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(s.Retry):
		}
	}
}
