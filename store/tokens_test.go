package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

func tokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestAPITokens(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

	if list, err := store.ListAPITokens(ctx, pool); err != nil || len(list) != 0 {
		t.Fatalf("list of an empty table: %v %v", list, err)
	}
	id, err := store.CreateAPIToken(ctx, pool, "  ops-bot ", "cwc", tokenHash("a"), now)
	if err != nil || id == 0 {
		t.Fatalf("create ops-bot: %d %v", id, err)
	}
	if _, err := store.CreateAPIToken(ctx, pool, "Dashboard", "viewer", tokenHash("b"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	got, err := store.APITokenByHash(ctx, pool, tokenHash("a"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Name != "ops-bot" || got.Role != "cwc" || !got.CreatedAt.Equal(now) || got.LastUsedAt != nil || got.RevokedAt != nil {
		t.Errorf("ops-bot as stored: %+v (name trimmed, never used, not revoked)", got)
	}
	if _, err := store.APITokenByHash(ctx, pool, tokenHash("unknown")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v, want ErrNotFound", err)
	}

	// an empty name is refused
	if _, err := store.CreateAPIToken(ctx, pool, "  ", "cwc", tokenHash("c"), now); err == nil {
		t.Error("a blank name was accepted")
	}
	// a duplicate name is refused whatever its case, in a transaction without aborting it
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.CreateAPIToken(ctx, tx, "OPS-BOT", "admin", tokenHash("c"), now)
	if !errors.Is(err, store.ErrTokenExists) || !strings.Contains(err.Error(), `"OPS-BOT"`) {
		t.Errorf("duplicate name: %v, want ErrTokenExists naming it", err)
	}
	if _, err := store.ListAPITokens(ctx, tx); err != nil {
		t.Errorf("the transaction is aborted: %v", err)
	}
	tx.Rollback(ctx)

	list, err := store.ListAPITokens(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "Dashboard" || list[1].Name != "ops-bot" {
		t.Fatalf("list %+v: want Dashboard, ops-bot", list)
	}

	// revoking: case-insensitive; the token is refused then, and its name free again
	if err := store.RevokeAPIToken(ctx, pool, "Ops-Bot", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.APITokenByHash(ctx, pool, tokenHash("a")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token found: %v, want ErrNotFound", err)
	}
	if err := store.RevokeAPIToken(ctx, pool, "ops-bot", now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking twice: %v, want ErrNotFound", err)
	}
	if err := store.RevokeAPIToken(ctx, pool, "nobody", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking an unknown name: %v, want ErrNotFound", err)
	}
	id2, err := store.CreateAPIToken(ctx, pool, "ops-bot", "cwc", tokenHash("d"), now.Add(3*time.Hour))
	if err != nil || id2 == id {
		t.Fatalf("the name of a revoked token is not free again: %d %v", id2, err)
	}

	// revoked ones come last, marked
	list, err = store.ListAPITokens(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Name != "Dashboard" || list[1].ID != id2 || list[2].ID != id ||
		list[2].RevokedAt == nil || !list[2].RevokedAt.Equal(now.Add(time.Hour)) || list[1].RevokedAt != nil {
		t.Errorf("list %+v: want Dashboard, the new ops-bot, then the revoked one", list)
	}
}

func TestTouchAPIToken(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	id, err := store.CreateAPIToken(ctx, pool, "ops-bot", "cwc", tokenHash("a"), now)
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() *time.Time {
		t.Helper()
		tok, err := store.APITokenByHash(ctx, pool, tokenHash("a"))
		if err != nil {
			t.Fatal(err)
		}
		return tok.LastUsedAt
	}
	for _, step := range []struct {
		at   time.Time
		want time.Time // last_used_at after it
	}{
		{now.Add(time.Second), now.Add(time.Second)},             // never used: written
		{now.Add(30 * time.Second), now.Add(time.Second)},        // within the minute: not written
		{now.Add(61 * time.Second), now.Add(61 * time.Second)},   // a minute later: written
		{now.Add(2 * time.Minute), now.Add(61 * time.Second)},    // 59 s later: not written
		{now.Add(121 * time.Second), now.Add(121 * time.Second)}, // exactly a minute later: written
		{now.Add(-time.Hour), now.Add(121 * time.Second)},        // an earlier use never goes back
	} {
		if err := store.TouchAPIToken(ctx, pool, id, step.at); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); got == nil || !got.Equal(step.want) {
			t.Errorf("touched at %s: last used %v, want %s", step.at.Format(time.TimeOnly), got, step.want.Format(time.TimeOnly))
		}
	}
	if err := store.TouchAPIToken(ctx, pool, id+1000, now); err != nil {
		t.Errorf("touching an unknown token: %v, want nil", err)
	}
}

// Two makers of the same name at once: the second waits for the first to commit, then is
// told the name is taken (the table has no unique index on active names to refuse it).
func TestCreateAPITokenConcurrent(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	if _, err := store.CreateAPIToken(ctx, first, "ops-bot", "cwc", tokenHash("a"), now); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		_, err := store.CreateAPIToken(ctx, pool, "OPS-BOT", "cwc", tokenHash("b"), now)
		second <- err
	}()
	// wait until the second maker waits for the lock (or, wrongly, has finished)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting || len(second) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second maker neither waits nor finishes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-second; !errors.Is(err, store.ErrTokenExists) {
		t.Errorf("the second maker of the same name: %v, want ErrTokenExists", err)
	}
	if list, err := store.ListAPITokens(ctx, pool); err != nil || len(list) != 1 {
		t.Errorf("tokens: %+v %v, want only the first", list, err)
	}
}
