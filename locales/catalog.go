package locales

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

//go:embed messages/*.yaml
var embedded embed.FS

// Catalog is the loaded texts of every served language.
type Catalog struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	messages   map[string]map[string]*i18n.Message // lang → key → message
	files      map[string]string                   // lang → file name, for reports
}

// ErrMissingText is returned when a key has no text in any language of the fallback chain.
var ErrMissingText = errors.New("missing text")

// Default loads the message files embedded in the binary.
func Default() (*Catalog, error) {
	sub, err := fs.Sub(embedded, "messages")
	if err != nil {
		return nil, err
	}
	return Load(sub)
}

// Load reads one message file per language from fsys: ar.yaml, ckb.yaml, badini.yaml, en.yaml.
// Keys are flat ("complaint.describe"); a plural text is a map of CLDR forms.
func Load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{
		bundle:     i18n.NewBundle(language.English),
		localizers: map[string]*i18n.Localizer{},
		messages:   map[string]map[string]*i18n.Message{},
		files:      map[string]string{},
	}
	for _, lang := range Languages {
		name := lang + ".yaml"
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("texts for %s: %w", lang, err)
		}
		msgs, err := c.bundle.ParseMessageBytes(Tag(lang), buf, yaml.Unmarshal)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		byKey := make(map[string]*i18n.Message, len(msgs))
		for _, m := range msgs {
			byKey[m.ID] = m
		}
		c.messages[lang] = byKey
		c.files[lang] = name
		// One localizer per language, asked for its exact tag: matching across the bundle
		// would answer a Sorani request with Badini texts.
		c.localizers[lang] = i18n.NewLocalizer(c.bundle, Tag(lang).String())
	}
	return c, nil
}

// Has reports whether lang itself (no fallback) has a text for key.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.messages[lang][key]
	return ok
}

// Keys lists the keys of lang, sorted.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.messages[lang]))
	for k := range c.messages[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// File is the message file a language is read from.
func (c *Catalog) File(lang string) string { return c.files[lang] }

// Text renders key in lang, falling back along Fallbacks(lang). data fills {{.name}}
// placeholders; count, when not nil, chooses the plural form and is {{.PluralCount}}.
func (c *Catalog) Text(lang, key string, data map[string]string, count *int) (string, error) {
	text, _, err := c.TextWithLanguage(lang, key, data, count)
	return text, err
}

// TextWithLanguage is Text that also says which language the text came from.
func (c *Catalog) TextWithLanguage(lang, key string, data map[string]string, count *int) (string, string, error) {
	if !Valid(lang) {
		lang = English
	}
	td := make(map[string]any, len(data)+1)
	for k, v := range data {
		td[k] = v
	}
	for _, l := range Fallbacks(lang) {
		if !c.Has(l, key) {
			continue
		}
		cfg := &i18n.LocalizeConfig{MessageID: key, TemplateData: td}
		if count != nil {
			cfg.PluralCount = *count
			td["PluralCount"] = *count
		}
		text, err := c.localizers[l].Localize(cfg)
		if err != nil {
			return "", "", fmt.Errorf("text %q in %s: %w", key, l, err)
		}
		return strings.TrimSpace(text), l, nil
	}
	return "", "", fmt.Errorf("%w: %q in %s", ErrMissingText, key, lang)
}

// Words splits a text that is a list of words people may type ("menu, main menu") into its
// folded items, for matching.
func (c *Catalog) Words(lang, key string) []string {
	if !c.Has(lang, key) {
		return nil
	}
	text, err := c.Text(lang, key, nil, nil)
	if err != nil {
		return nil
	}
	var words []string
	for _, w := range strings.Split(text, ",") {
		if w = Fold(w); w != "" {
			words = append(words, w)
		}
	}
	return words
}

// Problem is one defect of the shipped texts.
type Problem struct {
	File string
	Key  string
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s: %s", p.File, p.Key, p.Msg) }

// Check finds texts missing from a language, keys English does not know, empty texts, and
// plural texts without every form their language needs (Arabic has six).
func (c *Catalog) Check() []Problem {
	var probs []Problem
	en := c.messages[English]
	for _, lang := range Languages {
		file := path.Base(c.files[lang])
		for _, key := range c.Keys(English) {
			if !c.Has(lang, key) {
				probs = append(probs, Problem{file, key, "missing"})
			}
		}
		for _, key := range c.Keys(lang) {
			m := c.messages[lang][key]
			if _, ok := en[key]; !ok {
				probs = append(probs, Problem{file, key, "not in the English file (misspelt key?)"})
			}
			probs = append(probs, checkForms(file, lang, m, en[key])...)
		}
	}
	return probs
}

func checkForms(file, lang string, m, en *i18n.Message) []Problem {
	forms := map[string]string{
		"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other,
	}
	plural := m.One != "" || m.Few != "" || m.Many != "" || m.Two != "" || m.Zero != "" ||
		(en != nil && en.One != "")
	if !plural {
		if strings.TrimSpace(m.Other) == "" {
			return []Problem{{file, m.ID, "empty text"}}
		}
		return nil
	}
	var probs []Problem
	for _, f := range pluralForms(lang) {
		if strings.TrimSpace(forms[f]) == "" {
			probs = append(probs, Problem{file, m.ID, fmt.Sprintf("plural form %q missing", f)})
		}
	}
	return probs
}

// pluralForms are the CLDR forms a language's plural texts must have.
func pluralForms(lang string) []string {
	if lang == Arabic {
		return []string{"zero", "one", "two", "few", "many", "other"}
	}
	return []string{"one", "other"}
}
