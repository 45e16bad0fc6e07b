package channels

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// URN identifies a person on one channel: "tel:+9647701234567", "telegram:123456789",
// "terminal:amira". One contact may have several.
type URN string

// URN schemes.
const (
	SchemeTel      = "tel"
	SchemeTelegram = "telegram"
	SchemeTerminal = "terminal"
)

// ErrInvalidURN is wrapped by every URN parsing error.
var ErrInvalidURN = errors.New("invalid URN")

// Scheme is the part before the colon.
func (u URN) Scheme() string {
	s, _, _ := strings.Cut(string(u), ":")
	return s
}

// Path is the part after the colon.
func (u URN) Path() string {
	_, p, _ := strings.Cut(string(u), ":")
	return p
}

func (u URN) String() string { return string(u) }

// Masked is the URN as it may appear in logs: a phone number keeps its country code and
// last two digits, other identifiers their scheme only.
func (u URN) Masked() string {
	p := u.Path()
	if u.Scheme() == SchemeTel && len(p) > 6 {
		return "tel:" + p[:4] + strings.Repeat("•", len(p)-6) + p[len(p)-2:]
	}
	return u.Scheme() + ":•••"
}

// ParseURN checks and normalises a URN of any known scheme.
func ParseURN(s string) (URN, error) {
	scheme, path, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return "", fmt.Errorf("%w %q: expected scheme:path, e.g. tel:+9647701234567", ErrInvalidURN, s)
	}
	switch strings.ToLower(scheme) {
	case SchemeTel:
		return NewTelURN(path)
	case SchemeTelegram:
		return NewTelegramURN(path)
	case SchemeTerminal:
		return NewTerminalURN(path)
	}
	return "", fmt.Errorf("%w %q: unknown scheme %q (tel, telegram or terminal)", ErrInvalidURN, s, scheme)
}

// NewTelURN normalises a phone number to E.164. Iraqi numbers are accepted in the forms
// people write them: 07701234567, 7701234567, +9647701234567, 009647701234567,
// +964 0770 123 4567, with spaces, dashes, dots or brackets, in any digit script.
func NewTelURN(number string) (URN, error) {
	digits, plus, err := phoneDigits(number)
	if err != nil {
		return "", err
	}
	bad := func(why string) (URN, error) {
		return "", fmt.Errorf("%w: phone number %q %s", ErrInvalidURN, number, why)
	}
	switch {
	case plus:
		// already international
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
	case strings.HasPrefix(digits, "964") && len(digits) >= 11:
		// international without the plus
	case strings.HasPrefix(digits, "0"):
		digits = "964" + digits[1:] // Iraqi national form
	case len(digits) == 10 && digits[0] == '7':
		digits = "964" + digits // Iraqi mobile without the trunk 0
	default:
		return bad("is not in international form (start it with + and the country code)")
	}
	if strings.HasPrefix(digits, "9640") {
		digits = "964" + digits[4:] // +964 0770…: the trunk 0 written after the country code
	}
	if digits == "" {
		return bad("has no number after the international prefix")
	}
	if rest, ok := strings.CutPrefix(digits, "964"); ok {
		switch {
		case rest == "":
			return bad("has no number after the country code")
		case rest[0] == '7' && len(rest) != 10:
			return bad("is not an Iraqi mobile number (07XX XXX XXXX)")
		case rest[0] != '7' && (len(rest) < 8 || len(rest) > 9):
			return bad("is not an Iraqi number")
		}
		return URN("tel:+" + digits), nil
	}
	if digits[0] == '0' || len(digits) < 8 || len(digits) > 15 {
		return bad("is not a valid international number")
	}
	return URN("tel:+" + digits), nil
}

// phoneDigits keeps the digits of a written phone number (in any of the three digit scripts)
// and says whether it started with a plus. Separators are dropped; anything else is an error.
func phoneDigits(s string) (digits string, plus bool, err error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + (r - '٠'))
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + (r - '۰'))
		case r == '+' && !plus && b.Len() == 0:
			plus = true // possibly after a bidi mark, as numbers copied from RTL text are
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0' ||
			unicode.Is(unicode.Bidi_Control, r) || r == '\u200c' || r == '\u200d':
		default:
			return "", false, fmt.Errorf("%w: phone number %q contains %q", ErrInvalidURN, s, r)
		}
	}
	if b.Len() == 0 {
		return "", false, fmt.Errorf("%w: phone number %q has no digits", ErrInvalidURN, s)
	}
	return b.String(), plus, nil
}

// NewTelegramURN makes the URN of a private Telegram chat from its numeric ID.
func NewTelegramURN(chatID string) (URN, error) {
	if chatID == "" || len(chatID) > 20 || strings.TrimLeft(chatID, "0123456789") != "" || chatID[0] == '0' {
		return "", fmt.Errorf("%w: telegram chat ID %q must be a positive number", ErrInvalidURN, chatID)
	}
	return URN("telegram:" + chatID), nil
}

// NewTerminalURN makes the URN of a terminal user: letters, digits, '.', '_' and '-'.
func NewTerminalURN(name string) (URN, error) {
	if name == "" || len(name) > 64 {
		return "", fmt.Errorf("%w: terminal name %q must have 1 to 64 characters", ErrInvalidURN, name)
	}
	for _, r := range name {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '.' || r == '_' || r == '-') {
			return "", fmt.Errorf("%w: terminal name %q may only hold letters, digits, '.', '_' and '-'", ErrInvalidURN, name)
		}
	}
	return URN("terminal:" + name), nil
}
