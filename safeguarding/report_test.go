package safeguarding_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// A server opening identity files it was given bounds the scrypt work they ask for, before
// trying the passphrase; only age files are passphrase-protected.
func TestOpenIdentityWithin(t *testing.T) {
	file, key := newFocalPoint(t, "pw") // work factor 10
	if _, err := safeguarding.OpenIdentityWithin(file, 9, pass("pw")); !errors.Is(err, safeguarding.ErrWorkFactor) || !strings.Contains(err.Error(), "above 9") {
		t.Errorf("work factor 10 within 9: %v, want a refusal naming the limit", err)
	}
	id, err := safeguarding.OpenIdentityWithin(file, 10, pass("pw"))
	if err != nil || id.Recipient().String() != key {
		t.Errorf("within 10: %v", err)
	}
	if _, err := safeguarding.OpenIdentityWithin(file, 10, pass("not it")); !errors.Is(err, safeguarding.ErrWrongPassphrase) {
		t.Errorf("a wrong passphrase: %v", err)
	}
	plain, _ := plainIdentityFile(t)
	if !safeguarding.PassphraseProtected(file) || safeguarding.PassphraseProtected(plain) {
		t.Error("PassphraseProtected does not tell an age file from a plain identity")
	}
}

// A report opened whole, its status moved with a sealed note, a note added on its own: what
// the CLI and the console both do, audited without content.
func TestReportWork(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	file, key := newFocalPoint(t, "pw")
	id, err := safeguarding.OpenIdentity(file, pass("pw"))
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey := newFocalPoint(t, "other")
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Layla", PublicKey: key, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Hour)
	var reportID int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		if reportID, err = store.InsertSEAReport(ctx, tx, store.SEAReport{Reference: "46152399", Channel: "sms",
			AckDueAt: now, ResolveDueAt: now, CreatedAt: now}); err != nil {
			return err
		}
		plain, _ := json.Marshal(safeguarding.Answer{Field: "what", Value: "the planted words", At: now})
		ct, err := safeguarding.NewSealer().Seal(ctx, tx, plain)
		if err != nil {
			return err
		}
		if err := store.AddSEAPart(ctx, tx, reportID, store.SEAPartAnswer, ct, now); err != nil {
			return err
		}
		audio, err := safeguarding.Seal([]byte("ID3 audio"), []string{key})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO recordings (provider_id, audio, content_type, fetched_at, confidential, sea_report_id, created_at)
			VALUES ('RE1', $1, 'audio/mpeg', $2, true, $3, $2), ('RE2', NULL, NULL, NULL, true, $3, $2)`, audio, now, reportID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	report, err := store.SEAReportByID(ctx, pool, reportID)
	if err != nil {
		t.Fatal(err)
	}

	parts, recs, err := safeguarding.OpenReport(ctx, pool, report, id, false)
	if err != nil || len(parts) != 1 || parts[0].Answer.Value != "the planted words" || len(recs) != 2 ||
		recs[0].Audio != nil || recs[0].Missing || !recs[1].Missing {
		t.Fatalf("OpenReport: %+v %+v %v", parts, recs, err)
	}
	rec, err := safeguarding.OpenRecording(ctx, pool, report, 1, id)
	if err != nil || string(rec.Audio) != "ID3 audio" || rec.ContentType != "audio/mpeg" {
		t.Errorf("OpenRecording 1: %+v %v", rec, err)
	}
	if _, err := safeguarding.OpenRecording(ctx, pool, report, 3, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenRecording 3: %v, want ErrNotFound", err)
	}

	// another focal point, registered after the report, cannot open it: no content at all
	otherFile, _ := newFocalPoint(t, "x")
	otherID, _ := safeguarding.OpenIdentity(otherFile, pass("x"))
	if _, _, err := safeguarding.OpenReport(ctx, pool, report, otherID, false); !errors.Is(err, safeguarding.ErrNotRecipient) ||
		err.Error() != "this identity cannot open report 46152399: it was not encrypted to this key" {
		t.Errorf("another key: %v", err)
	}
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Omar", PublicKey: otherKey, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}

	change := func(to cases.Status, note string) (cases.Status, error) {
		var from cases.Status
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			from, err = safeguarding.ChangeStatus(ctx, tx, reportID, to, note, "layla", now)
			return err
		})
		return from, err
	}
	if from, err := change(cases.StatusClosed, ""); !errors.Is(err, cases.ErrTransition) || from != cases.StatusNew {
		t.Errorf("new → closed: %v %v, want ErrTransition from new", from, err)
	}
	if _, err := change(cases.StatusAcknowledged, strings.Repeat("x", safeguarding.MaxNoteLength+1)); !errors.Is(err, safeguarding.ErrNoteTooLong) {
		t.Errorf("a note too long: %v", err)
	}
	if from, err := change(cases.StatusAcknowledged, "  called back\r\nsafe now  "); err != nil || from != cases.StatusNew {
		t.Fatalf("new → acknowledged: %v %v", from, err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return safeguarding.AddNote(ctx, tx, reportID, " \n ", "layla", now)
	})
	if !errors.Is(err, safeguarding.ErrEmptyNote) {
		t.Errorf("an empty note: %v", err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return safeguarding.AddNote(ctx, tx, reportID, "second note", "omar", now.Add(time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return safeguarding.AddNote(ctx, tx, 999, "lost", "omar", now)
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a note to no report: %v", err)
	}

	report, _ = store.SEAReportByID(ctx, pool, reportID)
	if report.Status != "acknowledged" || report.AcknowledgedAt == nil {
		t.Errorf("report after the move: %+v", report)
	}
	parts, _, err = safeguarding.OpenReport(ctx, pool, report, id, false)
	if err != nil || len(parts) != 3 || parts[1].Kind != store.SEAPartNote || parts[1].Note.Note != "called back\nsafe now" ||
		parts[1].Note.By != "layla" || parts[2].Note.Note != "second note" || parts[2].Note.By != "omar" {
		t.Errorf("the notes: %+v %v", parts, err)
	}

	entries, err := store.AuditEntries(ctx, pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Actor+" "+e.Action+" "+e.Subject+" "+e.Detail)
	}
	if want := []string{"layla psea.status 46152399 new → acknowledged", "omar psea.note 46152399 "}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
