package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

func TestStaffUsers(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

	if n, err := store.CountStaffUsers(ctx, pool); err != nil || n != 0 {
		t.Fatalf("count of an empty table: %d %v", n, err)
	}
	id, err := store.InsertStaffUser(ctx, pool, store.StaffUser{Email: " Amira@Example.ORG ", Role: "psea", PasswordHash: "h1", Language: "ar", CreatedAt: now})
	if err != nil || id == 0 {
		t.Fatalf("insert: %d %v", id, err)
	}
	if _, err := store.InsertStaffUser(ctx, pool, store.StaffUser{Email: "karwan@example.org", Role: "viewer", PasswordHash: "h2", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	u, err := store.StaffUserByEmail(ctx, pool, "AMIRA@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != id || u.Email != "amira@example.org" || u.Role != "psea" || u.Language != "ar" || u.PasswordHash != "h1" ||
		!u.CreatedAt.Equal(now) || !u.OneTimePassword() || u.DisabledAt != nil {
		t.Errorf("as stored: %+v (email lower-cased, a one-time password)", u)
	}
	if byID, err := store.StaffUserByID(ctx, pool, id); err != nil || byID.Email != u.Email {
		t.Errorf("by ID: %+v %v", byID, err)
	}
	if k, _ := store.StaffUserByEmail(ctx, pool, "karwan@example.org"); k.Language != "en" {
		t.Errorf("default language %q, want en", k.Language)
	}
	for _, missing := range []func() error{
		func() error { _, err := store.StaffUserByEmail(ctx, pool, "nobody@example.org"); return err },
		func() error { _, err := store.StaffUserByID(ctx, pool, 999); return err },
		func() error { return store.SetStaffPassword(ctx, pool, 999, "h", nil) },
	} {
		if err := missing(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing user: %v, want ErrNotFound", err)
		}
	}

	// the same email in another case: ErrExists, and the transaction goes on
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.InsertStaffUser(ctx, tx, store.StaffUser{Email: "AMIRA@EXAMPLE.ORG", Role: "admin", PasswordHash: "h3", CreatedAt: now})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate email: %v, want ErrExists", err)
	}
	if n, err := store.CountStaffUsers(ctx, tx); err != nil || n != 2 {
		t.Errorf("count in the transaction after the duplicate: %d %v", n, err)
	}
	_ = tx.Rollback(ctx)

	// the database refuses unknown roles and languages
	for _, bad := range []store.StaffUser{
		{Email: "x@example.org", Role: "root", PasswordHash: "h", CreatedAt: now},
		{Email: "y@example.org", Role: "admin", Language: "badini", PasswordHash: "h", CreatedAt: now},
	} {
		if _, err := store.InsertStaffUser(ctx, pool, bad); err == nil {
			t.Errorf("stored %+v", bad)
		}
	}

	changed := now.Add(time.Hour)
	if err := store.SetStaffPassword(ctx, pool, id, "h4", &changed); err != nil {
		t.Fatal(err)
	}
	list, err := store.ListStaffUsers(ctx, pool)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if list[0].Email != "amira@example.org" || list[0].PasswordHash != "h4" || list[0].OneTimePassword() ||
		!list[0].PasswordChangedAt.Equal(changed) || list[1].Email != "karwan@example.org" {
		t.Errorf("list: %+v, want amira (password chosen) then karwan", list)
	}
	// a reset makes it one-time again
	if err := store.SetStaffPassword(ctx, pool, id, "h5", nil); err != nil {
		t.Fatal(err)
	}
	if u, _ := store.StaffUserByID(ctx, pool, id); !u.OneTimePassword() || u.PasswordHash != "h5" {
		t.Errorf("after a reset: %+v", u)
	}
}

// Of processes starting at once on an empty database, exactly one makes the first user.
func TestInsertFirstStaffUser(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := store.InsertFirstStaffUser(ctx, pool, store.StaffUser{Email: "admin@localhost", Role: "admin", PasswordHash: "h", CreatedAt: now})
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n, _ := store.CountStaffUsers(ctx, pool); created != 1 || n != 1 {
		t.Errorf("%d told they made it, %d users; want 1 and 1", created, n)
	}
	// with a user there, another email is not added either
	if _, ok, err := store.InsertFirstStaffUser(ctx, pool, store.StaffUser{Email: "other@localhost", Role: "admin", PasswordHash: "h", CreatedAt: now}); ok || err != nil {
		t.Errorf("a second first user: %v %v", ok, err)
	}
}

func TestStaffSessions(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	id, err := store.InsertStaffUser(ctx, pool, store.StaffUser{Email: "amira@example.org", Role: "cwc", PasswordHash: "h", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	idle := 30 * time.Minute
	newSession := func(name string, at time.Time) []byte {
		h := tokenHash(name)
		if err := store.CreateStaffSession(ctx, pool, store.StaffSession{TokenHash: h, UserID: id, CreatedAt: at, ExpiresAt: at.Add(12 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	lastSeen := func(h []byte) time.Time {
		var at time.Time
		if err := pool.QueryRow(ctx, `SELECT last_seen_at FROM staff_sessions WHERE token_hash = $1`, h).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	a := newSession("a", now)

	u, err := store.StaffSessionUser(ctx, pool, a, now.Add(30*time.Second), idle)
	if err != nil || u.ID != id || u.Email != "amira@example.org" {
		t.Fatalf("session user: %+v %v", u, err)
	}
	// touched at most once a minute
	if got := lastSeen(a); !got.Equal(now) {
		t.Errorf("last seen %v after a use 30s in, want still %v", got, now)
	}
	if _, err := store.StaffSessionUser(ctx, pool, a, now.Add(29*time.Minute), idle); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen(a); !got.Equal(now.Add(29 * time.Minute)) {
		t.Errorf("last seen %v, want %v", got, now.Add(29*time.Minute))
	}
	// idle for 30 minutes: refused
	if _, err := store.StaffSessionUser(ctx, pool, a, now.Add(59*time.Minute), idle); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("idle 30 minutes: %v, want ErrNotFound", err)
	}
	// past its absolute end: refused, however recently used
	b := newSession("b", now)
	if _, err := pool.Exec(ctx, `UPDATE staff_sessions SET last_seen_at = $2 WHERE token_hash = $1`, b, now.Add(12*time.Hour-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.StaffSessionUser(ctx, pool, b, now.Add(12*time.Hour), idle); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("at its end: %v, want ErrNotFound", err)
	}
	if _, err := store.StaffSessionUser(ctx, pool, tokenHash("unknown"), now, idle); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown: %v, want ErrNotFound", err)
	}

	// a new session clears the user's ended ones
	c := newSession("c", now.Add(13*time.Hour))
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM staff_sessions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d sessions after a new one (%v), want the ended ones gone", n, err)
	}
	later := now.Add(13 * time.Hour)
	d := newSession("d", later)
	e := newSession("e", later)
	if ended, err := store.DeleteStaffSessionsOfUser(ctx, pool, id, d); err != nil || ended != 2 {
		t.Errorf("end all but d: %d %v, want 2", ended, err)
	}
	for h, want := range map[string]bool{"c": false, "d": true, "e": false} {
		_, err := store.StaffSessionUser(ctx, pool, tokenHash(h), later, idle)
		if (err == nil) != want {
			t.Errorf("session %s valid: %v, want %v", h, err == nil, want)
		}
	}
	_, _ = c, e
	if err := store.DeleteStaffSession(ctx, pool, d); err != nil {
		t.Fatal(err)
	}
	if _, err := store.StaffSessionUser(ctx, pool, d, later, idle); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted: %v", err)
	}

	// a disabled user's sessions are refused
	f := newSession("f", later)
	if _, err := pool.Exec(ctx, `UPDATE staff_users SET disabled_at = $2 WHERE id = $1`, id, later); err != nil {
		t.Fatal(err)
	}
	if _, err := store.StaffSessionUser(ctx, pool, f, later, idle); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("disabled user: %v, want ErrNotFound", err)
	}
	if ended, err := store.DeleteStaffSessionsOfUser(ctx, pool, id, nil); err != nil || ended != 1 {
		t.Errorf("end all: %d %v", ended, err)
	}

	// only hashes: a session needs 32 bytes
	if err := store.CreateStaffSession(ctx, pool, store.StaffSession{TokenHash: []byte("token"), UserID: id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err == nil {
		t.Error("a session was stored with a 5-byte hash")
	}
}

func TestLoginFailures(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := store.RecordLoginFailure(ctx, pool, "account:a@example.org", now.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.RecordLoginFailure(ctx, pool, "addr:192.0.2.1", now); err != nil {
		t.Fatal(err)
	}
	count := func(key string, since time.Time) int {
		n, err := store.CountLoginFailures(ctx, pool, key, since)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("account:a@example.org", now.Add(-time.Second)); n != 3 {
		t.Errorf("%d failures, want 3", n)
	}
	// since is the window's open end: a failure at since is out
	if n := count("account:a@example.org", now); n != 2 {
		t.Errorf("%d failures after the first, want 2", n)
	}
	times, err := store.LoginFailuresSince(ctx, pool, "account:a@example.org", now.Add(-time.Second))
	if err != nil || len(times) != 3 || !times[0].Equal(now) || !times[2].Equal(now.Add(2*time.Minute)) {
		t.Errorf("times: %v %v", times, err)
	}
	if err := store.ClearLoginFailures(ctx, pool, "account:a@example.org"); err != nil {
		t.Fatal(err)
	}
	if n := count("account:a@example.org", now.Add(-time.Hour)); n != 0 {
		t.Errorf("%d failures after clearing", n)
	}
	if n := count("addr:192.0.2.1", now.Add(-time.Hour)); n != 1 {
		t.Errorf("clearing one key cleared another: %d", n)
	}
	// a key's failures older than a day go when a new one comes
	if err := store.RecordLoginFailure(ctx, pool, "addr:192.0.2.1", now.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var total int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM login_failures`).Scan(&total); err != nil || total != 1 {
		t.Errorf("%d rows (%v), want the day-old one pruned", total, err)
	}
}
