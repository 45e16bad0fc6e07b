package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Two-step sign-in is TOTP (RFC 6238) with the parameters every authenticator app takes by
// default: HMAC-SHA-1, 6 digits, 30-second steps. A code of the step before or after the
// current one is accepted too, for a phone whose clock is a little off; each step's code is
// accepted once (the last step used is stored), so a code seen over someone's shoulder is
// worth nothing once used.
const (
	totpDigits = 6
	totpPeriod = 30 // seconds
	totpSkew   = 1  // steps either side
	// TOTPSecretBytes is the size of a secret: 160 bits, the size of SHA-1's output, as RFC
	// 4226 recommends.
	TOTPSecretBytes = 20
	// TOTPIssuer names the account in the authenticator app.
	TOTPIssuer = "Sawt"
)

// hotp is the HOTP value (RFC 4226) of key at counter, in digits digits: HMAC-SHA-1 of the
// counter, dynamically truncated to 31 bits, modulo 10^digits, zero-padded.
func hotp(key []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// totpStep is the time step of t: whole periods since the Unix epoch.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// TOTPCode is the code an authenticator app with this secret shows at t.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(secret, uint64(totpStep(t)), totpDigits)
}

// matchTOTP finds the time step, among t's and its neighbours and later than after, whose
// code is code (typed by a person: spaces and Arabic-Indic digits are fine). It compares in
// constant time.
func matchTOTP(secret []byte, code string, t time.Time, after int64) (step int64, ok bool) {
	code = normalDigits(code)
	if len(code) != totpDigits || len(secret) == 0 {
		return 0, false
	}
	now := totpStep(t)
	for s := now - totpSkew; s <= now+totpSkew; s++ {
		if s <= after || s < 0 {
			continue
		}
		if hmac.Equal([]byte(hotp(secret, uint64(s), totpDigits)), []byte(code)) {
			step, ok = s, true
		}
	}
	return step, ok
}

// normalDigits is a typed number with its spaces (and dashes) taken out and Arabic-Indic and
// Persian digits made ASCII: staff type on Arabic and Kurdish keyboards.
func normalDigits(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r == ' ' || r == '-' || r == '\u00a0':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newTOTPSecret makes a random secret.
func newTOTPSecret() ([]byte, error) {
	b := make([]byte, TOTPSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make a TOTP secret: %w", err)
	}
	return b, nil
}

// totpBase32 is how a secret is typed into an app: base32 without padding.
var totpBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpKeyText is the secret in base32, in groups of four for typing it in by hand.
func totpKeyText(secret []byte) string {
	s := totpBase32.EncodeToString(secret)
	var groups []string
	for len(s) > 4 {
		groups = append(groups, s[:4])
		s = s[4:]
	}
	return strings.Join(append(groups, s), " ")
}

// totpURI is the otpauth:// URI of the secret (Google Authenticator's key URI format, which
// the apps read from a QR code or a paste): issuer Sawt, the account the user's email.
func totpURI(secret []byte, email string) string {
	q := url.Values{"secret": {totpBase32.EncodeToString(secret)}, "issuer": {TOTPIssuer},
		"algorithm": {"SHA1"}, "digits": {fmt.Sprint(totpDigits)}, "period": {fmt.Sprint(totpPeriod)}}
	return "otpauth://totp/" + url.PathEscape(TOTPIssuer) + ":" + url.PathEscape(email) + "?" + q.Encode()
}
