package safeguarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/store"
)

// What a focal point does with a stored report, whoever asks (sawt psea, the console's SEA
// inbox, the API): open it with an identity, move it to another status, add a note. One
// implementation, so that every way in decrypts, checks and audits alike.

// Part is one part of a report, decrypted: what the person said (an Answer) or a focal
// point's Note, by Kind (store.SEAPartAnswer or store.SEAPartNote).
type Part struct {
	Kind   string
	Answer Answer
	Note   Note
	// Raw is the plaintext when it is not the JSON its kind should be (then Answer and Note
	// are empty).
	Raw string
	At  time.Time // when it was stored
}

// Recording is a report's recording: its audio in the clear once opened, or Missing when the
// audio has not been fetched from the provider yet.
type Recording struct {
	ContentType     string
	DurationSeconds int
	Audio           []byte // nil unless asked for (OpenReport's withAudio, OpenRecording)
	Missing         bool
	CreatedAt       time.Time
}

// reportError is a ciphertext of a report that the identity could not open: it wraps
// ErrNotRecipient (not encrypted to this key), or says the ciphertext is damaged.
type reportError struct {
	ref string
	err error
}

func (e *reportError) Error() string {
	if errors.Is(e.err, ErrNotRecipient) {
		return fmt.Sprintf("this identity cannot open report %s: it was not encrypted to this key", e.ref)
	}
	return fmt.Sprintf("report %s: %v", e.ref, e.err)
}

func (e *reportError) Unwrap() error { return e.err }

// OpenReport decrypts every part of report with id, in the order they were written, and
// lists its recordings; with withAudio, their audio is decrypted too (otherwise it is only
// counted). It decrypts everything before returning anything: a part id cannot open (an
// error wrapping ErrNotRecipient, which names the report) gives no content at all. It writes
// nothing, the audit log included: that is the caller's, who knows who is looking.
func OpenReport(ctx context.Context, db store.DB, report store.SEAReport, id age.Identity, withAudio bool) ([]Part, []Recording, error) {
	stored, err := store.SEAParts(ctx, db, report.ID)
	if err != nil {
		return nil, nil, err
	}
	parts := make([]Part, 0, len(stored))
	for _, p := range stored {
		plain, err := Unseal(p.Ciphertext, id)
		if err != nil {
			return nil, nil, &reportError{ref: report.Reference, err: err}
		}
		part := Part{Kind: p.Kind, At: p.CreatedAt}
		switch p.Kind {
		case store.SEAPartAnswer:
			if json.Unmarshal(plain, &part.Answer) != nil || part.Answer.Field == "" {
				part.Answer, part.Raw = Answer{}, string(plain)
			}
		case store.SEAPartNote:
			if json.Unmarshal(plain, &part.Note) != nil {
				part.Note, part.Raw = Note{}, string(plain)
			}
		default:
			part.Raw = string(plain)
		}
		parts = append(parts, part)
	}
	stRecs, err := store.SEARecordings(ctx, db, report.ID)
	if err != nil {
		return nil, nil, err
	}
	recs := make([]Recording, 0, len(stRecs))
	for _, r := range stRecs {
		rec, err := openRecording(report, r, id, withAudio)
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, rec)
	}
	return parts, recs, nil
}

// OpenRecording decrypts the report's recording number n (from 1, in the order OpenReport
// lists them). store.ErrNotFound when it has none of that number; Missing when its audio has
// not been fetched yet.
func OpenRecording(ctx context.Context, db store.DB, report store.SEAReport, n int, id age.Identity) (Recording, error) {
	stRecs, err := store.SEARecordings(ctx, db, report.ID)
	if err != nil {
		return Recording{}, err
	}
	if n < 1 || n > len(stRecs) {
		return Recording{}, fmt.Errorf("report %s has no recording %d: %w", report.Reference, n, store.ErrNotFound)
	}
	return openRecording(report, stRecs[n-1], id, true)
}

func openRecording(report store.SEAReport, r store.Recording, id age.Identity, withAudio bool) (Recording, error) {
	rec := Recording{ContentType: r.ContentType, DurationSeconds: r.DurationSeconds, Missing: len(r.Audio) == 0, CreatedAt: r.CreatedAt}
	if withAudio && !rec.Missing {
		audio, err := Unseal(r.Audio, id)
		if err != nil {
			return Recording{}, &reportError{ref: report.Reference, err: err}
		}
		rec.Audio = audio
	}
	return rec, nil
}

// MaxNoteLength bounds a focal point's note, in characters.
const MaxNoteLength = 4000

// ErrNoteTooLong: a note has more than MaxNoteLength characters.
var ErrNoteTooLong = fmt.Errorf("the note is longer than %d characters", MaxNoteLength)

// ErrEmptyNote: a note to add has nothing in it.
var ErrEmptyNote = errors.New("the note is empty")

// CleanNote is a note as typed, trimmed and with the line breaks browsers send made plain;
// ErrNoteTooLong when it is too long. An empty note is "" (no note).
func CleanNote(note string) (string, error) {
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	if utf8.RuneCountInString(note) > MaxNoteLength {
		return "", ErrNoteTooLong
	}
	return note, nil
}

// ChangeStatus moves a report to a status as actor, in tx: the report is locked, the move
// must be one cases.CheckTransition allows (an error wrapping cases.ErrTransition
// otherwise), a note (if not empty) is sealed like the report and added to it, and the move
// is written to the audit log as "psea.status" (never the note). It returns the status the
// report had. store.ErrNotFound when there is no such report.
func ChangeStatus(ctx context.Context, tx pgx.Tx, reportID int64, to cases.Status, note, actor string, now time.Time) (from cases.Status, err error) {
	if note, err = CleanNote(note); err != nil {
		return "", err
	}
	r, err := store.SEAReportForUpdate(ctx, tx, reportID)
	if err != nil {
		return "", err
	}
	from = cases.Status(r.Status)
	if err := cases.CheckTransition(from, to); err != nil {
		return from, err
	}
	if err := store.SetSEAStatus(ctx, tx, r.ID, string(to), now); err != nil {
		return from, err
	}
	if note != "" {
		if err := addNote(ctx, tx, r.ID, note, actor, now); err != nil {
			return from, err
		}
	}
	return from, audit(ctx, tx, now, actor, "psea.status", r.Reference, fmt.Sprintf("%s → %s", from, to))
}

// AddNote adds a focal point's note to a report as actor, in tx: sealed like the report (to
// every active focal point and the escrow), and written to the audit log as "psea.note"
// (never the note). ErrEmptyNote or ErrNoteTooLong for a note that will not do;
// store.ErrNotFound when there is no such report.
func AddNote(ctx context.Context, tx pgx.Tx, reportID int64, note, actor string, now time.Time) error {
	note, err := CleanNote(note)
	if err != nil {
		return err
	}
	if note == "" {
		return ErrEmptyNote
	}
	r, err := store.SEAReportForUpdate(ctx, tx, reportID)
	if err != nil {
		return err
	}
	if err := addNote(ctx, tx, r.ID, note, actor, now); err != nil {
		return err
	}
	return audit(ctx, tx, now, actor, "psea.note", r.Reference, "")
}

func addNote(ctx context.Context, tx pgx.Tx, reportID int64, note, actor string, now time.Time) error {
	plain, err := json.Marshal(Note{Note: note, By: actor, At: now.UTC()})
	if err != nil {
		return err
	}
	sealed, err := NewSealer().Seal(ctx, tx, plain)
	if err != nil {
		return err
	}
	return store.AddSEAPart(ctx, tx, reportID, store.SEAPartNote, sealed, now)
}

func audit(ctx context.Context, db store.DB, at time.Time, actor, action, subject, detail string) error {
	err := store.AppendAudit(ctx, db, store.AuditEntry{At: at, Actor: actor, Action: action, Subject: subject, Detail: detail})
	if err != nil {
		return fmt.Errorf("write the audit log: %w", err)
	}
	return nil
}
