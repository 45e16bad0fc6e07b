package twilio

import (
	"strings"
)

// SMS segment sizes: GSM-7 text fits 160 characters in one message, 153 in each part of a
// concatenated one; anything else (Arabic script) is sent as UCS-2, 70 and 67 UTF-16 units.
const (
	gsmSingle, gsmPart   = 160, 153
	ucs2Single, ucs2Part = 70, 67
)

// gsmBasic and gsmExtended are the GSM 03.38 alphabet: basic characters take one septet,
// extended ones two (an escape and the character).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)

// Segments is how many SMS segments text needs, and whether it goes as UCS-2.
func Segments(text string) (n int, ucs2 bool) {
	if text == "" {
		return 0, false
	}
	units, ucs2 := length(text)
	single, part := gsmSingle, gsmPart
	if ucs2 {
		single, part = ucs2Single, ucs2Part
	}
	if units <= single {
		return 1, ucs2
	}
	return (units + part - 1) / part, ucs2
}

// length counts text in the units of its encoding: septets for GSM-7, UTF-16 code units for
// UCS-2 (a character outside the basic plane, an emoji, takes two).
func length(text string) (units int, ucs2 bool) {
	septets := 0
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtended, r):
			septets += 2
		default:
			ucs2 = true
		}
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	if ucs2 {
		return units, true
	}
	return septets, false
}

// Split cuts text into messages of at most maxSegments segments each: at line breaks where it
// can, else at spaces, else (one very long word) between characters.
func Split(text string, maxSegments int) []string {
	if maxSegments < 1 {
		maxSegments = 1
	}
	if n, _ := Segments(text); n <= maxSegments {
		return []string{text}
	}
	fits := func(s string) bool { n, _ := Segments(s); return n <= maxSegments }
	var out []string
	cur := ""
	flush := func() { // a part of blank lines alone would be an empty SMS
		if strings.TrimSpace(cur) != "" {
			out = append(out, cur)
		}
		cur = ""
	}
	add := func(piece, sep string) {
		switch {
		case cur == "":
			cur = piece
		case fits(cur + sep + piece):
			cur += sep + piece
		default:
			flush()
			cur = piece
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if fits(line) {
			add(line, "\n")
			continue
		}
		for i, word := range strings.Fields(line) {
			sep := " "
			if i == 0 {
				sep = "\n"
			}
			for !fits(word) { // a word longer than a message: cut it
				cut := longestFitting(word, fits)
				flush()
				out = append(out, word[:cut])
				word = word[cut:]
			}
			add(word, sep)
		}
	}
	flush()
	return out
}

// longestFitting is the length in bytes of the longest prefix of word, cut between runes, that
// fits (at least one rune): a binary search, since counting segments is linear.
func longestFitting(word string, fits func(string) bool) int {
	bounds := make([]int, 0, len(word))
	for i := range word {
		if i > 0 {
			bounds = append(bounds, i)
		}
	}
	bounds = append(bounds, len(word))
	lo, hi := 0, len(bounds)-1 // bounds[lo] always kept: one rune fits any message
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(word[:bounds[mid]]) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return bounds[lo]
}
