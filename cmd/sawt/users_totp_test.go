package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

// An administrator turns off two-step sign-in for someone who lost their phone: the secret is
// forgotten, their sessions waiting for a code end, and it is audited; for someone without it,
// nothing changes and nothing is audited.
func TestUsersTOTPReset(t *testing.T) {
	vars, pool := tokensDatabase(t)
	ctx := context.Background()
	addUser(t, vars, "amira@example.org", "psea")
	u, err := store.StaffUserByEmail(ctx, pool, "amira@example.org")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	secret := make([]byte, console.TOTPSecretBytes)
	if err := store.SetStaffTOTPPending(ctx, pool, u.ID, secret); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.EnableStaffTOTP(ctx, pool, u.ID, secret, 1, now); !ok || err != nil {
		t.Fatalf("enable: %v %v", ok, err)
	}
	waiting, full := console.HashToken("waiting for a code"), console.HashToken("signed in")
	for _, s := range []store.StaffSession{
		{TokenHash: waiting, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute), PendingSecondFactor: true},
		{TokenHash: full, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := store.CreateStaffSession(ctx, pool, s); err != nil {
			t.Fatal(err)
		}
	}

	r := runSawt(t, vars, "", "users", "totp-reset", "Amira@Example.org", "--as", "chief")
	if r.code != exitOK || !strings.Contains(r.stdout, "Two-step sign-in is off for amira@example.org") {
		t.Fatalf("totp-reset: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got, _ := store.StaffUserByID(ctx, pool, u.ID); got.TOTPEnabledAt != nil {
		t.Error("still on")
	}
	if st, _ := store.StaffTOTPOf(ctx, pool, u.ID); st.Secret != nil || st.LastStep != -1 {
		t.Errorf("the secret is kept: %+v", st)
	}
	if _, _, err := store.StaffSessionOf(ctx, pool, waiting, now, time.Hour); err == nil {
		t.Error("a session waiting for a code survived the reset")
	}
	if _, err := store.StaffSessionUser(ctx, pool, full, now, time.Hour); err != nil {
		t.Errorf("the signed-in session ended: %v", err)
	}
	entries, _ := store.AuditEntries(ctx, pool, 0)
	if last := entries[len(entries)-1]; last.Actor != "chief" || last.Action != "user.totp_reset" || last.Subject != "amira@example.org" {
		t.Errorf("audit log ends with %+v, want chief user.totp_reset amira@example.org", last)
	}

	// again: it is off, so nothing to reset, and nothing audited
	r = runSawt(t, vars, "", "users", "totp-reset", "amira@example.org")
	if r.code != exitFailure || !strings.Contains(r.stderr, "amira@example.org does not have two-step sign-in on") {
		t.Errorf("reset when off: exit %d, stderr %q", r.code, r.stderr)
	}
	if after, _ := store.AuditEntries(ctx, pool, 0); len(after) != len(entries) {
		t.Error("a reset that changed nothing was audited")
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"users", "totp-reset", "-h"}, exitOK, "Usage: sawt users totp-reset EMAIL [--as ACTOR]"},
		{[]string{"users", "-h"}, exitOK, "totp-reset turn a user's two-step sign-in off"},
		{[]string{"users", "totp-reset"}, exitUsage, "sawt users: usage: missing EMAIL"},
		{[]string{"users", "totp-reset", "nobody@example.org"}, exitFailure, "no user with the email nobody@example.org"},
	} {
		if r := runSawt(t, vars, "", tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
	}
}
