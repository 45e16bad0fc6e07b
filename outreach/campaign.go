// Package outreach sends awareness campaigns and distribution alerts: many people at once,
// each in their language, through the channels' senders, under their rate limits, exactly
// once per person and run, resumable after a crash.
package outreach

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
)

// Spec is a campaign as a team writes it (API JSON, or a YAML file for sawt campaigns create).
type Spec struct {
	Name     string            `json:"name" yaml:"name"`
	Topic    string            `json:"topic,omitempty" yaml:"topic"`
	Texts    map[string]string `json:"texts" yaml:"texts"`
	Audience Audience          `json:"audience" yaml:"audience"`
	Schedule Schedule          `json:"schedule" yaml:"schedule"`
	// AllowLinks and AllowMissing lift the refusals of texts with links and of languages
	// without a text: people are told Sawt never sends links, and a missing language is a
	// person who gets another language or nothing.
	AllowLinks   bool `json:"allow_links,omitempty" yaml:"allow_links"`
	AllowMissing bool `json:"allow_missing_languages,omitempty" yaml:"allow_missing_languages"`
}

// Audience chooses who gets a campaign: every condition given must hold (an empty list is no
// condition). Topics: subscribed to at least one of them.
type Audience struct {
	Languages    []string `json:"languages,omitempty" yaml:"languages"`
	Governorates []string `json:"governorates,omitempty" yaml:"governorates"`
	Sites        []string `json:"sites,omitempty" yaml:"sites"`
	Channels     []string `json:"channels,omitempty" yaml:"channels"`
	Topics       []string `json:"topics,omitempty" yaml:"topics"`
	Households   []string `json:"households,omitempty" yaml:"households"`
}

// Schedule is when: now, once at a time, or recurring by a cron expression (five fields, or
// @daily and the like) in the configured time zone. Exactly one is given.
type Schedule struct {
	Now  bool       `json:"now,omitempty" yaml:"now"`
	At   *time.Time `json:"at,omitempty" yaml:"at"`
	Cron string     `json:"cron,omitempty" yaml:"cron"`
}

// FieldError is a refusal of one field of a spec, named as the API names it.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// BroadcastChannels are the channels a campaign can go out on. The phone line only answers.
var BroadcastChannels = []string{string(channels.SMS), string(channels.Telegram)}

// cronParser reads the five standard fields and the @ descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron checks a cron expression; its schedule gives occurrences in loc.
func ParseCron(expr string) (cron.Schedule, error) {
	if strings.HasPrefix(strings.TrimSpace(expr), "TZ=") || strings.HasPrefix(strings.TrimSpace(expr), "CRON_TZ=") {
		return nil, errors.New("the time zone is the server's (SAWT_TIMEZONE); leave TZ= out")
	}
	return cronParser.Parse(expr)
}

// NextAfter is the first occurrence of a cron expression strictly after t, in loc.
func NextAfter(expr string, t time.Time, loc *time.Location) (time.Time, error) {
	s, err := ParseCron(expr)
	if err != nil {
		return time.Time{}, err
	}
	next := s.Next(t.In(loc))
	if next.IsZero() {
		return time.Time{}, errors.New("the expression never occurs")
	}
	return next, nil
}

// link finds what people could open or follow: a URL, a www. or bare domain, a Telegram
// handle link. Scammers send links; our messages never do, so people can be told so.
var link = regexp.MustCompile(`(?i)(https?://|www\.|t\.me/|\b[a-z0-9-]+\.(com|org|net|iq|info|me|ly|io|co|app|link|xyz|site|online)\b)`)

// Validate checks a spec as received and tidies it (trims, lower-cases codes). now is used to
// refuse a time in the past. It returns the first problem, naming its field.
func (s *Spec) Validate(now time.Time, topicExists func(string) bool) error {
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		return fieldErrorf("name", "is required")
	}
	if len(s.Name) > 200 {
		return fieldErrorf("name", "is longer than 200 characters")
	}
	s.Topic = strings.ToLower(strings.TrimSpace(s.Topic))
	if s.Topic != "" && topicExists != nil && !topicExists(s.Topic) {
		return fieldErrorf("topic", "%q is not a topic", s.Topic)
	}
	if err := s.validateTexts(); err != nil {
		return err
	}
	if err := s.Audience.validate(topicExists); err != nil {
		return err
	}
	return s.Schedule.validate(now)
}

func (s *Spec) validateTexts() error {
	if len(s.Texts) == 0 {
		return fieldErrorf("texts", "at least one language needs a text (ar, ckb, badini, en)")
	}
	texts := map[string]string{}
	for lang, text := range s.Texts {
		if !locales.Valid(lang) {
			return fieldErrorf("texts", "%q is not a language: use ar, ckb, badini or en", lang)
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if !s.AllowLinks {
			if m := link.FindString(text); m != "" {
				return fieldErrorf("texts."+lang, "contains a link (%q): people are told that Sawt never sends links; "+
					"remove it, or set allow_links to send it anyway", m)
			}
		}
		texts[lang] = text
	}
	if len(texts) == 0 {
		return fieldErrorf("texts", "every text is empty")
	}
	var missing []string
	for _, lang := range locales.Languages {
		if texts[lang] == "" {
			missing = append(missing, lang)
		}
	}
	if len(missing) > 0 && !s.AllowMissing {
		return fieldErrorf("texts", "no text in %s: people who read only that get another language or nothing; "+
			"add it, or set allow_missing_languages", strings.Join(missing, ", "))
	}
	s.Texts = texts
	return nil
}

func (a *Audience) validate(topicExists func(string) bool) error {
	for i, l := range a.Languages {
		a.Languages[i] = strings.TrimSpace(l)
		if !locales.Valid(a.Languages[i]) {
			return fieldErrorf("audience.languages", "%q is not a language: use ar, ckb, badini or en", l)
		}
	}
	for i, c := range a.Channels {
		a.Channels[i] = strings.ToLower(strings.TrimSpace(c))
		if !slices.Contains(BroadcastChannels, a.Channels[i]) {
			return fieldErrorf("audience.channels", "%q cannot carry a campaign: use %s", c, strings.Join(BroadcastChannels, " or "))
		}
	}
	for i, t := range a.Topics {
		a.Topics[i] = strings.ToLower(strings.TrimSpace(t))
		if topicExists != nil && !topicExists(a.Topics[i]) {
			return fieldErrorf("audience.topics", "%q is not a topic", t)
		}
	}
	for _, list := range []struct {
		name string
		vals []string
	}{{"audience.governorates", a.Governorates}, {"audience.sites", a.Sites}, {"audience.households", a.Households}} {
		for i, v := range list.vals {
			list.vals[i] = strings.TrimSpace(v)
			if list.vals[i] == "" {
				return fieldErrorf(list.name, "has an empty value")
			}
		}
	}
	return nil
}

func (s *Schedule) validate(now time.Time) error {
	given := 0
	if s.Now {
		given++
	}
	if s.At != nil {
		given++
	}
	s.Cron = strings.TrimSpace(s.Cron)
	if s.Cron != "" {
		given++
	}
	if given != 1 {
		return fieldErrorf("schedule", `give exactly one of "now": true, "at": a time (RFC 3339), or "cron": an expression`)
	}
	if s.At != nil && s.At.Before(now.Add(-time.Minute)) {
		return fieldErrorf("schedule.at", "%s is in the past", s.At.Format(time.RFC3339))
	}
	if s.Cron != "" {
		if _, err := ParseCron(s.Cron); err != nil {
			return fieldErrorf("schedule.cron", "%q: %v", s.Cron, err)
		}
	}
	return nil
}

// ChooseLanguage is the language a person whose language is lang ("" when unknown) gets a
// campaign in: theirs, else the first of the fallback chain the campaign has a text in, else
// "" (skipped). Someone whose language is unknown reads Arabic, the language of most.
func ChooseLanguage(lang string, texts map[string]string) string {
	if lang == "" {
		lang = locales.Arabic
	}
	for _, l := range locales.Fallbacks(lang) {
		if texts[l] != "" {
			return l
		}
	}
	return ""
}
