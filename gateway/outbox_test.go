package gateway_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/store/pgtest"
)

// TestRepliesAreSentByTheOutbox runs real River workers: an SMS is received, its reply is
// queued in the same transaction and sent through the channel's sender.
func TestRepliesAreSentByTheOutbox(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	sender := channeltest.NewSender()
	workers := river.NewWorkers()
	river.AddWorker(workers, &gateway.SendWorker{Pool: pool, Senders: map[channels.Kind]channels.Sender{channels.SMS: sender}})
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Workers: workers, Queues: map[string]river.QueueConfig{gateway.OutboxQueue: {MaxWorkers: 2}},
		FetchPollInterval: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Stop(context.Background()) }()

	res := send(t, g, "tel:+9647701234567", "hello")
	select {
	case got := <-sender.Delivered():
		if got.URN != "tel:+9647701234567" || got.Text != res[0].Replies[0].Text || got.ID != res[0].Replies[0].ID {
			t.Errorf("sent %+v, want the reply %+v", got, res[0].Replies[0])
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the reply was not sent within 15s")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var status, provider string
		err := pool.QueryRow(ctx, `SELECT status, coalesce(provider_id, '') FROM messages WHERE direction = 'out'`).Scan(&status, &provider)
		if err != nil {
			t.Fatal(err)
		}
		if status == "sent" && provider == "fake-1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reply status %q provider %q, want sent and fake-1", status, provider)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queued receives one SMS and returns the ID of its queued reply.
func queued(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	g := newGateway(t, pool)
	res := send(t, g, "tel:+9647701234567", "hello")
	return res[0].Replies[0].ID
}

func work(t *testing.T, w *gateway.SendWorker, id int64, attempt int) error {
	t.Helper()
	return w.Work(context.Background(), &river.Job[gateway.SendArgs]{
		JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 25},
		Args:   gateway.SendArgs{MessageIDs: []int64{id}},
	})
}

func messageState(t *testing.T, pool *pgxpool.Pool, id int64) (status string, attempts int, errText string) {
	t.Helper()
	err := pool.QueryRow(context.Background(), `SELECT status, attempts, coalesce(error, '') FROM messages WHERE id = $1`, id).
		Scan(&status, &attempts, &errText)
	if err != nil {
		t.Fatal(err)
	}
	return
}

func TestSendFailures(t *testing.T) {
	timeout := errors.New("dial tcp: i/o timeout")
	cases := []struct {
		name        string
		fail        error
		attempt     int
		wantErr     bool // the job must be retried
		wantSnooze  bool
		wantStatus  string
		wantOptOut  bool
		wantAttempt int
	}{
		{"retryable error is retried", channels.Retryable(timeout), 1, true, false, "queued", false, 1},
		{"unexplained error is retried", timeout, 1, true, false, "queued", false, 1},
		{"retryable on the last attempt fails", channels.Retryable(timeout), 25, false, false, "failed", false, 1},
		{"throttled snoozes", &channels.SendError{Retryable: true, RetryAfter: 3 * time.Second, Err: timeout}, 1, true, true, "queued", false, 1},
		{"opted out marks the address", &channels.SendError{OptedOut: true, Code: "21610", Err: errors.New("unsubscribed")}, 1, false, false, "failed", true, 1},
		{"permanent error fails", channels.Permanent("21211", errors.New("invalid number")), 1, false, false, "failed", false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pool := pgtest.New(t)
			id := queued(t, pool)
			sender := channeltest.NewSender()
			sender.FailNext(c.fail)
			w := &gateway.SendWorker{Pool: pool, Senders: map[channels.Kind]channels.Sender{channels.SMS: sender}}
			err := work(t, w, id, c.attempt)
			if (err != nil) != c.wantErr {
				t.Fatalf("Work error = %v, want error: %v", err, c.wantErr)
			}
			var snooze *river.JobSnoozeError
			if errors.As(err, &snooze) != c.wantSnooze {
				t.Errorf("snoozed = %v, want %v (err %v)", !c.wantSnooze, c.wantSnooze, err)
			}
			status, attempts, errText := messageState(t, pool, id)
			if status != c.wantStatus || attempts != c.wantAttempt || errText == "" {
				t.Errorf("message: status %q attempts %d error %q; want %q, %d and an error", status, attempts, errText, c.wantStatus, c.wantAttempt)
			}
			optedOut := count(t, pool, `SELECT count(*) FROM urns WHERE opted_out_at IS NOT NULL`) == 1
			if optedOut != c.wantOptOut {
				t.Errorf("URN opted out = %v, want %v", optedOut, c.wantOptOut)
			}
			if len(sender.Sent()) != 0 {
				t.Errorf("a failed send was recorded as sent")
			}
		})
	}
}

func TestRetriedJobDoesNotResend(t *testing.T) {
	pool := pgtest.New(t)
	id := queued(t, pool)
	sender := channeltest.NewSender()
	w := &gateway.SendWorker{Pool: pool, Senders: map[channels.Kind]channels.Sender{channels.SMS: sender}}
	if err := work(t, w, id, 1); err != nil {
		t.Fatal(err)
	}
	if err := work(t, w, id, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(sender.Sent()); n != 1 {
		t.Errorf("sent %d times, want once", n)
	}
}

func TestChannelWithoutSenderWaits(t *testing.T) {
	pool := pgtest.New(t)
	id := queued(t, pool)
	w := &gateway.SendWorker{Pool: pool, Senders: map[channels.Kind]channels.Sender{}}
	err := work(t, w, id, 1)
	var snooze *river.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("Work = %v, want a snooze while the channel is off", err)
	}
	if status, _, _ := messageState(t, pool, id); status != "queued" {
		t.Errorf("status %q, want queued", status)
	}
}

// TestRepliesToOnePersonGoInOrder: the job of a later turn waits while an earlier turn's reply
// to the same person is still queued, whichever job a worker picks first.
func TestRepliesToOnePersonGoInOrder(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	res := send(t, g, "tel:+9647701234567", "hello", "4")
	first, second := res[0].Replies[0].ID, res[1].Replies[0].ID
	other := send(t, g, "tel:+9647709999999", "hello")[0].Replies[0].ID
	sender := channeltest.NewSender()
	w := &gateway.SendWorker{Pool: pool, Senders: map[channels.Kind]channels.Sender{channels.SMS: sender}}

	err := work(t, w, second, 1)
	var snooze *river.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("the later reply's job = %v, want a snooze while the earlier one waits", err)
	}
	if err := work(t, w, other, 1); err != nil {
		t.Fatalf("another person's reply is held back: %v", err)
	}
	if err := work(t, w, first, 1); err != nil {
		t.Fatal(err)
	}
	if err := work(t, w, second, 2); err != nil {
		t.Fatal(err)
	}
	var order []int64
	for _, m := range sender.Sent() {
		order = append(order, m.ID)
	}
	if len(order) != 3 || order[0] != other || order[1] != first || order[2] != second {
		t.Errorf("sent in order %v, want %v", order, []int64{other, first, second})
	}
}

func TestLongProviderErrorsAreCut(t *testing.T) {
	pool := pgtest.New(t)
	id := queued(t, pool)
	sender := channeltest.NewSender()
	page := "<html>" + strings.Repeat("<p>Bad gateway</p>", 500) + "</html>"
	sender.FailNext(channels.Retryable(errors.New(page)))
	w := &gateway.SendWorker{Pool: pool, Senders: map[channels.Kind]channels.Sender{channels.SMS: sender}}
	if err := work(t, w, id, 1); err == nil {
		t.Fatal("want a retry")
	}
	_, _, errText := messageState(t, pool, id)
	if len(errText) > 600 || !strings.Contains(errText, "Bad gateway") {
		t.Errorf("stored error is %d bytes: %.80q…", len(errText), errText)
	}
}
