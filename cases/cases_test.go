package cases_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var now = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func contact(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `INSERT INTO contacts DEFAULT VALUES RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func open(t *testing.T, pool *pgxpool.Pool, category string, draw func() cases.Reference) cases.Case {
	t.Helper()
	var c cases.Case
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		c, err = cases.Open(context.Background(), tx, cases.New{ContactID: contact(t, pool), Category: category, Channel: "sms"}, draw, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func seeded() func() cases.Reference {
	r := rand.New(rand.NewPCG(7, 7))
	return func() cases.Reference { return cases.NewReference(r) }
}

// TestCategorySettingsComeFromTheDatabase: an administrator's change to a category applies to
// the next case.
func TestCategorySettingsComeFromTheDatabase(t *testing.T) {
	pool := pgtest.New(t)
	c := open(t, pool, cases.CategoryFeedback, seeded())
	row, err := store.CaseByReference(context.Background(), pool, string(c.Reference))
	if err != nil {
		t.Fatal(err)
	}
	if row.Priority != "low" || row.ResolveDueAt.Sub(now) != 720*time.Hour || c.AckDays != 3 {
		t.Errorf("seeded feedback: priority %s, resolve in %s, ack days %d", row.Priority, row.ResolveDueAt.Sub(now), c.AckDays)
	}
	if _, err := pool.Exec(context.Background(), `UPDATE categories SET priority = 'high', ack_hours = 2, refer_hours = 24, resolve_hours = 48 WHERE code = 'feedback'`); err != nil {
		t.Fatal(err)
	}
	c = open(t, pool, cases.CategoryFeedback, seeded())
	row, err = store.CaseByReference(context.Background(), pool, string(c.Reference))
	if err != nil {
		t.Fatal(err)
	}
	if row.Priority != "high" || row.AckDueAt.Sub(now) != 2*time.Hour || row.ResolveDueAt.Sub(now) != 48*time.Hour || c.AckDays != 1 {
		t.Errorf("edited feedback: priority %s, ack in %s, resolve in %s, ack days %d", row.Priority, row.AckDueAt.Sub(now), row.ResolveDueAt.Sub(now), c.AckDays)
	}
}

func TestCategoryDeadlinesOutOfOrderAreRefused(t *testing.T) {
	pool := pgtest.New(t)
	_, err := pool.Exec(context.Background(), `UPDATE categories SET resolve_hours = 1 WHERE code = 'feedback'`)
	if err == nil {
		t.Fatal("the database took a resolve deadline before the acknowledge deadline")
	}
}

func TestUnknownCategoryIsRefused(t *testing.T) {
	pool := pgtest.New(t)
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		_, err := cases.Open(context.Background(), tx, cases.New{ContactID: contact(t, pool), Category: "gossip"}, seeded(), now)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want not found", err)
	}
}

// TestTakenReferenceIsDrawnAgain: a clash with an existing reference draws another rather than
// failing the person's turn.
func TestTakenReferenceIsDrawnAgain(t *testing.T) {
	pool := pgtest.New(t)
	first := open(t, pool, cases.CategoryOther, seeded())
	again := seeded() // the same sequence: its first draw is taken
	second := open(t, pool, cases.CategoryOther, again)
	if second.Reference == first.Reference || !second.Reference.Valid() {
		t.Errorf("second case got %q after %q", second.Reference, first.Reference)
	}
}

func TestLifecycleWritesEvents(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	c := open(t, pool, cases.CategoryAssistanceRequest, seeded())
	change := func(to cases.Status) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return cases.ChangeStatus(ctx, tx, c.ID, to, "caseworker@example.org", "note", now.Add(time.Hour))
		})
	}
	if err := change(cases.StatusClosed); !errors.Is(err, cases.ErrTransition) {
		t.Fatalf("new → closed: err = %v, want ErrTransition", err)
	}
	for _, to := range []cases.Status{cases.StatusAcknowledged, cases.StatusInProgress} {
		if err := change(to); err != nil {
			t.Fatalf("→ %s: %v", to, err)
		}
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := cases.Resolve(ctx, tx, c.ID, "A kit was delivered.", "caseworker@example.org", now.Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatalf("→ resolved: %v", err)
	}
	if err := change(cases.StatusClosed); err != nil {
		t.Fatalf("→ closed: %v", err)
	}
	if err := change(cases.StatusInProgress); !errors.Is(err, cases.ErrTransition) {
		t.Fatalf("closed → in_progress: err = %v, want ErrTransition", err)
	}
	events, err := store.CaseEvents(ctx, pool, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"created:→new", "status:new→acknowledged", "status:acknowledged→in_progress", "resolved:in_progress→resolved", "status:resolved→closed"}
	if len(events) != len(want) {
		t.Fatalf("events = %+v, want %v", events, want)
	}
	for i, e := range events {
		if got := e.Kind + ":" + e.FromStatus + "→" + e.ToStatus; got != want[i] {
			t.Errorf("event %d = %s, want %s", i, got, want[i])
		}
	}
	row, err := store.CaseByReference(ctx, pool, string(c.Reference))
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != "closed" || row.AcknowledgedAt == nil || row.ResolvedAt == nil || row.ClosedAt == nil {
		t.Errorf("case after closing: %+v", row)
	}
	if st, err := cases.StatusOf(ctx, pool, c.Reference); err != nil || st != cases.StatusClosed {
		t.Errorf("StatusOf = %s, %v", st, err)
	}
}
