package console

import (
	"context"
	"sync"
	"time"

	"filippo.io/age"
)

// The focal points' keys the console holds: a psea user unlocks their identity file (kept
// passphrase-protected in psea_identities) by typing its passphrase, and the key opened is
// kept in this process's memory only, under the hash of the session that unlocked it. It is
// never written anywhere: a restart, signing out (the session's hash is no longer presented),
// the lock button, or the session's idle time or maximum age passing without use of the SEA
// pages, and it is gone. Another session of the same user has nothing unlocked.

// maxUnlocks is how many identity files the console opens at once: each opening is scrypt at
// age's work factor, about a second and 256 MiB.
const maxUnlocks = 2

// unlockWait is how long an unlock waits for its turn before the console answers that it is
// busy (503).
var unlockWait = 10 * time.Second

// consoleWorkFactor is the most scrypt work an identity file may ask of the console: age's
// default, what sawt psea keygen writes. More would let one file take gigabytes to open.
const consoleWorkFactor = 18

// MaxUnlockFailures: after this many wrong passphrases of one user within ThrottleWindow,
// the console refuses to open their identity (429) until the oldest is ThrottleWindow old.
// A passphrase guessed through the console is tried against the file's scrypt; this bounds
// how many guesses a borrowed session gets.
const MaxUnlockFailures = 5

// seaKeyring is the keys unlocked, by session hash. The zero value is ready to use.
type seaKeyring struct {
	mu   sync.Mutex
	keys map[string]*unlockedKey
	sem  chan struct{}
}

// unlockedKey is a focal point's key opened for one session of one user.
type unlockedKey struct {
	userID    int64
	recipient string // the focal point's name
	id        *age.X25519Identity
	since     time.Time
	lastUsed  time.Time
}

// put keeps the key for the session until it has not been used for idle, or is maxAge old,
// as now tells: get forgets it then, and so does a timer, so that a key whose session ended
// (signed out, or left) does not stay in memory while no one uses the SEA pages.
func (k *seaKeyring) put(sessionHash []byte, key unlockedKey, now func() time.Time, idle, maxAge time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]*unlockedKey{}
	}
	h, u := string(sessionHash), &key
	k.keys[h] = u
	var check func()
	check = func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.keys[h] != u { // dropped, or replaced by a later unlock with a timer of its own
			return
		}
		t := now()
		if t.Sub(u.lastUsed) >= idle || t.Sub(u.since) >= maxAge {
			delete(k.keys, h)
			return
		}
		end := u.lastUsed.Add(idle)
		if e := u.since.Add(maxAge); e.Before(end) {
			end = e
		}
		time.AfterFunc(max(end.Sub(t), time.Second), check)
	}
	time.AfterFunc(idle, check)
}

// get returns the session's key when the same user unlocked it and it has been used within
// idle and is younger than maxAge, and notes its use; it forgets every key that is not.
func (k *seaKeyring) get(sessionHash []byte, userID int64, now time.Time, idle, maxAge time.Duration) (unlockedKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for h, u := range k.keys {
		if now.Sub(u.lastUsed) >= idle || now.Sub(u.since) >= maxAge {
			delete(k.keys, h)
		}
	}
	u, ok := k.keys[string(sessionHash)]
	if !ok || u.userID != userID {
		return unlockedKey{}, false
	}
	u.lastUsed = now
	return *u, true
}

// drop forgets the session's key.
func (k *seaKeyring) drop(sessionHash []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, string(sessionHash))
}

// turn waits for one of the maxUnlocks turns to open an identity file, at most unlockWait;
// false when none came (or ctx ended). release gives the turn back.
func (k *seaKeyring) turn(ctx context.Context) (release func(), ok bool) {
	k.mu.Lock()
	if k.sem == nil {
		k.sem = make(chan struct{}, maxUnlocks)
	}
	sem := k.sem
	k.mu.Unlock()
	t := time.NewTimer(unlockWait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}
