package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

func TestPartners(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	water, err := store.InsertPartner(ctx, pool, store.Partner{Name: " Water Agency ", Sector: "wash", Contact: "focal point: +9647501112233", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.InsertPartner(ctx, pool, store.Partner{Name: "water agency", CreatedAt: at}); !errors.Is(err, store.ErrExists) {
		t.Errorf("the same name in another case: err = %v, want ErrExists", err)
	}
	if _, err := store.InsertPartner(ctx, pool, store.Partner{Name: "  ", CreatedAt: at}); err == nil {
		t.Error("a partner without a name was stored")
	}
	health, err := store.InsertPartner(ctx, pool, store.Partner{Name: "Health Partner", Sector: "health", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetPartnerActive(ctx, pool, health, false); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPartnerActive(ctx, pool, health+100, false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retiring an unknown partner: err = %v, want ErrNotFound", err)
	}
	names := func(activeOnly bool) []string {
		ps, err := store.Partners(ctx, pool, activeOnly)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names(false); !slices.Equal(got, []string{"Health Partner", "Water Agency"}) {
		t.Errorf("all partners = %v", got)
	}
	if got := names(true); !slices.Equal(got, []string{"Water Agency"}) {
		t.Errorf("active partners = %v", got)
	}
	p, err := store.PartnerByID(ctx, pool, water)
	if err != nil || p.Name != "Water Agency" || p.Sector != "wash" || p.Contact != "focal point: +9647501112233" || !p.Active {
		t.Errorf("PartnerByID = %+v, %v", p, err)
	}
	if _, err := store.PartnerByID(ctx, pool, water+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown partner: err = %v, want ErrNotFound", err)
	}
}

// TestCaseDetail: a case with its partner, history, recordings, the person's addresses, and
// their conversation around it, a confidential message shown as its placeholder only.
func TestCaseDetail(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	first, _ := turn(t, pool, "SM1", "hello", false) // at 09:00, with two replies
	turn(t, pool, "SM2", "the-secret-words", true)
	contactID := first.Contact.ID
	// An old message, long before the case: not part of its conversation.
	if _, err := pool.Exec(ctx, `
		INSERT INTO messages (contact_id, urn_id, channel, direction, text, status, created_at, updated_at)
		VALUES ($1, $2, 'sms', 'in', 'last month', 'received', $3, $3)`, contactID, first.Contact.URNID, at.Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	partnerID, err := store.InsertPartner(ctx, pool, store.Partner{Name: "Water Agency", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	var caseID int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		opened := at.Add(time.Minute)
		caseID, err = store.InsertCase(ctx, tx, store.CaseRow{Reference: "12345674", ContactID: contactID,
			Category: "other", Priority: "normal", Status: "acknowledged", Channel: "sms", Description: "The tap is broken",
			ConsentContact: true, ConsentShare: true, AckDueAt: opened, ReferDueAt: opened, ResolveDueAt: opened, CreatedAt: opened}, "system")
		if err != nil {
			return err
		}
		if err := store.LinkRecordings(ctx, tx, caseID, contactID, []string{"RE1"}, opened); err != nil {
			return err
		}
		c, err := store.CaseForUpdate(ctx, tx, caseID)
		if err != nil {
			return err
		}
		p, err := store.PartnerByID(ctx, tx, partnerID)
		if err != nil {
			return err
		}
		return store.ReferCase(ctx, tx, c, p, "amal@example.org", "Please repair it.", opened.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}

	d, err := store.CaseDetailByID(ctx, pool, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Case.Reference != "12345674" || d.Case.Status != "referred" || d.Case.PartnerID == nil || d.Case.ReferredAt == nil {
		t.Errorf("case = %+v", d.Case)
	}
	if d.Partner == nil || d.Partner.Name != "Water Agency" {
		t.Errorf("partner = %+v", d.Partner)
	}
	if len(d.Events) != 2 || d.Events[1].Kind != "referred" || d.Events[1].ToValue != "Water Agency" ||
		d.Events[1].Note != "Please repair it." || d.Events[1].Actor != "amal@example.org" {
		t.Errorf("events = %+v", d.Events)
	}
	if len(d.Recordings) != 1 || d.Recordings[0].ProviderID != "RE1" {
		t.Errorf("recordings = %+v", d.Recordings)
	}
	if !slices.Equal(d.URNs, []channels.URN{"tel:+9647701234567"}) {
		t.Errorf("URNs = %v", d.URNs)
	}
	type line struct{ dir, text string }
	var got []line
	for _, m := range d.Conversation {
		got = append(got, line{m.Direction, m.Text})
		if m.Channel != channels.SMS || m.At.IsZero() {
			t.Errorf("message %d: channel %q at %v", m.ID, m.Channel, m.At)
		}
		if m.Redacted != (m.Text == store.RedactedText) {
			t.Errorf("message %d: redacted %t, text %q", m.ID, m.Redacted, m.Text)
		}
	}
	want := []line{{"in", "hello"}, {"out", "first hello"}, {"out", "second"}, {"in", store.RedactedText}, {"out", store.RedactedText}, {"out", "second"}}
	if !slices.Equal(got, want) {
		t.Errorf("conversation:\n%v\nwant\n%v", got, want)
	}
	if _, err := store.CaseDetailByID(ctx, pool, caseID+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown case: err = %v, want ErrNotFound", err)
	}
}
