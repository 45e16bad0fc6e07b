package console

import (
	"context"
	"testing"
	"time"

	"filippo.io/age"
)

// A key is for its session's user only, forgotten once unused for the idle time or past the
// maximum age, and forgotten then even if no one asks for a key again.
func TestSEAKeyring(t *testing.T) {
	var k seaKeyring
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return t0 }
	k.put([]byte("session-a"), unlockedKey{userID: 1, id: id, since: t0, lastUsed: t0}, clock, time.Hour, 2*time.Hour)
	if _, ok := k.get([]byte("session-a"), 2, t0, time.Hour, 2*time.Hour); ok {
		t.Error("another user got the session's key")
	}
	if _, ok := k.get([]byte("session-b"), 1, t0, time.Hour, 2*time.Hour); ok {
		t.Error("another session got the key")
	}
	for _, at := range []time.Duration{50 * time.Minute, 100 * time.Minute} {
		if _, ok := k.get([]byte("session-a"), 1, t0.Add(at), time.Hour, 2*time.Hour); !ok {
			t.Fatalf("used every 50 minutes, the key was forgotten at %s", at)
		}
	}
	if _, ok := k.get([]byte("session-a"), 1, t0.Add(2*time.Hour), time.Hour, 2*time.Hour); ok {
		t.Error("the key outlived the maximum age")
	}

	// the timer forgets a key no one asks for again
	real := time.Now
	k.put([]byte("session-c"), unlockedKey{userID: 1, id: id, since: real(), lastUsed: real()}, real, 20*time.Millisecond, time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for {
		k.mu.Lock()
		n := len(k.keys)
		k.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys still held after their idle time passed", n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// at most maxUnlocks turns at once
	old := unlockWait
	unlockWait = 20 * time.Millisecond
	defer func() { unlockWait = old }()
	var releases []func()
	for range maxUnlocks {
		release, ok := k.turn(context.Background())
		if !ok {
			t.Fatal("no turn")
		}
		releases = append(releases, release)
	}
	if _, ok := k.turn(context.Background()); ok {
		t.Errorf("a turn beyond the %d", maxUnlocks)
	}
	releases[0]()
	if release, ok := k.turn(context.Background()); !ok {
		t.Error("no turn after one was given back")
	} else {
		release()
	}
}
