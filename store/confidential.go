package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/channels"
)

// What the gateway keeps, and deletes, around a confidential conversation: the bodies of its
// replies until they are sent, its recordings tied to the report without the caller, and the
// provider IDs of its messages for deleting them from the person's phone.

// confidentialBody is what a confidential reply says, kept apart from the message log until sent.
type confidentialBody struct {
	Text    string            `json:"text"`
	Choices []channels.Choice `json:"choices,omitempty"`
	Parts   []channels.Part   `json:"parts,omitempty"`
}

// keepConfidentialBodies stores what the redacted replies of a turn say, under their IDs.
func keepConfidentialBodies(ctx context.Context, tx pgx.Tx, e TurnEnd, ids []int64) error {
	var msgIDs []int64
	var bodies []string
	for i, r := range e.Replies {
		if i >= len(e.Redacted) || !e.Redacted[i] || i >= len(ids) {
			continue
		}
		b, err := json.Marshal(confidentialBody{Text: r.Text, Choices: r.Choices, Parts: r.Parts})
		if err != nil {
			return err
		}
		msgIDs, bodies = append(msgIDs, ids[i]), append(bodies, string(b))
	}
	if len(msgIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO confidential_bodies (message_id, body, created_at)
		SELECT m, b::jsonb, $3 FROM unnest($1::bigint[], $2::text[]) AS x(m, b)`, msgIDs, bodies, e.At)
	if err != nil {
		return fmt.Errorf("keep confidential replies: %w", err)
	}
	return nil
}

// withBody fills a redacted reply from its kept body, when it is still kept.
func withBody(o *channels.Outbound, body []byte) error {
	if body == nil {
		return nil
	}
	var b confidentialBody
	if err := json.Unmarshal(body, &b); err != nil {
		return err
	}
	o.Text, o.Choices, o.Parts = b.Text, b.Choices, b.Parts
	return nil
}

// PurgeConfidentialBodies deletes the kept bodies of replies no longer waiting to be sent
// (answered inline on a call, or already sent or given up) that are older than cutoff: a
// retried call step within that time still answers the same.
func PurgeConfidentialBodies(ctx context.Context, db DB, cutoff time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `
		DELETE FROM confidential_bodies b USING messages m
		WHERE m.id = b.message_id AND b.created_at < $1 AND (m.inline OR m.status <> 'queued')`, cutoff)
	return tag.RowsAffected(), err
}

// LinkConfidentialRecordings ties recordings to the report they were made for, and to no
// contact: whoever made them is known only inside the report's ciphertext. A recording not yet
// announced by the provider gets its row now, marked confidential before it can be fetched.
func LinkConfidentialRecordings(ctx context.Context, db DB, reportID int64, providerIDs []string, at time.Time) error {
	if len(providerIDs) == 0 {
		return nil
	}
	_, err := db.Exec(ctx, `
		INSERT INTO recordings (provider_id, sea_report_id, confidential, created_at)
		SELECT DISTINCT p, $2::bigint, true, $3::timestamptz FROM unnest($1::text[]) AS p
		ON CONFLICT (provider_id) DO UPDATE SET sea_report_id = EXCLUDED.sea_report_id,
		    confidential = true, contact_id = NULL, case_id = NULL`, providerIDs, reportID, at)
	return err
}

// ConversationMessages are the messages of a contact's confidential conversation that the
// provider knows by ID on the given channel: the unbroken run of redacted messages since
// their last ordinary one.
func ConversationMessages(ctx context.Context, db DB, contactID int64, channel channels.Kind) ([]int64, error) {
	rows, err := db.Query(ctx, `
		SELECT id FROM messages
		WHERE contact_id = $1 AND channel = $2 AND redacted AND provider_id IS NOT NULL
		  AND id > coalesce((SELECT max(id) FROM messages WHERE contact_id = $1 AND NOT redacted), 0)
		ORDER BY id`, contactID, string(channel))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// ProviderMessageIDs are the provider's IDs of the given messages, with the address they
// were exchanged with (the same for all: they are one person's conversation).
func ProviderMessageIDs(ctx context.Context, db DB, ids []int64) (channels.Kind, channels.URN, []string, error) {
	rows, err := db.Query(ctx, `
		SELECT m.channel, u.urn, m.provider_id FROM messages m JOIN urns u ON u.id = m.urn_id
		WHERE m.id = ANY($1) AND m.provider_id IS NOT NULL ORDER BY m.id`, ids)
	if err != nil {
		return "", "", nil, err
	}
	defer rows.Close()
	var kind, urn string
	var out []string
	for rows.Next() {
		var k, u, p string
		if err := rows.Scan(&k, &u, &p); err != nil {
			return "", "", nil, err
		}
		if urn != "" && u != urn {
			return "", "", nil, fmt.Errorf("messages of more than one address")
		}
		kind, urn = k, u
		for _, id := range strings.Split(p, ",") {
			if id != "" {
				out = append(out, id)
			}
		}
	}
	return channels.Kind(kind), channels.URN(urn), out, rows.Err()
}

// InsertOutbound queues a message of our own to an address (an alert to a focal point), not
// a reply to anything. Call it under LockURN; the caller queues the send job.
func InsertOutbound(ctx context.Context, tx pgx.Tx, c Contact, channel channels.Kind, language, text string, at time.Time) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO messages (contact_id, urn_id, channel, direction, language, text, status, created_at, updated_at)
		VALUES ($1, $2, $3, 'out', $4, $5, 'queued', $6, $6) RETURNING id`,
		c.ID, c.URNID, string(channel), language, text, at).Scan(&id)
	return id, err
}

// SEAReportsToAlert are reports no focal point was told of that nobody has added to since
// idleSince: a person who stopped answering left an unfinished report, still a report.
func SEAReportsToAlert(ctx context.Context, db DB, idleSince time.Time) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT id FROM sea_reports WHERE alerted_at IS NULL AND updated_at < $1 ORDER BY id`, idleSince)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// OverdueSEAReports are reports not acknowledged by their deadline that focal points were
// told of and should now be reminded of: at the deadline, then each time nobody was told for
// a while (remindedBefore). A report first told of after its deadline (an unfinished one the
// person left late) waits that while too, rather than following its alert with a reminder.
func OverdueSEAReports(ctx context.Context, db DB, now, remindedBefore time.Time) ([]int64, error) {
	rows, err := db.Query(ctx, `
		SELECT id FROM sea_reports
		WHERE status = 'new' AND ack_due_at < $1 AND alerted_at IS NOT NULL
		  AND (coalesce(reminded_at, alerted_at) < $2 OR (reminded_at IS NULL AND alerted_at < ack_due_at))
		ORDER BY id`, now, remindedBefore)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// MarkSEAAlerted records that focal points were told of a report (first alert) or reminded.
func MarkSEAAlerted(ctx context.Context, db DB, id int64, reminder bool, at time.Time) error {
	col := "alerted_at"
	if reminder {
		col = "reminded_at"
	}
	_, err := db.Exec(ctx, `UPDATE sea_reports SET `+col+` = $2 WHERE id = $1`, id, at)
	return err
}
