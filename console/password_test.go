package console_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/console"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPassword(t *testing.T) {
	const pw = "correct horse battery staple"
	h1, err := console.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(h1) {
		t.Fatalf("hash %q is not argon2id in the PHC format with a 16-byte salt and a 32-byte key", h1)
	}
	if strings.Contains(h1, pw) {
		t.Error("the hash holds the password")
	}
	h2, err := console.HashPassword(pw)
	if err != nil || h1 == h2 {
		t.Errorf("two hashes of one password are alike (no salt?): %q %v", h2, err)
	}
	for _, h := range []string{h1, h2} {
		if ok, err := console.VerifyPassword(h, pw); !ok || err != nil {
			t.Errorf("the right password: %v %v", ok, err)
		}
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", pw + " ", strings.Repeat("x", 2000)} {
		if ok, err := console.VerifyPassword(h1, wrong); ok || err != nil {
			t.Errorf("wrong password %.30q: %v %v, want false", wrong, ok, err)
		}
	}
	if _, err := console.HashPassword(strings.Repeat("x", console.MaxPasswordLen+1)); err == nil {
		t.Error("a password longer than MaxPasswordLen was hashed")
	}
}

// A hash that is not ours, or asks for absurd costs, is an error, never a match.
func TestVerifyPasswordBadHash(t *testing.T) {
	good, err := console.HashPassword("a password long enough")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":        strings.Replace(good, "$argon2id$", "$argon2i$", 1),
		"version 16":     strings.Replace(good, "$v=19$", "$v=16$", 1),
		"4 TiB":          strings.Join(append(parts[:3:3], "m=4294967295,t=1,p=1", parts[4], parts[5]), "$"),
		"100 passes":     strings.Join(append(parts[:3:3], "m=64,t=100,p=1", parts[4], parts[5]), "$"),
		"no threads":     strings.Join(append(parts[:3:3], "m=64,t=1,p=0", parts[4], parts[5]), "$"),
		"junk params":    strings.Join(append(parts[:3:3], "m=64,t=1,p=1,x=2", parts[4], parts[5]), "$"),
		"bad salt":       strings.Join(append(parts[:4:4], "!!!!", parts[5]), "$"),
		"short key":      strings.Join(append(parts[:5:5], "AAAA"), "$"),
		"too many parts": good + "$x",
	} {
		if ok, err := console.VerifyPassword(h, "a password long enough"); ok || err == nil {
			t.Errorf("%s: %v %v, want an error", name, ok, err)
		}
	}
}

// The production costs: 64 MiB, one pass, two lanes; and a hash made with them verifies.
func TestDefaultHashCosts(t *testing.T) {
	console.UseDefaultHashCosts(t)
	start := time.Now()
	h, err := console.HashPassword("a password long enough")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one hash with the production costs took %v", time.Since(start))
	if m := phc.FindStringSubmatch(h); m == nil || m[1] != "65536" || m[2] != "1" || m[3] != "2" {
		t.Fatalf("hash %q: want m=65536,t=1,p=2", h)
	}
	if ok, err := console.VerifyPassword(h, "a password long enough"); !ok || err != nil {
		t.Errorf("verify: %v %v", ok, err)
	}
}

func TestNewPassword(t *testing.T) {
	form := regexp.MustCompile(`^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$`)
	seen := map[string]bool{}
	for range 200 {
		p, err := console.NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if !form.MatchString(p) || strings.ContainsAny(p, "01ilo") {
			t.Fatalf("password %q: want four groups of four lower-case letters and digits without look-alikes", p)
		}
		if seen[p] {
			t.Fatalf("password %q made twice", p)
		}
		seen[p] = true
	}
}
