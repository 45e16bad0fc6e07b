// Package locales holds every text Sawt says, in Arabic, Sorani, Badini and English, and the
// rules for reading what people type: normalisation of Arabic-script input and the languages'
// fallback chain. Texts are go-i18n message files embedded in the binary; code refers to them
// by key and never carries prose of its own.
package locales

import (
	"golang.org/x/text/language"
)

// The languages Sawt speaks. Badini keeps its own name everywhere (config, database, URLs);
// only the message bundle knows it by a BCP 47 tag.
const (
	Arabic  = "ar"
	Sorani  = "ckb"
	Badini  = "badini"
	English = "en"
)

// Languages lists the served languages in the order they are offered.
var Languages = []string{Arabic, Sorani, Badini, English}

// Valid reports whether lang is one of the served languages.
func Valid(lang string) bool {
	switch lang {
	case Arabic, Sorani, Badini, English:
		return true
	}
	return false
}

// Tag is the go-i18n tag of a served language. go-i18n has no plural rule for kmr (Kurmanji)
// and no public way to register one; ku-Arab resolves to the Kurdish rule (one/other), which
// is Kurmanji's, so Badini is loaded under it.
func Tag(lang string) language.Tag {
	switch lang {
	case Badini:
		return language.MustParse("ku-Arab")
	case Sorani:
		return language.MustParse("ckb")
	case Arabic:
		return language.Arabic
	}
	return language.English
}

// Fallbacks is the order in which languages are tried for a text: Badini → Sorani → Arabic →
// English. People in Duhok mostly read Sorani and Arabic better than English.
func Fallbacks(lang string) []string {
	switch lang {
	case Badini:
		return []string{Badini, Sorani, Arabic, English}
	case Sorani:
		return []string{Sorani, Arabic, English}
	case Arabic:
		return []string{Arabic, English}
	}
	return []string{English}
}

// RTL reports whether lang is written right to left.
func RTL(lang string) bool { return lang != English }

// FromHint maps a provider's language code (Telegram's language_code, an Accept-Language tag)
// to a served language, or "" when none fits. Kurdish without a script or region is not
// decided: Sorani and Badini speakers both send "ku".
func FromHint(hint string) string {
	tag, err := language.Parse(hint)
	if err != nil {
		return ""
	}
	base, _ := tag.Base()
	switch base.String() {
	case "ar":
		return Arabic
	case "ckb":
		return Sorani
	case "kmr":
		return Badini
	case "en":
		return English
	}
	return ""
}
