package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Recording is a phone recording as kept: its provider ID, where it is until fetched, and
// once fetched its audio.
type Recording struct {
	ID              int64
	ProviderID      string
	CallID          string
	ContactID       *int64
	CaseID          *int64
	URL             string
	DurationSeconds int
	ContentType     string
	Audio           []byte
	FetchedAt       *time.Time
	DeletedAt       *time.Time // at the provider
	CreatedAt       time.Time
}

// LinkRecordings ties recordings a person made to the case they made them for. Each may
// arrive before or after its fetch: whichever comes first creates the row.
func LinkRecordings(ctx context.Context, db DB, caseID, contactID int64, providerIDs []string, at time.Time) error {
	if len(providerIDs) == 0 {
		return nil
	}
	_, err := db.Exec(ctx, `
		INSERT INTO recordings (provider_id, contact_id, case_id, created_at)
		SELECT DISTINCT p, $2::bigint, $3::bigint, $4::timestamptz FROM unnest($1::text[]) AS p
		ON CONFLICT (provider_id) DO UPDATE SET case_id = EXCLUDED.case_id,
		    contact_id = coalesce(recordings.contact_id, EXCLUDED.contact_id)`,
		providerIDs, contactID, caseID, at)
	return err
}

// RecordingReady notes that the provider has a finished recording to fetch. A confidential
// one (made in answer to a confidential question) stays confidential whatever comes after.
func RecordingReady(ctx context.Context, db DB, providerID, callID, url string, duration int, confidential bool, at time.Time) error {
	_, err := db.Exec(ctx, `
		INSERT INTO recordings (provider_id, call_id, url, duration_seconds, confidential, created_at)
		VALUES ($1, nullif($2, ''), nullif($3, ''), $4, $6, $5)
		ON CONFLICT (provider_id) DO UPDATE SET call_id = coalesce(recordings.call_id, EXCLUDED.call_id),
		    url = coalesce(EXCLUDED.url, recordings.url), duration_seconds = EXCLUDED.duration_seconds,
		    confidential = recordings.confidential OR EXCLUDED.confidential`,
		providerID, callID, url, duration, at, confidential)
	return err
}

// StoreRecordingAudio keeps a fetched recording's audio.
func StoreRecordingAudio(ctx context.Context, db DB, providerID, contentType string, audio []byte, at time.Time) error {
	_, err := db.Exec(ctx, `
		UPDATE recordings SET audio = $2, content_type = $3, fetched_at = $4 WHERE provider_id = $1`,
		providerID, audio, contentType, at)
	return err
}

// RecordingDeletedAtProvider notes that the provider no longer holds the recording.
func RecordingDeletedAtProvider(ctx context.Context, db DB, providerID string, at time.Time) error {
	_, err := db.Exec(ctx, `UPDATE recordings SET deleted_at_provider = $2 WHERE provider_id = $1`, providerID, at)
	return err
}

const recordingColumns = `id, provider_id, coalesce(call_id, ''), contact_id, case_id, coalesce(url, ''),
	coalesce(duration_seconds, 0), coalesce(content_type, ''), audio, fetched_at, deleted_at_provider, created_at`

func scanRecording(row pgx.Row) (Recording, error) {
	var r Recording
	err := row.Scan(&r.ID, &r.ProviderID, &r.CallID, &r.ContactID, &r.CaseID, &r.URL, &r.DurationSeconds,
		&r.ContentType, &r.Audio, &r.FetchedAt, &r.DeletedAt, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// RecordingProgress says how far keeping a recording has gone: fetched here, deleted at the
// provider; and whether it is confidential (kept only encrypted). It reads neither the audio
// nor anything else.
func RecordingProgress(ctx context.Context, db DB, providerID string) (fetched, deleted, confidential bool, err error) {
	err = db.QueryRow(ctx, `
		SELECT fetched_at IS NOT NULL, deleted_at_provider IS NOT NULL, confidential FROM recordings WHERE provider_id = $1`,
		providerID).Scan(&fetched, &deleted, &confidential)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, false, ErrNotFound
	}
	return fetched, deleted, confidential, err
}

// RecordingByProviderID finds one recording, with its audio.
func RecordingByProviderID(ctx context.Context, db DB, providerID string) (Recording, error) {
	return scanRecording(db.QueryRow(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE provider_id = $1`, providerID))
}

// RecordingsOfCase lists a case's recordings, oldest first, with their audio. Confidential
// recordings belong to SEA reports, never to a case, and are never listed here.
func RecordingsOfCase(ctx context.Context, db DB, caseID int64) ([]Recording, error) {
	rows, err := db.Query(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE case_id = $1 AND NOT confidential ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Recording, error) { return scanRecording(row) })
}

// PurgeOrphanRecordings deletes recordings made before cutoff that belong to no case and that
// the provider no longer holds (or never had fetched: nothing to keep then either).
func PurgeOrphanRecordings(ctx context.Context, db DB, cutoff time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `
		DELETE FROM recordings WHERE case_id IS NULL AND sea_report_id IS NULL AND created_at < $1
		AND (deleted_at_provider IS NOT NULL OR fetched_at IS NULL AND url IS NULL)`, cutoff)
	return tag.RowsAffected(), err
}

// RecordingListing is a recording as listed for staff: no audio, and the reference of its
// case, if it has one yet.
type RecordingListing struct {
	Recording
	CaseReference string
	AudioBytes    int
}

// ListRecordings lists recordings that are not confidential, newest first: those of one case
// when caseID is not nil, and at most limit (0: all).
func ListRecordings(ctx context.Context, db DB, caseID *int64, limit int) ([]RecordingListing, error) {
	q := `SELECT r.id, r.provider_id, coalesce(r.call_id, ''), r.contact_id, r.case_id, coalesce(r.url, ''),
		coalesce(r.duration_seconds, 0), coalesce(r.content_type, ''), r.fetched_at, r.deleted_at_provider, r.created_at,
		coalesce(c.reference, ''), coalesce(length(r.audio), 0)
		FROM recordings r LEFT JOIN cases c ON c.id = r.case_id
		WHERE NOT r.confidential AND ($1::bigint IS NULL OR r.case_id = $1)
		ORDER BY r.id DESC`
	args := []any{caseID}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RecordingListing, error) {
		var r RecordingListing
		err := row.Scan(&r.ID, &r.ProviderID, &r.CallID, &r.ContactID, &r.CaseID, &r.URL, &r.DurationSeconds,
			&r.ContentType, &r.FetchedAt, &r.DeletedAt, &r.CreatedAt, &r.CaseReference, &r.AudioBytes)
		return r, err
	})
}
