package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// The export lists, for each filter, the cases the queue lists for it, in the same order, all
// of them; with the partner a case is referred to, and whether the person was satisfied.
func TestExportCases(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	seedCases(t, pool, 300, now)
	partner, err := store.InsertPartner(ctx, pool, store.Partner{Name: "Water Partner", Active: true, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE cases SET partner_id = $1, satisfied = true WHERE reference = '00000042'`, partner); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE cases SET category = 'sea' WHERE reference = '00000043'`); err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.QueueFilter{
		{}, {Category: "misconduct_fraud"}, {Channel: "voice", Language: "ar"}, {Governorate: "duhok", Site: "site-7"},
		{Status: "closed"}, {Overdue: true}, {Reference: "00000042"}, {Reference: "00000043"},
	} {
		queue, _, err := store.CaseQueue(ctx, pool, f, now, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []store.ExportRow
		if err := store.ExportCases(ctx, pool, f, now, func(r store.ExportRow) error {
			got = append(got, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(queue) {
			t.Errorf("%+v: exported %d cases, the queue lists %d", f, len(got), len(queue))
			continue
		}
		for i, q := range queue {
			r := got[i]
			if r.Reference != q.Reference || r.Category != q.Category || r.Status != q.Status || r.Channel != q.Channel ||
				r.Language != q.Language || r.Site != q.Site || !r.DueAt.Equal(q.DueAt) || r.Overdue != q.Overdue ||
				!r.OpenedAt.Equal(q.CreatedAt) {
				t.Errorf("%+v: row %d is %+v, the queue's %+v", f, i, r, q)
				break
			}
		}
		if f.Reference == "00000042" && (got[0].ReferredTo != "Water Partner" || got[0].Satisfied == nil || !*got[0].Satisfied) {
			t.Errorf("case 00000042: referred to %q, satisfied %v", got[0].ReferredTo, got[0].Satisfied)
		}
		if f.Reference == "00000043" && len(got) != 0 {
			t.Errorf("an SEA case was exported: %+v", got)
		}
	}
}
