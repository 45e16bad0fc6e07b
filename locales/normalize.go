package locales

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize is the canonical form used before matching what a person typed. It does not
// change letter case.
//
// It applies Unicode NFC, then in one pass:
//   - Arabic-Indic digits (٠–٩) and Extended Arabic-Indic digits (۰–۹) become ASCII 0–9;
//   - tatweel (ـ), Arabic harakat and Quranic annotation marks are removed;
//   - zero-width characters, bidirectional marks, the byte order mark and soft hyphens are
//     removed;
//   - a combining grapheme joiner (U+034F) is removed with the marks that follow it: NFC
//     inserts one after 30 combining marks in a row, which only garbage ("Zalgo") text
//     has, so the run is cut there;
//   - letter variants that depend on the keyboard are unified: ك → ک, ي and ى → ی,
//     ة and ۀ → ه, أ إ آ ٱ → ا, ؤ → و (ئ is kept: Kurdish uses it as a vowel carrier);
//   - every run of whitespace (any Unicode space, newlines included) becomes one ASCII
//     space, and leading and trailing whitespace is removed;
//   - each run of invalid UTF-8 bytes becomes one U+FFFD, so the result is always valid
//     UTF-8.
//
// If removing characters leaves the text no longer in NFC (a combining mark that a
// removed tatweel or zero-width character kept apart from its letter), the pass is
// repeated, so that Normalize(Normalize(s)) == Normalize(s) always holds.
//
// It allocates nothing when s is already normalised and otherwise one string, plus one
// in the rare cases that s is not valid UTF-8 or not already in NFC.
func Normalize(s string) string {
	if !utf8.ValidString(s) {
		// Before NFC, which leaves text next to invalid bytes unnormalised.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = norm.NFC.String(s)
	out, changed := normalizePass(s)
	for i := 0; changed && i < maxRounds && !isNFC(out); i++ {
		out, changed = normalizePass(norm.NFC.String(out))
	}
	return out
}

// Fold is Normalize plus what makes matching tolerant:
//   - lower case;
//   - Latin diacritics dropped (î → i, ê → e, û → u, ç → c, ş → s, é → e, and dotless
//     ı → i), as are other combining diacritics, variation selectors and the keycap mark
//     (so the emoji 1️⃣ folds to 1);
//   - Kurdish letters folded to the Arabic-keyboard letters people type instead:
//     ە and ھ → ه, ێ → ی, ۆ ۊ ۇ → و, ڵ → ل, ڕ → ر, ڤ → ف;
//   - Arabic presentation forms (such as the ligature ﻻ) and full-width forms replaced by
//     their ordinary letters and digits (Unicode compatibility mapping);
//   - only letters, numbers and the marks on them are kept: punctuation, symbols
//     (including Arabic ، ؛ ؟ and emoji) and control characters at either end are
//     removed, and every run of them or of whitespace inside the text becomes one space.
//     The exception is a single . or , (or Arabic ٫ ٬, which become . and ,) between two
//     digits: it is part of a number and kept ("1.5" stays "1.5").
//
// Fold(Fold(s)) == Fold(s) and Fold(Normalize(s)) == Fold(s) always hold.
func Fold(s string) string {
	out := foldOnce(s)
	for i := 0; i < maxRounds && !isNFC(out); i++ {
		out = foldOnce(out)
	}
	return out
}

// isNFC reports whether s is in NFC. It is norm.NFC.IsNormalString without the
// allocation that function makes on every call.
func isNFC(s string) bool {
	return norm.NFC.QuickSpanString(s) == len(s) || norm.NFC.IsNormalString(s)
}

// maxRounds bounds the re-normalisation in Normalize and Fold. In practice one extra
// round is the most ever needed; the bound only guards against looping forever.
const maxRounds = 4

// normalizePass does the work of Normalize on an NFC string, except the NFC itself.
// changed is false if s was already normalised, and then s itself is returned.
func normalizePass(s string) (out string, changed bool) {
	i := firstNormalizeChange(s)
	if i == len(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i]) // never ends with a space: see firstNormalizeChange
	wrote := i > 0       // something other than space has been written
	pending := false     // a space is due before the next character
	cutMarks := false    // marks are dropped: they follow a combining grapheme joiner
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			cutMarks = false
			if isASCIISpace(c) {
				pending = wrote
				continue
			}
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteByte(c)
			wrote = true
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size // s is valid UTF-8 (see Normalize); were it not, U+FFFD would be written
		if r == cgj {
			// NFC puts one after 30 combining marks in a row (the Unicode stream-safe
			// format). Cutting the run there keeps the result in NFC without it.
			cutMarks = true
			continue
		}
		if cutMarks {
			if unicode.IsMark(r) {
				continue
			}
			cutMarks = false
		}
		if isSpace(r) {
			pending = wrote
			continue
		}
		if normalizeDrops(r) {
			continue
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		b.WriteRune(normalizeMaps(r))
		wrote = true
	}
	return b.String(), true
}

// firstNormalizeChange returns the byte offset from which normalizePass must rebuild s,
// or len(s) if s is already normalised. The prefix before the offset is kept as it is, so
// the offset is moved back onto a single space that precedes the first change.
func firstNormalizeChange(s string) int {
	back := func(i int) int {
		if i > 0 && s[i-1] == ' ' {
			return i - 1
		}
		return i
	}
	prevSpace := true // a space here would be leading
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if prevSpace {
					return back(i)
				}
				prevSpace = true
			case isASCIISpace(c):
				return back(i)
			default:
				prevSpace = false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if size == 1 || isSpace(r) || normalizeDrops(r) || normalizeMaps(r) != r {
			return back(i)
		}
		prevSpace = false
		i += size
	}
	if len(s) > 0 && prevSpace {
		return len(s) - 1 // trailing space
	}
	return len(s)
}

// isSpace is unicode.IsSpace without the table search: the White_Space characters above
// Latin-1 are few and fixed (a test checks the two agree on every rune).
func isSpace(r rune) bool {
	if r < 0x100 {
		return r == ' ' || r >= '\t' && r <= '\r' || r == 0x85 || r == 0xA0
	}
	return r >= 0x2000 && r <= 0x200A || r == 0x2028 || r == 0x2029 || r == 0x202F ||
		r == 0x205F || r == 0x1680 || r == 0x3000
}

// cgj is U+034F COMBINING GRAPHEME JOINER.
const cgj = '\u034F'

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// normalizeDrops reports whether Normalize removes r.
func normalizeDrops(r rune) bool {
	switch {
	case r >= 0x0600 && r <= 0x06FF:
		return r == 0x0640 || // tatweel
			r >= 0x064B && r <= 0x065F || // harakat, tanween, shadda, sukun, hamza and other marks
			r == 0x0670 || // superscript alef
			r >= 0x06D6 && r <= 0x06DC || // Quranic annotation signs
			r >= 0x06DF && r <= 0x06E4 ||
			r >= 0x06E7 && r <= 0x06E8 ||
			r >= 0x06EA && r <= 0x06ED ||
			r == 0x061C // Arabic letter mark
	case r >= 0x2000 && r <= 0x206F:
		return r >= 0x200B && r <= 0x200F || // zero-width space, ZWNJ, ZWJ, LRM, RLM
			r >= 0x202A && r <= 0x202E || // bidi embeddings and overrides
			r >= 0x2060 && r <= 0x2064 || // word joiner, invisible operators
			r >= 0x2066 && r <= 0x2069 // bidi isolates
	}
	// Byte order mark (zero-width no-break space), soft hyphen, combining grapheme joiner.
	return r == 0xFEFF || r == 0x00AD || r == cgj
}

// normalizeMaps returns the rune Normalize writes for r (r itself if it is kept as is).
func normalizeMaps(r rune) rune {
	switch {
	case r >= 0x0660 && r <= 0x0669: // Arabic-Indic digits
		return '0' + r - 0x0660
	case r >= 0x06F0 && r <= 0x06F9: // Extended Arabic-Indic digits
		return '0' + r - 0x06F0
	}
	switch r {
	case 'ك': // U+0643 Arabic kaf
		return 'ک' // U+06A9 keheh
	case 'ي', 'ى': // U+064A Arabic yeh, U+0649 alef maksura
		return 'ی' // U+06CC Farsi yeh
	case 'ة', 'ۀ': // U+0629 teh marbuta, U+06C0 heh with yeh above
		return 'ه' // U+0647
	case 'أ', 'إ', 'آ', 'ٱ': // U+0623, U+0625, U+0622, U+0671
		return 'ا' // U+0627
	case 'ؤ': // U+0624
		return 'و' // U+0648
	}
	return r
}

// foldOnce is one round of Fold.
func foldOnce(s string) string {
	n := Normalize(s)
	out, ok := foldPass(n, true)
	if !ok {
		out, _ = foldPass(Normalize(expandCompatForms(n)), false)
	}
	return out
}

// foldPass does the work of Fold on a normalised string. If stopOnCompat is set and s
// holds a presentation or full-width form, it stops and returns ok == false: the caller
// expands those forms and calls it again.
func foldPass(s string, stopOnCompat bool) (out string, ok bool) {
	var b strings.Builder
	b.Grow(len(s))
	pending := false   // a space is due before the next letter or number
	inWord := false    // the last character kept was a letter, number or mark
	lastDigit := false // the last character written was a digit
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case stopOnCompat && isCompatForm(r):
			return "", false
		case foldDrops(r):
			// invisible for matching: the word (and a number) goes on
		case isLetterOrNumber(r):
			r = foldLetter(r)
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteRune(r)
			inWord = true
			lastDigit = isDigit(r)
		case inWord && r >= utf8.RuneSelf && unicode.IsMark(r):
			b.WriteRune(r)
			lastDigit = false
		case lastDigit && isNumberSeparator(r) && startsWithDigit(s[i:]):
			if r == '٫' {
				r = '.'
			} else if r == '٬' {
				r = ','
			}
			b.WriteRune(r)
			inWord, lastDigit = false, false
		default: // punctuation, symbols, spaces, controls, stray marks
			pending = b.Len() > 0
			inWord, lastDigit = false, false
		}
	}
	return b.String(), true
}

func isLetterOrNumber(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

func isDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsDigit(r)
}

// foldLetter returns the folded form of a letter or number.
func foldLetter(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	switch r {
	case 'ە', 'ھ': // U+06D5 ae, U+06BE heh doachashmee
		return 'ه'
	case 'ێ': // U+06CE
		return 'ی'
	case 'ۆ', 'ۊ', 'ۇ': // U+06C6, U+06CA, U+06C7
		return 'و'
	case 'ڵ': // U+06B5
		return 'ل'
	case 'ڕ': // U+0695
		return 'ر'
	case 'ڤ': // U+06A4
		return 'ف'
	case 'ı': // U+0131 dotless i (Turkish keyboards)
		return 'i'
	}
	if r >= 0x0600 && r <= 0x06FF {
		return r // Arabic script: no case, and Normalize has done the rest
	}
	r = unicode.ToLower(r)
	if r >= 0xC0 && r <= 0x24F || r >= 0x1E00 && r <= 0x1EFF {
		// Latin-1 Supplement, Latin Extended-A and -B and Latin Extended Additional hold
		// every precomposed Latin letter that NFC produces: keep the base letter of its
		// canonical decomposition.
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		if d := norm.NFD.Properties(buf[:n]).Decomposition(); len(d) > 0 {
			r, _ = utf8.DecodeRune(d)
		}
	}
	return r
}

// foldDrops reports whether Fold removes r wherever it is: combining diacritics (the
// Latin ones, once precomposed letters are decomposed), variation selectors and the
// combining marks for symbols such as the keycap.
func foldDrops(r rune) bool {
	return r >= 0x0300 && r <= 0x036F || // combining diacritical marks
		r >= 0x1AB0 && r <= 0x1AFF || // … extended
		r >= 0x1DC0 && r <= 0x1DFF || // … supplement
		r >= 0x20D0 && r <= 0x20FF || // … for symbols, including the keycap U+20E3
		r >= 0xFE20 && r <= 0xFE2F || // combining half marks
		r >= 0xFE00 && r <= 0xFE0F || // variation selectors (emoji presentation)
		r >= 0xE0100 && r <= 0xE01EF // variation selectors supplement
}

// isNumberSeparator reports whether r may sit between two digits of a number.
func isNumberSeparator(r rune) bool {
	return r == '.' || r == ',' || r == '٫' || r == '٬' // U+066B, U+066C
}

func startsWithDigit(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isDigit(r)
}

// isCompatForm reports whether r is an Arabic presentation form (contextual letter
// shapes and ligatures such as ﻻ, which some keyboards and old phones produce) or a
// half- or full-width form.
func isCompatForm(r rune) bool {
	return r >= 0xFB50 && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFE || r >= 0xFF00 && r <= 0xFFEF
}

// expandCompatForms replaces the runes isCompatForm selects by their compatibility
// decomposition (NFKD; the caller then normalises to NFC) and leaves everything else as
// it is.
func expandCompatForms(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i, r := range s {
		if isCompatForm(r) {
			if d := norm.NFKD.PropertiesString(s[i:]).Decomposition(); len(d) > 0 {
				b.Write(d)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
