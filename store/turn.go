package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/channels"
)

// Handling one inbound message takes two batches of statements besides BEGIN, the job insert
// and COMMIT: StartTurn and FinishTurn. Round trips, not statements, are what a turn costs.

// Turn is what StartTurn read.
type Turn struct {
	InboxID int64
	// Fresh is false for a message received before (a retried webhook): nothing else was read
	// and nothing should be done.
	Fresh bool
	// Contact is the sender's contact; Found is false when the URN is new (see CreateContact).
	Contact Contact
	Found   bool
	// State is the contact's session, locked until the transaction ends; nil when there is none.
	State []byte
}

// StartTurn records an inbound message's provider ID, then takes the sender's URN lock and
// reads their contact and locked session, in one round trip. The statements run in order on
// the server, each with its own snapshot, so the reads see everything committed by whoever held
// the lock before.
func StartTurn(ctx context.Context, tx pgx.Tx, channel channels.Kind, externalID string, at time.Time, urn channels.URN) (Turn, error) {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO inbox (channel, external_id, received_at) VALUES ($1, $2, $3)
		ON CONFLICT (channel, external_id) DO NOTHING RETURNING id`, string(channel), externalID, at)
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, urnLockSpace, string(urn))
	b.Queue(contactByURN, string(urn))
	b.Queue(`SELECT s.state FROM sessions s JOIN urns u ON u.contact_id = s.contact_id
		WHERE u.urn = $1 FOR UPDATE OF s`, string(urn))
	res := tx.SendBatch(ctx, b)
	var t Turn
	err := res.QueryRow().Scan(&t.InboxID)
	switch {
	case err == nil:
		t.Fresh = true
	case errors.Is(err, pgx.ErrNoRows):
	default:
		res.Close()
		return t, fmt.Errorf("inbox: %w", err)
	}
	if _, err := res.Exec(); err != nil {
		res.Close()
		return t, fmt.Errorf("lock URN: %w", err)
	}
	t.Contact, err = scanContact(res.QueryRow())
	switch {
	case err == nil:
		t.Found = true
	case !errors.Is(err, pgx.ErrNoRows):
		res.Close()
		return t, fmt.Errorf("find contact: %w", err)
	}
	err = res.QueryRow().Scan(&t.State)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		res.Close()
		return t, fmt.Errorf("lock session: %w", err)
	}
	if err := res.Close(); err != nil {
		return t, err
	}
	if !t.Fresh {
		err := tx.QueryRow(ctx, `SELECT id FROM inbox WHERE channel = $1 AND external_id = $2`, string(channel), externalID).Scan(&t.InboxID)
		return t, err
	}
	return t, nil
}

// LockSession reads a contact's session and locks it until the transaction ends, for a turn
// that no message began (a flow staff started); nil when the contact has none yet. Take the
// URN lock first (LockURN), as StartTurn does, so that the two never wait on each other.
func LockSession(ctx context.Context, tx pgx.Tx, contactID int64) ([]byte, error) {
	var state []byte
	err := tx.QueryRow(ctx, `SELECT state FROM sessions WHERE contact_id = $1 FOR UPDATE`, contactID).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock session: %w", err)
	}
	return state, nil
}

// CreateContact makes the contact and URN of a first message. Call it under the URN lock.
func CreateContact(ctx context.Context, tx pgx.Tx, urn channels.URN, hint string) (Contact, error) {
	c := Contact{LanguageHint: hint}
	err := tx.QueryRow(ctx, `
		WITH c AS (INSERT INTO contacts (language_hint) VALUES (nullif($3, '')) RETURNING id)
		INSERT INTO urns (urn, scheme, contact_id) SELECT $1, $2, id FROM c
		RETURNING contact_id, id`, string(urn), urn.Scheme(), hint).Scan(&c.ID, &c.URNID)
	if err != nil {
		return c, fmt.Errorf("create contact: %w", err)
	}
	return c, nil
}

// TurnEnd is everything a turn writes at its end.
type TurnEnd struct {
	// Contact is whom the turn talked with; the replies go to Contact.URNID.
	Contact Contact
	// Channel is the channel the replies go on.
	Channel channels.Kind
	// Inbound is the message the turn answers, logged here unless the turn logged it already
	// (InboundID set), before a call that needed its ID. Nil for a turn that no message began
	// (a flow staff started, LockSession): its replies answer nothing.
	Inbound   *Inbound
	InboundID int64
	Replies   []channels.Outbound
	Inline    bool // replies returned to the caller, not queued for the outbox
	Redacted  []bool
	State     []byte
	At        time.Time
	// Contact changes; nil means unchanged.
	Language *string
	Hint     *string
	OptedOut *bool
	// Source is kept only if the contact has none yet: where they first came from.
	Source *string
}

// FinishTurn writes the inbound message (if any, and not yet), its replies, the session and any
// contact changes in one round trip, and returns the replies' IDs in order.
func FinishTurn(ctx context.Context, tx pgx.Tx, e TurnEnd) ([]int64, error) {
	b := &pgx.Batch{}
	replies, err := replyColumns(e)
	if err != nil {
		return nil, err
	}
	status, sentAt := string(channels.StatusQueued), (*time.Time)(nil)
	if e.Inline {
		status, sentAt = string(channels.StatusSent), &e.At
	}
	const insertReplies = `
		INSERT INTO messages (contact_id, urn_id, channel, direction, reply_to, language, text, redacted, choices, parts,
		                      expect, inline, status, created_at, sent_at, updated_at)
		SELECT $1, $2, $3, 'out', %s, r.language, r.text, r.redacted, r.choices, r.parts, nullif(r.expect, ''),
		       $4, $5, $6, $7, $6
		FROM unnest($8::text[], $9::text[], $10::bool[], $11::jsonb[], $12::jsonb[], $13::text[]) WITH ORDINALITY
		     AS r(language, text, redacted, choices, parts, expect, n)
		ORDER BY r.n
		RETURNING id`
	replyArgs := []any{e.Contact.ID, e.Contact.URNID, string(e.Channel), e.Inline, status, e.At, sentAt,
		replies.language, replies.text, replies.redacted, replies.choices, replies.parts, replies.expect}
	switch {
	case e.Inbound == nil:
		b.Queue(fmt.Sprintf(insertReplies, "NULL::bigint"), replyArgs...)
	case e.InboundID != 0:
		b.Queue(fmt.Sprintf(insertReplies, "$14"), append(replyArgs, e.InboundID)...)
	default:
		in := e.Inbound
		text, payload, media := in.logged()
		b.Queue(`WITH i AS (
			INSERT INTO messages (contact_id, urn_id, channel, direction, inbox_id, text, redacted, payload, media,
			                      status, created_at, updated_at, provider_id)
			VALUES ($1, $2, $3, 'in', $14, $15, $16, $17, $18, 'received', $19, $19, nullif($20, '')) RETURNING id)
			`+fmt.Sprintf(insertReplies, "(SELECT id FROM i)"),
			append(replyArgs, in.InboxID, text, in.Redacted, payload, media, in.ReceivedAt, in.ProviderID)...)
	}
	b.Queue(`INSERT INTO sessions (contact_id, state, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (contact_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
		e.Contact.ID, e.State, e.At)
	if e.Language != nil || e.Hint != nil || e.OptedOut != nil || e.Source != nil {
		var optedOutAt *time.Time
		if e.OptedOut != nil && *e.OptedOut {
			optedOutAt = &e.At
		}
		b.Queue(`UPDATE contacts SET
			language      = coalesce($2, language),
			language_hint = coalesce($3, language_hint),
			opted_out_at  = CASE WHEN $4::bool IS NULL THEN opted_out_at ELSE $5 END,
			source        = coalesce(source, $7),
			updated_at    = $6
			WHERE id = $1`, e.Contact.ID, e.Language, e.Hint, e.OptedOut, optedOutAt, e.At, e.Source)
	}
	res := tx.SendBatch(ctx, b)
	rows, err := res.Query()
	if err != nil {
		res.Close()
		return nil, fmt.Errorf("log messages: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		res.Close()
		return nil, fmt.Errorf("log messages: %w", err)
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("save session: %w", err)
	}
	slices.Sort(ids) // drawn from one sequence in insertion order
	if err := keepConfidentialBodies(ctx, tx, e, ids); err != nil {
		return nil, err
	}
	return ids, nil
}

type replyCols struct {
	language, text, choices, parts, expect []string
	redacted                               []bool
}

func replyColumns(e TurnEnd) (replyCols, error) {
	var c replyCols
	for i, r := range e.Replies {
		redacted := i < len(e.Redacted) && e.Redacted[i]
		text, choices, parts := r.Text, r.Choices, r.Parts
		if redacted {
			text, choices, parts = RedactedText, nil, nil
		}
		cj, err := json.Marshal(choices)
		if err != nil {
			return c, err
		}
		pj, err := json.Marshal(parts)
		if err != nil {
			return c, err
		}
		c.language = append(c.language, r.Language)
		c.text = append(c.text, text)
		c.redacted = append(c.redacted, redacted)
		c.choices = append(c.choices, string(cj))
		c.parts = append(c.parts, string(pj))
		c.expect = append(c.expect, r.Expect)
	}
	return c, nil
}
