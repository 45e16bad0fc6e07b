package outreach

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// Preview is what a campaign would do if it started now, told before it is made: how many
// people its audience reaches, and what the readers of each language without a text get.
type Preview struct {
	Audience store.AudienceCount `json:"audience"`
	// Texts are the texts given, trimmed, by language: those that are not empty.
	Texts map[string]string `json:"-"`
	// Missing are the languages (of locales.Languages) without a text, in that order.
	Missing []MissingText `json:"missing"`
	// Refusal is why Create would refuse the spec as it is, if it would: the preview is
	// made all the same, so that a team sees both.
	Refusal *FieldError `json:"-"`
}

// MissingText is a language without a text, and what its readers get instead: the text of
// Fallback (ChooseLanguage), or nothing when Fallback is "".
type MissingText struct {
	Language string `json:"language"`
	Fallback string `json:"fallback"`
}

// Preview counts the people a spec's audience reaches now, as a run's fan-out would choose
// them, and names the languages it has no text in. Nothing is stored. A spec whose audience
// cannot be read (an unknown language, channel or topic) is refused with a *FieldError;
// whatever else Create would refuse is said in Refusal.
func (s *Service) Preview(ctx context.Context, spec Spec) (Preview, error) {
	var p Preview
	topics := map[string]bool{}
	codes, err := store.Topics(ctx, s.Pool)
	if err != nil {
		return p, err
	}
	for _, c := range codes {
		topics[c] = true
	}
	exists := func(t string) bool { return topics[t] }
	check := spec
	check.Audience = spec.Audience.clone()
	if err := check.Validate(s.now(), exists); err != nil {
		if !errors.As(err, &p.Refusal) {
			return p, err
		}
	}
	a := spec.Audience.clone()
	if err := a.validate(exists); err != nil {
		return p, err
	}
	p.Texts = map[string]string{}
	for lang, text := range spec.Texts {
		if !locales.Valid(lang) {
			return p, fieldErrorf("texts", "%q is not a language: use ar, ckb, badini or en", lang)
		}
		if text = strings.TrimSpace(text); text != "" {
			p.Texts[lang] = text
		}
	}
	for _, lang := range locales.Languages {
		if p.Texts[lang] == "" {
			p.Missing = append(p.Missing, MissingText{Language: lang, Fallback: ChooseLanguage(lang, p.Texts)})
		}
	}
	p.Audience, err = store.CountAudience(ctx, s.Pool, storeAudience(a, p.Texts))
	return p, err
}

// clone is a copy of the audience whose lists validate may tidy without touching a's.
func (a Audience) clone() Audience {
	return Audience{Languages: slices.Clone(a.Languages), Governorates: slices.Clone(a.Governorates),
		Sites: slices.Clone(a.Sites), Channels: slices.Clone(a.Channels), Topics: slices.Clone(a.Topics),
		Households: slices.Clone(a.Households)}
}
