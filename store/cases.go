package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CategoryRow is a case category's settings as stored.
type CategoryRow struct {
	Code                               string
	Priority                           string
	AckHours, ReferHours, ResolveHours int
	Sensitive                          bool
}

// Category reads one category's settings.
func Category(ctx context.Context, db DB, code string) (CategoryRow, error) {
	var c CategoryRow
	err := db.QueryRow(ctx, `
		SELECT code, priority, ack_hours, refer_hours, resolve_hours, sensitive FROM categories WHERE code = $1`, code).
		Scan(&c.Code, &c.Priority, &c.AckHours, &c.ReferHours, &c.ResolveHours, &c.Sensitive)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("category %q: %w", code, ErrNotFound)
	}
	return c, err
}

// CaseRow is a case as stored.
type CaseRow struct {
	ID                           int64
	Reference                    string
	ContactID                    int64
	Category, Priority, Status   string
	Channel, Language            string
	Description                  string
	Governorate, Site            string
	ConsentContact, ConsentShare bool
	CallBack, Incomplete         bool
	SourceMessageID              *int64
	CampaignID                   *int64 // the campaign the person was answering, if any
	Assignee                     string
	AckDueAt, ReferDueAt         time.Time
	ResolveDueAt                 time.Time
	AcknowledgedAt, ResolvedAt   *time.Time
	ClosedAt                     *time.Time
	CreatedAt, UpdatedAt         time.Time
	// PartnerID is the partner the case is referred to now, since ReferredAt.
	PartnerID  *int64
	ReferredAt *time.Time
	// Resolution is what the caseworker answered when resolving the case.
	Resolution string
	// Satisfied is the person's answer to "are you satisfied?", nil until they give one.
	Satisfied      *bool
	SatisfactionAt *time.Time
	// PriorityManual: a caseworker set the priority; a new category no longer changes it.
	PriorityManual bool
}

// ErrReferenceTaken says a new case's reference is already used: draw another.
var ErrReferenceTaken = errors.New("case reference already taken")

// InsertCase stores a new case and its "created" event. A reference already in use gives
// ErrReferenceTaken without aborting the transaction.
func InsertCase(ctx context.Context, tx pgx.Tx, c CaseRow, actor string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO cases (reference, contact_id, category, priority, status, channel, language, description,
		                   governorate, site, consent_contact, consent_share, source_message_id,
		                   ack_due_at, refer_due_at, resolve_due_at, created_at, updated_at, call_back, incomplete, campaign_id)
		VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), $8, nullif($9, ''), nullif($10, ''), $11, $12, $13, $14, $15, $16, $17, $17,
		        $18, $19, $20)
		ON CONFLICT (reference) DO NOTHING
		RETURNING id`,
		c.Reference, c.ContactID, c.Category, c.Priority, c.Status, c.Channel, c.Language, c.Description,
		c.Governorate, c.Site, c.ConsentContact, c.ConsentShare, c.SourceMessageID,
		c.AckDueAt, c.ReferDueAt, c.ResolveDueAt, c.CreatedAt, c.CallBack, c.Incomplete, c.CampaignID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrReferenceTaken
	}
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO case_events (case_id, kind, to_status, actor, created_at) VALUES ($1, 'created', $2, $3, $4)`,
		id, c.Status, actor, c.CreatedAt)
	return id, err
}

const caseColumns = `id, reference, contact_id, category, priority, status, channel, coalesce(language, ''),
	description, coalesce(governorate, ''), coalesce(site, ''), consent_contact, consent_share, source_message_id,
	coalesce(assignee, ''), ack_due_at, refer_due_at, resolve_due_at, acknowledged_at, resolved_at, closed_at,
	created_at, updated_at, call_back, incomplete, partner_id, referred_at, coalesce(resolution, ''), satisfied,
	satisfaction_at, priority_manual`

func scanCase(row pgx.Row) (CaseRow, error) {
	var c CaseRow
	err := row.Scan(&c.ID, &c.Reference, &c.ContactID, &c.Category, &c.Priority, &c.Status, &c.Channel, &c.Language,
		&c.Description, &c.Governorate, &c.Site, &c.ConsentContact, &c.ConsentShare, &c.SourceMessageID,
		&c.Assignee, &c.AckDueAt, &c.ReferDueAt, &c.ResolveDueAt, &c.AcknowledgedAt, &c.ResolvedAt, &c.ClosedAt,
		&c.CreatedAt, &c.UpdatedAt, &c.CallBack, &c.Incomplete, &c.PartnerID, &c.ReferredAt, &c.Resolution, &c.Satisfied,
		&c.SatisfactionAt, &c.PriorityManual)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// CaseByReference finds a case by its reference.
func CaseByReference(ctx context.Context, db DB, reference string) (CaseRow, error) {
	return scanCase(db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE reference = $1`, reference))
}

// CaseByID finds a case by its ID, without locking it.
func CaseByID(ctx context.Context, db DB, id int64) (CaseRow, error) {
	return scanCase(db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1`, id))
}

// CaseForUpdate reads a case and locks it until the transaction ends.
func CaseForUpdate(ctx context.Context, tx pgx.Tx, id int64) (CaseRow, error) {
	return scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1 FOR UPDATE`, id))
}

// UpdateCaseStatus moves a case to a status and writes the event. The caller checks the
// transition is allowed and holds the row (CaseForUpdate).
func UpdateCaseStatus(ctx context.Context, tx pgx.Tx, id int64, from, to, actor, note string, at time.Time) error {
	_, err := tx.Exec(ctx, `
		UPDATE cases SET status = $2, updated_at = $3,
		       acknowledged_at = CASE WHEN $2 = 'acknowledged' THEN $3 ELSE acknowledged_at END,
		       resolved_at     = CASE WHEN $2 = 'resolved' THEN $3 WHEN $2 = 'in_progress' THEN NULL ELSE resolved_at END,
		       closed_at       = CASE WHEN $2 = 'closed' THEN $3 ELSE closed_at END
		WHERE id = $1`, id, to, at)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO case_events (case_id, kind, from_status, to_status, actor, note, created_at)
		VALUES ($1, 'status', $2, $3, $4, $5, $6)`, id, from, to, actor, note, at)
	return err
}

// CaseEvent is one entry of a case's history.
type CaseEvent struct {
	Kind, FromStatus, ToStatus, Actor, Note string
	// FromValue and ToValue are what changed besides the status (the assignee, category,
	// priority or partner before and after), or "".
	FromValue, ToValue string
	CreatedAt          time.Time
}

// CaseEvents lists a case's history, oldest first.
func CaseEvents(ctx context.Context, db DB, caseID int64) ([]CaseEvent, error) {
	rows, err := db.Query(ctx, `
		SELECT kind, coalesce(from_status, ''), coalesce(to_status, ''), actor, note, coalesce(from_value, ''),
		       coalesce(to_value, ''), created_at
		FROM case_events WHERE case_id = $1 ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseEvent, error) {
		var e CaseEvent
		err := r.Scan(&e.Kind, &e.FromStatus, &e.ToStatus, &e.Actor, &e.Note, &e.FromValue, &e.ToValue, &e.CreatedAt)
		return e, err
	})
}
