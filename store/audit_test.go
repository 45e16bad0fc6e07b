package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// appendAudits appends n entries, each in a transaction of its own, with a time that keeps
// nanoseconds: what is hashed must still match once PostgreSQL has kept only microseconds.
func appendAudits(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		e := store.AuditEntry{
			At:    time.Date(2026, 11, 23, 9, 0, i, 123456789, time.FixedZone("Baghdad", 3*3600)),
			Actor: "amira", Action: "report.read", Subject: fmt.Sprintf("SEA-%d", i), Detail: "opened from the console",
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.AppendAudit(ctx, tx, e) }); err != nil {
			t.Fatal(err)
		}
	}
}

func auditIDs(t *testing.T, pool *pgxpool.Pool) []int64 {
	t.Helper()
	entries, err := store.AuditEntries(context.Background(), pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// wantBreak checks that VerifyAudit stops at entry id, for the reason kind, after checked
// intact entries.
func wantBreak(t *testing.T, pool *pgxpool.Pool, checked int, id int64, kind store.AuditBreakKind) {
	t.Helper()
	n, err := store.VerifyAudit(context.Background(), pool)
	var brk *store.AuditBreak
	if !errors.As(err, &brk) {
		t.Fatalf("VerifyAudit = %d, %v; want a break at entry %d", n, err, id)
	}
	if brk.ID != id || brk.Kind != kind || n != checked {
		t.Errorf("VerifyAudit = %d, %+v (%v); want a break of kind %d at entry %d after %d intact entries", n, brk, err, kind, id, checked)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("audit entry %d ", id)) {
		t.Errorf("the error does not name entry %d: %v", id, err)
	}
}

func disableAuditTriggers(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	// The test owns the table, as the migrating role does in production.
	if _, err := pool.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
}

func TestAuditAppendListVerify(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	if n, err := store.VerifyAudit(ctx, pool); n != 0 || err != nil {
		t.Fatalf("empty log: VerifyAudit = %d, %v", n, err)
	}
	appendAudits(t, pool, 3)
	// A pool outside a transaction is wrapped in one.
	if err := store.AppendAudit(ctx, pool, store.AuditEntry{Actor: "system", Action: "recipient.add", Subject: "escrow"}); err != nil {
		t.Fatal(err)
	}
	if n, err := store.VerifyAudit(ctx, pool); n != 4 || err != nil {
		t.Fatalf("VerifyAudit = %d, %v; want 4 intact", n, err)
	}
	all, err := store.AuditEntries(ctx, pool, 0)
	if err != nil || len(all) != 4 {
		t.Fatalf("AuditEntries = %d entries, %v", len(all), err)
	}
	first := all[0]
	wantAt := time.Date(2026, 11, 23, 6, 0, 0, 123456000, time.UTC)
	if !first.At.Equal(wantAt) || first.At.Location() != time.UTC || first.Actor != "amira" || first.Action != "report.read" ||
		first.Subject != "SEA-0" || first.Detail != "opened from the console" {
		t.Errorf("first entry %+v", first)
	}
	if len(first.PrevHash) != 32 || strings.Trim(string(first.PrevHash), "\x00") != "" || len(first.Hash) != 32 {
		t.Errorf("first entry's hashes: prev %x, hash %x", first.PrevHash, first.Hash)
	}
	for _, e := range all {
		if !bytes.Equal(e.Hash, specHash(e)) {
			t.Errorf("entry %d: hash %x, want %x as documented", e.ID, e.Hash, specHash(e))
		}
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID || string(all[i].PrevHash) != string(all[i-1].Hash) {
			t.Errorf("entry %d does not follow entry %d", all[i].ID, all[i-1].ID)
		}
	}
	if last := all[3]; last.Subject != "escrow" || last.Detail != "" || time.Since(last.At) > time.Minute {
		t.Errorf("last entry %+v: want now as its time", last)
	}
	newest, err := store.AuditEntries(ctx, pool, 2)
	if err != nil || len(newest) != 2 || newest[0].ID != all[2].ID || newest[1].ID != all[3].ID {
		t.Errorf("AuditEntries(2) = %+v, %v; want the newest two, oldest first", newest, err)
	}

	if err := store.AppendAudit(ctx, pool, store.AuditEntry{Action: "report.read"}); err == nil {
		t.Error("an entry without an actor was appended")
	}
	// In REPEATABLE READ the snapshot may predate the last append: refused, not forked.
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	err = store.AppendAudit(ctx, tx, store.AuditEntry{Actor: "amira", Action: "report.read"})
	tx.Rollback(ctx)
	if err == nil || !strings.Contains(err.Error(), "READ COMMITTED") {
		t.Errorf("append in REPEATABLE READ: %v", err)
	}
}

// TestAuditConcurrentAppends: appenders in transactions of their own, at once, still make
// one chain, even those that hold their transaction open a while after appending.
func TestAuditConcurrentAppends(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					if err := store.AppendAudit(ctx, tx, store.AuditEntry{
						Actor: fmt.Sprintf("worker-%d", w), Action: "report.read", Subject: fmt.Sprint(i),
					}); err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // other appenders queue behind the lock meanwhile
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := store.VerifyAudit(ctx, pool); n != workers*each || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want %d intact", n, err, workers*each)
	}
}

// TestAuditAppendOnly: the database refuses to change or remove entries.
func TestAuditAppendOnly(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	appendAudits(t, pool, 2)
	for _, tt := range []struct{ sql, op string }{
		{`UPDATE audit_log SET detail = 'nothing happened'`, "UPDATE"},
		{`DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)`, "DELETE"},
		{`TRUNCATE audit_log`, "TRUNCATE"},
	} {
		_, err := pool.Exec(ctx, tt.sql)
		if want := "audit_log is append-only: " + tt.op + " refused"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", tt.sql, err, want)
		}
	}
	if n, err := store.VerifyAudit(ctx, pool); n != 2 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 2 intact", n, err)
	}
}

// TestAuditAltered: an entry changed behind the triggers' back is named; the chain after it
// still links to its stored hash, so it is the only one named.
func TestAuditAltered(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	appendAudits(t, pool, 5)
	ids := auditIDs(t, pool)
	disableAuditTriggers(t, pool)
	if _, err := pool.Exec(ctx, `UPDATE audit_log SET detail = 'nothing to see' WHERE id = $1`, ids[2]); err != nil {
		t.Fatal(err)
	}
	wantBreak(t, pool, 2, ids[2], store.AuditAltered)

	// Altered and rehashed: the entry itself checks, the next one no longer follows it.
	pool = pgtest.New(t)
	appendAudits(t, pool, 5)
	entries, err := store.AuditEntries(ctx, pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := entries[2]
	e.Detail = "nothing to see"
	disableAuditTriggers(t, pool)
	if _, err := pool.Exec(ctx, `UPDATE audit_log SET detail = $2, hash = $3 WHERE id = $1`, e.ID, e.Detail, specHash(e)); err != nil {
		t.Fatal(err)
	}
	wantBreak(t, pool, 3, entries[3].ID, store.AuditRemoved)
}

// specHash is the documented hash of an entry, written out again: SHA-256 over the version
// string, prev_hash, id, at in unix microseconds, actor, action, subject and detail, each as
// its length (8 bytes big-endian) then its bytes, integers as 8 bytes big-endian.
func specHash(e store.AuditEntry) []byte {
	var buf []byte
	field := func(b []byte) {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	field([]byte("sawt audit v1"))
	field(e.PrevHash)
	field(binary.BigEndian.AppendUint64(nil, uint64(e.ID)))
	field(binary.BigEndian.AppendUint64(nil, uint64(e.At.UnixMicro())))
	for _, s := range []string{e.Actor, e.Action, e.Subject, e.Detail} {
		field([]byte(s))
	}
	sum := sha256.Sum256(buf)
	return sum[:]
}

// TestAuditRemoved: a removed middle entry is seen at the next one; removed first entries at
// the new oldest; a rolled-back append's unused id is no removal.
func TestAuditRemoved(t *testing.T) {
	ctx := context.Background()
	t.Run("middle", func(t *testing.T) {
		pool := pgtest.New(t)
		appendAudits(t, pool, 5)
		ids := auditIDs(t, pool)
		disableAuditTriggers(t, pool)
		if _, err := pool.Exec(ctx, `DELETE FROM audit_log WHERE id = $1`, ids[2]); err != nil {
			t.Fatal(err)
		}
		wantBreak(t, pool, 2, ids[3], store.AuditRemoved)
		_, err := store.VerifyAudit(ctx, pool)
		if want := fmt.Sprintf("does not follow entry %d", ids[1]); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	})
	t.Run("first", func(t *testing.T) {
		pool := pgtest.New(t)
		appendAudits(t, pool, 3)
		ids := auditIDs(t, pool)
		disableAuditTriggers(t, pool)
		if _, err := pool.Exec(ctx, `DELETE FROM audit_log WHERE id = $1`, ids[0]); err != nil {
			t.Fatal(err)
		}
		wantBreak(t, pool, 0, ids[1], store.AuditNotGenesis)
	})
	t.Run("rolled back", func(t *testing.T) {
		pool := pgtest.New(t)
		appendAudits(t, pool, 2)
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AppendAudit(ctx, tx, store.AuditEntry{Actor: "amira", Action: "report.read"}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		appendAudits(t, pool, 2)
		ids := auditIDs(t, pool)
		if len(ids) != 4 || ids[2] != ids[1]+2 {
			t.Fatalf("ids %v: want a gap after the second", ids)
		}
		if n, err := store.VerifyAudit(ctx, pool); n != 4 || err != nil {
			t.Errorf("VerifyAudit = %d, %v; want 4 intact", n, err)
		}
	})
}
