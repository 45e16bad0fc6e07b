package safeguarding

// These tests are in the package itself (keys_test.go is outside it) only so that
// BenchmarkMatchFolded can time the matching without locales.Fold.

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sawt/sawt/locales"
)

// shippedTexts loads the message files embedded in the binary, as the server does.
func shippedTexts(t testing.TB) *locales.Catalog {
	t.Helper()
	c, err := locales.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wordsCatalog is a catalog whose only texts are the given sea.detect.words, by language.
func wordsCatalog(t *testing.T, words map[string]string) *locales.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, lang := range locales.Languages {
		data := "language.self: x\n"
		if w, ok := words[lang]; ok {
			data += "sea.detect.words: " + w + "\n"
		}
		fsys[lang+".yaml"] = &fstest.MapFile{Data: []byte(data)}
	}
	c, err := locales.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type matchCase struct {
	name string
	text string
	lang string // "" when it must not match
}

func runMatches(t *testing.T, d *Detector, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		lang, ok := d.Match(tc.text)
		switch {
		case tc.lang == "" && ok:
			t.Errorf("%s: Match(%q) = %q, true; want no match", tc.name, tc.text, lang)
		case tc.lang != "" && (!ok || lang != tc.lang):
			t.Errorf("%s: Match(%q) = %q, %v; want %q, true", tc.name, tc.text, lang, ok, tc.lang)
		}
	}
}

// TestMatchShipped: the shipped words find reports in every language, with the spellings people
// type, inside longer messages, and leave ordinary complaints alone.
func TestMatchShipped(t *testing.T) {
	d := NewDetector(shippedTexts(t))
	const ar, ckb, badini, en = locales.Arabic, locales.Sorani, locales.Badini, locales.English
	runMatches(t, d, []matchCase{
		// Arabic.
		{"ar in a complaint", "الموظف يتحرش بالنساء في المخيم", ar},
		{"ar relationship for aid", "الموظف طلب مني علاقة مقابل المساعدة", ar},
		{"ar ه for ة", "طلب مني علاقه", ar},
		{"ar لل", "تعرضت للتحرش من موظف التوزيع", ar},
		{"ar وال", "نشتكي من التوزيع والتحرش", ar},
		{"ar plural", "هناك تحرشات في المخيم", ar},
		{"ar shadda", "هناك تحرّش", ar},
		{"ar harakat", "تَحَرُّشٌ", ar},
		{"ar tatweel", "تحـــرش", ar},
		{"ar zero-width", "تح\u200cرش", ar},
		{"ar إ", "إغتصاب", ar},
		{"ar أ and suffix", "أغتصبني الحارس", ar},
		{"ar ى", "موظف المنظمة اعتدى علي", ar},
		{"ar ي for ى", "اعتدي عليها", ar},
		{"ar blackmail", "يبتزني بالصور", ar},
		{"ar blackmail noun", "هذا ابتزاز", ar},
		{"ar ك", "يريد سكس", ar},
		{"ar ک", "يريد سکس", ar},
		{"ar sexually", "استغلني جنسياً", ar},
		{"ar exploitation with article", "الحماية من الاستغلال الجنسي", ar},
		{"ar touch", "لمسني الموظف", ar},
		{"ar touch body with ending", "حاول يلمس جسمي", ar},
		{"ar Iraqi sleep", "قال اذا تريدين المساعدة لازم تنامين وياي", ar},
		{"ar asked me to sleep", "طلب مني انام وياه", ar},
		{"ar indecent assault", "هتك عرضي", ar},
		{"ar Arabic-Indic digits", "رقمي ٠٧٥٠١٢٣٤٥٦٧ والموظف تحرش بي", ar},
		{"ar sex for aid", "طلب مني جنس مقابل السلة", ar},
		{"ar with the article", "يريد ممارسة الجنس", ar},
		// Sorani.
		{"ckb assault", "کارمەندێک دەستدرێژیی کردە سەرم", ckb},
		{"ckb Arabic keyboard", "دهستدريژي", ckb},
		{"ckb no ە", "دستدریژی کرد", ckb},
		{"ckb spaced", "دەست درێژی", ckb},
		{"ckb sex", "داوای سێکسی لێکردم", ckb},
		{"ckb ڵ as ل", "گیچهلی سیکسی", ckb},
		{"ckb harassment", "گێچەڵی سێکسی پێ کرا", ckb},
		{"ckb rape", "کچێک لاقە کرا", ckb},
		{"ckb reached for me", "کارمەندەکە دەستی بۆ بردم", ckb},
		// Badini.
		{"badini on me", "کارمەندەکی دەستدرێژی ل من کر", badini},
		{"badini izafe", "دەستدرێژیا سێکسی", badini},
		{"badini touched", "ئێکی دەستێ خۆ ل من دا", badini},
		{"badini request", "داخوازا سێکسێ ژ من کر", badini},
		{"badini Latin", "Karmendekî destdirêjî li min kir", badini},
		{"badini Latin upper", "DESTDIRÊJÎ", badini},
		{"badini Latin no accents", "destdireji li min kir", badini},
		{"badini Latin sex", "seks xwest", badini},
		// English.
		{"en sex for food", "The distributor asked for sex in exchange for food", en},
		{"en upper", "SEXUAL ABUSE", en},
		{"en harassed", "He harassed my sister at the gate", en},
		{"en misspelt", "he harrassed me", en},
		{"en raped", "a staff member raped her", en},
		{"en touched", "he touched me at the clinic", en},
		{"en PSEA", "I want to make a PSEA report", en},
		{"en SEA report", "SEA report please", en},
		{"en sexually", "she was sexually exploited", en},
		{"en grooming", "he asked me to meet him alone at night", en},
		{"en sleep with him", "he asked me to sleep with him", en},
		{"en wants to sleep", "he wants to sleep with me", en},
		{"en groping", "the guard keeps groping women", en},
		{"en molested", "my son was molested", en},
		{"en punctuation", "he wanted...sex!!", en},
		{"en first word's language", "he harassed me تحرش", en},
		{"ar first word's language", "تحرش harassed", ar},
		// Not reports: ordinary complaints and words that only look alike.
		{"ar water", "ما في ماي بالخيمة من ثلاث أيام", ""},
		{"ar food basket", "لم نستلم السلة الغذائية هذا الشهر", ""},
		{"ar tent", "الخيمة ممزقة ونحتاج بطانيات", ""},
		{"ar nationality", "طلب مني الجنسية والبطاقة الموحدة", ""},
		{"ar nationality certificate", "شهادة الجنسية ضاعت", ""},
		{"ar my nationality", "جنسيتي عراقية", ""},
		{"ar gender on a form", "الجنس: ذكر", ""},
		{"ar money for registration", "طلبوا مني فلوس حتى يسجلون اسمي", ""},
		{"ar shouted", "الموظف صرخ علي", ""},
		{"ar distribution", "التوزيع كان فوضى والناس تدافعوا", ""},
		{"ar relations with neighbours", "علاقتنا مع الجيران جيدة", ""},
		{"ar Ali", "أبو علي جاب الماء", ""},
		{"ar children sleep with me", "الاطفال ينامون معي في خيمة واحدة", ""},
		{"ar nothing to do with me", "ما له علاقة معي", ""},
		{"ar obstructive staff", "الموظف يعاكسنا بالتوزيع", ""},
		{"ckb water", "ئاومان نییە لە کەمپەکە", ""},
		{"ckb tent", "خێوەتەکەمان دڕاوە", ""},
		{"ckb cash", "پارەی یارمەتیم وەرنەگرتووە", ""},
		{"ckb leg", "لاقەکەم ئازاری هەیە", ""},
		{"ckb contact me", "پەیوەندیم پێوە بکەن", ""},
		{"ckb someone", "کەسێک هات بۆ کەمپەکە", ""},
		{"ckb three people", "سێ کەس", ""},
		{"ckb hand", "دەستم ئازاری هەیە", ""},
		{"badini water", "مە ئاڤ نینە ل کەمپێ", ""},
		{"badini headache", "ئازارا سەری هەیە", ""},
		{"badini Latin water", "me av nîne", ""},
		{"en water", "We have no water in the tent", ""},
		{"en grapes", "I ate grapes", ""},
		{"en drapes", "the drapes are torn", ""},
		{"en therapist", "my therapist is helpful", ""},
		{"en shouted", "He shouted at me", ""},
		{"en registration", "the registration was wrong", ""},
		{"en cash", "I did not receive my cash", ""},
		{"en distribution", "the distribution was late", ""},
		{"en sexual health", "I need a sexual health clinic", ""},
		{"en Sussex", "I lived in Sussex", ""},
		{"en sextant", "a sextant", ""},
		{"en sea", "the sea is far", ""},
		{"en search", "the research team was searching", ""},
		{"en group", "our group did not get kits", ""},
		{"en sleep with", "we sleep with the children in one tent", ""},
		{"en children sleep with me", "my children sleep with me in one tent", ""},
		{"en get in touch", "please get in touch with me", ""},
		{"en empty", "", ""},
		{"en punctuation only", "?!…", ""},
	})
}

// TestShippedWordsMatchThemselves: each listed word, typed alone, is found, and the language
// reported lists it (a word can be in several lists).
func TestShippedWordsMatchThemselves(t *testing.T) {
	c := shippedTexts(t)
	d := NewDetector(c)
	for _, lang := range locales.Languages {
		words := c.Words(lang, "sea.detect.words")
		if len(words) < 10 {
			t.Errorf("%s: %d words of concern, want a list", lang, len(words))
		}
		for _, w := range words {
			got, ok := d.Match(w)
			if !ok {
				t.Errorf("%s: %q does not match itself", lang, w)
				continue
			}
			if !slices.Contains(c.Words(got, "sea.detect.words"), w) {
				t.Errorf("%s: %q matched as %s, whose list does not have it", lang, w, got)
			}
		}
	}
}

// TestShippedTextsDoNotMatch: what Sawt itself says — which people copy back, like a menu
// label — raises no question, except the texts of the report itself.
func TestShippedTextsDoNotMatch(t *testing.T) {
	c := shippedTexts(t)
	d := NewDetector(c)
	data := map[string]string{"reference": "12345678", "helpline": "0800 123 456", "time": "10:00", "deadline": "2025-01-01 10:00"}
	for _, lang := range locales.Languages {
		for _, key := range c.Keys(lang) {
			if strings.HasPrefix(key, "sea.") || strings.HasPrefix(key, "psea.") || key == "menu.sea" ||
				strings.HasPrefix(key, "voice.sea_") || strings.HasSuffix(key, ".words") {
				continue
			}
			var texts []string
			one := 1
			if _, err := c.Text(lang, key, data, &one); err != nil { // not a plural text
				text, err := c.Text(lang, key, data, nil)
				if err != nil {
					t.Fatalf("%s %s: %v", lang, key, err)
				}
				texts = append(texts, text)
			} else {
				for _, n := range []int{0, 1, 2, 3, 11, 100} {
					text, err := c.Text(lang, key, data, &n)
					if err != nil {
						t.Fatalf("%s %s: %v", lang, key, err)
					}
					texts = append(texts, text)
				}
			}
			for _, text := range texts {
				if got, ok := d.Match(text); ok {
					t.Errorf("%s %s: %q matches (%s)", lang, key, text, got)
				}
			}
		}
	}
}

// TestMatchRules checks the matching rules on words chosen for them.
func TestMatchRules(t *testing.T) {
	d := NewDetector(wordsCatalog(t, map[string]string{
		locales.English: "sex, harass, sleep with me, psea",
		locales.Arabic:  "تحرش, جنس, طلب مني علاقة",
		locales.Sorani:  "هاوبەش, سۆرانی",
		locales.Badini:  "هاوبەش, بادینی",
	}))
	const ar, ckb, badini, en = locales.Arabic, locales.Sorani, locales.Badini, locales.English
	runMatches(t, d, []matchCase{
		{"whole short word", "sex", en},
		{"short word with punctuation", "SEX!", en},
		{"short word is not a prefix", "sexual", ""},
		{"short word not inside", "Sussex", ""},
		{"short word not inside 2", "sextant", ""},
		{"long word as prefix", "harassed", en},
		{"long word not inside", "unharassed", ""},
		{"upper case", "HARASSMENT", en},
		{"phrase", "he wants to sleep with me tonight", en},
		{"phrase, last word prefix", "sleep without me", en},
		{"phrase, short word whole", "sleep with men", ""},
		{"phrase not consecutive", "sleep alone with me", ""},
		{"phrase cut short", "I sleep with", ""},
		{"phrase of other words", "sleep with the children", ""},
		{"و", "وتحرش", ar},
		{"ف", "فتحرش", ar},
		{"ب", "بتحرش", ar},
		{"ل", "لتحرش", ar},
		{"ک", "كتحرش", ar},
		{"ال", "التحرش", ar},
		{"وال", "والتحرش", ar},
		{"بال", "بالتحرش", ar},
		{"لل", "للتحرش", ar},
		{"فال", "فالتحرش", ar},
		{"وبال", "وبالتحرش", ar},
		{"Arabic prefix", "تحرشات", ar},
		{"not a particle", "متحرش", ""},
		{"not a particle 2", "استحرش", ""},
		{"short Arabic word with the article", "الجنس", ar},
		{"short Arabic word with an ending", "جنسها", ar},
		{"short Arabic word: nationality", "الجنسية", ""},
		{"short Arabic word: longer word", "جنسيات", ""},
		{"Arabic phrase with variants", "طلبت منّي علاقه", ar},
		{"Arabic phrase with particles", "وطلب مني العلاقة", ar},
		{"shared word: first language", "هاوبەش", ckb},
		{"shared word: more words of one", "هاوبەش بادینی", badini},
		{"shared word: more words of one, later", "بادینی هاوبەش", badini},
		{"shared word: tie", "هاوبەش سۆرانی بادینی", ckb},
		{"first word found decides", "harass تحرش", en},
		{"first word found decides 2", "تحرش harass", ar},
	})
}

func TestEmptyDetector(t *testing.T) {
	var nilDetector *Detector
	if _, ok := nilDetector.Match("sexual abuse"); ok {
		t.Error("a nil detector matched")
	}
	if _, ok := NewDetector(nil).Match("sexual abuse"); ok {
		t.Error("a detector without a catalog matched")
	}
	d := NewDetector(wordsCatalog(t, nil))
	if _, ok := d.Match("sexual abuse"); ok {
		t.Error("a detector without words matched")
	}
}

func TestMatchConcurrent(t *testing.T) {
	d := NewDetector(shippedTexts(t))
	done := make(chan bool)
	for range 8 {
		go func() {
			for range 200 {
				if lang, ok := d.Match("الموظف يتحرش بالنساء"); !ok || lang != locales.Arabic {
					t.Errorf("Match = %q, %v", lang, ok)
				}
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}

// benchText is an ordinary Arabic complaint of about 200 characters, which does not match.
const benchText = "السلام عليكم، نحن عائلة نازحة في مخيم حسن شام منذ سنتين. لم نستلم السلة الغذائية " +
	"هذا الشهر، والخيمة ممزقة من المطر، والأطفال مرضى ولا يوجد دواء في المركز الصحي. نرجو " +
	"مساعدتنا في أقرب وقت، وشكرا."

func BenchmarkMatch(b *testing.B) {
	d := NewDetector(shippedTexts(b))
	if _, ok := d.Match(benchText); ok {
		b.Fatal("the benchmark text matches")
	}
	b.ReportAllocs()
	for b.Loop() {
		d.Match(benchText)
	}
}

// BenchmarkMatchFolded is Match without its locales.Fold: the matching alone.
func BenchmarkMatchFolded(b *testing.B) {
	d := NewDetector(shippedTexts(b))
	folded := locales.Fold(benchText)
	b.ReportAllocs()
	for b.Loop() {
		d.find(folded)
	}
}
