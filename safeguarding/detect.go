package safeguarding

import (
	"strings"
	"unicode/utf8"

	"github.com/sawt/sawt/locales"
)

// detectWordsKey is the text of each language that lists the words of concern.
const detectWordsKey = "sea.detect.words"

// minPrefix is the length, in letters, from which a keyword's word also matches the start of
// a longer word ("harass" in "harassed", "تحرش" in "تحرشات"). A shorter word matches only as a
// whole word — in Arabic script also with an attached ending — so that "sex" does not match
// "Sussex" or "sextant", nor "جنس" match "الجنسية" (nationality).
const minPrefix = 4

// endings are the pronoun and plural endings that may follow a short Arabic-script word:
// Arabic (لمسني، عليها، طلبت) and Kurdish (بردم، کردە). "یه" is left out on purpose: جنس + یه
// is جنسیه, nationality.
var endings = map[string]bool{
	"ی": true, "ه": true, "ها": true, "هم": true, "هن": true, "ک": true, "کم": true, "کن": true,
	"نا": true, "نی": true, "وا": true, "ا": true, "ات": true, "ان": true, "ین": true, "ون": true,
	"ت": true, "تم": true, "م": true, "مان": true, "تان": true, "یان": true, "ن": true, "یک": true,
}

// Detector finds words that suggest a report of sexual exploitation or abuse, in any of the
// four languages. It is built once and is safe for concurrent use.
//
// A keyword is one item of a language's sea.detect.words: one word or a phrase of several.
// It matches when its words are consecutive words of the folded message (locales.Fold), each
// one either the whole message word or, when it has at least four letters, the start of it.
// In Arabic script a message word may carry attached particles before the keyword's word:
// a conjunction (و ف), then a preposition (ب ل ك) and the article (ال), or لل — so "والتحرش",
// "بالتحرش" and "للتحرش" match "تحرش". A short Arabic-script word may also carry one
// attached ending (see endings).
type Detector struct {
	keywords []keyword
	// byStart indexes the keywords by the first two letters of their first word (the whole
	// word when it has one letter).
	byStart map[string][]int32
	// oneLetter: some keyword's first word has a single letter.
	oneLetter bool
}

type keyword struct {
	words []word
	langs uint8 // bit i: the keyword is in the list of locales.Languages[i]
}

type word struct {
	text   string // folded
	whole  bool   // fewer than minPrefix letters: matches only a whole word
	arabic bool   // Arabic script: may carry an attached ending when whole
}

// NewDetector builds it from the sea.detect.words of every language in the catalog. The same
// keyword in several languages is kept once, with all of them. A nil catalog, or one without
// the words, gives a detector that finds nothing.
func NewDetector(texts *locales.Catalog) *Detector {
	d := &Detector{byStart: map[string][]int32{}}
	if texts == nil {
		return d
	}
	index := map[string]int{} // folded keyword → its index in d.keywords
	for i, lang := range locales.Languages {
		for _, item := range texts.Words(lang, detectWordsKey) {
			if k, ok := index[item]; ok {
				d.keywords[k].langs |= 1 << i
				continue
			}
			fields := strings.Fields(item)
			if len(fields) == 0 {
				continue
			}
			kw := keyword{langs: 1 << i, words: make([]word, len(fields))}
			for j, f := range fields {
				r, _ := utf8.DecodeRuneInString(f)
				kw.words[j] = word{
					text:   f,
					whole:  utf8.RuneCountInString(f) < minPrefix,
					arabic: r >= 0x0600 && r <= 0x06FF,
				}
			}
			index[item] = len(d.keywords)
			start := startKey(fields[0])
			if len(start) == len(fields[0]) && utf8.RuneCountInString(start) == 1 {
				d.oneLetter = true
			}
			d.byStart[start] = append(d.byStart[start], int32(len(d.keywords)))
			d.keywords = append(d.keywords, kw)
		}
	}
	return d
}

// startKey is the first two letters of w, or w if it is shorter.
func startKey(w string) string {
	_, n1 := utf8.DecodeRuneInString(w)
	if n1 >= len(w) {
		return w
	}
	_, n2 := utf8.DecodeRuneInString(w[n1:])
	return w[:n1+n2]
}

// Match reports whether text (as the person typed it; Match folds it itself with
// locales.Fold) contains one of the words, and the language of the first word found ("" if
// none). When the first word found is in the lists of several languages (Sorani and Badini
// share many), the language is the one of those with the most keywords in the whole message,
// and on a tie the first in locales.Languages.
func (d *Detector) Match(text string) (lang string, ok bool) {
	if d == nil || len(d.keywords) == 0 {
		return "", false
	}
	return d.find(locales.Fold(text))
}

// MatchFolded is Match on a text already folded with locales.Fold (the engine folds every
// message once): most of Match's time is folding.
func (d *Detector) MatchFolded(folded string) (lang string, ok bool) {
	if d == nil || len(d.keywords) == 0 {
		return "", false
	}
	return d.find(folded)
}

// find is Match on a folded text.
func (d *Detector) find(folded string) (lang string, ok bool) {
	for rest := folded; rest != ""; {
		tok, next := cut(rest)
		if langs := d.matchAt(tok, next, nil); langs != 0 {
			return d.language(folded, langs), true
		}
		rest = next
	}
	return "", false
}

// cut splits a folded text at its first space: the first word and the text after it.
func cut(s string) (tok, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// matchAt returns the languages of the keywords that match starting at the word tok, rest
// being the text after it. When seen is not nil, it marks every keyword that matches.
func (d *Detector) matchAt(tok, rest string, seen []bool) uint8 {
	var langs uint8
	offs, n := stems(tok)
	for _, o := range offs[:n] {
		s := tok[o:]
		start := startKey(s)
		langs |= d.matchFirst(d.byStart[start], s, rest, seen)
		if d.oneLetter && len(start) > 0 {
			_, size := utf8.DecodeRuneInString(s)
			if size < len(start) {
				langs |= d.matchFirst(d.byStart[s[:size]], s, rest, seen)
			}
		}
	}
	return langs
}

// matchFirst checks the keywords ks, whose first word may start s (a word of the message
// without its attached particles).
func (d *Detector) matchFirst(ks []int32, s, rest string, seen []bool) uint8 {
	var langs uint8
	for _, k := range ks {
		kw := &d.keywords[k]
		if !matchWord(s, kw.words[0]) || !matchWords(rest, kw.words[1:]) {
			continue
		}
		langs |= kw.langs
		if seen != nil {
			seen[k] = true
		}
	}
	return langs
}

// matchWords reports whether the words of text begin with words, one message word each.
func matchWords(text string, words []word) bool {
	for _, w := range words {
		if text == "" {
			return false
		}
		tok, rest := cut(text)
		if !matchToken(tok, w) {
			return false
		}
		text = rest
	}
	return true
}

// matchToken reports whether the message word tok is w, with or without attached particles.
func matchToken(tok string, w word) bool {
	offs, n := stems(tok)
	for _, o := range offs[:n] {
		if matchWord(tok[o:], w) {
			return true
		}
	}
	return false
}

// matchWord reports whether s (a message word without its attached particles) is w or, as
// w's length allows, starts with it.
func matchWord(s string, w word) bool {
	if !strings.HasPrefix(s, w.text) {
		return false
	}
	tail := s[len(w.text):]
	return tail == "" || !w.whole || w.arabic && endings[tail]
}

// maxStems bounds the ways a word can be read with particles removed (see stems).
const maxStems = 8

// Arabic particles, folded (ك is ک after locales.Fold).
const (
	alifLam = "ال"
	lamLam  = "لل"
)

// stems returns the byte offsets in tok at which a keyword's word may begin: 0, and in
// Arabic script each offset after attached particles: a conjunction و or ف, then a
// preposition ب ل ک and the article ال, or لل (ل with the article, its alif dropped). Every
// reading is tried, since a word may itself begin with those letters (بنت، لمس).
func stems(tok string) (offs [maxStems]int, n int) {
	add := func(o int) {
		if o >= len(tok) || n == maxStems {
			return
		}
		for _, p := range offs[:n] {
			if p == o {
				return
			}
		}
		offs[n] = o
		n++
	}
	add(0)
	if len(tok) < 4 || tok[0] < 0xD8 || tok[0] > 0xDB { // not two Arabic-script letters
		return offs, n
	}
	bases := [2]int{0, -1}
	if r, size := utf8.DecodeRuneInString(tok); r == 'و' || r == 'ف' {
		bases[1] = size
		add(size)
	}
	for _, b := range bases {
		if b < 0 {
			continue
		}
		t := tok[b:]
		r, size := utf8.DecodeRuneInString(t)
		switch r {
		case 'ب', 'ل', 'ک':
			add(b + size)
			if strings.HasPrefix(t[size:], alifLam) {
				add(b + size + len(alifLam))
			}
		}
		if strings.HasPrefix(t, alifLam) {
			add(b + len(alifLam))
		}
		if strings.HasPrefix(t, lamLam) {
			add(b + len(lamLam))
		}
	}
	return offs, n
}

// language chooses the language reported for a match whose first keyword is in the lists of
// langs (a bit set over locales.Languages).
func (d *Detector) language(folded string, langs uint8) string {
	if langs&(langs-1) != 0 { // more than one: count each one's keywords in the whole message
		seen := make([]bool, len(d.keywords))
		for rest := folded; rest != ""; {
			tok, next := cut(rest)
			d.matchAt(tok, next, seen)
			rest = next
		}
		var counts [8]int
		for k, ok := range seen {
			if !ok {
				continue
			}
			for i := range locales.Languages {
				if d.keywords[k].langs&langs&(1<<i) != 0 {
					counts[i]++
				}
			}
		}
		best := -1
		for i := range locales.Languages {
			if langs&(1<<i) != 0 && (best < 0 || counts[i] > counts[best]) {
				best = i
			}
		}
		langs = 1 << best
	}
	for i, lang := range locales.Languages {
		if langs&(1<<i) != 0 {
			return lang
		}
	}
	return ""
}
