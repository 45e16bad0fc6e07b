package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrTokenExists: an active API token has this name already (case-insensitive).
var ErrTokenExists = errors.New("an active API token has this name already")

// APIToken is a bearer token of the JSON API as stored: never the token itself, only its
// hash, which is not read back.
type APIToken struct {
	ID                    int64
	Name, Role            string
	CreatedAt             time.Time
	LastUsedAt, RevokedAt *time.Time
}

// apiTokenLockKey is the advisory lock that serialises the making of tokens: the table has no
// unique index on active names, so two makers of the same name must not both check first.
const apiTokenLockKey = 0x5a_77_74_03 // "Sawt" + 3; auditLockKey is + 2

// apiTokenTouchEvery is how stale last_used_at may get: a busy token is written at most
// once in that time, not once per request.
const apiTokenTouchEvery = time.Minute

const apiTokenColumns = `id, name, role, created_at, last_used_at, revoked_at`

func scanAPIToken(row pgx.Row) (APIToken, error) {
	var t APIToken
	err := row.Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// CreateAPIToken stores a token's hash under a name (trimmed, not empty) with a role, made at
// at, and returns its ID. The caller checks the role (the database refuses an unknown one) and
// makes the token and its hash. A name an active token has already (case-insensitive) gives
// an error wrapping ErrTokenExists, without aborting the transaction db may be. Makers are
// serialised by a transaction-scoped advisory lock: given a transaction, it is held until
// that ends; given a pool, CreateAPIToken runs in a transaction of its own.
func CreateAPIToken(ctx context.Context, db DB, name, role string, hash []byte, at time.Time) (int64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return 0, errors.New("an API token needs a name")
	}
	if len(hash) == 0 {
		return 0, errors.New("an API token needs a hash")
	}
	var id int64
	create := func(db DB) error {
		if _, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, apiTokenLockKey); err != nil {
			return fmt.Errorf("API token: lock: %w", err)
		}
		err := db.QueryRow(ctx, `
			INSERT INTO api_tokens (name, role, hash, created_at)
			SELECT $1, $2, $3, $4
			WHERE NOT EXISTS (SELECT 1 FROM api_tokens WHERE lower(name) = lower($1) AND revoked_at IS NULL)
			RETURNING id`, name, role, hash, at).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("API token %q: %w", name, ErrTokenExists)
		}
		return err
	}
	if _, inTx := db.(pgx.Tx); !inTx {
		if b, ok := db.(beginner); ok {
			return id, pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error { return create(tx) })
		}
	}
	return id, create(db)
}

// APITokenByHash finds the active token with this hash, or ErrNotFound when there is none
// (never made, or revoked).
func APITokenByHash(ctx context.Context, db DB, hash []byte) (APIToken, error) {
	return scanAPIToken(db.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE hash = $1 AND revoked_at IS NULL`, hash))
}

// TouchAPIToken notes that the token was used at at. It writes only when the last use noted
// is a minute or more older, so a busy client does not cost a write per request; an unknown
// id is not an error.
func TouchAPIToken(ctx context.Context, db DB, id int64, at time.Time) error {
	_, err := db.Exec(ctx, `
		UPDATE api_tokens SET last_used_at = $2::timestamptz
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - $3::interval)`,
		id, at, apiTokenTouchEvery)
	return err
}

// ListAPITokens lists every token, revoked ones included: the active ones by name, then the
// revoked ones, most recently revoked first.
func ListAPITokens(ctx context.Context, db DB) ([]APIToken, error) {
	rows, err := db.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		ORDER BY revoked_at IS NOT NULL, revoked_at DESC, lower(name), id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIToken, error) { return scanAPIToken(row) })
}

// RevokeAPIToken revokes the active token of that name (case-insensitive, trimmed) from at on:
// it is refused from then. ErrNotFound when there is no active token of that name.
func RevokeAPIToken(ctx context.Context, db DB, name string, at time.Time) error {
	name = strings.TrimSpace(name)
	tag, err := db.Exec(ctx, `
		UPDATE api_tokens SET revoked_at = $2
		WHERE lower(name) = lower($1) AND revoked_at IS NULL`, name, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("API token %q: %w", name, ErrNotFound)
	}
	return nil
}
