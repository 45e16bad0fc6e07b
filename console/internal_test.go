package console

import (
	"crypto/tls"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every text is in every language, none is empty, and the placeholders agree.
func TestTextsComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[sd]`)
	for key, en := range texts["en"] {
		for _, lang := range Languages() {
			s, ok := texts[lang][key]
			if !ok || strings.TrimSpace(s) == "" {
				t.Errorf("%s: no text %q", lang, key)
				continue
			}
			if got, want := verbs.FindAllString(s, -1), verbs.FindAllString(en, -1); !slices.Equal(got, want) {
				t.Errorf("%s %q has placeholders %v, English has %v", lang, key, got, want)
			}
		}
	}
	for _, lang := range Languages() {
		if len(texts[lang]) != len(texts["en"]) {
			t.Errorf("%s has %d texts, English %d", lang, len(texts[lang]), len(texts["en"]))
		}
		for _, role := range Roles() {
			if _, ok := texts[lang]["role_"+role]; !ok {
				t.Errorf("%s: no name for the role %s", lang, role)
			}
		}
		if languageNames[lang] == "" {
			t.Errorf("no name for the language %s", lang)
		}
	}
	for _, rt := range (&Web{}).Routes() {
		if rt.Nav != "" && texts["en"][rt.Nav] == "" {
			t.Errorf("route %s %s: no text %q for its link", rt.Method, rt.Pattern, rt.Nav)
		}
	}
}

func TestMinutes(t *testing.T) {
	for _, tt := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 minute"}, {"en", 15, "15 minutes"},
		{"ar", 1, "دقيقة واحدة"}, {"ar", 2, "دقيقتين"}, {"ar", 3, "3 دقائق"}, {"ar", 10, "10 دقائق"}, {"ar", 11, "11 دقيقة"},
		{"ckb", 1, "1 خولەک"}, {"ckb", 14, "14 خولەک"},
	} {
		if got := minutes(tt.lang, tt.n); got != tt.want {
			t.Errorf("minutes(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"":                          "en",
		"ar-IQ,ar;q=0.9,en;q=0.8":   "ar",
		"ckb-IQ,ckb;q=0.9":          "ckb",
		"fr-FR,fr;q=0.9":            "en",
		"de;q=0.9,ar;q=0.5":         "ar",
		"en-GB,en;q=0.9,ar;q=0.8":   "en",
		"this is not;;a header===,": "en",
	} {
		if got := acceptLanguage(header); got != want {
			t.Errorf("acceptLanguage(%q) = %s, want %s", header, got, want)
		}
	}
}

// The session cookie is Secure but for a browser on this machine reaching the admin listener
// over plain HTTP by a loopback name.
func TestSecureCookie(t *testing.T) {
	for _, tt := range []struct {
		name         string
		secure       bool
		remote, host string
		tls          bool
		want         bool
	}{
		{"ssh tunnel to localhost", true, "127.0.0.1:50000", "localhost:8081", false, false},
		{"browser at 127.0.0.1", true, "127.0.0.1:50000", "127.0.0.1:8081", false, false},
		{"browser at [::1]", true, "[::1]:50000", "[::1]:8081", false, false},
		{"TLS proxy on this machine", true, "127.0.0.1:50000", "sawt.example.org", false, true},
		{"from the network", true, "192.0.2.7:50000", "192.0.2.1:8081", false, true},
		{"from the network, claiming localhost", true, "192.0.2.7:50000", "localhost:8081", false, true},
		{"TLS", true, "127.0.0.1:50000", "localhost:8081", true, true},
		{"not configured", false, "192.0.2.7:50000", "sawt.example.org", false, false},
		{"not configured, TLS", false, "192.0.2.7:50000", "sawt.example.org", true, true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr, r.Host = tt.remote, tt.host
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		} else {
			r.TLS = nil
		}
		if got := (&Web{Secure: tt.secure}).secureCookie(r); got != tt.want {
			t.Errorf("%s: Secure = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAddressKey(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:50000":            "addr:192.0.2.7",
		"[::ffff:192.0.2.7]:50000":   "addr:192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "addr:2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "addr:2001:db8:1:2::/64",
		"not an address":             "addr:not an address",
	} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = remote
		if got := addressKey(r); got != want {
			t.Errorf("addressKey(%s) = %q, want %q", remote, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                      "/",
		"/account":              "/account",
		"/cases/123?tab=notes":  "/cases/123?tab=notes",
		"//evil.example/":       "/",
		"/\\evil.example":       "/",
		"https://evil.example/": "/",
		"account":               "/",
		"/login?next=/account":  "/",
		"/logout":               "/",
		"/a\r\nSet-Cookie: x=y": "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
