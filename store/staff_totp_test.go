package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// A session waiting for its second factor is no signed-in user for StaffSessionUser (whoever
// calls it); StaffSessionOf finds it and says so; it can be ended as such once.
func TestPendingStaffSession(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	id, err := store.InsertStaffUser(ctx, pool, store.StaffUser{Email: "amira@example.org", Role: "psea", PasswordHash: "h", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	pending, full := sha256.Sum256([]byte("pending")), sha256.Sum256([]byte("full"))
	for _, s := range []store.StaffSession{
		{TokenHash: pending[:], UserID: id, CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute), PendingSecondFactor: true},
		{TokenHash: full[:], UserID: id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := store.CreateStaffSession(ctx, pool, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.StaffSessionUser(ctx, pool, pending[:], now, time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StaffSessionUser of a pending session: %v, want ErrNotFound", err)
	}
	if u, p, err := store.StaffSessionOf(ctx, pool, pending[:], now, time.Hour); err != nil || !p || u.ID != id {
		t.Errorf("StaffSessionOf a pending session: %d %v %v", u.ID, p, err)
	}
	if u, p, err := store.StaffSessionOf(ctx, pool, full[:], now, time.Hour); err != nil || p || u.ID != id {
		t.Errorf("StaffSessionOf a full session: %d %v %v", u.ID, p, err)
	}
	if _, _, err := store.StaffSessionOf(ctx, pool, pending[:], now.Add(5*time.Minute), time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a pending session after five minutes: %v", err)
	}
	if ended, err := store.EndPendingStaffSession(ctx, pool, full[:]); err != nil || ended {
		t.Errorf("EndPendingStaffSession of a full session: %v %v", ended, err)
	}
	if ended, err := store.EndPendingStaffSession(ctx, pool, pending[:]); err != nil || !ended {
		t.Errorf("EndPendingStaffSession: %v %v", ended, err)
	}
	if ended, _ := store.EndPendingStaffSession(ctx, pool, pending[:]); ended {
		t.Error("a pending session ended twice")
	}
}

// Two-step sign-in's secret: set up, enabled only with the secret being set up, each time
// step taken once (even by requests at the same moment), turned off with everything forgotten.
func TestStaffTOTP(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	id, err := store.InsertStaffUser(ctx, pool, store.StaffUser{Email: "amira@example.org", Role: "psea", PasswordHash: "h", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	first, second := bytes.Repeat([]byte{1}, 20), bytes.Repeat([]byte{2}, 20)
	if err := store.SetStaffTOTPPending(ctx, pool, id, first); err != nil {
		t.Fatal(err)
	}
	if err := store.SetStaffTOTPPending(ctx, pool, id, second); err != nil { // started again
		t.Fatal(err)
	}
	if u, _ := store.StaffUserByID(ctx, pool, id); !u.TOTPSetup || u.TOTPEnabledAt != nil {
		t.Errorf("setting up: %v, enabled %v", u.TOTPSetup, u.TOTPEnabledAt)
	}
	if ok, err := store.EnableStaffTOTP(ctx, pool, id, first, 100, now); err != nil || ok {
		t.Errorf("enabled with a replaced secret: %v %v", ok, err)
	}
	if ok, err := store.EnableStaffTOTP(ctx, pool, id, second, 100, now); err != nil || !ok {
		t.Fatalf("enable: %v %v", ok, err)
	}
	st, err := store.StaffTOTPOf(ctx, pool, id)
	if err != nil || !bytes.Equal(st.Secret, second) || st.Pending != nil || st.LastStep != 100 {
		t.Errorf("after enabling: %+v %v", st, err)
	}
	if err := store.SetStaffTOTPPending(ctx, pool, id, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a new setup while on: %v, want ErrNotFound", err)
	}
	for step, want := range map[int64]bool{99: false, 100: false} {
		if ok, err := store.UseStaffTOTPStep(ctx, pool, id, step); err != nil || ok != want {
			t.Errorf("step %d: %v %v, want %v", step, ok, err, want)
		}
	}
	var taken atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := store.UseStaffTOTPStep(ctx, pool, id, 101); err != nil {
				t.Error(err)
			} else if ok {
				taken.Add(1)
			}
		}()
	}
	wg.Wait()
	if taken.Load() != 1 {
		t.Errorf("step 101 taken %d times at once, want once", taken.Load())
	}
	if on, err := store.DisableStaffTOTP(ctx, pool, id); err != nil || !on {
		t.Errorf("disable: %v %v", on, err)
	}
	if st, _ := store.StaffTOTPOf(ctx, pool, id); st.Secret != nil || st.Pending != nil || st.LastStep != -1 {
		t.Errorf("after disabling: %+v", st)
	}
	if on, err := store.DisableStaffTOTP(ctx, pool, id); err != nil || on {
		t.Errorf("disable again: %v %v", on, err)
	}
	if ok, _ := store.UseStaffTOTPStep(ctx, pool, id, 200); ok {
		t.Error("a step taken while off")
	}
	if _, err := store.DisableStaffTOTP(ctx, pool, id+99); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("disable for nobody: %v", err)
	}
	// a phone number not in E.164 form is refused by the database itself
	if err := store.SetStaffAlertContact(ctx, pool, id, nil, "0750 123 4567"); err == nil {
		t.Error("a phone number in national form was stored")
	}
}
