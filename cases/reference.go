package cases

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ReferenceLen is the number of digits in a case reference, check digit included.
const ReferenceLen = 8

// Reference is a case reference in canonical form: 8 ASCII digits, no spaces, the first one
// 1–9 and the last one a Damm check digit over the first seven.
//
// References are what a person is given to follow up on a case, so they are built for being
// read out on a phone line and typed on a keypad: digits only, short, and checked. The Damm
// check digit catches every single mistyped digit and every swap of two neighbouring
// digits. References are drawn at random, so nobody can find other people's cases by
// counting up from their own.
type Reference string

// Errors returned by [ParseReference]. Each returned error wraps exactly one of them, so
// callers can tell them apart with errors.Is and reply accordingly.
var (
	// ErrReferenceFormat: the input contains something that is neither a digit nor a
	// separator, such as a letter.
	ErrReferenceFormat = errors.New("case reference: only digits are allowed")
	// ErrReferenceLength: the input does not contain exactly 8 digits.
	ErrReferenceLength = errors.New("case reference: must be 8 digits")
	// ErrReferenceChecksum: 8 digits, but not a reference we could have issued: it was
	// almost certainly mistyped or misheard.
	ErrReferenceChecksum = errors.New("case reference: check digit does not match")
)

// dammTable is the Damm quasigroup of order 10 (weakly totally anti-symmetric), as
// published by H. Michael Damm (2004). It is an array, so it cannot be modified.
var dammTable = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammInterim runs the Damm algorithm over digits. ok is false if digits contains anything
// other than ASCII digits.
func dammInterim(digits string) (interim byte, ok bool) {
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		interim = dammTable[interim][c-'0']
	}
	return interim, true
}

// DammDigit returns the Damm check digit (as an ASCII digit, '0'–'9') to append to digits.
// ok is false if digits contains anything other than ASCII digits.
//
// For example the check digit of "572" is '4', and "5724" is valid.
func DammDigit(digits string) (check byte, ok bool) {
	interim, ok := dammInterim(digits)
	if !ok {
		return 0, false
	}
	return '0' + interim, true
}

// DammValid reports whether digits is a non-empty string of ASCII digits whose last digit is
// the Damm check digit of the ones before it.
func DammValid(digits string) bool {
	interim, ok := dammInterim(digits)
	return ok && digits != "" && interim == 0
}

// NewReference draws a new random reference from rng. In production rng must be seeded
// from crypto/rand (for example rand.New(rand.NewChaCha8(seed)) with a random seed), so
// that references cannot be predicted; tests pass a fixed seed to get repeatable
// references. rng must not be nil.
//
// There are 9,000,000 possible references. The caller (the store) must still check that a
// new reference is not already in use and draw again if it is.
func NewReference(rng *rand.Rand) Reference {
	// 7 digits, the first one 1–9.
	n := 1_000_000 + rng.IntN(9_000_000)
	var buf [ReferenceLen]byte
	b := strconv.AppendInt(buf[:0], int64(n), 10)
	check, _ := DammDigit(string(b))
	return Reference(append(b, check))
}

// ParseReference reads a reference as a person typed or dictated it. It accepts ASCII
// digits, Arabic-Indic digits (٠–٩) and Extended Arabic-Indic (Persian, Kurdish) digits
// (۰–۹), mixed freely, with any whitespace (including no-break spaces), dashes, dots,
// zero-width characters and bidirectional marks anywhere, and returns the canonical
// 8-digit form.
//
// Errors wrap ErrReferenceFormat if the input contains anything else (letters, other
// symbols, invalid UTF-8), ErrReferenceLength if it does not hold exactly 8 digits (an
// empty input included), and ErrReferenceChecksum if the check digit does not match.
//
// An 8-digit input starting with 0 is reported as ErrReferenceChecksum, not as a format
// error: no reference starts with 0, so the person can only have mistyped or misheard it,
// and "please check the number" is the right reply.
func ParseReference(input string) (Reference, error) {
	var buf [ReferenceLen]byte
	n := 0
	for i, r := range input {
		var d byte
		switch {
		case r >= '0' && r <= '9':
			d = byte(r - '0')
		case r >= '٠' && r <= '٩': // U+0660–U+0669
			d = byte(r - '٠')
		case r >= '۰' && r <= '۹': // U+06F0–U+06F9
			d = byte(r - '۰')
		case r == utf8.RuneError && isInvalidAt(input, i):
			return "", fmt.Errorf("%w (invalid UTF-8)", ErrReferenceFormat)
		case isReferenceSeparator(r):
			continue
		default:
			return "", fmt.Errorf("%w (found %q)", ErrReferenceFormat, r)
		}
		if n < ReferenceLen {
			buf[n] = '0' + d
		}
		n++
	}
	if n != ReferenceLen {
		return "", fmt.Errorf("%w (found %d)", ErrReferenceLength, n)
	}
	s := string(buf[:])
	if buf[0] == '0' || !DammValid(s) {
		return "", ErrReferenceChecksum
	}
	return Reference(s), nil
}

// isInvalidAt reports whether the utf8.RuneError decoded at s[i:] stands for an invalid
// byte rather than a literal U+FFFD.
func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}

// isReferenceSeparator reports whether r may appear between the digits of a reference:
// whitespace, dashes, dots and invisible formatting characters.
func isReferenceSeparator(r rune) bool {
	switch r {
	case '-', '.',
		'\u00AD',                                                   // soft hyphen
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', // dashes
		'\u2212', '\uFE63', '\uFF0D', // minus signs
		'\u066B', '\u066C', '\u06D4', // Arabic decimal and thousands separators, Arabic full stop
		'\u061C', '\uFEFF': // Arabic letter mark, byte order mark
		return true
	}
	switch {
	case unicode.IsSpace(r):
		return true
	case r >= '\u200B' && r <= '\u200F', // zero-width space/joiners, LRM, RLM
		r >= '\u202A' && r <= '\u202E', // bidi embeddings and overrides
		r >= '\u2060' && r <= '\u2064', // word joiner, invisible operators
		r >= '\u2066' && r <= '\u2069': // bidi isolates
		return true
	}
	return false
}

// String returns the canonical form.
func (r Reference) String() string { return string(r) }

// Valid reports whether r is in canonical form: 8 ASCII digits, not starting with 0, with
// a matching check digit.
func (r Reference) Valid() bool {
	return len(r) == ReferenceLen && r[0] != '0' && DammValid(string(r))
}

// Display returns the reference grouped for reading out and copying: "4821 0937". A value
// that is not in canonical form is returned unchanged.
func (r Reference) Display() string {
	if len(r) != ReferenceLen {
		return string(r)
	}
	for i := 0; i < len(r); i++ {
		if r[i] < '0' || r[i] > '9' {
			return string(r)
		}
	}
	return string(r[:4]) + " " + string(r[4:])
}
