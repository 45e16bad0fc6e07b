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
	// ProviderID is the provider's ID of the message in the chat (Telegram's message_id),
	// for deleting it from the person's phone later.
	ProviderID string
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
		INSERT INTO messages (contact_id, urn_id, channel, direction, inbox_id, text, redacted, payload, media, status, created_at, updated_at,
		                      provider_id)
		VALUES ($1, $2, $3, 'in', $4, $5, $6, $7, $8, 'received', $9, $9, nullif($10, '')) RETURNING id`,
		m.ContactID, m.URNID, string(m.Channel), m.InboxID, text, m.Redacted, payload, media, m.ReceivedAt, m.ProviderID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("log inbound message: %w", err)
	}
	return id, nil
}

// RepliesToInbox returns the replies first given to an inbound message, for a repeated one.
func RepliesToInbox(ctx context.Context, db DB, inboxID int64) ([]channels.Outbound, error) {
	rows, err := db.Query(ctx, `
		SELECT o.id, o.channel, u.urn, coalesce(o.language, ''), o.text, coalesce(o.choices, '[]'), coalesce(o.parts, '[]'),
		       coalesce(o.expect, ''), o.redacted, b.body
		FROM messages i
		JOIN messages o ON o.reply_to = i.id
		JOIN urns u ON u.id = o.urn_id
		LEFT JOIN confidential_bodies b ON b.message_id = o.id
		WHERE i.inbox_id = $1 ORDER BY o.id`, inboxID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (channels.Outbound, error) {
		var o channels.Outbound
		var kind, urn string
		var body []byte
		if err := row.Scan(&o.ID, &kind, &urn, &o.Language, &o.Text, &o.Choices, &o.Parts, &o.Expect, &o.Confidential, &body); err != nil {
			return o, err
		}
		o.Channel, o.URN = channels.Kind(kind), channels.URN(urn)
		return o, withBody(&o, body)
	})
}

// OutboundMessage loads a queued reply for sending.
func OutboundMessage(ctx context.Context, db DB, id int64) (channels.Outbound, channels.Status, error) {
	var o channels.Outbound
	var kind, urn, status string
	var body []byte
	err := db.QueryRow(ctx, `
		SELECT o.id, o.channel, u.urn, coalesce(o.language, ''), o.text, coalesce(o.choices, '[]'), coalesce(o.parts, '[]'),
		       coalesce(o.expect, ''), o.status, o.redacted, b.body
		FROM messages o JOIN urns u ON u.id = o.urn_id
		LEFT JOIN confidential_bodies b ON b.message_id = o.id
		WHERE o.id = $1 AND o.direction = 'out'`, id).
		Scan(&o.ID, &kind, &urn, &o.Language, &o.Text, &o.Choices, &o.Parts, &o.Expect, &status, &o.Confidential, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, "", ErrNotFound
	}
	if err != nil {
		return o, "", err
	}
	o.Channel, o.URN = channels.Kind(kind), channels.URN(urn)
	if o.Confidential && body == nil && channels.Status(status) == channels.StatusQueued {
		return o, "", fmt.Errorf("confidential reply %d: its text is no longer kept", id)
	}
	return o, channels.Status(status), withBody(&o, body)
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

// MarkSent records that a provider accepted a reply. The provider's IDs of the messages it
// was sent as (several for a long SMS) lead its delivery reports back to it.
func MarkSent(ctx context.Context, db DB, id int64, res channels.SendResult, at time.Time) error {
	_, err := db.Exec(ctx, `
		WITH m AS (
			UPDATE messages SET status = $2, provider_id = nullif($3, ''), sent_at = $4, updated_at = $4,
			       attempts = attempts + 1, error = NULL, error_code = NULL
			WHERE id = $1 RETURNING id),
		b AS (DELETE FROM confidential_bodies WHERE message_id = $1)
		INSERT INTO provider_messages (provider_id, message_id, status, updated_at)
		SELECT p, m.id, $2, $4 FROM m, unnest($5::text[]) AS p
		ON CONFLICT (provider_id) DO NOTHING`, id, string(res.Status), res.ProviderID, at, res.ProviderIDs)
	return err
}

// statusRank orders delivery states: a late report never takes a message back ("sent" after
// "delivered"); a failure of any part stands.
const statusRank = `CASE %s WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3
	WHEN 'undelivered' THEN 4 WHEN 'failed' THEN 5 ELSE 0 END`

// ErrUnknownProviderID says a delivery report names a message we never sent (or no longer keep).
var ErrUnknownProviderID = errors.New("no message with this provider ID")

// updateDelivery is UpdateDelivery's statement, written once: the report goes to the reply or
// the broadcast delivery its provider message belongs to.
var updateDelivery = fmt.Sprintf(`
	WITH p AS (
		UPDATE provider_messages SET status = $2, error_code = coalesce(nullif($3, ''), error_code), updated_at = $4
		WHERE provider_id = $1 RETURNING message_id, delivery_id),
	m AS (
		UPDATE messages m SET
			status     = CASE WHEN %[1]s > %[2]s THEN $2 ELSE m.status END,
			error_code = coalesce(nullif($3, ''), m.error_code),
			updated_at = $4
		FROM p WHERE m.id = p.message_id),
	d AS (
		UPDATE deliveries d SET
			status     = CASE WHEN %[1]s > %[3]s THEN $2 ELSE d.status END,
			error      = CASE WHEN $3 <> '' THEN 'provider error ' || $3 ELSE d.error END,
			updated_at = $4
		FROM p WHERE d.id = p.delivery_id)
	SELECT count(*) FROM p`, // m and d run to completion, read or not
	fmt.Sprintf(statusRank, "$2::text"), fmt.Sprintf(statusRank, "m.status"), fmt.Sprintf(statusRank, "d.status"))

// UpdateDelivery applies a provider's delivery report for one of its messages to the reply or
// broadcast it was part of, keeping the furthest state reached and the error code of a failure.
func UpdateDelivery(ctx context.Context, db DB, providerID string, status channels.Status, errorCode string, at time.Time) error {
	var n int64
	if err := db.QueryRow(ctx, updateDelivery, providerID, string(status), errorCode, at).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrUnknownProviderID
	}
	return nil
}

// MarkAttempt records a failed try; failed is true when no more tries will be made.
func MarkAttempt(ctx context.Context, db DB, id int64, errText string, failed bool, at time.Time) error {
	if len(errText) > maxErrorText {
		errText = strings.ToValidUTF8(errText[:maxErrorText], "") + "…"
	}
	_, err := db.Exec(ctx, `
		WITH b AS (DELETE FROM confidential_bodies WHERE message_id = $1 AND $3)
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
