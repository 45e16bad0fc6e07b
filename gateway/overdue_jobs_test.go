package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// TestOverdueAlert runs the overdue sweep with a fixed clock: an open case past its deadline
// is alerted to its assignee at the addresses they gave, in their console language, with the
// case's number and category and nothing of the person; once per deadline however often the
// sweep runs, and again when the deadline moves and passes again. Cases not yet due, closed,
// unassigned, of the SEA category, or whose assignee gave no address or is disabled are not
// alerted.
func TestOverdueAlert(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	texts, err := locales.Default()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	baghdad := time.FixedZone("Asia/Baghdad", 3*3600)
	now := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	clock := now
	w := &gateway.OverdueAlertWorker{Pool: pool, River: rc, Texts: texts, Location: baghdad,
		Now: func() time.Time { return clock }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	chat := int64(777001)
	for _, u := range []struct {
		email, lang, phone string
		chat               *int64
		disabled           bool
	}{
		{"amal@example.org", "ar", "", &chat, false},
		{"shilan@example.org", "ckb", "+9647501112233", nil, false},
		{"noaddress@example.org", "en", "", nil, false},
		{"left@example.org", "en", "+9647509998877", nil, true},
	} {
		id, err := store.InsertStaffUser(ctx, pool, store.StaffUser{Email: u.email, Role: "caseworker", Language: u.lang,
			PasswordHash: "$argon2id$x", CreatedAt: now.Add(-48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetStaffAlertContact(ctx, pool, id, u.chat, u.phone); err != nil {
			t.Fatal(err)
		}
		if u.disabled {
			if err := store.SetStaffDisabled(ctx, pool, id, &now); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The person behind every case: their number and words must never reach an alert.
	const personURN, description = "tel:+9647700000001", "Layla Hassan, tent 14: the distribution skipped us"
	var person store.Contact
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		person, err = store.ContactForURN(ctx, tx, personURN)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	type kase struct {
		ref, category, status, assignee string
		due                             time.Duration // the deadline the case faces next, from now
	}
	cs := map[string]kase{
		"amal":       {"10000019", "assistance_request", "new", "amal@example.org", -time.Hour},
		"shilan":     {"10000027", "misconduct_fraud", "acknowledged", "shilan@example.org", -2 * time.Hour},
		"not yet":    {"10000035", "other", "new", "amal@example.org", time.Hour},
		"closed":     {"10000043", "other", "closed", "amal@example.org", -5 * time.Hour},
		"unassigned": {"10000051", "other", "new", "", -5 * time.Hour},
		"no address": {"10000068", "other", "new", "noaddress@example.org", -5 * time.Hour},
		"disabled":   {"10000076", "other", "new", "left@example.org", -5 * time.Hour},
		"sea":        {"10000084", "sea", "new", "amal@example.org", -5 * time.Hour},
	}
	ids := map[string]int64{}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for name, c := range cs {
			created := now.Add(-72 * time.Hour)
			row := store.CaseRow{Reference: c.ref, ContactID: person.ID, Category: c.category, Priority: "normal", Status: c.status,
				Channel: "sms", Description: description, ConsentContact: true, CreatedAt: created,
				AckDueAt: now.Add(c.due), ReferDueAt: now.Add(c.due), ResolveDueAt: now.Add(c.due)}
			if c.status == "acknowledged" {
				row.AckDueAt = now.Add(-48 * time.Hour) // past, but no longer the deadline it faces
			}
			id, err := store.InsertCase(ctx, tx, row, "system")
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE cases SET assignee = nullif($2, '') WHERE id = $1`, id, c.assignee); err != nil {
				return err
			}
			ids[name] = id
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	sweep := func() {
		t.Helper()
		if err := w.Work(ctx, &river.Job[gateway.OverdueAlertArgs]{}); err != nil {
			t.Fatal(err)
		}
	}
	sweep()
	sweep() // a second sweep at the same time sends nothing more
	want := map[string][]string{
		"amal":   {"telegram:777001|ar|صوت: تجاوزت الحالة 1000 0019 (طلب مساعدة) موعدها المحدد 2026-11-23 13:00. يرجى فتحها في لوحة الموظفين."},
		"shilan": {"tel:+9647501112233|ckb|صوت: کاتی دیاریکراوی کەیسی 1000 0027 (ڕەفتاری خراپی کارمەند یان فێڵ) تێپەڕی، کە 2026-11-23 12:00 بوو."},
	}
	checkAlerts(t, pool, want)
	if n := count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`); n != 2 {
		t.Errorf("%d send jobs queued, want 2", n)
	}
	noPersonalData(t, pool, personURN, description)
	for name, id := range ids {
		var due *time.Time
		if err := pool.QueryRow(ctx, `SELECT overdue_alerted_due FROM cases WHERE id = $1`, id).Scan(&due); err != nil {
			t.Fatal(err)
		}
		if alerted := name == "amal" || name == "shilan"; alerted != (due != nil) || (alerted && !due.Equal(now.Add(cs[name].due))) {
			t.Errorf("case %s: alerted for the deadline %v", name, due)
		}
	}

	// Amal acknowledges her case: its next deadline is a day away. Nothing for it until that
	// passes (only the case that was not yet due is alerted meanwhile); then she is alerted
	// again, once.
	if _, err := pool.Exec(ctx, `UPDATE cases SET status = 'acknowledged', refer_due_at = $2 WHERE id = $1`,
		ids["amal"], now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(23 * time.Hour)
	sweep()
	if n := count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`); n != 3 {
		t.Errorf("%d send jobs after the deadline moved but before it passed, want 3 (the case not yet due before)", n)
	}
	clock = now.Add(25 * time.Hour)
	sweep()
	sweep()
	want["amal"] = append(want["amal"], "telegram:777001|ar|صوت: تجاوزت الحالة 1000 0019 (طلب مساعدة) موعدها المحدد 2026-11-24 14:00.")
	want["not yet"] = []string{"telegram:777001|ar|صوت: تجاوزت الحالة 1000 0035 (أخرى) موعدها المحدد 2026-11-23 15:00."}
	checkAlerts(t, pool, want)
	noPersonalData(t, pool, personURN, description)
}

// noPersonalData checks that no message to staff holds the person's number or words.
func noPersonalData(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, urn, description string) {
	t.Helper()
	var texts string
	if err := pool.QueryRow(context.Background(), `
		SELECT coalesce(string_agg(m.text, ' | '), '') FROM messages m WHERE m.direction = 'out'`).Scan(&texts); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{strings.TrimPrefix(urn, "tel:"), "7700000001", "Layla", "tent", "distribution"} {
		if strings.Contains(texts, s) {
			t.Errorf("an alert holds %q: %s", s, texts)
		}
	}
}
