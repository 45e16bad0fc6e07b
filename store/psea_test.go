package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// Valid-looking age public keys: the store does not parse them (the callers do).
const (
	keyLayla  = "age1layla0000000000000000000000000000000000000000000000000000"
	keyOmar   = "age1omar00000000000000000000000000000000000000000000000000000"
	keyEscrow = "age1escrow000000000000000000000000000000000000000000000000000"
)

func TestPSEARecipients(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	chat := int64(-100123)

	if keys, err := store.ActivePSEAKeys(ctx, pool); err != nil || len(keys) != 0 {
		t.Fatalf("keys of an empty table: %v %v", keys, err)
	}
	if _, err := store.EscrowRecipient(ctx, pool); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("EscrowRecipient of an empty table: %v", err)
	}
	id, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Layla", PublicKey: keyLayla,
		TelegramChat: &chat, Phone: "+9647701234567", Language: "ar", CreatedAt: now})
	if err != nil || id == 0 {
		t.Fatalf("add Layla: %d %v", id, err)
	}
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Omar", PublicKey: keyOmar, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "escrow", PublicKey: keyEscrow, Escrow: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	// duplicates are refused, in a transaction without aborting it
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.AddPSEARecipient(ctx, tx, store.PSEARecipient{Name: "LAYLA", PublicKey: "age1other", CreatedAt: now})
	if !errors.Is(err, store.ErrRecipientExists) || !strings.Contains(err.Error(), `"LAYLA"`) {
		t.Errorf("duplicate name: %v", err)
	}
	_, err = store.AddPSEARecipient(ctx, tx, store.PSEARecipient{Name: "Someone", PublicKey: keyOmar, CreatedAt: now})
	if !errors.Is(err, store.ErrRecipientExists) || !strings.Contains(err.Error(), `"Omar"`) {
		t.Errorf("duplicate key: %v", err)
	}
	_, err = store.AddPSEARecipient(ctx, tx, store.PSEARecipient{Name: "escrow2", PublicKey: "age1escrow2", Escrow: true, CreatedAt: now})
	if !errors.Is(err, store.ErrEscrowExists) {
		t.Errorf("second escrow: %v", err)
	}
	if _, err := store.ListPSEARecipients(ctx, tx); err != nil {
		t.Errorf("the transaction is aborted: %v", err)
	}
	tx.Rollback(ctx)

	rs, err := store.ListPSEARecipients(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Name != "Layla" || rs[1].Name != "Omar" || rs[2].Name != "escrow" || !rs[2].Escrow {
		t.Fatalf("list %+v: want Layla, Omar, escrow", rs)
	}
	l := rs[0]
	if l.PublicKey != keyLayla || l.TelegramChat == nil || *l.TelegramChat != chat || l.Phone != "+9647701234567" ||
		l.Language != "ar" || !l.CreatedAt.Equal(now) || l.Escrow {
		t.Errorf("Layla as stored: %+v", l)
	}
	if rs[1].Language != "en" || rs[1].Phone != "" || rs[1].TelegramChat != nil {
		t.Errorf("Omar's defaults: %+v", rs[1])
	}
	keys, err := store.ActivePSEAKeys(ctx, pool)
	if err != nil || strings.Join(keys, " ") != keyLayla+" "+keyOmar+" "+keyEscrow {
		t.Errorf("active keys %v %v", keys, err)
	}

	if err := store.RemovePSEARecipient(ctx, pool, "omar", now); err != nil {
		t.Fatal(err)
	}
	if err := store.RemovePSEARecipient(ctx, pool, "Omar", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing Omar twice: %v", err)
	}
	if err := store.RemovePSEARecipient(ctx, pool, "nobody", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing nobody: %v", err)
	}
	if err := store.RemovePSEARecipient(ctx, pool, "Escrow", now); !errors.Is(err, store.ErrEscrowRemoval) {
		t.Errorf("removing the escrow: %v", err)
	}
	keys, _ = store.ActivePSEAKeys(ctx, pool)
	if strings.Join(keys, " ") != keyLayla+" "+keyEscrow {
		t.Errorf("active keys after removing Omar: %v", keys)
	}
	// the name and the key are free again
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Omar", PublicKey: keyOmar, CreatedAt: now}); err != nil {
		t.Errorf("adding Omar back: %v", err)
	}
	e, err := store.EscrowRecipient(ctx, pool)
	if err != nil || e.PublicKey != keyEscrow {
		t.Errorf("escrow %+v %v", e, err)
	}
}

func insertReport(t *testing.T, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, r store.SEAReport) (int64, error) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	id, err := store.InsertSEAReport(ctx, tx, r)
	if err != nil {
		return 0, err
	}
	return id, tx.Commit(ctx)
}

func TestSEAReports(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

	// a case holds 12345674: a report cannot take it
	var contactID int64
	if err := pool.QueryRow(ctx, `INSERT INTO contacts (created_at, updated_at) VALUES ($1, $1) RETURNING id`, now).Scan(&contactID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO cases (reference, contact_id, category, priority, status, channel,
		ack_due_at, refer_due_at, resolve_due_at, created_at, updated_at)
		VALUES ('12345674', $1, 'other', 'normal', 'new', 'voice', $2, $2, $2, $2, $2)`, contactID, now); err != nil {
		t.Fatal(err)
	}
	base := store.SEAReport{Channel: "telegram", AckDueAt: now.Add(24 * time.Hour), ResolveDueAt: now.Add(30 * 24 * time.Hour), CreatedAt: now}

	taken := base
	taken.Reference = "12345674"
	if _, err := insertReport(t, pool, taken); !errors.Is(err, store.ErrReferenceTaken) {
		t.Errorf("a case's reference: %v, want ErrReferenceTaken", err)
	}
	first := base
	first.Reference = "23456781"
	id, err := insertReport(t, pool, first)
	if err != nil {
		t.Fatal(err)
	}
	again := base
	again.Reference = "23456781"
	again.CreatedAt = now.Add(time.Minute)
	// in one transaction: the second insert is refused and the transaction goes on
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.InsertSEAReport(ctx, tx, again); !errors.Is(err, store.ErrReferenceTaken) {
		t.Errorf("a report's reference: %v, want ErrReferenceTaken", err)
	}
	again.Reference = "34567812"
	id2, err := store.InsertSEAReport(ctx, tx, again)
	if err != nil {
		t.Fatalf("after a taken reference, the transaction: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	r, err := store.SEAReportByReference(ctx, pool, "23456781")
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != id || r.Status != "new" || r.Complete || r.Channel != "telegram" || r.Assignee != "" ||
		!r.UpdatedAt.Equal(now) || !r.AckDueAt.Equal(base.AckDueAt) || r.AcknowledgedAt != nil {
		t.Errorf("report as stored: %+v", r)
	}
	if _, err := store.SEAReportByReference(ctx, pool, "12345674"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a case's reference found as a report: %v", err)
	}
	if _, err := store.SEAReportByID(ctx, pool, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("report 999: %v", err)
	}
	list, err := store.ListSEAReports(ctx, pool)
	if err != nil || len(list) != 2 || list[0].ID != id2 || list[1].ID != id {
		t.Errorf("list, newest first: %+v %v", list, err)
	}

	// parts, in order; each bumps updated_at
	if err := store.AddSEAPart(ctx, pool, id, "answer", []byte("ct1"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := store.AddSEAPart(ctx, pool, id, "note", []byte("ct2"), now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := store.AddSEAPart(ctx, pool, id, "secret", []byte("x"), now); err == nil {
		t.Error("a part of an unknown kind was stored")
	}
	if err := store.AddSEAPart(ctx, pool, 999, "answer", []byte("x"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a part of no report: %v", err)
	}
	parts, err := store.SEAParts(ctx, pool, id)
	if err != nil || len(parts) != 2 || parts[0].Kind != "answer" || string(parts[0].Ciphertext) != "ct1" ||
		parts[1].Kind != "note" || !parts[1].CreatedAt.Equal(now.Add(2*time.Minute)) {
		t.Errorf("parts %+v %v", parts, err)
	}
	if err := store.CompleteSEAReport(ctx, pool, id, now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := store.CompleteSEAReport(ctx, pool, 999, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("completing no report: %v", err)
	}
	r, _ = store.SEAReportByID(ctx, pool, id)
	if !r.Complete || !r.UpdatedAt.Equal(now.Add(3*time.Minute)) {
		t.Errorf("after parts and completion: %+v", r)
	}

	// status: acknowledged, resolved, reopened
	setStatus := func(to string, at time.Time) {
		t.Helper()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := store.SEAReportForUpdate(ctx, tx, id); err != nil {
			t.Fatal(err)
		}
		if err := store.SetSEAStatus(ctx, tx, id, to, at); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ackAt, resAt := now.Add(time.Hour), now.Add(48*time.Hour)
	setStatus("acknowledged", ackAt)
	setStatus("in_progress", ackAt.Add(time.Minute))
	setStatus("resolved", resAt)
	r, _ = store.SEAReportByID(ctx, pool, id)
	if r.Status != "resolved" || r.AcknowledgedAt == nil || !r.AcknowledgedAt.Equal(ackAt) ||
		r.ResolvedAt == nil || !r.ResolvedAt.Equal(resAt) || !r.UpdatedAt.Equal(resAt) {
		t.Errorf("resolved: %+v", r)
	}
	setStatus("in_progress", resAt.Add(time.Hour))
	r, _ = store.SEAReportByID(ctx, pool, id)
	if r.Status != "in_progress" || r.ResolvedAt != nil || r.AcknowledgedAt == nil {
		t.Errorf("reopened: %+v", r)
	}
	tx, _ = pool.Begin(ctx)
	if err := store.SetSEAStatus(ctx, tx, 999, "closed", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("status of no report: %v", err)
	}
	tx.Rollback(ctx)
	tx, _ = pool.Begin(ctx)
	if err := store.SetSEAStatus(ctx, tx, id, "lost", now); err == nil {
		t.Error("an unknown status was stored")
	}
	tx.Rollback(ctx)

	// recordings tied to the report, not to a case
	if _, err := pool.Exec(ctx, `
		INSERT INTO recordings (provider_id, audio, content_type, fetched_at, confidential, sea_report_id, created_at)
		VALUES ('RE2', 'sealed2', 'audio/mpeg', $2, true, $1, $2), ('RE1', 'sealed1', 'audio/mpeg', $2, true, $1, $2),
		       ('REother', 'x', 'audio/mpeg', $2, false, NULL, $2)`, id, now); err != nil {
		t.Fatal(err)
	}
	recs, err := store.SEARecordings(ctx, pool, id)
	if err != nil || len(recs) != 2 || recs[0].ProviderID != "RE2" || string(recs[1].Audio) != "sealed1" || recs[0].ContentType != "audio/mpeg" {
		t.Errorf("recordings %+v %v", recs, err)
	}
	if recs, _ := store.SEARecordings(ctx, pool, id2); len(recs) != 0 {
		t.Errorf("the other report's recordings: %+v", recs)
	}
}
