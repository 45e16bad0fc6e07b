package console

import (
	"encoding/binary"
	"testing"
	"time"
)

// The RFC 6238 Appendix B test vectors for HMAC-SHA-1 (8 digits, 30-second steps, the ASCII
// key "12345678901234567890"), and the 6-digit codes the console uses: their last six digits.
func TestTOTPRFC6238Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		at := time.Unix(v.unix, 0)
		if got := hotp(key, uint64(totpStep(at)), 8); got != v.want {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.want)
		}
		if got := TOTPCode(key, at); got != v.want[2:] {
			t.Errorf("T=%d: 6-digit code %s, want %s", v.unix, got, v.want[2:])
		}
	}
	// RFC 4226 Appendix D: HOTP of the same key for counters 0 to 9.
	for i, want := range []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"} {
		if got := hotp(key, uint64(i), 6); got != want {
			t.Errorf("HOTP counter %d: %s, want %s", i, got, want)
		}
	}
}

// A code is accepted in its step and the steps either side, not two away, not in a step
// already used; typed with spaces or Arabic-Indic digits too.
func TestMatchTOTP(t *testing.T) {
	key := []byte("12345678901234567890")
	at := time.Unix(1234567890, 0) // step 41152263, code 005924
	step := totpStep(at)
	code := TOTPCode(key, at)
	if code != "005924" {
		t.Fatalf("code %s", code)
	}
	for _, tt := range []struct {
		name  string
		code  string
		at    time.Time
		after int64
		ok    bool
	}{
		{"same step", code, at, -1, true},
		{"30 s later", code, at.Add(30 * time.Second), -1, true},
		{"30 s earlier", code, at.Add(-30 * time.Second), -1, true},
		{"60 s later", code, at.Add(60 * time.Second), -1, false},
		{"60 s earlier", code, at.Add(-60 * time.Second), -1, false},
		{"step already used", code, at, step, false},
		{"an earlier step used", code, at, step - 1, true},
		{"spaces", "005 924", at, -1, true},
		{"Arabic-Indic digits", "٠٠٥٩٢٤", at, -1, true},
		{"Persian digits", "۰۰۵ ۹۲۴", at, -1, true},
		{"wrong", "005925", at, -1, false},
		{"short", "05924", at, -1, false},
		{"empty", "", at, -1, false},
		{"letters", "00592a", at, -1, false},
	} {
		got, ok := matchTOTP(key, tt.code, tt.at, tt.after)
		if ok != tt.ok || (ok && got != step) {
			t.Errorf("%s: step %d %v, want %v (step %d)", tt.name, got, ok, tt.ok, step)
		}
	}
	if _, ok := matchTOTP(nil, code, at, -1); ok {
		t.Error("a code matched without a secret")
	}
}

func TestTOTPKeyAndURI(t *testing.T) {
	secret := make([]byte, TOTPSecretBytes)
	binary.BigEndian.PutUint64(secret, 0x0123456789abcdef)
	if got, want := totpKeyText(secret), "AERU KZ4J VPG6 6AAA AAAA AAAA AAAA AAAA"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
	want := "otpauth://totp/Sawt:amira@example.org?algorithm=SHA1&digits=6&issuer=Sawt&period=30&secret=AERUKZ4JVPG66AAAAAAAAAAAAAAAAAAA"
	if got := totpURI(secret, "amira@example.org"); got != want {
		t.Errorf("URI %s\nwant %s", got, want)
	}
}
