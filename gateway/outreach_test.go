package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// A case opened by someone a campaign reached within the reply window records the campaign;
// one opened by someone it reached longer ago does not.
func TestCaseRecordsTheCampaignItAnswers(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	campaign, err := store.InsertCampaign(ctx, pool, store.Campaign{Name: "Water points", Texts: map[string]string{"en": "x"},
		Audience: []byte(`{}`), SendAt: &now, State: store.CampaignDone, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	run, err := store.InsertRun(ctx, pool, store.Run{CampaignID: &campaign, DueAt: now.Add(-96 * time.Hour), Texts: map[string]string{"en": "x"},
		StartedAt: now.Add(-96 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for urn, sent := range map[string]time.Time{"tel:+9647701111001": now.Add(-24 * time.Hour), "tel:+9647701111002": now.Add(-96 * time.Hour)} {
		send(t, g, urn, "hi") // the contact exists once they wrote
		if _, err := pool.Exec(ctx, `
			INSERT INTO deliveries (run_id, contact_id, urn_id, channel, language, status, sent_at, updated_at)
			SELECT $1, u.contact_id, u.id, 'sms', 'en', 'sent', $3, $3 FROM urns u WHERE u.urn = $2`, run, urn, sent); err != nil {
			t.Fatal(err)
		}
		send(t, g, urn, complaintUntilLastStep[1:]...)
		send(t, g, urn, "1")
	}
	rows, err := pool.Query(ctx, `SELECT u.urn, c.campaign_id FROM cases c JOIN urns u ON u.contact_id = c.contact_id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*int64{}
	for rows.Next() {
		var urn string
		var id *int64
		if err := rows.Scan(&urn, &id); err != nil {
			t.Fatal(err)
		}
		got[urn] = id
	}
	if len(got) != 2 {
		t.Fatalf("cases: %v", got)
	}
	if id := got["tel:+9647701111001"]; id == nil || *id != campaign {
		t.Errorf("a case a day after the campaign records %v, want %d", id, campaign)
	}
	if id := got["tel:+9647701111002"]; id != nil {
		t.Errorf("a case four days after the campaign records %d, want none", *id)
	}
}
