package console

import (
	"context"
	"testing"
	"time"
)

// HoldUnlockTurns takes every turn to open an identity file on w, and makes an unlock wait at
// most d for one, until the test ends. Tests that call it must not run in parallel.
func HoldUnlockTurns(t testing.TB, w *Web, d time.Duration) {
	var releases []func()
	for range maxUnlocks {
		release, ok := w.sea.turn(context.Background())
		if !ok {
			t.Fatal("no turn to hold")
		}
		releases = append(releases, release)
	}
	old := unlockWait
	unlockWait = d
	t.Cleanup(func() {
		unlockWait = old
		for _, release := range releases {
			release()
		}
	})
}
