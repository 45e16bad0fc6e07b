package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// TestPurgeOrphanRecordings: a recording no case was made from is deleted once it is gone from
// the provider and old enough; one that belongs to a case, one still at the provider and a
// recent one are kept.
func TestPurgeOrphanRecordings(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	old := now.Add(-10 * time.Hour)
	ready := func(sid string, at time.Time, deleted bool) {
		t.Helper()
		if err := store.RecordingReady(ctx, pool, sid, "CA1", "https://api.twilio.com/x/"+sid, 5, false, at); err != nil {
			t.Fatal(err)
		}
		if err := store.StoreRecordingAudio(ctx, pool, sid, "audio/mpeg", []byte("ID3"), at); err != nil {
			t.Fatal(err)
		}
		if deleted {
			if err := store.RecordingDeletedAtProvider(ctx, pool, sid, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	ready("REorphan", old, true)
	ready("REstillthere", old, false)
	ready("RErecent", now.Add(-time.Hour), true)
	ready("REofacase", old, true)
	var contactID, caseID int64
	if err := pool.QueryRow(ctx, `INSERT INTO contacts (created_at, updated_at) VALUES ($1, $1) RETURNING id`, now).Scan(&contactID); err != nil {
		t.Fatal(err)
	}
	err := pool.QueryRow(ctx, `INSERT INTO cases (reference, contact_id, category, priority, status, channel,
		ack_due_at, refer_due_at, resolve_due_at, created_at, updated_at)
		VALUES ('12345674', $1, 'other', 'normal', 'new', 'voice', $2, $2, $2, $2, $2) RETURNING id`, contactID, now).Scan(&caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.LinkRecordings(ctx, pool, caseID, contactID, []string{"REofacase", "REofacase"}, now); err != nil {
		t.Fatal(err)
	}
	n, err := store.PurgeOrphanRecordings(ctx, pool, now.Add(-6*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d (%v), want 1", n, err)
	}
	if _, err := store.RecordingByProviderID(ctx, pool, "REorphan"); err != store.ErrNotFound {
		t.Errorf("the orphan is still kept: %v", err)
	}
	recs, err := store.RecordingsOfCase(ctx, pool, caseID)
	if err != nil || len(recs) != 1 || string(recs[0].Audio) != "ID3" {
		t.Errorf("the case's recordings: %+v %v", recs, err)
	}
}
