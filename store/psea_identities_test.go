package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// A psea user's identity is linked to an active focal point's key, never the escrow's, and
// replaced by the next one they link; the recipient's removal shows with it.
func TestPSEAIdentities(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	userID, err := store.InsertStaffUser(ctx, pool, store.StaffUser{Email: "layla@example.org", Role: "psea", Language: "en",
		PasswordHash: "x", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	layla, _ := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Layla", PublicKey: keyLayla, CreatedAt: now})
	omar, _ := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Omar", PublicKey: keyOmar, CreatedAt: now})
	escrow, _ := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "escrow", PublicKey: keyEscrow, Escrow: true, CreatedAt: now})

	if _, err := store.PSEAIdentityOf(ctx, pool, userID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no identity yet: %v", err)
	}
	for name, id := range map[string]int64{"the escrow": escrow, "no recipient": 999} {
		if err := store.LinkPSEAIdentity(ctx, pool, userID, id, []byte("file"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("link %s: %v, want ErrNotFound", name, err)
		}
	}
	if err := store.LinkPSEAIdentity(ctx, pool, userID, layla, []byte("layla's file"), now); err != nil {
		t.Fatal(err)
	}
	if err := store.LinkPSEAIdentity(ctx, pool, userID, omar, []byte("omar's file"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := store.PSEAIdentityOf(ctx, pool, userID)
	if err != nil || got.RecipientID != omar || string(got.File) != "omar's file" || got.RecipientName != "Omar" ||
		got.PublicKey != keyOmar || !got.LinkedAt.Equal(now.Add(time.Hour)) || got.RemovedAt != nil {
		t.Fatalf("after linking again: %+v %v", got, err)
	}
	if err := store.RemovePSEARecipient(ctx, pool, "omar", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := store.PSEAIdentityOf(ctx, pool, userID); err != nil || got.RemovedAt == nil {
		t.Errorf("after Omar's removal: %+v %v", got, err)
	}
	if err := store.LinkPSEAIdentity(ctx, pool, userID, omar, []byte("x"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("link a removed recipient: %v", err)
	}
}

func TestSEARecordingCounts(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var a, b int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		if a, err = store.InsertSEAReport(ctx, tx, store.SEAReport{Reference: "46152399", Channel: "voice", AckDueAt: now, ResolveDueAt: now, CreatedAt: now}); err != nil {
			return err
		}
		if b, err = store.InsertSEAReport(ctx, tx, store.SEAReport{Reference: "12345674", Channel: "sms", AckDueAt: now, ResolveDueAt: now, CreatedAt: now}); err != nil {
			return err
		}
		return store.LinkConfidentialRecordings(ctx, tx, a, []string{"RE1", "RE2"}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := store.SEARecordingCounts(ctx, pool)
	if err != nil || len(counts) != 1 || counts[a] != 2 || counts[b] != 0 {
		t.Errorf("counts: %v %v", counts, err)
	}
}

// The audit log read a page at a time, newest first.
func TestAuditPage(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	for i := range 5 {
		if err := store.AppendAudit(ctx, pool, store.AuditEntry{Actor: "a", Action: "x", Subject: string(rune('1' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	subjects := func(es []store.AuditEntry) []string {
		var s []string
		for _, e := range es {
			s = append(s, e.Subject)
		}
		return s
	}
	first, err := store.AuditPage(ctx, pool, 0, 2)
	if err != nil || !slices.Equal(subjects(first), []string{"5", "4"}) {
		t.Fatalf("first page: %v %v", subjects(first), err)
	}
	next, err := store.AuditPage(ctx, pool, first[1].ID, 2)
	if err != nil || !slices.Equal(subjects(next), []string{"3", "2"}) {
		t.Errorf("next page: %v %v", subjects(next), err)
	}
	last, _ := store.AuditPage(ctx, pool, next[1].ID, 2)
	if !slices.Equal(subjects(last), []string{"1"}) {
		t.Errorf("last page: %v", subjects(last))
	}
	if _, err := store.AuditPage(ctx, pool, 0, 0); err == nil {
		t.Error("a page of 0 entries")
	}
}
