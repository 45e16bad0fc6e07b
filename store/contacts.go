package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/channels"
)

// Contact is a person as far as the gateway needs to know them for a conversation.
type Contact struct {
	ID           int64
	URNID        int64
	Language     string // "" until they choose
	LanguageHint string
	OptedOut     bool
}

// urnLockSpace is the first key of the advisory locks taken per URN, so they never collide
// with other advisory locks of ours.
const urnLockSpace = 0x5a77

// LockURN serialises, until the transaction ends, everything done for one address: two
// messages from one person, even their very first two, are handled one after the other.
func LockURN(ctx context.Context, tx pgx.Tx, urn channels.URN) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, urnLockSpace, string(urn))
	return err
}

// ContactForURN finds the contact of a URN, creating both when the URN is new. Call it under
// LockURN. A language hint, when given, is kept up to date on the contact.
func ContactForURN(ctx context.Context, tx pgx.Tx, urn channels.URN, hint string) (Contact, error) {
	var c Contact
	var lang, storedHint *string
	var optedOut *time.Time
	err := tx.QueryRow(ctx, `
		SELECT c.id, u.id, c.language, c.language_hint, coalesce(c.opted_out_at, u.opted_out_at)
		FROM urns u JOIN contacts c ON c.id = u.contact_id
		WHERE u.urn = $1`, string(urn)).Scan(&c.ID, &c.URNID, &lang, &storedHint, &optedOut)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = tx.QueryRow(ctx, `
			WITH c AS (INSERT INTO contacts (language_hint) VALUES (nullif($3, '')) RETURNING id)
			INSERT INTO urns (urn, scheme, contact_id) SELECT $1, $2, id FROM c
			RETURNING contact_id, id`, string(urn), urn.Scheme(), hint).Scan(&c.ID, &c.URNID)
		if err != nil {
			return Contact{}, fmt.Errorf("create contact: %w", err)
		}
		c.LanguageHint = hint
		return c, nil
	case err != nil:
		return Contact{}, fmt.Errorf("find contact: %w", err)
	}
	c.Language, c.LanguageHint, c.OptedOut = deref(lang), deref(storedHint), optedOut != nil
	if hint != "" && hint != c.LanguageHint {
		if _, err := tx.Exec(ctx, `UPDATE contacts SET language_hint = $2, updated_at = now() WHERE id = $1`, c.ID, hint); err != nil {
			return Contact{}, err
		}
		c.LanguageHint = hint
	}
	return c, nil
}

// SetContactLanguage records the language a contact chose.
func SetContactLanguage(ctx context.Context, db DB, contactID int64, lang string) error {
	_, err := db.Exec(ctx, `UPDATE contacts SET language = $2, updated_at = now() WHERE id = $1`, contactID, lang)
	return err
}

// LinkURN gives a contact another address, unless the address already belongs to someone:
// it returns the contact the URN belongs to afterwards.
func LinkURN(ctx context.Context, tx pgx.Tx, contactID int64, urn channels.URN) (owner int64, err error) {
	err = tx.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO urns (urn, scheme, contact_id) VALUES ($1, $2, $3)
			ON CONFLICT (urn) DO NOTHING RETURNING contact_id)
		SELECT contact_id FROM ins
		UNION ALL SELECT contact_id FROM urns WHERE urn = $1
		LIMIT 1`, string(urn), urn.Scheme(), contactID).Scan(&owner)
	return owner, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
