package cases

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestDefaultCategories(t *testing.T) {
	want := []Category{
		{"feedback", PriorityLow, 72, 168, 720, false},
		{"information_request", PriorityNormal, 24, 48, 72, false},
		{"assistance_request", PriorityNormal, 24, 72, 336, false},
		{"minor_dissatisfaction", PriorityNormal, 24, 72, 336, false},
		{"major_dissatisfaction", PriorityHigh, 24, 48, 168, false},
		{"sea", PriorityCritical, 24, 24, 168, true},
		{"misconduct_fraud", PriorityHigh, 24, 48, 168, true},
		{"safety_security", PriorityCritical, 4, 24, 72, true},
		{"out_of_scope", PriorityLow, 72, 168, 336, false},
		{"other", PriorityNormal, 24, 72, 336, false},
	}
	got := DefaultCategories()
	if !slices.Equal(got, want) {
		t.Fatalf("DefaultCategories() =\n%v\nwant\n%v", got, want)
	}
	for _, c := range got {
		if err := c.Validate(); err != nil {
			t.Errorf("default category %q: %v", c.Code, err)
		}
	}
	got[0].AckHours = 1
	if DefaultCategories()[0].AckHours != 72 {
		t.Error("DefaultCategories shares its slice between calls")
	}
}

func TestPriorityRank(t *testing.T) {
	ps := Priorities()
	for i := 1; i < len(ps); i++ {
		if ps[i-1].Rank() >= ps[i].Rank() {
			t.Errorf("%s ranks %d, not below %s (%d)", ps[i-1], ps[i-1].Rank(), ps[i], ps[i].Rank())
		}
	}
	if PriorityCritical.Rank() != 4 || PriorityLow.Rank() != 1 {
		t.Errorf("ranks: low %d, critical %d", PriorityLow.Rank(), PriorityCritical.Rank())
	}
	for _, p := range []Priority{"", "urgent", "Critical"} {
		if p.Rank() != 0 || p.Valid() {
			t.Errorf("Priority(%q): rank %d, valid %v", p, p.Rank(), p.Valid())
		}
	}
	sorted := []Priority{PriorityNormal, PriorityCritical, PriorityLow, PriorityHigh}
	slices.SortFunc(sorted, func(a, b Priority) int { return b.Rank() - a.Rank() })
	if want := []Priority{PriorityCritical, PriorityHigh, PriorityNormal, PriorityLow}; !slices.Equal(sorted, want) {
		t.Errorf("sorted by rank: %v; want %v", sorted, want)
	}
}

func TestDeadlines(t *testing.T) {
	created := time.Date(2025, 3, 30, 22, 15, 0, 0, time.FixedZone("AST", 3*3600))
	tests := []struct {
		name                string
		cat                 Category
		ack, refer, resolve time.Time
	}{
		{"safety", Category{AckHours: 4, ReferHours: 24, ResolveHours: 72},
			time.Date(2025, 3, 31, 2, 15, 0, 0, created.Location()),
			created.AddDate(0, 0, 1), created.AddDate(0, 0, 3)},
		{"feedback", Category{AckHours: 72, ReferHours: 168, ResolveHours: 720},
			created.AddDate(0, 0, 3), created.AddDate(0, 0, 7), created.AddDate(0, 0, 30)},
		{"zero", Category{}, created, created, created},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ack, refer, resolve := tc.cat.Deadlines(created)
			if !ack.Equal(tc.ack) || !refer.Equal(tc.refer) || !resolve.Equal(tc.resolve) {
				t.Errorf("Deadlines = %v, %v, %v; want %v, %v, %v", ack, refer, resolve, tc.ack, tc.refer, tc.resolve)
			}
		})
	}
	// The safety deadline crosses midnight into the next day.
	ack, _, _ := Category{AckHours: 4}.Deadlines(created)
	if ack.Sub(created) != 4*time.Hour || ack.Day() != 31 {
		t.Errorf("4h after %v = %v", created, ack)
	}
}

func TestAckDays(t *testing.T) {
	for _, tc := range []struct{ hours, want int }{
		{-5, 1}, {0, 1}, {1, 1}, {4, 1}, {23, 1}, {24, 1}, {25, 2}, {48, 2}, {49, 3}, {72, 3}, {168, 7},
	} {
		if got := (Category{AckHours: tc.hours}).AckDays(); got != tc.want {
			t.Errorf("AckDays with %dh = %d; want %d", tc.hours, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Category{Code: "x", Priority: PriorityNormal, AckHours: 24, ReferHours: 48, ResolveHours: 72}
	tests := []struct {
		name   string
		mutate func(*Category)
		ok     bool
	}{
		{"good", func(*Category) {}, true},
		{"all equal", func(c *Category) { c.AckHours, c.ReferHours, c.ResolveHours = 24, 24, 24 }, true},
		{"empty code", func(c *Category) { c.Code = "" }, false},
		{"empty priority", func(c *Category) { c.Priority = "" }, false},
		{"unknown priority", func(c *Category) { c.Priority = "urgent" }, false},
		{"zero ack", func(c *Category) { c.AckHours = 0 }, false},
		{"negative refer", func(c *Category) { c.ReferHours = -1 }, false},
		{"zero resolve", func(c *Category) { c.ResolveHours = 0 }, false},
		{"ack after refer", func(c *Category) { c.AckHours = 49 }, false},
		{"refer after resolve", func(c *Category) { c.ReferHours = 73 }, false},
		{"ack after resolve", func(c *Category) { c.AckHours, c.ReferHours = 100, 100 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mutate(&c)
			err := c.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate(%+v) = %v; want ok=%v", c, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrCategory) {
				t.Errorf("error %v does not wrap ErrCategory", err)
			}
		})
	}
}
