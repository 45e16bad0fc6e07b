package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Errors of the PSEA recipients' queries.
var (
	// ErrRecipientExists: an active recipient has this name (case-insensitive) or this key.
	ErrRecipientExists = errors.New("PSEA recipient already registered")
	// ErrEscrowExists: an active escrow key is registered already; there is one at a time.
	ErrEscrowExists = errors.New("a PSEA escrow key is registered already")
	// ErrEscrowRemoval: the escrow key cannot be removed (reports would be encrypted to the
	// focal points only, and lost with their keys).
	ErrEscrowRemoval = errors.New("the escrow key cannot be removed")
)

// existsError says what is registered already, and is ErrRecipientExists.
type existsError string

func (e existsError) Error() string        { return string(e) }
func (e existsError) Is(target error) bool { return target == ErrRecipientExists }

// PSEARecipient is a key confidential reports are encrypted to: a PSEA focal point's, or the
// escrow key. TelegramChat and Phone are where a focal point is alerted (never with content).
type PSEARecipient struct {
	ID           int64
	Name         string
	PublicKey    string
	Escrow       bool
	TelegramChat *int64
	Phone        string
	Language     string
	CreatedAt    time.Time
}

const pseaRecipientColumns = `id, name, public_key, escrow, telegram_chat, coalesce(phone, ''), language, created_at`

func scanPSEARecipient(row pgx.Row) (PSEARecipient, error) {
	var r PSEARecipient
	err := row.Scan(&r.ID, &r.Name, &r.PublicKey, &r.Escrow, &r.TelegramChat, &r.Phone, &r.Language, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// AddPSEARecipient registers a recipient and returns its ID; r.CreatedAt is when. An empty
// Language is English. A name (case-insensitive) or public key already active gives an error
// wrapping ErrRecipientExists, a second escrow ErrEscrowExists; neither aborts the
// transaction db may be. The caller checks the key is a valid age public key.
func AddPSEARecipient(ctx context.Context, db DB, r PSEARecipient) (int64, error) {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return 0, errors.New("a PSEA recipient needs a name")
	}
	if r.Language == "" {
		r.Language = "en"
	}
	var (
		other       string
		otherEscrow bool
	)
	err := db.QueryRow(ctx, `SELECT name, escrow FROM psea_recipients WHERE public_key = $1 AND removed_at IS NULL`,
		r.PublicKey).Scan(&other, &otherEscrow)
	switch {
	case err == nil && r.Escrow && otherEscrow:
		return 0, ErrEscrowExists
	case err == nil:
		return 0, existsError(fmt.Sprintf("this public key is registered already, as %q", other))
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, err
	}
	var id int64
	// DO NOTHING on any unique index: the name's or the escrow's (both partial on active rows)
	err = db.QueryRow(ctx, `
		INSERT INTO psea_recipients (name, public_key, escrow, telegram_chat, phone, language, created_at)
		VALUES ($1, $2, $3, $4, nullif($5, ''), $6, $7)
		ON CONFLICT DO NOTHING
		RETURNING id`,
		r.Name, r.PublicKey, r.Escrow, r.TelegramChat, r.Phone, r.Language, r.CreatedAt).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	var nameTaken, escrowTaken bool
	if err := db.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM psea_recipients WHERE lower(name) = lower($1) AND removed_at IS NULL),
		       EXISTS (SELECT 1 FROM psea_recipients WHERE escrow AND removed_at IS NULL)`,
		r.Name).Scan(&nameTaken, &escrowTaken); err != nil {
		return 0, err
	}
	switch {
	case r.Escrow && escrowTaken:
		return 0, ErrEscrowExists
	case nameTaken:
		return 0, existsError(fmt.Sprintf("a PSEA recipient named %q is registered already", r.Name))
	}
	return 0, fmt.Errorf("%w: %q", ErrRecipientExists, r.Name)
}

// ListPSEARecipients lists the active recipients: focal points by name, then the escrow.
func ListPSEARecipients(ctx context.Context, db DB) ([]PSEARecipient, error) {
	rows, err := db.Query(ctx, `SELECT `+pseaRecipientColumns+` FROM psea_recipients
		WHERE removed_at IS NULL ORDER BY escrow, lower(name), id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PSEARecipient, error) { return scanPSEARecipient(row) })
}

// EscrowRecipient returns the active escrow key, or ErrNotFound.
func EscrowRecipient(ctx context.Context, db DB) (PSEARecipient, error) {
	return scanPSEARecipient(db.QueryRow(ctx, `SELECT `+pseaRecipientColumns+` FROM psea_recipients
		WHERE escrow AND removed_at IS NULL`))
}

// RemovePSEARecipient stops encrypting to the active recipient of that name (case-insensitive)
// from at on; what was encrypted to it before stays readable with its identity. ErrNotFound
// when there is none, ErrEscrowRemoval for the escrow.
func RemovePSEARecipient(ctx context.Context, db DB, name string, at time.Time) error {
	var escrow bool
	err := db.QueryRow(ctx, `
		SELECT escrow FROM psea_recipients WHERE lower(name) = lower($1) AND removed_at IS NULL`,
		strings.TrimSpace(name)).Scan(&escrow)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("PSEA recipient %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if escrow {
		return ErrEscrowRemoval
	}
	tag, err := db.Exec(ctx, `
		UPDATE psea_recipients SET removed_at = $2
		WHERE lower(name) = lower($1) AND removed_at IS NULL AND NOT escrow`, strings.TrimSpace(name), at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("PSEA recipient %q: %w", name, ErrNotFound)
	}
	return nil
}

// ActivePSEAKeys returns the public keys of every active recipient, the escrow included:
// what a report is encrypted to.
func ActivePSEAKeys(ctx context.Context, db DB) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT public_key FROM psea_recipients WHERE removed_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SEAReport is a report of sexual exploitation and abuse as stored: its reference and the
// facts needed to act on time. What the person said is in its parts, encrypted.
type SEAReport struct {
	ID                   int64
	Reference            string
	Channel              string
	Status               string // as cases.Status
	Complete             bool
	Assignee             string
	AckDueAt             time.Time
	ResolveDueAt         time.Time
	AcknowledgedAt       *time.Time
	ResolvedAt           *time.Time
	AlertedAt            *time.Time
	RemindedAt           *time.Time
	CreatedAt, UpdatedAt time.Time
}

const seaReportColumns = `id, reference, channel, status, complete, coalesce(assignee, ''), ack_due_at,
	resolve_due_at, acknowledged_at, resolved_at, alerted_at, reminded_at, created_at, updated_at`

func scanSEAReport(row pgx.Row) (SEAReport, error) {
	var r SEAReport
	err := row.Scan(&r.ID, &r.Reference, &r.Channel, &r.Status, &r.Complete, &r.Assignee, &r.AckDueAt,
		&r.ResolveDueAt, &r.AcknowledgedAt, &r.ResolvedAt, &r.AlertedAt, &r.RemindedAt, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// InsertSEAReport stores a new report and returns its ID. Reports and cases share one
// reference space (a person checks either with the same question): a reference used by
// either gives ErrReferenceTaken without aborting the transaction, and the caller draws
// again. An empty Status is "new"; UpdatedAt defaults to CreatedAt.
func InsertSEAReport(ctx context.Context, tx pgx.Tx, r SEAReport) (int64, error) {
	if r.Status == "" {
		r.Status = "new"
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO sea_reports (reference, channel, status, complete, assignee, ack_due_at, resolve_due_at,
		                         acknowledged_at, resolved_at, alerted_at, reminded_at, created_at, updated_at)
		SELECT $1::text, $2::text, $3::text, $4::boolean, nullif($5::text, ''), $6::timestamptz, $7::timestamptz,
		       $8::timestamptz, $9::timestamptz, $10::timestamptz, $11::timestamptz, $12::timestamptz, $13::timestamptz
		WHERE NOT EXISTS (SELECT 1 FROM cases WHERE reference = $1::text)
		ON CONFLICT (reference) DO NOTHING
		RETURNING id`,
		r.Reference, r.Channel, r.Status, r.Complete, r.Assignee, r.AckDueAt, r.ResolveDueAt,
		r.AcknowledgedAt, r.ResolvedAt, r.AlertedAt, r.RemindedAt, r.CreatedAt, r.UpdatedAt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrReferenceTaken
	}
	return id, err
}

// Kinds of report parts.
const (
	SEAPartAnswer = "answer" // something the person said
	SEAPartNote   = "note"   // a focal point's note
)

// AddSEAPart stores one encrypted part of a report and bumps the report's updated_at. kind
// is SEAPartAnswer or SEAPartNote. ErrNotFound when the report does not exist (in a
// transaction, that aborts it).
func AddSEAPart(ctx context.Context, db DB, reportID int64, kind string, ciphertext []byte, at time.Time) error {
	if kind != SEAPartAnswer && kind != SEAPartNote {
		return fmt.Errorf("report part kind %q: must be %q or %q", kind, SEAPartAnswer, SEAPartNote)
	}
	if len(ciphertext) == 0 {
		return errors.New("report part: empty ciphertext")
	}
	tag, err := db.Exec(ctx, `
		WITH part AS (
			INSERT INTO sea_parts (report_id, kind, ciphertext, created_at) VALUES ($1, $2, $3, $4) RETURNING report_id
		)
		UPDATE sea_reports SET updated_at = greatest(updated_at, $4) WHERE id = (SELECT report_id FROM part)`,
		reportID, kind, ciphertext, at)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // foreign_key_violation
		return fmt.Errorf("report %d: %w", reportID, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("report %d: %w", reportID, ErrNotFound)
	}
	return nil
}

// CompleteSEAReport notes that the person reached the end of the questions.
func CompleteSEAReport(ctx context.Context, db DB, id int64, at time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE sea_reports SET complete = true, updated_at = greatest(updated_at, $2) WHERE id = $1`, id, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("report %d: %w", id, ErrNotFound)
	}
	return nil
}

// SEAReportByReference finds a report by its reference, or ErrNotFound.
func SEAReportByReference(ctx context.Context, db DB, ref string) (SEAReport, error) {
	return scanSEAReport(db.QueryRow(ctx, `SELECT `+seaReportColumns+` FROM sea_reports WHERE reference = $1`, ref))
}

// SEAReportByID finds a report by its ID, or ErrNotFound.
func SEAReportByID(ctx context.Context, db DB, id int64) (SEAReport, error) {
	return scanSEAReport(db.QueryRow(ctx, `SELECT `+seaReportColumns+` FROM sea_reports WHERE id = $1`, id))
}

// SEAReportForUpdate reads a report and locks it until the transaction ends, or ErrNotFound.
func SEAReportForUpdate(ctx context.Context, tx pgx.Tx, id int64) (SEAReport, error) {
	return scanSEAReport(tx.QueryRow(ctx, `SELECT `+seaReportColumns+` FROM sea_reports WHERE id = $1 FOR UPDATE`, id))
}

// ListSEAReports lists every report, newest first, without content.
func ListSEAReports(ctx context.Context, db DB) ([]SEAReport, error) {
	rows, err := db.Query(ctx, `SELECT `+seaReportColumns+` FROM sea_reports ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SEAReport, error) { return scanSEAReport(row) })
}

// SEAPart is one encrypted part of a report.
type SEAPart struct {
	ID         int64
	Kind       string
	Ciphertext []byte
	CreatedAt  time.Time
}

// SEAParts lists a report's parts in the order they were written.
func SEAParts(ctx context.Context, db DB, reportID int64) ([]SEAPart, error) {
	rows, err := db.Query(ctx, `SELECT id, kind, ciphertext, created_at FROM sea_parts WHERE report_id = $1 ORDER BY id`, reportID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SEAPart, error) {
		var p SEAPart
		err := row.Scan(&p.ID, &p.Kind, &p.Ciphertext, &p.CreatedAt)
		return p, err
	})
}

// SetSEAStatus moves a report to a status: acknowledged sets acknowledged_at, resolved sets
// resolved_at, and back to in_progress (reopened) clears it. The caller checks the move is
// allowed (cases.CheckTransition) and holds the row (SEAReportForUpdate). ErrNotFound when the
// report does not exist.
func SetSEAStatus(ctx context.Context, tx pgx.Tx, id int64, to string, at time.Time) error {
	tag, err := tx.Exec(ctx, `
		UPDATE sea_reports SET status = $2, updated_at = $3,
		       acknowledged_at = CASE WHEN $2 = 'acknowledged' THEN $3 ELSE acknowledged_at END,
		       resolved_at     = CASE WHEN $2 = 'resolved' THEN $3 WHEN $2 = 'in_progress' THEN NULL ELSE resolved_at END
		WHERE id = $1`, id, to, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("report %d: %w", id, ErrNotFound)
	}
	return nil
}

// SEARecordings lists a report's recordings, oldest first, with their audio: the age
// ciphertext of the raw audio (ContentType says what that is).
func SEARecordings(ctx context.Context, db DB, reportID int64) ([]Recording, error) {
	rows, err := db.Query(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE sea_report_id = $1 ORDER BY id`, reportID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Recording, error) { return scanRecording(row) })
}
