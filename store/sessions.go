package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// LockSession reads a contact's conversation state and locks its row until the transaction
// ends. found is false for a contact who has none yet; SaveSession creates it.
func LockSession(ctx context.Context, tx pgx.Tx, contactID int64) (state []byte, found bool, err error) {
	err = tx.QueryRow(ctx, `SELECT state FROM sessions WHERE contact_id = $1 FOR UPDATE`, contactID).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return state, true, nil
}

// SaveSession writes a contact's conversation state.
func SaveSession(ctx context.Context, tx pgx.Tx, contactID int64, state []byte, at time.Time) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO sessions (contact_id, state, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (contact_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
		contactID, state, at)
	return err
}
