package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/channels"
)

// RedactedText stands in the message log for the text of a confidential message.
const RedactedText = "[confidential]"

// Inbound is a received message as logged.
type Inbound struct {
	ContactID, URNID, InboxID int64
	Channel                   channels.Kind
	Text, Payload             string
	Media                     []channels.Media
	Redacted                  bool
	ReceivedAt                time.Time
}

// logged is what the message log keeps of an inbound message: all of it, or for a
// confidential one a placeholder and nothing else. Every write of an inbound message goes
// through it.
func (m Inbound) logged() (text, payload string, media []channels.Media) {
	if m.Redacted {
		return RedactedText, "", nil
	}
	return m.Text, m.Payload, jsonOrNil(m.Media)
}

// InsertInbound logs a received message. A redacted message keeps a placeholder, never its text.
func InsertInbound(ctx context.Context, tx pgx.Tx, m Inbound) (int64, error) {
	text, payload, media := m.logged()
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO messages (contact_id, urn_id, channel, direction, inbox_id, text, redacted, payload, media, status, created_at, updated_at)
		VALUES ($1, $2, $3, 'in', $4, $5, $6, $7, $8, 'received', $9, $9) RETURNING id`,
		m.ContactID, m.URNID, string(m.Channel), m.InboxID, text, m.Redacted, payload, media, m.ReceivedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("log inbound message: %w", err)
	}
	return id, nil
}

// RepliesToInbox returns the replies first given to an inbound message, for a repeated one.
func RepliesToInbox(ctx context.Context, db DB, inboxID int64) ([]channels.Outbound, error) {
	rows, err := db.Query(ctx, `
		SELECT o.id, o.channel, u.urn, coalesce(o.language, ''), o.text, coalesce(o.choices, '[]'), coalesce(o.keys, '[]')
		FROM messages i
		JOIN messages o ON o.reply_to = i.id
		JOIN urns u ON u.id = o.urn_id
		WHERE i.inbox_id = $1 ORDER BY o.id`, inboxID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (channels.Outbound, error) {
		var o channels.Outbound
		var kind, urn string
		err := row.Scan(&o.ID, &kind, &urn, &o.Language, &o.Text, &o.Choices, &o.Keys)
		o.Channel, o.URN = channels.Kind(kind), channels.URN(urn)
		return o, err
	})
}

// OutboundMessage loads a queued reply for sending.
func OutboundMessage(ctx context.Context, db DB, id int64) (channels.Outbound, channels.Status, error) {
	var o channels.Outbound
	var kind, urn, status string
	err := db.QueryRow(ctx, `
		SELECT o.id, o.channel, u.urn, coalesce(o.language, ''), o.text, coalesce(o.choices, '[]'), coalesce(o.keys, '[]'), o.status
		FROM messages o JOIN urns u ON u.id = o.urn_id
		WHERE o.id = $1 AND o.direction = 'out'`, id).
		Scan(&o.ID, &kind, &urn, &o.Language, &o.Text, &o.Choices, &o.Keys, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, "", ErrNotFound
	}
	o.Channel, o.URN = channels.Kind(kind), channels.URN(urn)
	return o, channels.Status(status), err
}

// OlderQueued reports whether a reply older than id, to the same address, is still waiting to
// be sent.
func OlderQueued(ctx context.Context, db DB, id int64) (bool, error) {
	var older bool
	err := db.QueryRow(ctx, `
		SELECT EXISTS (
			SELECT 1 FROM messages o JOIN messages m ON m.urn_id = o.urn_id
			WHERE m.id = $1 AND o.id < $1 AND o.status = 'queued' AND o.direction = 'out')`, id).Scan(&older)
	return older, err
}

// maxErrorText bounds an error kept with a message: a provider may answer with a whole page.
const maxErrorText = 500

// MarkSent records that a provider accepted a reply.
func MarkSent(ctx context.Context, db DB, id int64, providerID string, status channels.Status, at time.Time) error {
	_, err := db.Exec(ctx, `
		UPDATE messages SET status = $2, provider_id = nullif($3, ''), sent_at = $4, updated_at = $4,
		       attempts = attempts + 1, error = NULL
		WHERE id = $1`, id, string(status), providerID, at)
	return err
}

// MarkAttempt records a failed try; failed is true when no more tries will be made.
func MarkAttempt(ctx context.Context, db DB, id int64, errText string, failed bool, at time.Time) error {
	if len(errText) > maxErrorText {
		errText = strings.ToValidUTF8(errText[:maxErrorText], "") + "…"
	}
	_, err := db.Exec(ctx, `
		UPDATE messages SET attempts = attempts + 1, error = $2, updated_at = $4,
		       status = CASE WHEN $3 THEN 'failed' ELSE status END
		WHERE id = $1`, id, errText, failed, at)
	return err
}

// OptOutURN records that a provider refused to deliver to an address.
func OptOutURN(ctx context.Context, db DB, urn channels.URN, at time.Time) error {
	_, err := db.Exec(ctx, `UPDATE urns SET opted_out_at = $2 WHERE urn = $1`, string(urn), at)
	return err
}

func jsonOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
