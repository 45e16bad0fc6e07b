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

// What caseworkers do to a case (package cases decides what is allowed; these write it), the
// partners cases are referred to, and a case as its detail page shows it.

// Partner is an organisation cases are referred to.
type Partner struct {
	ID   int64
	Name string
	// Sector is what the partner handles (health, protection, shelter, …).
	Sector string
	// Contact is how staff reach the partner: a focal point, a number, an address.
	Contact   string
	Active    bool
	CreatedAt time.Time
}

const partnerColumns = `id, name, sector, contact, active, created_at`

func scanPartner(row pgx.Row) (Partner, error) {
	var p Partner
	err := row.Scan(&p.ID, &p.Name, &p.Sector, &p.Contact, &p.Active, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// InsertPartner stores a new, active partner and returns its ID. Its name is stored trimmed; a
// name another partner has already, in any case, gives an error wrapping ErrExists without
// aborting the transaction db may be.
func InsertPartner(ctx context.Context, db DB, p Partner) (int64, error) {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return 0, errors.New("a partner needs a name")
	}
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO partners (name, sector, contact, active, created_at) VALUES ($1, $2, $3, true, $4)
		ON CONFLICT (lower(btrim(name))) DO NOTHING
		RETURNING id`, p.Name, strings.TrimSpace(p.Sector), strings.TrimSpace(p.Contact), p.CreatedAt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("partner %q: %w", p.Name, ErrExists)
	}
	return id, err
}

// Partners lists the partners by name: all of them, or only those cases may be referred to.
func Partners(ctx context.Context, db DB, activeOnly bool) ([]Partner, error) {
	rows, err := db.Query(ctx, `SELECT `+partnerColumns+` FROM partners WHERE active OR NOT $1 ORDER BY lower(name), id`, activeOnly)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Partner, error) { return scanPartner(r) })
}

// PartnerByID finds a partner, or ErrNotFound.
func PartnerByID(ctx context.Context, db DB, id int64) (Partner, error) {
	return scanPartner(db.QueryRow(ctx, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id))
}

// SetPartnerActive retires a partner (no new referrals; past ones still name it) or brings it
// back. ErrNotFound when there is no such partner.
func SetPartnerActive(ctx context.Context, db DB, id int64, active bool) error {
	tag, err := db.Exec(ctx, `UPDATE partners SET active = $2 WHERE id = $1`, id, active)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// InsertCaseEvent adds an entry to a case's history.
func InsertCaseEvent(ctx context.Context, db DB, caseID int64, e CaseEvent) error {
	_, err := db.Exec(ctx, `
		INSERT INTO case_events (case_id, kind, from_status, to_status, actor, note, from_value, to_value, created_at)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''), $5, $6, nullif($7, ''), nullif($8, ''), $9)`,
		caseID, e.Kind, e.FromStatus, e.ToStatus, e.Actor, e.Note, e.FromValue, e.ToValue, e.CreatedAt)
	if err != nil {
		return fmt.Errorf("case %d: write %s event: %w", caseID, e.Kind, err)
	}
	return nil
}

// The writes below change a case and write its event. The caller holds the row
// (CaseForUpdate) and has checked that the change is allowed.

// AssignCase gives a case to someone ("" to no one).
func AssignCase(ctx context.Context, tx pgx.Tx, c CaseRow, assignee, actor, note string, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE cases SET assignee = nullif($2, ''), updated_at = $3 WHERE id = $1`,
		c.ID, assignee, at); err != nil {
		return err
	}
	return InsertCaseEvent(ctx, tx, c.ID, CaseEvent{Kind: "assigned", Actor: actor, Note: note,
		FromValue: c.Assignee, ToValue: assignee, CreatedAt: at})
}

// ChangeCaseCategory puts a case in another category, with the priority given (which may be
// the same): an event for the category, and one for the priority when it changed.
func ChangeCaseCategory(ctx context.Context, tx pgx.Tx, c CaseRow, category, priority, actor, note string, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE cases SET category = $2, priority = $3, updated_at = $4 WHERE id = $1`,
		c.ID, category, priority, at); err != nil {
		return err
	}
	if err := InsertCaseEvent(ctx, tx, c.ID, CaseEvent{Kind: "category_changed", Actor: actor, Note: note,
		FromValue: c.Category, ToValue: category, CreatedAt: at}); err != nil {
		return err
	}
	if priority == c.Priority {
		return nil
	}
	return InsertCaseEvent(ctx, tx, c.ID, CaseEvent{Kind: "priority_changed", Actor: actor,
		Note: "from the category " + category, FromValue: c.Priority, ToValue: priority, CreatedAt: at})
}

// ChangeCasePriority sets a case's priority by hand: from now on a new category leaves it be.
func ChangeCasePriority(ctx context.Context, tx pgx.Tx, c CaseRow, priority, actor, note string, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE cases SET priority = $2, priority_manual = true, updated_at = $3 WHERE id = $1`,
		c.ID, priority, at); err != nil {
		return err
	}
	return InsertCaseEvent(ctx, tx, c.ID, CaseEvent{Kind: "priority_changed", Actor: actor, Note: note,
		FromValue: c.Priority, ToValue: priority, CreatedAt: at})
}

// ReferCase records that a case is referred to a partner: its status becomes referred.
func ReferCase(ctx context.Context, tx pgx.Tx, c CaseRow, p Partner, actor, note string, at time.Time) error {
	if _, err := tx.Exec(ctx, `
		UPDATE cases SET status = 'referred', partner_id = $2, referred_at = $3, updated_at = $3 WHERE id = $1`,
		c.ID, p.ID, at); err != nil {
		return err
	}
	var from string
	if c.PartnerID != nil && c.Status == "referred" {
		prev, err := PartnerByID(ctx, tx, *c.PartnerID)
		if err != nil {
			return err
		}
		from = prev.Name
	}
	return InsertCaseEvent(ctx, tx, c.ID, CaseEvent{Kind: "referred", FromStatus: c.Status, ToStatus: "referred",
		Actor: actor, Note: note, FromValue: from, ToValue: p.Name, CreatedAt: at})
}

// ResolveCase records a case's answer: its status becomes resolved. An answer the person gave
// to an earlier resolution (the case was reopened since) no longer stands: it is in the history.
func ResolveCase(ctx context.Context, tx pgx.Tx, c CaseRow, resolution, actor string, at time.Time) error {
	if _, err := tx.Exec(ctx, `
		UPDATE cases SET status = 'resolved', resolution = $2, resolved_at = $3, updated_at = $3,
		       satisfied = NULL, satisfaction_at = NULL
		WHERE id = $1`, c.ID, resolution, at); err != nil {
		return err
	}
	return InsertCaseEvent(ctx, tx, c.ID, CaseEvent{Kind: "resolved", FromStatus: c.Status, ToStatus: "resolved",
		Actor: actor, Note: resolution, CreatedAt: at})
}

// RecordSatisfaction keeps the person's answer to "are you satisfied?" on their case, and the
// event. ErrNotFound when the case is not the contact's.
func RecordSatisfaction(ctx context.Context, tx pgx.Tx, caseID, contactID int64, satisfied bool, actor string, at time.Time) error {
	tag, err := tx.Exec(ctx, `
		UPDATE cases SET satisfied = $3, satisfaction_at = $4, updated_at = $4 WHERE id = $1 AND contact_id = $2`,
		caseID, contactID, satisfied, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	answer := "no"
	if satisfied {
		answer = "yes"
	}
	return InsertCaseEvent(ctx, tx, caseID, CaseEvent{Kind: "satisfaction", Actor: actor, ToValue: answer, CreatedAt: at})
}

// ConversationMessage is one message of a person's conversation as staff see it. A
// confidential one shows the placeholder only (RedactedText), never what was said.
type ConversationMessage struct {
	ID        int64
	Channel   channels.Kind
	Direction string // "in" from the person, "out" from us
	Text      string
	Redacted  bool
	// Media are the voice notes, pictures or documents the person sent (none when redacted).
	Media []channels.Media
	// Choices are the options an outbound message offered (none when redacted): Telegram
	// shows them as buttons, the other channels list them in the text.
	Choices  []channels.Choice
	Language string
	// Status is where an outbound message is (queued, sent, delivered, failed, …); "received"
	// for an inbound one.
	Status string
	At     time.Time
}

// Conversation lists a contact's messages, both ways, from from (inclusive) to to (inclusive;
// zero: no end), oldest first, at most limit of them.
func Conversation(ctx context.Context, db DB, contactID int64, from, to time.Time, limit int) ([]ConversationMessage, error) {
	var end *time.Time
	if !to.IsZero() {
		end = &to
	}
	rows, err := db.Query(ctx, `
		SELECT id, channel, direction, CASE WHEN redacted THEN $5 ELSE text END, redacted,
		       CASE WHEN redacted THEN NULL ELSE media END, CASE WHEN redacted THEN NULL ELSE choices END,
		       coalesce(language, ''), status, created_at
		FROM messages
		WHERE contact_id = $1 AND created_at >= $2 AND ($3::timestamptz IS NULL OR created_at <= $3)
		ORDER BY created_at, id
		LIMIT $4`, contactID, from, end, limit, RedactedText)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConversationMessage, error) {
		var m ConversationMessage
		var kind string
		err := r.Scan(&m.ID, &kind, &m.Direction, &m.Text, &m.Redacted, &m.Media, &m.Choices, &m.Language, &m.Status, &m.At)
		m.Channel = channels.Kind(kind)
		return m, err
	})
}

// Defaults of CaseDetail's conversation.
const (
	// ConversationLead is how long before a case was opened its conversation is taken to
	// start: the questions that led to it.
	ConversationLead = 2 * time.Hour
	// ConversationLimit is the most messages CaseDetail shows.
	ConversationLimit = 500
)

// CaseDetail is a case with everything a caseworker looks at to work on it.
type CaseDetail struct {
	Case CaseRow
	// Partner is the partner the case is referred to now, if any.
	Partner *Partner
	// Events are the case's history, oldest first.
	Events []CaseEvent
	// Conversation is the person's messages around the case: from ConversationLead before it
	// was opened until it was closed (or now), at most ConversationLimit of them, confidential
	// ones as placeholders.
	Conversation []ConversationMessage
	// Recordings are the case's recordings, without their audio (fetched one by one to play).
	Recordings []RecordingListing
	// URNs are the person's addresses, for calling them back when they agreed to be contacted
	// (Case.ConsentContact).
	URNs []channels.URN
}

// CaseDetailByID reads a case and what goes with it, or ErrNotFound.
func CaseDetailByID(ctx context.Context, db DB, id int64) (CaseDetail, error) {
	var d CaseDetail
	var err error
	if d.Case, err = CaseByID(ctx, db, id); err != nil {
		return d, err
	}
	if d.Case.PartnerID != nil {
		p, err := PartnerByID(ctx, db, *d.Case.PartnerID)
		if err != nil {
			return d, fmt.Errorf("case %d: partner: %w", id, err)
		}
		d.Partner = &p
	}
	if d.Events, err = CaseEvents(ctx, db, id); err != nil {
		return d, fmt.Errorf("case %d: events: %w", id, err)
	}
	var to time.Time
	if d.Case.ClosedAt != nil {
		to = *d.Case.ClosedAt
	}
	d.Conversation, err = Conversation(ctx, db, d.Case.ContactID, d.Case.CreatedAt.Add(-ConversationLead), to, ConversationLimit)
	if err != nil {
		return d, fmt.Errorf("case %d: conversation: %w", id, err)
	}
	if d.Recordings, err = ListRecordings(ctx, db, &id, 0); err != nil {
		return d, fmt.Errorf("case %d: recordings: %w", id, err)
	}
	rows, err := db.Query(ctx, `SELECT urn FROM urns WHERE contact_id = $1 ORDER BY id`, d.Case.ContactID)
	if err != nil {
		return d, err
	}
	if d.URNs, err = pgx.CollectRows(rows, pgx.RowTo[channels.URN]); err != nil {
		return d, fmt.Errorf("case %d: addresses: %w", id, err)
	}
	return d, nil
}
