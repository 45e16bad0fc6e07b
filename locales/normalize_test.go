package locales

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var normalizeTests = []struct{ name, in, want string }{
	{"empty", "", ""},
	{"ascii unchanged", "Hello world", "Hello world"},
	{"case kept", "YES Erê", "YES Erê"},
	{"arabic-indic digit", "٣", "3"},
	{"extended arabic-indic digit", "۳", "3"},
	{"all arabic-indic digits", "٠١٢٣٤٥٦٧٨٩", "0123456789"},
	{"all extended digits", "۰۱۲۳۴۵۶۷۸۹", "0123456789"},
	{"phone number", "٠٧٧٠١٢٣٤٥٦٧", "07701234567"},
	{"mixed digit scripts", "٠٧۷0", "0770"},
	{"arabic kaf", "كتاب", "کتاب"},
	{"keheh kept", "کتاب", "کتاب"},
	{"arabic yeh", "علي", "علی"},
	{"alef maksura", "على", "علی"},
	{"farsi yeh kept", "علی", "علی"},
	{"tatweel", "مــرحبا", "مرحبا"},
	{"harakat", "مَرْحَبًا", "مرحبا"},
	{"shadda", "محمّد", "محمد"},
	{"superscript alef", "هٰذا", "هذا"},
	{"quranic marks", "قُلْ ۖ الرَّحِيمِ ۚ", "قل الرحیم"},
	{"end of ayah kept", "۝", "۝"},
	{"zwnj", "می\u200Cخواهم", "میخواهم"},
	{"zwj and zwsp", "a\u200Db\u200Bc", "abc"},
	{"rlm lrm", "\u200Fنعم\u200E", "نعم"},
	{"alm", "\u061C١", "1"},
	{"bidi embedding", "\u202Bنعم\u202C", "نعم"},
	{"bidi isolate", "\u2067abc\u2069", "abc"},
	{"word joiner", "a\u2060b", "ab"},
	{"bom", "\uFEFFhello", "hello"},
	{"soft hyphen", "com\u00ADplaint", "complaint"},
	{"combining grapheme joiner", "a\u034Fb", "ab"},
	{"marks after combining grapheme joiner", "a\u034F\u0483\u0301b", "ab"},
	{"seventy marks cut to thirty", "a" + strings.Repeat("\u0483", 70) + "b", "a" + strings.Repeat("\u0483", 30) + "b"},
	{"forty harakat", "ب" + strings.Repeat("\u064E", 40), "ب"},
	{"teh marbuta", "مدرسة", "مدرسه"},
	{"heh with yeh above", "خانۀ", "خانه"},
	{"ae with hamza decomposed", "خان\u06D5\u0654", "خانه"},
	{"alef hamza above", "أحمد", "احمد"},
	{"alef hamza below", "إسلام", "اسلام"},
	{"alef madda", "آمن", "امن"},
	{"alef wasla", "ٱلله", "الله"},
	{"alef hamza decomposed", "ا\u0654حمد", "احمد"},
	{"waw hamza", "مؤسسة", "موسسه"},
	{"yeh hamza kept", "ئەوە", "ئەوە"},
	{"yeh hamza decomposed", "\u064A\u0654ەوە", "ئەوە"},
	{"kurdish letters kept", "بەڵێ ڕۆژ ڤ", "بەڵێ ڕۆژ ڤ"},
	{"mixed scripts", "Hello مرحبا ١٢", "Hello مرحبا 12"},
	{"trim and collapse", "  a \t\n b  ", "a b"},
	{"crlf", "a\r\nb", "a b"},
	{"nbsp", "a\u00A0b", "a b"},
	{"unicode spaces", "a\u2003\u2009\u202Fb\u3000", "a b"},
	{"only spaces", " \u00A0\n ", ""},
	{"space around removed", "a \u200B b", "a b"},
	{"only removed", "\u200B\u0640\u064E", ""},
	{"latin decomposed", "e\u0301", "é"},
	{"tatweel between letter and accent", "e\u0640\u0301", "é"},
	{"zwsp between letter and accent", "e\u200B\u0301", "é"},
	{"invalid utf8", "a\xffb", "a\uFFFDb"},
	{"invalid utf8 run", "a\xff\xfe\xf3b", "a\uFFFDb"},
	{"invalid byte before a mark", "\xf3\u0344", "\uFFFD\u0308\u0301"},
	{"presentation form kept", "ﻻ", "ﻻ"},
	{"punctuation kept", "نعم، شكرا!", "نعم، شکرا!"},
}

var foldTests = []struct{ name, in, want string }{
	{"empty", "", ""},
	{"yes bang", "Yes!", "yes"},
	{"upper", "YES", "yes"},
	{"arabic full stop", "نعم.", "نعم"},
	{"sorani yes", "بەڵێ", "بهلی"},
	{"sorani yes typed arabic", "بهلی", "بهلی"},
	{"badini yes", "Erê", "ere"},
	{"badini yes upper", "ERÊ", "ere"},
	{"kurmanji letters", "Çawa yî? Başî!", "cawa yi basi"},
	{"u circumflex", "Spas û silav", "spas u silav"},
	{"e acute", "Café", "cafe"},
	{"decomposed accent", "Cafe\u0301", "cafe"},
	{"dotted capital i", "İyi", "iyi"},
	{"dotless i", "ıyı", "iyi"},
	{"menu answer with bracket", "  1)  ", "1"},
	{"emoji", "😀", ""},
	{"emoji with variation selector", "❤️", ""},
	{"emoji around text", "👍🏽 ok 🙏", "ok"},
	{"keycap digit", "1️⃣", "1"},
	{"decimal", "1.5", "1.5"},
	{"thousands", "1,000", "1,000"},
	{"arabic decimal", "١٫٥", "1.5"},
	{"arabic thousands", "٣٬٠٠٠", "3,000"},
	{"version", "1.5.3", "1.5.3"},
	{"dot then space", "1. 5", "1 5"},
	{"two dots", "1..5", "1 5"},
	{"number then word", "2.a", "2 a"},
	{"sentence end after number", "I have 3.", "i have 3"},
	{"dot before number", "a.5", "a 5"},
	{"ellipsis", "a...b", "a b"},
	{"hyphen", "e-mail", "e mail"},
	{"arabic question marks", "؟نعم؟", "نعم"},
	{"arabic comma", "نعم، شكرا", "نعم شکرا"},
	{"arabic semicolon", "لا؛", "لا"},
	{"lam alef ligature", "ﻻ", "لا"},
	{"presentation forms word", "ﺷﻜﺮﺍ", "شکرا"},
	{"fullwidth digit", "１", "1"},
	{"hash and star", "*2#", "2"},
	{"plus", "+964 770", "964 770"},
	{"control character", "a\x00b", "a b"},
	{"stray mark after space", "a \u0483b", "a b"},
	{"newlines", "a\n\n b", "a b"},
	{"mixed scripts", "Hello مرحبا ١٢!", "hello مرحبا 12"},
	{"ae", "ە", "ه"},
	{"heh doachashmee", "ھەر", "ههر"},
	{"yeh with v", "ێ", "ی"},
	{"waw with v", "ۆ", "و"},
	{"kirghiz oe", "ۊ", "و"},
	{"u", "ۇ", "و"},
	{"lam with v", "ڵ", "ل"},
	{"reh with v", "ڕ", "ر"},
	{"veh", "ڤیان", "فیان"},
	{"sorani day", "ڕۆژ", "روژ"},
	{"tatweel and harakat", "بـَـەڵـێ", "بهلی"},
	{"yeh hamza kept", "ئەوە", "ئهوه"},
	{"arabic no", "لا", "لا"},
	{"teh marbuta and kaf", "شكرا جزيلا يا مدرسة", "شکرا جزیلا یا مدرسه"},
	{"invalid utf8", "a\xffb", "a b"},
	{"only punctuation", "?!...", ""},
}

func TestIsSpaceMatchesUnicode(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isSpace(r) != unicode.IsSpace(r) {
			t.Errorf("isSpace(%U) = %v, unicode.IsSpace = %v", r, isSpace(r), unicode.IsSpace(r))
		}
	}
}

// Every precomposed Latin letter is in the ranges foldLetter decomposes.
func TestFoldLatinRanges(t *testing.T) {
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !unicode.Is(unicode.Latin, r) || !norm.NFC.IsNormalString(string(r)) {
			continue
		}
		if d := norm.NFD.String(string(r)); d != string(r) && foldLetter(r) == r && unicode.ToLower(r) == r {
			t.Errorf("%U %c decomposes to %+q but is not folded", r, r, d)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range normalizeTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%+q) = %+q; want %+q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFold(t *testing.T) {
	for _, tc := range foldTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fold(tc.in); got != tc.want {
				t.Errorf("Fold(%+q) = %+q; want %+q", tc.in, got, tc.want)
			}
		})
	}
}

// What people type for the same answer must fold to the same string.
func TestFoldEquivalents(t *testing.T) {
	groups := [][]string{
		{"بەڵێ", "بهلی", "بەلێ", "بـەڵـێ", "بەڵێ.", " بەڵی "},
		{"نەخێر", "نهخیر", "نەخیر!"},
		{"نعم", "نعم.", "نَعَم", "«نعم»"},
		{"شكرا", "شکرا", "شكراً", "ﺷﻜﺮﺍ"},
		{"Erê", "ere", "ERÊ", "erê.", "Ere!"},
		{"1", "١", "۱", "1)", "1️⃣", "１", "#1"},
		{"07701234567", "٠٧٧٠١٢٣٤٥٦٧", "۰۷۷۰۱۲۳۴۵۶۷"},
		{"علي", "علی", "على"},
	}
	for _, g := range groups {
		want := Fold(g[0])
		for _, s := range g[1:] {
			if got := Fold(s); got != want {
				t.Errorf("Fold(%+q) = %+q; want %+q like Fold(%+q)", s, got, want, g[0])
			}
		}
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, s := range normalizeIdempotenceInputs() {
		n := Normalize(s)
		if again := Normalize(n); again != n {
			t.Errorf("Normalize not idempotent on %+q: %+q then %+q", s, n, again)
		}
	}
}

func TestFoldIdempotent(t *testing.T) {
	for _, s := range normalizeIdempotenceInputs() {
		f := Fold(s)
		if again := Fold(f); again != f {
			t.Errorf("Fold not idempotent on %+q: %+q then %+q", s, f, again)
		}
		if viaNormalize := Fold(Normalize(s)); viaNormalize != f {
			t.Errorf("Fold(Normalize(%+q)) = %+q; Fold = %+q", s, viaNormalize, f)
		}
	}
}

func normalizeIdempotenceInputs() []string {
	var in []string
	for _, tc := range normalizeTests {
		in = append(in, tc.in, tc.want)
	}
	for _, tc := range foldTests {
		in = append(in, tc.in, tc.want)
	}
	return append(in,
		"か\uFE0F\u3099",                  // variation selector between kana and voicing mark
		"a\u0301\u0483",                  // dropped then kept mark
		"1\u0301.5",                      // dropped mark between digit and dot
		"\u0301\u0301a",                  // leading marks
		"ﷺ",                              // long compatibility expansion
		"ﹰ",                              // isolated tanween presentation form
		"Ǆ ǅ ǆ",                          // digraphs with title case
		"\u0958\u093C",                   // composition exclusion
		"ﬀ",                              // Latin ligature (not expanded)
		"ä\u0640\u0308",                  // accent after tatweel after accented letter
		"e\u200B\u0301\u0323",            // accents out of canonical order once the ZWSP goes
		"a"+strings.Repeat("\u0483", 70), // NFC inserts U+034F into long runs of marks
		"a"+strings.Repeat("\u0301\u0483", 40),
		"ب"+strings.Repeat("\u0610\u064E", 40),
	)
}

// A long message of the kind people send, mixing scripts, digits and punctuation.
func normalizeLongMessage(n int) string {
	const chunk = "السلام عليكم، أريد تقديم شكوى عن التوزيع. رقم هاتفي ٠٧٧٠١٢٣٤٥٦٧ — " +
		"سڵاو، من سکاڵام هەیە لەسەر دابەشکردن! Silav, min gilîyek heye. "
	r := []rune(strings.Repeat(chunk, n/utf8.RuneCountInString(chunk)+1))
	return string(r[:n])
}

func TestNormalizeLongInput(t *testing.T) {
	s := normalizeLongMessage(10000)
	n := Normalize(s)
	if strings.ContainsAny(n, "٠١٢٣٤٥٦٧٨٩يكةأ") || strings.Contains(n, "  ") {
		t.Error("Normalize left variants or double spaces in a long message")
	}
	f := Fold(s)
	if Fold(f) != f || strings.ContainsAny(f, "،.!—ەڵێ") {
		t.Error("Fold left punctuation or Kurdish letters in a long message")
	}
}

// checkNormalized reports why out is not a possible result of Normalize, or "".
func checkNormalized(out string) string {
	if !utf8.ValidString(out) {
		return "invalid UTF-8"
	}
	if !norm.NFC.IsNormalString(out) {
		return "not NFC"
	}
	if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
		return "untrimmed or doubled space"
	}
	for _, r := range out {
		switch {
		case r != ' ' && unicode.IsSpace(r):
			return "whitespace other than ASCII space"
		case normalizeDrops(r):
			return "a character Normalize removes"
		case normalizeMaps(r) != r:
			return "a character Normalize replaces"
		}
	}
	return ""
}

func FuzzNormalize(f *testing.F) {
	for _, tc := range normalizeTests {
		f.Add(tc.in)
	}
	for _, s := range normalizeIdempotenceInputs() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Normalize(s)
		if why := checkNormalized(out); why != "" {
			t.Fatalf("Normalize(%+q) = %+q: %s", s, out, why)
		}
		if again := Normalize(out); again != out {
			t.Fatalf("Normalize not idempotent on %+q: %+q then %+q", s, out, again)
		}
		// After invalid bytes are replaced and NFC applied, Normalize only removes runes and
		// replaces them one for one. NFC itself may lengthen a string: composition
		// exclusions such as U+0958 decompose, and U+034F is inserted into long runs of marks.
		valid := strings.ToValidUTF8(s, "\uFFFD")
		if n, max := utf8.RuneCountInString(out), utf8.RuneCountInString(norm.NFC.String(valid)); n > max {
			t.Fatalf("Normalize(%+q) has %d runes, more than NFC's %d", s, n, max)
		}
		if len(out) > 0 && len(s) == 0 {
			t.Fatalf("Normalize(%+q) = %+q", s, out)
		}
	})
}

func FuzzFold(f *testing.F) {
	for _, tc := range foldTests {
		f.Add(tc.in)
	}
	for _, s := range normalizeIdempotenceInputs() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Fold(s)
		if why := checkNormalized(out); why != "" {
			t.Fatalf("Fold(%+q) = %+q: %s", s, out, why)
		}
		if again := Fold(out); again != out {
			t.Fatalf("Fold not idempotent on %+q: %+q then %+q", s, out, again)
		}
		if via := Fold(Normalize(s)); via != out {
			t.Fatalf("Fold(Normalize(%+q)) = %+q; Fold = %+q", s, via, out)
		}
		if Normalize(out) != out {
			t.Fatalf("Fold(%+q) = %+q is not normalised", s, out)
		}
		rs := []rune(out)
		for i, r := range rs {
			switch {
			case unicode.ToLower(r) != r:
				t.Fatalf("Fold(%+q) = %+q: upper case %q", s, out, r)
			case unicode.IsLetter(r), unicode.IsNumber(r):
			case unicode.IsMark(r):
				if i == 0 || rs[i-1] == ' ' || foldDrops(r) {
					t.Fatalf("Fold(%+q) = %+q: stray mark %+q", s, out, r)
				}
			case r == ' ':
			case r == '.' || r == ',':
				if i == 0 || i == len(rs)-1 || !unicode.IsDigit(rs[i-1]) || !unicode.IsDigit(rs[i+1]) {
					t.Fatalf("Fold(%+q) = %+q: %q outside a number", s, out, r)
				}
			default:
				t.Fatalf("Fold(%+q) = %+q: kept %+q", s, out, r)
			}
		}
		// Without compatibility forms to expand, folding never adds characters.
		if !strings.ContainsFunc(s, isCompatForm) {
			if n, max := utf8.RuneCountInString(out), utf8.RuneCountInString(Normalize(s)); n > max {
				t.Fatalf("Fold(%+q) has %d runes, more than Normalize's %d", s, n, max)
			}
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	benchmarkNormalizer(b, Normalize)
}

func BenchmarkFold(b *testing.B) {
	benchmarkNormalizer(b, Fold)
}

func benchmarkNormalizer(b *testing.B, fn func(string) string) {
	inputs := []struct{ name, s string }{
		{"arabic-40", "مرحبا، لم أستلم السلة الغذائية هذا الشهر"},
		{"clean-40", Fold("مرحبا، لم أستلم السلة الغذائية هذا الشهر")},
		{"mixed-10000", normalizeLongMessage(10000)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.s)))
			b.ReportAllocs()
			for b.Loop() {
				fn(in.s)
			}
		})
	}
}
