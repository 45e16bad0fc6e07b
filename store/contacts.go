package store

import (
	"context"
	"errors"
	"fmt"

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

// contactByURN reads the contact of a URN; StartTurn sends it in its batch.
const contactByURN = `
	SELECT c.id, u.id, c.language, c.language_hint, coalesce(c.opted_out_at, u.opted_out_at) IS NOT NULL
	FROM urns u JOIN contacts c ON c.id = u.contact_id WHERE u.urn = $1`

// scanContact reads a row of contactByURN.
func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	var lang, hint *string
	if err := row.Scan(&c.ID, &c.URNID, &lang, &hint, &c.OptedOut); err != nil {
		return Contact{}, err
	}
	c.Language, c.LanguageHint = deref(lang), deref(hint)
	return c, nil
}

// ContactForURN finds the contact of a URN, creating both when the URN is new. Call it under
// LockURN.
func ContactForURN(ctx context.Context, tx pgx.Tx, urn channels.URN) (Contact, error) {
	c, err := scanContact(tx.QueryRow(ctx, contactByURN, string(urn)))
	if errors.Is(err, pgx.ErrNoRows) {
		return CreateContact(ctx, tx, urn, "")
	}
	if err != nil {
		return Contact{}, fmt.Errorf("find contact: %w", err)
	}
	return c, nil
}

// ContactOfURN finds the contact of a URN, with the URN's ID, or ErrNotFound. Call it under
// LockURN when the contact's session is read or written next.
func ContactOfURN(ctx context.Context, db DB, urn channels.URN) (Contact, error) {
	c, err := scanContact(db.QueryRow(ctx, contactByURN, string(urn)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Contact{}, ErrNotFound
	}
	return c, err
}

// ContactURN is where a message we start goes to a contact on a scheme (tel, telegram, …): of
// their addresses on it, the one they last wrote from, else the newest. ErrNotFound when they
// have none on it.
func ContactURN(ctx context.Context, db DB, contactID int64, scheme string) (channels.URN, error) {
	var urn string
	err := db.QueryRow(ctx, `
		SELECT u.urn FROM urns u
		WHERE u.contact_id = $1 AND u.scheme = $2
		ORDER BY (SELECT max(m.id) FROM messages m WHERE m.contact_id = $1 AND m.urn_id = u.id AND m.direction = 'in') DESC NULLS LAST, u.id DESC
		LIMIT 1`, contactID, scheme).Scan(&urn)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return channels.URN(urn), err
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
