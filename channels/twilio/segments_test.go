package twilio_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/twilio"
)

func TestSegments(t *testing.T) {
	r := strings.Repeat
	for _, tc := range []struct {
		name string
		text string
		n    int
		ucs2 bool
	}{
		{"empty", "", 0, false},
		{"GSM 160", r("a", 160), 1, false},
		{"GSM 161", r("a", 161), 2, false},
		{"GSM 306", r("a", 306), 2, false},
		{"GSM 307", r("a", 307), 3, false},
		{"GSM 459", r("a", 459), 3, false},
		{"GSM 460", r("a", 460), 4, false},
		{"GSM accents and symbols", "Café à Düsseldorf: 5£ / 7¥ @ 10:00", 1, false},
		{"one character outside GSM makes UCS-2", "Café à Düsseldorf: 5£ / 7¥ @ 10:00 — no", 1, true}, // the dash
		{"GSM basic accents", r("é", 160), 1, false},
		{"euro counts 2", r("€", 80), 1, false},
		{"euro counts 2, one more", r("€", 81), 2, false},
		{"extended at the edge", r("a", 159) + "€", 2, false},
		{"brackets count 2", r("[", 80), 1, false},
		{"newlines are GSM", r("a\n", 80), 1, false},
		{"Arabic 70", r("ب", 70), 1, true},
		{"Arabic 71", r("ب", 71), 2, true},
		{"Arabic 134", r("ب", 134), 2, true},
		{"Arabic 135", r("ب", 135), 3, true},
		{"Arabic-Indic digits", "رقم شكواك ١٢٣٤ ٥٦٧٨", 1, true},
		{"Sorani", "سڵاو، چۆنی؟ ئێمە لێرەین بۆ یارمەتیدانت.", 1, true},
		{"Sorani 71", r("ێ", 71), 2, true},
		{"Badini", r("ە", 68) + "ۆێ", 1, true},
		{"one Arabic letter makes all UCS-2", r("a", 69) + "ب", 1, true},
		{"one Arabic letter makes all UCS-2, 71", r("a", 70) + "ب", 2, true},
		{"emoji is 2 units", r("😀", 35), 1, true},
		{"emoji is 2 units, 36", r("😀", 36), 2, true},
		{"emoji at the edge", r("ب", 69) + "😀", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, ucs2 := twilio.Segments(tc.text)
			if n != tc.n || ucs2 != tc.ucs2 {
				t.Errorf("Segments = %d, UCS-2 %v; want %d, %v", n, ucs2, tc.n, tc.ucs2)
			}
			// The fake Twilio counts independently what Twilio bills.
			if tc.text != "" && n != channeltest.SMSSegments(tc.text) {
				t.Errorf("Segments = %d, the fake Twilio counts %d", n, channeltest.SMSSegments(tc.text))
			}
		})
	}
}

// checkSplit checks what Split must always give for text and max.
func checkSplit(t *testing.T, text string, max int) []string {
	t.Helper()
	parts := twilio.Split(text, max)
	if n, _ := twilio.Segments(text); n <= max {
		if len(parts) != 1 || parts[0] != text {
			t.Fatalf("text of %d segments split into %q, want it whole", n, parts)
		}
		return parts
	}
	for i, p := range parts {
		if strings.TrimSpace(p) == "" {
			t.Errorf("part %d of %d is empty: %q", i, len(parts), p)
		}
		if !utf8.ValidString(p) {
			t.Errorf("part %d breaks a character: %q", i, p)
		}
		if n, _ := twilio.Segments(p); n > max {
			t.Errorf("part %d has %d segments, max %d: %q", i, n, max, p)
		}
	}
	// Nothing is lost or reordered: the same characters, whitespace aside ...
	if got, want := strings.Join(strings.Fields(strings.Join(parts, "")), ""), strings.Join(strings.Fields(text), ""); got != want {
		t.Fatalf("parts %q do not make the text again", parts)
	}
	// ... and the same words, unless a word longer than a message had to be cut.
	words := strings.Fields(text)
	cut := false
	for _, w := range words {
		if n, _ := twilio.Segments(w); n > max {
			cut = true
		}
	}
	if got := strings.Fields(strings.Join(parts, " ")); !cut && !slices.Equal(got, words) {
		t.Errorf("words of the parts %q, want %q", got, words)
	}
	return parts
}

func TestSplit(t *testing.T) {
	t.Run("short text whole", func(t *testing.T) {
		text := "Thank you.\nYour complaint number is 1234 5678."
		if got := twilio.Split(text, 1); len(got) != 1 || got[0] != text {
			t.Errorf("got %q", got)
		}
	})
	t.Run("at line breaks", func(t *testing.T) {
		lines := []string{
			strings.Repeat("Line one is here. ", 5), strings.Repeat("Line two is here. ", 5),
			strings.Repeat("Line three is here. ", 5), "0. Main menu",
		}
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		parts := checkSplit(t, strings.Join(lines, "\n"), 1)
		want := []string{lines[0], lines[1], lines[2] + "\n" + lines[3]}
		if !slices.Equal(parts, want) {
			t.Errorf("parts\n%q\nwant\n%q", parts, want)
		}
	})
	t.Run("at spaces in a long line", func(t *testing.T) {
		text := strings.TrimSpace(strings.Repeat("يرجى الاحتفاظ بهذا الرقم ", 30))
		parts := checkSplit(t, text, 2)
		if len(parts) < 3 {
			t.Errorf("%d parts", len(parts))
		}
		for _, p := range parts {
			if p != strings.TrimSpace(p) {
				t.Errorf("part %q starts or ends with a space", p)
			}
		}
	})
	t.Run("fills each part", func(t *testing.T) {
		text := strings.TrimSpace(strings.Repeat("word ", 100)) // 499 GSM characters
		parts := checkSplit(t, text, 1)
		for _, p := range parts[:len(parts)-1] {
			if len(p) < 155 {
				t.Errorf("part of %d characters, want near 160: %q", len(p), p)
			}
		}
	})
	t.Run("a word longer than a message", func(t *testing.T) {
		word := strings.Repeat("ب", 150) + strings.Repeat("😀", 20)
		parts := checkSplit(t, "أ "+word+" ت", 1)
		if strings.Join(parts, "") == "" || len(parts) < 3 {
			t.Errorf("parts %q", parts)
		}
	})
	t.Run("max below 1 is 1", func(t *testing.T) {
		text := strings.Repeat("a", 200)
		if got, want := twilio.Split(text, 0), twilio.Split(text, 1); !slices.Equal(got, want) {
			t.Errorf("Split(0) %q, Split(1) %q", got, want)
		}
	})
	t.Run("a real reply", func(t *testing.T) {
		text := "Humanitarian assistance is always free. No one may ask you for money, a gift or a favour for help or for a place on a list. If someone does, tell us.\n" +
			"1. How to give feedback\n2. Assistance is always free\n3. Services and hotlines\n4. Health\n5. Fire safety in camps\n6. Shelter kits\n0. Main menu"
		for max := 1; max <= 3; max++ {
			checkSplit(t, text, max)
		}
	})
}

func FuzzSplit(f *testing.F) {
	for _, seed := range []string{
		"", "hello", strings.Repeat("a", 400), strings.Repeat("ب ", 200), strings.Repeat("😀", 100),
		"line one\nline two\n\n" + strings.Repeat("long line of words ", 20),
		strings.Repeat("x", 170) + " " + strings.Repeat("€", 90),
		"سڵاو، چۆنی؟\n" + strings.Repeat("ئێمە لێرەین ", 40),
		" \n\t " + strings.Repeat("w", 500), strings.Repeat("a\r\n", 200),
	} {
		for _, max := range []uint8{1, 2, 3} {
			f.Add(seed, max)
		}
	}
	f.Fuzz(func(t *testing.T, text string, max uint8) {
		if !utf8.ValidString(text) || utf8.RuneCountInString(text) > channeltest.TwilioMaxBodyLength {
			t.Skip() // replies are valid UTF-8, and shorter than what Twilio takes in one request
		}
		checkSplit(t, text, int(max%5)+1)
	})
}
