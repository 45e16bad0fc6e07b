package cases

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func testRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func TestDammKnownVector(t *testing.T) {
	check, ok := DammDigit("572")
	if !ok || check != '4' {
		t.Fatalf(`DammDigit("572") = %q, %v; want '4', true`, check, ok)
	}
	if !DammValid("5724") {
		t.Error(`DammValid("5724") = false`)
	}
	for _, bad := range []string{"5723", "5742", "", "57a4", "٥٧٢٤"} {
		if DammValid(bad) {
			t.Errorf("DammValid(%q) = true", bad)
		}
	}
	if _, ok := DammDigit("12x"); ok {
		t.Error(`DammDigit("12x") ok = true`)
	}
}

func TestNewReferenceShape(t *testing.T) {
	rng := testRNG(1)
	for range 10000 {
		r := NewReference(rng)
		if len(r) != ReferenceLen || r[0] < '1' || r[0] > '9' || !DammValid(string(r)) || !r.Valid() {
			t.Fatalf("NewReference = %q: not a valid reference", r)
		}
		if got, err := ParseReference(string(r)); err != nil || got != r {
			t.Fatalf("ParseReference(%q) = %q, %v", r, got, err)
		}
		if got, err := ParseReference(r.Display()); err != nil || got != r {
			t.Fatalf("ParseReference(Display %q) = %q, %v", r.Display(), got, err)
		}
	}
}

func TestNewReferenceDeterministic(t *testing.T) {
	a, b := testRNG(42), testRNG(42)
	for range 100 {
		if x, y := NewReference(a), NewReference(b); x != y {
			t.Fatalf("same seed gave %q and %q", x, y)
		}
	}
	c, d := testRNG(1), testRNG(2)
	same := 0
	for range 100 {
		if NewReference(c) == NewReference(d) {
			same++
		}
	}
	if same > 1 {
		t.Errorf("different seeds gave %d identical references out of 100", same)
	}
}

// Every single-digit substitution and every adjacent transposition of a reference must
// be rejected, so a mistyped reference never lands on another person's case.
func TestReferenceDetectsTypos(t *testing.T) {
	rng := testRNG(7)
	for range 3000 {
		ref := []byte(NewReference(rng))
		for i := range ref {
			orig := ref[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				ref[i] = d
				if _, err := ParseReference(string(ref)); err == nil {
					t.Fatalf("substitution %q accepted", ref)
				} else if !errors.Is(err, ErrReferenceChecksum) {
					t.Fatalf("substitution %q: err = %v, want ErrReferenceChecksum", ref, err)
				}
			}
			ref[i] = orig
		}
		for i := 0; i+1 < len(ref); i++ {
			if ref[i] == ref[i+1] {
				continue
			}
			ref[i], ref[i+1] = ref[i+1], ref[i]
			if _, err := ParseReference(string(ref)); !errors.Is(err, ErrReferenceChecksum) {
				t.Fatalf("transposition %q: err = %v, want ErrReferenceChecksum", ref, err)
			}
			ref[i], ref[i+1] = ref[i+1], ref[i]
		}
	}
}

func TestParseReference(t *testing.T) {
	const want Reference = "48210934"
	if !want.Valid() {
		t.Fatalf("test reference %q is not valid", want)
	}
	ok := []struct{ name, in string }{
		{"ascii", "48210934"},
		{"display", "4821 0934"},
		{"arabic-indic", "٤٨٢١٠٩٣٤"},
		{"extended arabic-indic", "۴۸۲۱۰۹۳۴"},
		{"mixed scripts", "4٨2۱ 0٩3۴"},
		{"spaces around", "  4821 0934\n"},
		{"dashes", "4821-0934"},
		{"en dash", "4821–0934"},
		{"dots", "48.21.09.34"},
		{"arabic separators", "٤٨٢١٫٠٩٣٤"},
		{"nbsp", "4821\u00A00934"},
		{"narrow nbsp", "4821\u202F0934"},
		{"tab", "4821\t0934"},
		{"zwsp", "4821\u200B0934"},
		{"zwnj", "48\u200C21\u200C0934"},
		{"rlm lrm alm", "\u200F4821\u200E0934\u061C"},
		{"bidi isolate", "\u20684821 0934\u2069"},
		{"bidi embedding", "\u202B٤٨٢١ ٠٩٣٤\u202C"},
		{"bom", "\uFEFF48210934"},
		{"every digit spaced", "4 8 2 1 0 9 3 4"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseReference(tc.in)
			if err != nil || got != want {
				t.Errorf("ParseReference(%q) = %q, %v; want %q", tc.in, got, err, want)
			}
		})
	}

	bad := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrReferenceLength},
		{"only separators", " - . ", ErrReferenceLength},
		{"seven digits", "4821093", ErrReferenceLength},
		{"nine digits", "482109341", ErrReferenceLength},
		{"many digits", strings.Repeat("1", 1000), ErrReferenceLength},
		{"letter", "4821O937", ErrReferenceFormat},
		{"prefix", "REF48210934", ErrReferenceFormat},
		{"arabic letter", "٤٨٢١ب٠٩٣٤", ErrReferenceFormat},
		{"hash", "#48210934", ErrReferenceFormat},
		{"plus", "+48210934", ErrReferenceFormat},
		{"invalid utf8", "4821\xff0934", ErrReferenceFormat},
		{"fullwidth digits", "４８２１０９３７", ErrReferenceFormat},
		{"letter beats length", "12a", ErrReferenceFormat},
		{"wrong check digit", "48210936", ErrReferenceChecksum},
		{"transposed", "48120934", ErrReferenceChecksum},
		{"leading zero", mustCheck("0123456"), ErrReferenceChecksum},
		{"all zeros", "00000000", ErrReferenceChecksum},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseReference(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseReference(%q) = %q, %v; want %v", tc.in, got, err, tc.want)
			}
			for _, other := range []error{ErrReferenceFormat, ErrReferenceLength, ErrReferenceChecksum} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("ParseReference(%q) error %v also matches %v", tc.in, err, other)
				}
			}
			if got != "" {
				t.Errorf("ParseReference(%q) returned %q with an error", tc.in, got)
			}
		})
	}
}

// mustCheck appends the Damm check digit to seven digits.
func mustCheck(seven string) string {
	c, ok := DammDigit(seven)
	if !ok {
		panic(seven)
	}
	return seven + string(c)
}

func TestLeadingZeroWithValidChecksum(t *testing.T) {
	// "0123456" + its check digit is Damm-valid, but no reference starts with 0.
	in := mustCheck("0123456")
	if !DammValid(in) {
		t.Fatalf("%q should be Damm-valid", in)
	}
	if _, err := ParseReference(in); !errors.Is(err, ErrReferenceChecksum) {
		t.Errorf("ParseReference(%q) err = %v; want ErrReferenceChecksum", in, err)
	}
	if Reference(in).Valid() {
		t.Errorf("Reference(%q).Valid() = true", in)
	}
}

func TestReferenceDisplay(t *testing.T) {
	for in, want := range map[Reference]string{
		"48210934": "4821 0934",
		"":         "",
		"123":      "123",
		"4821093x": "4821093x",
	} {
		if got := in.Display(); got != want {
			t.Errorf("Reference(%q).Display() = %q; want %q", in, got, want)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"48210934", "4821 0934", "٤٨٢١٠٩٣٤", "۴۸۲۱۰۹۳۴", "4821-0934", "\u200F4821\u200E0934",
		"", "0", "4821O937", "48210936", "\xff", "٤٨٢١\u00A0٠٩٣٤", "00000000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ref, err := ParseReference(in)
		if err != nil {
			if ref != "" {
				t.Fatalf("ParseReference(%q) = %q with error %v", in, ref, err)
			}
			n := 0
			for _, e := range []error{ErrReferenceFormat, ErrReferenceLength, ErrReferenceChecksum} {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("ParseReference(%q) error %v matches %d sentinels", in, err, n)
			}
			return
		}
		if len(ref) != ReferenceLen || !utf8.ValidString(string(ref)) || ref[0] == '0' || !DammValid(string(ref)) || !ref.Valid() {
			t.Fatalf("ParseReference(%q) = %q: not canonical", in, ref)
		}
		again, err := ParseReference(ref.Display())
		if err != nil || again != ref {
			t.Fatalf("round trip of %q: %q, %v", ref, again, err)
		}
	})
}
