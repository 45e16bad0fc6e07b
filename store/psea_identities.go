package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PSEAIdentity is a psea staff user's focal point identity, as the console keeps it: the
// identity file, passphrase-protected, and the recipient (the public key) it is the secret
// key of.
type PSEAIdentity struct {
	StaffUserID int64
	RecipientID int64
	File        []byte
	LinkedAt    time.Time
	// The recipient's, read with it. RemovedAt is set when reports are no longer encrypted
	// to it (those before still are).
	RecipientName string
	PublicKey     string
	RemovedAt     *time.Time
}

// LinkPSEAIdentity keeps a user's identity file as theirs, replacing the one they had. The
// recipient must be an active focal point, never the escrow: ErrNotFound otherwise. The caller
// checks that file is passphrase-protected and is the recipient's secret key.
func LinkPSEAIdentity(ctx context.Context, db DB, userID, recipientID int64, file []byte, at time.Time) error {
	tag, err := db.Exec(ctx, `
		INSERT INTO psea_identities (staff_user_id, recipient_id, identity_file, linked_at)
		SELECT $1, id, $3, $4 FROM psea_recipients WHERE id = $2 AND NOT escrow AND removed_at IS NULL
		ON CONFLICT (staff_user_id) DO UPDATE SET recipient_id = EXCLUDED.recipient_id,
		    identity_file = EXCLUDED.identity_file, linked_at = EXCLUDED.linked_at`,
		userID, recipientID, file, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("PSEA recipient %d: not an active focal point: %w", recipientID, ErrNotFound)
	}
	return nil
}

// PSEAIdentityOf returns the user's identity, or ErrNotFound when they have linked none.
func PSEAIdentityOf(ctx context.Context, db DB, userID int64) (PSEAIdentity, error) {
	var p PSEAIdentity
	err := db.QueryRow(ctx, `
		SELECT i.staff_user_id, i.recipient_id, i.identity_file, i.linked_at, r.name, r.public_key, r.removed_at
		FROM psea_identities i JOIN psea_recipients r ON r.id = i.recipient_id
		WHERE i.staff_user_id = $1`, userID).Scan(&p.StaffUserID, &p.RecipientID, &p.File, &p.LinkedAt,
		&p.RecipientName, &p.PublicKey, &p.RemovedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// SEARecordingCounts counts the recordings of each report, by report ID; a report without
// any is not in the map.
func SEARecordingCounts(ctx context.Context, db DB) (map[int64]int, error) {
	rows, err := db.Query(ctx, `SELECT sea_report_id, count(*) FROM recordings WHERE sea_report_id IS NOT NULL GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int{}
	var id int64
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		counts[id] = n
		return nil
	})
	return counts, err
}
