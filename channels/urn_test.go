package channels

import (
	"errors"
	"strings"
	"testing"
)

func TestTelURN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"07701234567", "tel:+9647701234567"},
		{"0770 123 4567", "tel:+9647701234567"},
		{"0770-123-4567", "tel:+9647701234567"},
		{"(0770) 123.4567", "tel:+9647701234567"},
		{"7701234567", "tel:+9647701234567"},
		{"+9647701234567", "tel:+9647701234567"},
		{"+964 770 123 4567", "tel:+9647701234567"},
		{"009647701234567", "tel:+9647701234567"},
		{"9647701234567", "tel:+9647701234567"},
		{"+964 0770 123 4567", "tel:+9647701234567"},
		{"٠٧٧٠١٢٣٤٥٦٧", "tel:+9647701234567"},
		{"۰۷۵۰۱۲۳۴۵۶۷", "tel:+9647501234567"},
		{"\u200f+964 750 123 4567\u200e", "tel:+9647501234567"},
		{"+96418881234", "tel:+96418881234"},   // Baghdad landline (voice)
		{"+962791234567", "tel:+962791234567"}, // Jordan
		{"+12349013030", "tel:+12349013030"},
	} {
		got, err := NewTelURN(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("NewTelURN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestTelURNRejects(t *testing.T) {
	for _, in := range []string{
		"", "abc", "0770123456", "077012345678", "+96477012345", "+964770123456789", "+964",
		"12345", "+0123456789", "+1234567", "+1234567890123456", "0770 123 456x", "++9647701234567",
		"07701234567+",
	} {
		if got, err := NewTelURN(in); err == nil || !errors.Is(err, ErrInvalidURN) {
			t.Errorf("NewTelURN(%q) = %q, %v; want ErrInvalidURN", in, got, err)
		}
	}
}

func TestParseURN(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"tel:07701234567", "tel:+9647701234567", true},
		{"TEL:+9647701234567", "tel:+9647701234567", true},
		{"telegram:123456789", "telegram:123456789", true},
		{"telegram:-100123", "", false},
		{"telegram:0123", "", false},
		{"telegram:12a", "", false},
		{"terminal:amira", "terminal:amira", true},
		{"terminal:a.b_c-1", "terminal:a.b_c-1", true},
		{"terminal:", "", false},
		{"terminal:أميرة", "", false},
		{"terminal:" + strings.Repeat("a", 65), "", false},
		{"whatsapp:123", "", false},
		{"9647701234567", "", false},
	} {
		got, err := ParseURN(tc.in)
		if tc.ok != (err == nil) || string(got) != tc.want {
			t.Errorf("ParseURN(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestMaskedHidesTheNumber(t *testing.T) {
	u := URN("tel:+9647701234567")
	if m := u.Masked(); strings.Contains(m, "770123") || !strings.HasPrefix(m, "tel:+964") || !strings.HasSuffix(m, "67") {
		t.Errorf("Masked() = %q", m)
	}
	if m := URN("telegram:123456789").Masked(); strings.Contains(m, "123") {
		t.Errorf("Masked() = %q shows the chat ID", m)
	}
}

// FuzzParseURN: no input panics, and whatever is accepted is already normal: parsing it again
// gives it back unchanged.
func FuzzParseURN(f *testing.F) {
	for _, s := range []string{"tel:07701234567", "tel:+9647701234567", "telegram:1", "terminal:x", "tel:٠٧٧٠١٢٣٤٥٦٧", "tel:+", "x:y", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURN(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidURN) {
				t.Fatalf("ParseURN(%q): error %v does not wrap ErrInvalidURN", s, err)
			}
			return
		}
		again, err := ParseURN(string(u))
		if err != nil || again != u {
			t.Fatalf("ParseURN(%q) = %q, but parsing that gives %q, %v", s, u, again, err)
		}
	})
}
