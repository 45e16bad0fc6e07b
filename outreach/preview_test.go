package outreach

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sawt/sawt/store"
)

// A preview counts the people the run would reach exactly as the run then makes their
// deliveries: queued, skipped for want of a text, opted out, and by the text's language.
func TestPreviewCountsAsTheFanOut(t *testing.T) {
	e := newEnv(t)
	e.seed(population...)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		texts    map[string]string
		audience Audience
	}{
		{"everyone", allTexts(), Audience{}},
		{"Sorani and Arabic only", map[string]string{"ar": "نص", "ckb": "دەق"}, Audience{}},
		{"English only", map[string]string{"en": "text"}, Audience{}},
		{"duhok by sms", allTexts(), Audience{Governorates: []string{" duhok "}, Channels: []string{"SMS"}}},
		{"health", allTexts(), Audience{Topics: []string{"health"}}},
		{"combined", allTexts(), Audience{Governorates: []string{"ninewa", "erbil"}, Channels: []string{"telegram"}, Languages: []string{"ckb", "en"}}},
		{"nobody", allTexts(), Audience{Sites: []string{"nowhere"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Name: tc.name, Texts: tc.texts, Audience: tc.audience, AllowMissing: true, Schedule: Schedule{Now: true}}
			p, err := e.svc.Preview(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if p.Refusal != nil {
				t.Errorf("refusal %v of a spec Create takes", p.Refusal)
			}
			id := e.create(spec)
			e.start()
			want := store.AudienceCount{ByLanguage: map[string]int{}}
			rows, err := e.pool.Query(ctx, `SELECT d.status, coalesce(d.language, '') FROM deliveries d
				JOIN campaign_runs r ON r.id = d.run_id WHERE r.campaign_id = $1`, id)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var status, lang string
				if err := rows.Scan(&status, &lang); err != nil {
					t.Fatal(err)
				}
				switch status {
				case "queued":
					want.Reached++
					want.ByLanguage[lang]++
				case "skipped":
					want.Skipped++
				case "opted_out":
					want.OptedOut++
				}
			}
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			if p.Audience.Reached != want.Reached || p.Audience.Skipped != want.Skipped || p.Audience.OptedOut != want.OptedOut ||
				!maps.Equal(p.Audience.ByLanguage, want.ByLanguage) {
				t.Errorf("preview %+v, the run made %+v", p.Audience, want)
			}
		})
	}
}

// The languages without a text are named with what their readers get instead; what Create
// would refuse is said, and an audience that cannot be counted is refused.
func TestPreviewMissingAndRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.svc.Preview(ctx, Spec{Texts: map[string]string{"ar": " نص ", "ckb": "  ", "en": "text"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []MissingText{{Language: "ckb", Fallback: "ar"}, {Language: "badini", Fallback: "ar"}}
	if !slices.Equal(p.Missing, want) {
		t.Errorf("missing %+v, want %+v", p.Missing, want)
	}
	if p.Texts["ar"] != "نص" || len(p.Texts) != 2 {
		t.Errorf("texts %q, want ar and en, trimmed", p.Texts)
	}
	if p.Refusal == nil || p.Refusal.Field != "name" {
		t.Errorf("refusal %v, want the missing name", p.Refusal)
	}
	p, err = e.svc.Preview(ctx, Spec{Texts: map[string]string{"en": "text"}})
	if err != nil {
		t.Fatal(err)
	}
	want = []MissingText{{Language: "ar", Fallback: "en"}, {Language: "ckb", Fallback: "en"}, {Language: "badini", Fallback: "en"}}
	if !slices.Equal(p.Missing, want) {
		t.Errorf("missing %+v, want %+v", p.Missing, want)
	}
	p, err = e.svc.Preview(ctx, Spec{Texts: map[string]string{"ar": "نص"}, Name: "x", Schedule: Schedule{At: ptr(e.clock.Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Refusal == nil || p.Refusal.Field != "texts" || !slices.Equal(p.Missing, []MissingText{{"ckb", "ar"}, {"badini", "ar"}, {"en", ""}}) {
		t.Errorf("refusal %v, missing %+v: want the missing languages refused, English readers getting nothing", p.Refusal, p.Missing)
	}
	for _, tc := range []struct {
		spec  Spec
		field string
	}{
		{Spec{Texts: map[string]string{"fr": "texte"}}, "texts"},
		{Spec{Audience: Audience{Topics: []string{"weather"}}}, "audience.topics"},
		{Spec{Audience: Audience{Channels: []string{"voice"}}}, "audience.channels"},
		{Spec{Audience: Audience{Languages: []string{"de"}}}, "audience.languages"},
	} {
		_, err := e.svc.Preview(ctx, tc.spec)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("preview of %+v: %v, want a refusal of %s", tc.spec, err, tc.field)
		}
	}
}

func ptr[T any](v T) *T { return &v }
