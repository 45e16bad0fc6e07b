package cases_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

const worker = "amal@example.org"

// openWith opens a case as the conversation would, with the consents given.
func openWith(t *testing.T, pool *pgxpool.Pool, category string, contactOK, shareOK bool) store.CaseRow {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		c, err := cases.Open(ctx, tx, cases.New{ContactID: contact(t, pool), Category: category, Channel: "sms",
			ConsentContact: contactOK, ConsentShare: shareOK}, seeded(), now)
		id = c.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return row(t, pool, id)
}

func row(t *testing.T, pool *pgxpool.Pool, id int64) store.CaseRow {
	t.Helper()
	c, err := store.CaseByID(context.Background(), pool, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// do runs one operation in its own transaction, as a console request would.
func do(t *testing.T, pool *pgxpool.Pool, op func(ctx context.Context, tx pgx.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return op(ctx, tx) })
}

func status(t *testing.T, pool *pgxpool.Pool, id int64, to ...cases.Status) {
	t.Helper()
	for _, s := range to {
		if err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			return cases.ChangeStatus(ctx, tx, id, s, worker, "", now)
		}); err != nil {
			t.Fatalf("→ %s: %v", s, err)
		}
	}
}

// events lists a case's events after "created" as kind:from→to values, with the note.
func events(t *testing.T, pool *pgxpool.Pool, id int64) []string {
	t.Helper()
	evs, err := store.CaseEvents(context.Background(), pool, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs[1:] {
		s := e.Kind + ":" + e.FromValue + "→" + e.ToValue
		if e.FromStatus != "" || e.ToStatus != "" {
			s += " [" + e.FromStatus + "→" + e.ToStatus + "]"
		}
		if e.Note != "" {
			s += " " + e.Note
		}
		if e.Actor != worker && e.Actor != cases.PersonActor {
			s += " by " + e.Actor
		}
		out = append(out, s)
	}
	return out
}

func wantEvents(t *testing.T, pool *pgxpool.Pool, id int64, want ...string) {
	t.Helper()
	got := events(t, pool, id)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func partner(t *testing.T, pool *pgxpool.Pool, name string) int64 {
	t.Helper()
	id, err := store.InsertPartner(context.Background(), pool, store.Partner{Name: name, Sector: "wash", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAssign(t *testing.T) {
	pool := pgtest.New(t)
	c := openWith(t, pool, cases.CategoryOther, true, true)
	assign := func(to, actor string) error {
		return do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			return cases.Assign(ctx, tx, c.ID, to, actor, now)
		})
	}
	for _, to := range []string{worker, worker, " sara@example.org ", ""} {
		if err := assign(to, worker); err != nil {
			t.Fatalf("assign %q: %v", to, err)
		}
	}
	wantEvents(t, pool, c.ID, "assigned:→"+worker, "assigned:"+worker+"→sara@example.org", "assigned:sara@example.org→")
	if err := assign(worker, " "); !errors.Is(err, cases.ErrActor) {
		t.Errorf("without an actor: err = %v, want ErrActor", err)
	}
	if err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
		return cases.Assign(ctx, tx, c.ID+100, worker, worker, now)
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown case: err = %v, want ErrNotFound", err)
	}
	closeCase(t, pool, c.ID)
	if err := assign(worker, worker); !errors.Is(err, cases.ErrClosed) {
		t.Errorf("closed case: err = %v, want ErrClosed", err)
	}
}

// closeCase takes a case through its lifecycle to closed.
func closeCase(t *testing.T, pool *pgxpool.Pool, id int64) {
	t.Helper()
	status(t, pool, id, cases.StatusAcknowledged, cases.StatusInProgress)
	resolve(t, pool, id, "Done.")
	status(t, pool, id, cases.StatusClosed)
}

func resolve(t *testing.T, pool *pgxpool.Pool, id int64, note string) {
	t.Helper()
	if err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := cases.Resolve(ctx, tx, id, note, worker, now)
		return err
	}); err != nil {
		t.Fatalf("resolve: %v", err)
	}
}

// TestChangeCategoryRecomputesPriority: the priority follows the category until a caseworker
// sets it by hand; the deadlines stay.
func TestChangeCategoryRecomputesPriority(t *testing.T) {
	pool := pgtest.New(t)
	c := openWith(t, pool, cases.CategoryOther, true, true)
	category := func(code string) error {
		return do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			return cases.ChangeCategory(ctx, tx, c.ID, code, worker, now.Add(time.Hour))
		})
	}
	priority := func(p cases.Priority) error {
		return do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			return cases.ChangePriority(ctx, tx, c.ID, p, worker, now.Add(time.Hour))
		})
	}
	if err := category(cases.CategorySafetySecurity); err != nil {
		t.Fatal(err)
	}
	got := row(t, pool, c.ID)
	if got.Category != cases.CategorySafetySecurity || got.Priority != "critical" || got.PriorityManual {
		t.Errorf("after safety_security: category %s priority %s manual %t", got.Category, got.Priority, got.PriorityManual)
	}
	if !got.AckDueAt.Equal(c.AckDueAt) || !got.ResolveDueAt.Equal(c.ResolveDueAt) {
		t.Errorf("deadlines moved: ack %s → %s, resolve %s → %s", c.AckDueAt, got.AckDueAt, c.ResolveDueAt, got.ResolveDueAt)
	}
	if err := category(cases.CategorySafetySecurity); err != nil { // the same: nothing happens
		t.Fatal(err)
	}
	if err := priority(cases.PriorityLow); err != nil {
		t.Fatal(err)
	}
	if err := priority(cases.PriorityLow); err != nil {
		t.Fatal(err)
	}
	if err := category(cases.CategoryMajorDissatisfaction); err != nil {
		t.Fatal(err)
	}
	if got := row(t, pool, c.ID); got.Priority != "low" || !got.PriorityManual || got.Category != cases.CategoryMajorDissatisfaction {
		t.Errorf("a priority set by hand moved with the category: %s, manual %t, %s", got.Priority, got.PriorityManual, got.Category)
	}
	wantEvents(t, pool, c.ID,
		"category_changed:other→safety_security",
		"priority_changed:normal→critical from the category safety_security",
		"priority_changed:critical→low",
		"category_changed:safety_security→major_dissatisfaction")

	if err := category("gossip"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), `unknown category "gossip"`) {
		t.Errorf("unknown category: err = %v, want not found naming it", err)
	}
	if err := priority("urgent"); !errors.Is(err, cases.ErrPriority) {
		t.Errorf("unknown priority: err = %v, want ErrPriority", err)
	}
	closeCase(t, pool, c.ID)
	if err := category(cases.CategoryOther); !errors.Is(err, cases.ErrClosed) {
		t.Errorf("closed case, category: err = %v, want ErrClosed", err)
	}
	if err := priority(cases.PriorityHigh); !errors.Is(err, cases.ErrClosed) {
		t.Errorf("closed case, priority: err = %v, want ErrClosed", err)
	}
}

func TestReferWithoutConsentIsRefused(t *testing.T) {
	pool := pgtest.New(t)
	c := openWith(t, pool, cases.CategoryAssistanceRequest, true, false)
	p := partner(t, pool, "Water Agency")
	status(t, pool, c.ID, cases.StatusAcknowledged)
	err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
		return cases.Refer(ctx, tx, c.ID, p, "Please repair the tap.", worker, now)
	})
	if !errors.Is(err, cases.ErrNoShareConsent) || !strings.Contains(err.Error(), "did not agree to share") {
		t.Fatalf("err = %v, want ErrNoShareConsent saying so", err)
	}
	if got := row(t, pool, c.ID); got.Status != "acknowledged" || got.PartnerID != nil {
		t.Errorf("refused referral changed the case: %s, partner %v", got.Status, got.PartnerID)
	}
	wantEvents(t, pool, c.ID, "status:→ [new→acknowledged]")
}

func TestRefer(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	c := openWith(t, pool, cases.CategoryAssistanceRequest, true, true)
	water := partner(t, pool, "Water Agency")
	health := partner(t, pool, "Health Partner")
	retired := partner(t, pool, "Gone NGO")
	if err := store.SetPartnerActive(ctx, pool, retired, false); err != nil {
		t.Fatal(err)
	}
	refer := func(p int64, note string) error {
		return do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			return cases.Refer(ctx, tx, c.ID, p, note, worker, now.Add(2*time.Hour))
		})
	}
	if err := refer(water, ""); !errors.Is(err, cases.ErrTransition) {
		t.Errorf("a new case: err = %v, want ErrTransition (acknowledge it first)", err)
	}
	status(t, pool, c.ID, cases.StatusAcknowledged)
	if err := refer(water+100, ""); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "unknown partner") {
		t.Errorf("unknown partner: err = %v, want not found", err)
	}
	if err := refer(retired, ""); !errors.Is(err, cases.ErrPartnerInactive) {
		t.Errorf("retired partner: err = %v, want ErrPartnerInactive", err)
	}
	if err := refer(water, " Please repair the tap at block C. "); err != nil {
		t.Fatal(err)
	}
	got := row(t, pool, c.ID)
	if got.Status != "referred" || got.PartnerID == nil || *got.PartnerID != water || got.ReferredAt == nil ||
		!got.ReferredAt.Equal(now.Add(2*time.Hour)) {
		t.Errorf("after referral: status %s partner %v at %v", got.Status, got.PartnerID, got.ReferredAt)
	}
	if err := refer(water, ""); !errors.Is(err, cases.ErrTransition) || !strings.Contains(err.Error(), "already referred") {
		t.Errorf("the same partner again: err = %v, want already referred", err)
	}
	if err := refer(health, "Needs a doctor."); err != nil {
		t.Fatalf("to another partner: %v", err)
	}
	wantEvents(t, pool, c.ID,
		"status:→ [new→acknowledged]",
		"referred:→Water Agency [acknowledged→referred] Please repair the tap at block C.",
		"referred:Water Agency→Health Partner [referred→referred] Needs a doctor.")
}

func TestResolve(t *testing.T) {
	pool := pgtest.New(t)
	c := openWith(t, pool, cases.CategoryAssistanceRequest, true, true)
	res := func(note string) (store.CaseRow, error) {
		var out store.CaseRow
		err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			out, err = cases.Resolve(ctx, tx, c.ID, note, worker, now.Add(3*time.Hour))
			return err
		})
		return out, err
	}
	if _, err := res("Fixed."); !errors.Is(err, cases.ErrTransition) {
		t.Errorf("a new case: err = %v, want ErrTransition", err)
	}
	status(t, pool, c.ID, cases.StatusAcknowledged, cases.StatusInProgress)
	if _, err := res("   "); !errors.Is(err, cases.ErrNote) {
		t.Errorf("empty resolution: err = %v, want ErrNote", err)
	}
	if _, err := res(strings.Repeat("ا", cases.MaxNoteLength+1)); !errors.Is(err, cases.ErrNote) {
		t.Errorf("too long a resolution: err = %v, want ErrNote", err)
	}
	got, err := res(" The tap at block C was repaired on Sunday. ")
	if err != nil {
		t.Fatal(err)
	}
	stored := row(t, pool, c.ID)
	for _, r := range []store.CaseRow{got, stored} {
		if r.Status != "resolved" || r.Resolution != "The tap at block C was repaired on Sunday." || r.ResolvedAt == nil ||
			!r.ResolvedAt.Equal(now.Add(3*time.Hour)) || r.Satisfied != nil {
			t.Errorf("resolved case: status %s resolution %q at %v satisfied %v", r.Status, r.Resolution, r.ResolvedAt, r.Satisfied)
		}
	}
	if _, err := res("Again."); !errors.Is(err, cases.ErrTransition) {
		t.Errorf("resolved twice: err = %v, want ErrTransition", err)
	}

	// The person answers; the case is reopened and resolved again: the old answer no longer
	// stands on the case, but stays in its history.
	if err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
		return cases.RecordSatisfaction(ctx, tx, c.ID, c.ContactID, false, now.Add(4*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	if s := row(t, pool, c.ID).Satisfied; s == nil || *s {
		t.Fatalf("satisfied = %v, want false", s)
	}
	status(t, pool, c.ID, cases.StatusInProgress)
	if _, err := res("A new tap was fitted."); err != nil {
		t.Fatal(err)
	}
	if r := row(t, pool, c.ID); r.Satisfied != nil || r.SatisfactionAt != nil || r.Resolution != "A new tap was fitted." {
		t.Errorf("resolved again: satisfied %v at %v, resolution %q", r.Satisfied, r.SatisfactionAt, r.Resolution)
	}
	status(t, pool, c.ID, cases.StatusClosed)
	if _, err := res("After closing."); !errors.Is(err, cases.ErrTransition) {
		t.Errorf("closed case: err = %v, want ErrTransition", err)
	}
	wantEvents(t, pool, c.ID,
		"status:→ [new→acknowledged]",
		"status:→ [acknowledged→in_progress]",
		"resolved:→ [in_progress→resolved] The tap at block C was repaired on Sunday.",
		"satisfaction:→no",
		"status:→ [resolved→in_progress]",
		"resolved:→ [in_progress→resolved] A new tap was fitted.",
		"status:→ [resolved→closed]")
}

// TestStatusChangesLeaveReferAndResolveToTheirOperations: a referral needs a partner and
// consent, a resolution an answer; ChangeStatus will not skip them.
func TestStatusChangesLeaveReferAndResolveToTheirOperations(t *testing.T) {
	pool := pgtest.New(t)
	c := openWith(t, pool, cases.CategoryOther, true, true)
	status(t, pool, c.ID, cases.StatusAcknowledged)
	for _, to := range []cases.Status{cases.StatusReferred, cases.StatusResolved} {
		err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			return cases.ChangeStatus(ctx, tx, c.ID, to, worker, "", now)
		})
		if !errors.Is(err, cases.ErrOwnOperation) {
			t.Errorf("→ %s: err = %v, want ErrOwnOperation", to, err)
		}
	}
}

func TestReplyNeedsConsentToContact(t *testing.T) {
	pool := pgtest.New(t)
	silent := openWith(t, pool, cases.CategoryOther, false, true)
	reply := func(id int64, text string) error {
		return do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
			_, err := cases.Reply(ctx, tx, id, text, worker, now)
			return err
		})
	}
	if err := reply(silent.ID, "We are looking at it."); !errors.Is(err, cases.ErrNoContactConsent) {
		t.Errorf("err = %v, want ErrNoContactConsent", err)
	}
	wantEvents(t, pool, silent.ID)
	c := openWith(t, pool, cases.CategoryOther, true, false)
	if err := reply(c.ID, ""); !errors.Is(err, cases.ErrNote) {
		t.Errorf("empty reply: err = %v, want ErrNote", err)
	}
	if err := reply(c.ID, "We are looking at it."); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, pool, c.ID, "replied:→ We are looking at it.")
}

func TestSatisfactionIsKeptOnlyOnTheContactsCase(t *testing.T) {
	pool := pgtest.New(t)
	c := openWith(t, pool, cases.CategoryOther, true, true)
	other := contact(t, pool)
	err := do(t, pool, func(ctx context.Context, tx pgx.Tx) error {
		return cases.RecordSatisfaction(ctx, tx, c.ID, other, true, now)
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another contact's answer: err = %v, want ErrNotFound", err)
	}
	if r := row(t, pool, c.ID); r.Satisfied != nil {
		t.Errorf("satisfied = %v after another contact's answer", *r.Satisfied)
	}
	wantEvents(t, pool, c.ID)
}
