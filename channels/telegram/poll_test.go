package telegram_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// runPolling runs a whole Sawt (listeners, outbox workers, the poller) until stop is called.
func runPolling(t *testing.T, api *channeltest.TelegramAPI, dbURL string) (a *app.App, stop func()) {
	t.Helper()
	a, err := app.New(context.Background(), app.Config{
		DataDir: t.TempDir(), DatabaseURL: dbURL, TelegramToken: api.Token, TelegramAPIURL: api.URL, TelegramChatRate: 1000,
		HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, app.Options{Workers: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, l) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	}
	t.Cleanup(stop)
	return a, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPollingAcrossRestarts(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, channeltest.DefaultTelegramToken)
	dbURL := pgtest.NewURL(t)
	pool, err := store.Open(context.Background(), dbURL, store.PoolConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	a, stop := runPolling(t, api, dbURL)
	e := &env{app: a, api: api, pool: pool}

	api.QueueUpdates(channeltest.TelegramStartUpdate(amira, ""), channeltest.TelegramTextUpdate(amira, "4"))
	waitFor(t, "two updates stored", func() bool { return e.count(t, `SELECT count(*) FROM inbox`) == 2 })
	waitFor(t, "two replies sent", func() bool { return len(api.Calls("sendMessage")) == 2 })
	if calls := api.Calls("deleteWebhook"); len(calls) == 0 {
		t.Error("polling started without deleting the webhook")
	}
	stop()
	offset := e.count(t, `SELECT value::int FROM channel_state WHERE key = 'telegram:offset'`)

	// While Sawt is down two more updates arrive; after the restart they are handled, and
	// the first two are not handled again.
	api.QueueUpdates(channeltest.TelegramTextUpdate(amira, "1"), channeltest.TelegramTextUpdate(amira, "2"))
	runPolling(t, api, dbURL)
	waitFor(t, "four updates stored", func() bool { return e.count(t, `SELECT count(*) FROM inbox`) == 4 })
	waitFor(t, "four replies sent", func() bool { return len(api.Calls("sendMessage")) == 4 })
	time.Sleep(300 * time.Millisecond) // room for a wrongly repeated update to show
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != 4 {
		t.Errorf("inbound messages %d, want 4: an update was lost or handled twice", n)
	}
	waitFor(t, "the offset to move past all four", func() bool {
		return e.count(t, `SELECT value::int FROM channel_state WHERE key = 'telegram:offset'`) == offset+2
	})
	if api.PendingUpdates() != 0 {
		t.Errorf("%d updates not confirmed to Telegram", api.PendingUpdates())
	}
}

// TestPollingWaitsForTheDatabase: an update that could not be stored is not confirmed; it is
// fetched again and handled once the database is back.
func TestPollingWaitsForTheDatabase(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, channeltest.DefaultTelegramToken)
	a, _ := runPolling(t, api, pgtest.NewURL(t))
	e := &env{app: a, api: api, pool: a.Pool}
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
		t.Fatal(err)
	}
	api.QueueUpdates(channeltest.TelegramTextUpdate(amira, "hello"))
	waitFor(t, "getUpdates to be called twice", func() bool { return len(api.Calls("getUpdates")) >= 2 })
	if n := e.count(t, `SELECT count(*) FROM inbox`); n != 0 {
		t.Fatalf("an update was half stored")
	}
	if api.PendingUpdates() != 1 {
		t.Fatalf("the update was confirmed to Telegram before it was stored")
	}
	if _, err := a.Pool.Exec(ctx, `ALTER TABLE sessions_away RENAME TO sessions`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the update stored once the database is back", func() bool { return e.count(t, `SELECT count(*) FROM inbox`) == 1 })
	waitFor(t, "the update confirmed", func() bool { return api.PendingUpdates() == 0 })
}
