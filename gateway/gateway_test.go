package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/gateway/gatewaytest"
	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newGateway assembles a gateway on a fresh database with the shipped flows and texts, its
// clock moving on a millisecond at each reading.
func newGateway(t testing.TB, pool *pgxpool.Pool) *gateway.Gateway {
	t.Helper()
	var tick atomic.Int64
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	return newGatewayAt(t, pool, func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Millisecond) })
}

// newGatewayAt is newGateway with the given clock.
func newGatewayAt(t testing.TB, pool *pgxpool.Pool, now func() time.Time) *gateway.Gateway {
	t.Helper()
	return gatewaytest.New(t, gateway.Config{Pool: pool, Now: now, Rand: rand.New(rand.NewPCG(1, 2))})
}

func inbound(urn, id, text string) channels.Inbound {
	return channels.Inbound{Channel: channels.SMS, ExternalID: id, URN: channels.URN(urn), Text: text}
}

// send plays messages one after the other and fails the test on any error.
func send(t *testing.T, g *gateway.Gateway, urn string, texts ...string) []channels.Result {
	t.Helper()
	var out []channels.Result
	for _, text := range texts {
		res, err := g.Receive(context.Background(), inbound(urn, fmt.Sprintf("%s-%d", urn, rand.Int64()), text))
		if err != nil {
			t.Fatalf("receive %q: %v", text, err)
		}
		out = append(out, res)
	}
	return out
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// complaintUntilLastStep brings a new English-speaking contact to the last question of a complaint.
var complaintUntilLastStep = []string{"hi", "4", "1", "1", "The tap is broken", "1", "Jeddah 5", "1"}

func TestSameExternalIDTwiceIsOneMessageAndOneCase(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	urn := "tel:+9647701234567"
	send(t, g, urn, complaintUntilLastStep...)

	last := inbound(urn, "SM-last", "1")
	first, err := g.Receive(context.Background(), last)
	if err != nil {
		t.Fatal(err)
	}
	again, err := g.Receive(context.Background(), last)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !again.Duplicate {
		t.Fatalf("duplicate flags: first %v, again %v; want false, true", first.Duplicate, again.Duplicate)
	}
	if n := count(t, pool, `SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("cases = %d, want 1", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM messages m JOIN inbox i ON i.id = m.inbox_id WHERE i.external_id = 'SM-last'`); n != 1 {
		t.Errorf("inbound messages for SM-last = %d, want 1", n)
	}
	if len(again.Replies) != len(first.Replies) || len(first.Replies) == 0 || again.Replies[0].Text != first.Replies[0].Text {
		t.Errorf("a repeated message should return the first replies:\nfirst %+v\nagain %+v", first.Replies, again.Replies)
	}
	if !strings.Contains(first.Replies[0].Text, "Your complaint number is") {
		t.Errorf("last reply = %q, want the reference", first.Replies[0].Text)
	}
	if n := count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`); n != len(complaintUntilLastStep)+1 {
		t.Errorf("send jobs = %d, want one per handled message (%d)", n, len(complaintUntilLastStep)+1)
	}
}

// TestConcurrentMessagesOfOneContact sends twenty "1"s at once from one person resting at the
// main menu. Handled one after the other, "1" walks the complaint flow: menu → category →
// description "1" → Ninewa → site "1" → yes → yes (case) → menu …, so twenty give exactly two
// cases and leave the person at the sixth step of a third complaint. A lost session update or
// two interleaved turns would give another count or another step.
func TestConcurrentMessagesOfOneContact(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	urn := "tel:+9647709990000"
	send(t, g, urn, "hi", "4") // English, resting at the main menu

	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := g.Receive(context.Background(), inbound(urn, fmt.Sprintf("burst-%d", i), "1"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, pool, `SELECT count(*) FROM cases`); got != 2 {
		t.Errorf("cases = %d, want 2", got)
	}
	var flow, step string
	if err := pool.QueryRow(context.Background(), `SELECT state->>'flow', state->>'step' FROM sessions`).Scan(&flow, &step); err != nil {
		t.Fatal(err)
	}
	if flow != "complaint" || step != "consent_share" {
		t.Errorf("session at %s/%s, want complaint/consent_share", flow, step)
	}
	// Handled one after the other: each turn's inbound message and its replies are logged
	// before the next turn's inbound message.
	rows, err := pool.Query(context.Background(), `SELECT direction FROM messages ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	seq := strings.Join(dirs, " ")
	if want := strings.TrimSpace(strings.Repeat("in out ", n+2)); seq != want {
		t.Errorf("message log interleaves turns:\n got %s\nwant %s", seq, want)
	}
}

// TestDatabaseFailureWritesNothing breaks the last write of a turn: the message must not be
// half-stored, and once the database is mended the same message is handled as new.
func TestDatabaseFailureWritesNothing(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
		t.Fatal(err)
	}
	_, err := g.Receive(ctx, inbound("tel:+9647701234567", "SM-1", "hello"))
	if err == nil {
		t.Fatal("Receive succeeded without a sessions table")
	}
	if errors.Is(err, gateway.ErrBadInbound) {
		t.Fatalf("a database failure must not look like bad input: %v", err)
	}
	for _, table := range []string{"inbox", "contacts", "urns", "messages", "river_job"} {
		if n := count(t, pool, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s has %d rows after a failed receive, want 0", table, n)
		}
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE sessions_away RENAME TO sessions`); err != nil {
		t.Fatal(err)
	}
	res, err := g.Receive(ctx, inbound("tel:+9647701234567", "SM-1", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || len(res.Replies) == 0 {
		t.Errorf("after the database is mended the message is new and answered: %+v", res)
	}
}

func TestDatabaseUnreachable(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := g.Receive(ctx, inbound("tel:+9647701234567", "SM-1", "hello"))
	if err == nil || errors.Is(err, gateway.ErrBadInbound) {
		t.Fatalf("Receive on a closed pool = %v, want a storage error", err)
	}
}

func TestBadInboundIsRefused(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	for name, in := range map[string]channels.Inbound{
		"unknown channel":  {Channel: "fax", ExternalID: "1", URN: "tel:+9647701234567"},
		"no external id":   {Channel: channels.SMS, URN: "tel:+9647701234567"},
		"invalid phone":    {Channel: channels.SMS, ExternalID: "1", URN: "tel:12"},
		"unknown scheme":   {Channel: channels.SMS, ExternalID: "1", URN: "mailto:a@b"},
		"group chat id":    {Channel: channels.Telegram, ExternalID: "1", URN: "telegram:-100200"},
		"huge external id": {Channel: channels.SMS, ExternalID: strings.Repeat("x", 300), URN: "tel:+9647701234567"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := g.Receive(context.Background(), in); !errors.Is(err, gateway.ErrBadInbound) {
				t.Errorf("err = %v, want ErrBadInbound", err)
			}
		})
	}
	if n := count(t, pool, `SELECT count(*) FROM inbox`); n != 0 {
		t.Errorf("inbox has %d rows after refused messages", n)
	}
}

// TestUnstorableTextIsCleaned: NUL bytes and broken UTF-8 (a provider bug, a fuzzer) are stored
// cleaned rather than failing forever.
func TestUnstorableTextIsCleaned(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	res, err := g.Receive(context.Background(), inbound("tel:+9647701234567", "SM-x", "hel\x00lo \xff\xfe"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Replies) == 0 {
		t.Fatal("no reply")
	}
	var text string
	if err := pool.QueryRow(context.Background(), `SELECT text FROM messages WHERE direction = 'in'`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if text != "hello \uFFFD" {
		t.Errorf("stored %q, want %q", text, "hello \uFFFD")
	}
}

func TestLocalIraqiNumberIsNormalised(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	send(t, g, "tel:07701234567", "hi")
	send(t, g, "tel:00964 770 123 4567", "4")
	if n := count(t, pool, `SELECT count(*) FROM urns WHERE urn = 'tel:+9647701234567'`); n != 1 {
		t.Errorf("urns in E.164 = %d, want 1", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM contacts`); n != 1 {
		t.Errorf("contacts = %d, want 1 (both forms are one phone)", n)
	}
}
