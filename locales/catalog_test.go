package locales

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"
)

func shipped(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAllFourBundlesLoad proves Badini loads (go-i18n has no plural rule for kmr) and that each
// language answers with its own file's text, not a neighbour's.
func TestAllFourBundlesLoad(t *testing.T) {
	c := shipped(t)
	for _, lang := range Languages {
		raw := rawMessages(t, lang)
		got, used, err := c.TextWithLanguage(lang, "menu.ask", nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if used != lang || got != strings.TrimSpace(raw["menu.ask"].(string)) {
			t.Errorf("%s: menu.ask = %q from %s, want %q from %s", lang, got, used, raw["menu.ask"], lang)
		}
		// A plural text goes through the language's plural rule: for Badini the ku rule.
		n := 5
		if _, err := c.Text(lang, "common.tries_left", nil, &n); err != nil {
			t.Errorf("%s: plural text: %v", lang, err)
		}
	}
	if Tag(Badini).String() != "ku-Arab" {
		t.Errorf("Badini tag = %s, want ku-Arab", Tag(Badini))
	}
	b, _ := c.Text(Badini, "language.self", nil, nil)
	s, _ := c.Text(Sorani, "language.self", nil, nil)
	if b == s {
		t.Errorf("Badini and Sorani share the text %q: the bundles are mixed up", b)
	}
}

func rawMessages(t *testing.T, lang string) map[string]any {
	t.Helper()
	data, err := embedded.ReadFile("messages/" + lang + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestShippedTextsAreComplete(t *testing.T) {
	for _, p := range shipped(t).Check() {
		t.Error(p)
	}
}

// TestArabicPluralForms: every count picks its own form of the six.
func TestArabicPluralForms(t *testing.T) {
	c := shipped(t)
	seen := map[string]int{}
	for _, n := range []int{0, 1, 2, 3, 11, 100} {
		text, err := c.Text(Arabic, "complaint.reply_within", nil, &n)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[text]; dup {
			t.Errorf("counts %d and %d give the same text %q", prev, n, text)
		}
		seen[text] = n
	}
	three := 3
	if text, _ := c.Text(Arabic, "complaint.reply_within", nil, &three); !strings.Contains(text, "3") || !strings.Contains(text, "أيام") {
		t.Errorf("3 days in Arabic = %q, want the few form with أيام", text)
	}
}

func testCatalog(t *testing.T, files map[string]string) *Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, lang := range Languages {
		fsys[lang+".yaml"] = &fstest.MapFile{Data: []byte(files[lang])}
	}
	c, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFallbackChain(t *testing.T) {
	c := testCatalog(t, map[string]string{
		"en":     "a: A-en\nb: B-en\nc: C-en\nd: D-en\n",
		"ar":     "a: A-ar\nb: B-ar\nc: C-ar\n",
		"ckb":    "a: A-ckb\nb: B-ckb\n",
		"badini": "a: A-badini\n",
	})
	for _, tc := range []struct{ lang, key, want, from string }{
		{Badini, "a", "A-badini", Badini},
		{Badini, "b", "B-ckb", Sorani},
		{Badini, "c", "C-ar", Arabic},
		{Badini, "d", "D-en", English},
		{Sorani, "c", "C-ar", Arabic},
		{Arabic, "d", "D-en", English},
		{"fr", "a", "A-en", English},
	} {
		got, from, err := c.TextWithLanguage(tc.lang, tc.key, nil, nil)
		if err != nil || got != tc.want || from != tc.from {
			t.Errorf("%s %s = %q from %s (%v), want %q from %s", tc.lang, tc.key, got, from, err, tc.want, tc.from)
		}
	}
	if _, err := c.Text(Badini, "nowhere", nil, nil); !errors.Is(err, ErrMissingText) {
		t.Errorf("a key in no language: err = %v, want ErrMissingText", err)
	}
}

func TestCheckFindsDefects(t *testing.T) {
	c := testCatalog(t, map[string]string{
		"en":     "a: A\nn:\n  one: one day\n  other: '{{.PluralCount}} days'\n",
		"ar":     "a: ''\nn:\n  one: يوم\n  other: '{{.PluralCount}} يوم'\n",
		"ckb":    "a: A\nn:\n  one: ڕۆژێک\n  other: '{{.PluralCount}} ڕۆژ'\nz: stray\n",
		"badini": "n:\n  one: ڕۆژەکێ\n  other: '{{.PluralCount}} ڕۆژ'\n",
	})
	var got []string
	for _, p := range c.Check() {
		got = append(got, p.String())
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"ar.yaml: a: empty text",
		`ar.yaml: n: plural form "zero" missing`,
		`ar.yaml: n: plural form "few" missing`,
		"ckb.yaml: z: not in the English file",
		"badini.yaml: a: missing",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("Check did not report %q; it reported:\n%s", want, joined)
		}
	}
}

// latinWord finds Latin-script words; the only ones allowed in an Arabic-script file are the
// carriers' STOP/START and, in Badini, the Latin Kurmanji words people type.
var latinWord = regexp.MustCompile(`[A-Za-z]+`)

// placeholder is a {{.name}} the code fills in: its name is not text.
var placeholder = regexp.MustCompile(`{{\s*\.\w+\s*}}`)

func TestNoEnglishLeftInArabicScriptTexts(t *testing.T) {
	for _, lang := range []string{Arabic, Sorani, Badini} {
		for key, v := range rawMessages(t, lang) {
			if strings.HasPrefix(key, "command.") || strings.HasSuffix(key, ".words") {
				continue // lists of what people type
			}
			var texts []string
			switch v := v.(type) {
			case string:
				texts = []string{v}
			case map[string]any:
				for _, f := range v {
					texts = append(texts, f.(string))
				}
			}
			for _, text := range texts {
				text = placeholder.ReplaceAllString(text, "")
				for _, w := range latinWord.FindAllString(text, -1) {
					if w != "STOP" && w != "START" {
						t.Errorf("%s %s: Latin word %q in %q", lang, key, w, text)
					}
				}
			}
		}
	}
}

func TestFromHint(t *testing.T) {
	for hint, want := range map[string]string{
		"ar": Arabic, "ar-IQ": Arabic, "ckb": Sorani, "ckb-IQ": Sorani, "kmr": Badini, "en": English,
		"en-GB": English, "ku": "", "fa": "", "": "", "not a tag!": "",
	} {
		if got := FromHint(hint); got != want {
			t.Errorf("FromHint(%q) = %q, want %q", hint, got, want)
		}
	}
}
