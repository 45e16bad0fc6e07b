package console_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// clock is a fake clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// consoleEnv is a console on its own database, with a fake clock.
type consoleEnv struct {
	t     *testing.T
	pool  *pgxpool.Pool
	web   *console.Web
	h     http.Handler
	clock *clock
}

func newConsole(t *testing.T) *consoleEnv {
	t.Helper()
	pool := pgtest.New(t)
	c := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	w := &console.Web{Pool: pool, Now: c.Now}
	return &consoleEnv{t: t, pool: pool, web: w, h: w.Handler(), clock: c}
}

// addUser stores a user with this password: one they chose, or a one-time one.
func (e *consoleEnv) addUser(email, role, lang, password string, oneTime bool) store.StaffUser {
	e.t.Helper()
	hash, err := console.HashPassword(password)
	if err != nil {
		e.t.Fatal(err)
	}
	u := store.StaffUser{Email: email, Role: role, Language: lang, PasswordHash: hash, CreatedAt: e.clock.Now()}
	if !oneTime {
		at := e.clock.Now()
		u.PasswordChangedAt = &at
	}
	if u.ID, err = store.InsertStaffUser(context.Background(), e.pool, u); err != nil {
		e.t.Fatal(err)
	}
	u.Email = strings.ToLower(u.Email)
	return u
}

// sessionOf starts a session of the user directly in the database and returns its cookie value.
func (e *consoleEnv) sessionOf(u store.StaffUser) string {
	e.t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := e.clock.Now()
	if err := store.CreateStaffSession(context.Background(), e.pool, store.StaffSession{TokenHash: console.HashToken(token),
		UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(console.DefaultMaxAge)}); err != nil {
		e.t.Fatal(err)
	}
	return token
}

// req is a request to the console. Zero fields: from 192.0.2.1, to Host console.example, no
// cookie, no form.
type req struct {
	method, path string
	form         url.Values
	cookie       string
	remote       string
	header       map[string]string
}

type answer struct {
	status int
	header http.Header
	body   string
	// cookie is the session cookie the answer set, if any.
	cookie *http.Cookie
}

func (e *consoleEnv) do(r req) answer {
	e.t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr := httptest.NewRequest(r.method, "http://console.example"+r.path, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hr.RemoteAddr = "192.0.2.1:40000"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: console.CookieName, Value: r.cookie})
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, body: string(b)}
	for _, c := range res.Cookies() {
		if c.Name == console.CookieName {
			a.cookie = c
		}
	}
	return a
}

// login posts the sign-in form.
func (e *consoleEnv) login(email, password string, more ...func(*req)) answer {
	e.t.Helper()
	r := req{method: "POST", path: "/login", form: url.Values{"email": {email}, "password": {password}}}
	for _, f := range more {
		f(&r)
	}
	return e.do(r)
}

func withCookie(c string) func(*req)    { return func(r *req) { r.cookie = c } }
func fromAddr(a string) func(*req)      { return func(r *req) { r.remote = a } }
func withNext(next string) func(*req)   { return func(r *req) { r.form.Set("next", next) } }
func withHeader(k, v string) func(*req) { return func(r *req) { r.header = map[string]string{k: v} } }

// signedIn checks that a sign-in succeeded and returns the new session cookie's value.
func (e *consoleEnv) signedIn(a answer, to string) string {
	e.t.Helper()
	if a.status != http.StatusSeeOther || a.header.Get("Location") != to || a.cookie == nil || a.cookie.Value == "" {
		e.t.Fatalf("sign-in: %d to %q, cookie %v, want 303 to %s with a session cookie; body:\n%s",
			a.status, a.header.Get("Location"), a.cookie, to, a.body)
	}
	c := a.cookie
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		e.t.Errorf("session cookie %v: want HttpOnly, SameSite=Lax, Path=/", c)
	}
	return c.Value
}

// valid reports whether the cookie value is a session the console accepts.
func (e *consoleEnv) valid(cookie string) bool {
	e.t.Helper()
	a := e.do(req{method: "GET", path: "/account", cookie: cookie})
	switch a.status {
	case http.StatusOK:
		return true
	case http.StatusSeeOther:
		if !strings.HasPrefix(a.header.Get("Location"), "/login") {
			e.t.Fatalf("GET /account: 303 to %s", a.header.Get("Location"))
		}
		return false
	}
	e.t.Fatalf("GET /account: %d\n%s", a.status, a.body)
	return false
}

func TestLogin(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	u := e.addUser("Amira@Example.org", console.RoleCaseworker, "en", "a long enough password", false)

	a := e.login("  AMIRA@example.org ", "a long enough password", withNext("/account"))
	cookie := e.signedIn(a, "/account")
	if a.cookie.Secure {
		t.Error("the cookie is Secure, though Web.Secure is not set")
	}
	// only the token's SHA-256 is stored
	var stored []byte
	if err := e.pool.QueryRow(ctx, `SELECT token_hash FROM staff_sessions WHERE user_id = $1`, u.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(cookie)); string(stored) != string(sum[:]) {
		t.Errorf("stored %x, want the SHA-256 of the cookie", stored)
	}

	home := e.do(req{method: "GET", path: "/", cookie: cookie})
	if home.status != http.StatusOK || !strings.Contains(home.body, "amira@example.org") || !strings.Contains(home.body, "Caseworker") ||
		!strings.Contains(home.body, `<a href="/account">Your account and password</a>`) {
		t.Errorf("home: %d, want 200 with the email, the role and a link to the account page:\n%s", home.status, home.body)
	}

	// a wrong password, an unknown email: the same answer, no cookie
	for _, try := range [][2]string{{"amira@example.org", "a wrong password!!"}, {"nobody@example.org", "a long enough password"}, {"", ""}} {
		a := e.login(try[0], try[1])
		if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "Wrong email or password.") || a.cookie != nil {
			t.Errorf("sign in as %q with %q: %d, cookie %v; want 401 saying wrong email or password", try[0], try[1], a.status, a.cookie)
		}
		if try[0] != "" && !strings.Contains(a.body, `value="`+try[0]+`"`) {
			t.Errorf("the form does not keep the email %q", try[0])
		}
	}

	// next may not lead to another site
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		a := e.login("amira@example.org", "a long enough password", withNext(next))
		e.signedIn(a, "/")
	}
	// a page asked for without a session leads to sign-in, and back
	a = e.do(req{method: "GET", path: "/account?x=1"})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/login?next="+url.QueryEscape("/account?x=1") {
		t.Errorf("GET /account without a session: %d to %q", a.status, a.header.Get("Location"))
	}
	page := e.do(req{method: "GET", path: a.header.Get("Location")})
	if !strings.Contains(page.body, `name="next" value="/account?x=1"`) {
		t.Errorf("the sign-in page does not carry next:\n%s", page.body)
	}
}

// A new token at every sign-in, whatever cookie the client sent, and the session it sent is
// ended: a token planted by someone else is worth nothing.
func TestLoginSessionFixation(t *testing.T) {
	e := newConsole(t)
	e.addUser("amira@example.org", console.RoleCWC, "en", "a long enough password", false)
	other := e.addUser("karwan@example.org", console.RoleCWC, "en", "another long password", false)

	first := e.signedIn(e.login("amira@example.org", "a long enough password"), "/")
	second := e.signedIn(e.login("amira@example.org", "a long enough password", withCookie(first)), "/")
	if second == first {
		t.Fatal("the session token the client sent was kept")
	}
	if e.valid(first) {
		t.Error("the session the client came with is still valid after a new sign-in")
	}
	if !e.valid(second) {
		t.Error("the new session is not valid")
	}

	// an attacker's own valid session, planted in the victim's browser: the victim's sign-in
	// gets a new token, and the planted one no longer works either
	planted := e.sessionOf(other)
	third := e.signedIn(e.login("amira@example.org", "a long enough password", withCookie(planted)), "/")
	if third == planted || e.valid(planted) {
		t.Error("a planted session survived the sign-in")
	}
	// a made-up token is not taken over either
	made := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	a := e.login("amira@example.org", "a long enough password", withCookie(made))
	if fourth := e.signedIn(a, "/"); fourth == made {
		t.Error("a token chosen by the client was taken as the session")
	}
	if n := len(a.header.Values("Set-Cookie")); n != 1 {
		t.Errorf("sign-in with an unknown token set %d cookies, want just the new session: %q", n, a.header.Values("Set-Cookie"))
	}
}

func TestLogout(t *testing.T) {
	e := newConsole(t)
	e.addUser("amira@example.org", console.RoleViewer, "en", "a long enough password", false)
	cookie := e.signedIn(e.login("amira@example.org", "a long enough password"), "/")
	other := e.signedIn(e.login("amira@example.org", "a long enough password"), "/")

	a := e.do(req{method: "POST", path: "/logout", cookie: cookie, form: url.Values{}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/login" {
		t.Errorf("logout: %d to %q, want 303 to /login", a.status, a.header.Get("Location"))
	}
	if a.cookie == nil || a.cookie.MaxAge >= 0 {
		t.Errorf("logout: cookie %v, want it deleted", a.cookie)
	}
	if e.valid(cookie) {
		t.Error("the session is valid after logout")
	}
	if !e.valid(other) {
		t.Error("logout ended another session of the same user")
	}
	// without a session, logout still answers 303
	if a := e.do(req{method: "POST", path: "/logout", form: url.Values{}}); a.status != http.StatusSeeOther {
		t.Errorf("logout without a session: %d", a.status)
	}
	// a GET does not log out
	if a := e.do(req{method: "GET", path: "/logout", cookie: other}); a.status != http.StatusMethodNotAllowed || !e.valid(other) {
		t.Errorf("GET /logout: %d, want 405 and the session kept", a.status)
	}
}

func TestSessionIdleAndMaxAge(t *testing.T) {
	e := newConsole(t)
	e.addUser("amira@example.org", console.RoleViewer, "en", "a long enough password", false)
	cookie := e.signedIn(e.login("amira@example.org", "a long enough password"), "/")

	// used every 29 minutes, it lives on
	for range 3 {
		e.clock.Add(29 * time.Minute)
		if !e.valid(cookie) {
			t.Fatalf("the session ended after 29 minutes idle, at %v", e.clock.Now())
		}
	}
	// 30 minutes idle: ended, and the answer deletes the cookie
	e.clock.Add(30 * time.Minute)
	a := e.do(req{method: "GET", path: "/", cookie: cookie})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/login") {
		t.Errorf("after 30 minutes idle: %d to %q, want 303 to /login", a.status, a.header.Get("Location"))
	}
	if a.cookie == nil || a.cookie.MaxAge >= 0 {
		t.Errorf("after 30 minutes idle: cookie %v, want it deleted", a.cookie)
	}

	// however busy, a session ends 12 hours after sign-in
	cookie = e.signedIn(e.login("amira@example.org", "a long enough password"), "/")
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		e.clock.Add(20 * time.Minute)
		if !e.valid(cookie) {
			t.Fatalf("the session ended %v after sign-in, though used every 20 minutes", elapsed+20*time.Minute)
		}
	}
	e.clock.Add(20 * time.Minute)
	if e.valid(cookie) {
		t.Error("the session outlived 12 hours")
	}
}

// The idle timeout and the maximum age are the Web's to set.
func TestSessionTimeoutsConfigured(t *testing.T) {
	e := newConsole(t)
	e.web.Idle, e.web.MaxAge = 5*time.Minute, time.Hour
	e.h = e.web.Handler()
	e.addUser("amira@example.org", console.RoleViewer, "en", "a long enough password", false)
	cookie := e.signedIn(e.login("amira@example.org", "a long enough password"), "/")
	e.clock.Add(4 * time.Minute)
	if !e.valid(cookie) {
		t.Fatal("ended after 4 minutes")
	}
	e.clock.Add(5 * time.Minute)
	if e.valid(cookie) {
		t.Error("valid after 5 minutes idle with Idle = 5m")
	}
}

func TestLoginThrottledPerAccount(t *testing.T) {
	e := newConsole(t)
	e.addUser("amira@example.org", console.RoleCWC, "en", "a long enough password", false)

	// five wrong passwords from five addresses: each a plain 401
	for i := range console.MaxAccountFailures {
		a := e.login("amira@example.org", "wrong password "+fmt.Sprint(i), fromAddr(fmt.Sprintf("192.0.2.%d:5000", 10+i)))
		if a.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, a.status)
		}
		e.clock.Add(time.Minute)
	}
	// now refused, even with the right password, from anywhere
	a := e.login("AMIRA@example.org", "a long enough password", fromAddr("198.51.100.1:5000"))
	if a.status != http.StatusTooManyRequests || a.cookie != nil {
		t.Fatalf("after 5 failures, the right password: %d, cookie %v; want 429 and no session", a.status, a.cookie)
	}
	// the oldest failure was 5 minutes ago: 10 minutes to go
	if !strings.Contains(a.body, "Too many failed sign-ins. Try again in 10 minutes.") || a.header.Get("Retry-After") != "600" {
		t.Errorf("429: Retry-After %q, body:\n%s\nwant it to say 10 minutes", a.header.Get("Retry-After"), a.body)
	}
	// other accounts are not affected
	e.addUser("karwan@example.org", console.RoleCWC, "en", "another long password", false)
	e.signedIn(e.login("karwan@example.org", "another long password"), "/")
	// an email without an account is throttled the same way: nothing tells which exist
	for range console.MaxAccountFailures {
		e.login("nobody@example.org", "a guess at a password")
	}
	if a := e.login("nobody@example.org", "a guess at a password"); a.status != http.StatusTooManyRequests {
		t.Errorf("an unknown email after 5 failures: %d, want 429", a.status)
	}

	// 10 minutes later, the oldest failure is 15 minutes old: allowed again
	e.clock.Add(9 * time.Minute)
	if a := e.login("amira@example.org", "a long enough password"); a.status != http.StatusTooManyRequests {
		t.Errorf("after 9 more minutes: %d, want still 429", a.status)
	}
	e.clock.Add(time.Minute)
	e.signedIn(e.login("amira@example.org", "a long enough password"), "/")
	// and a success forgets the account's failures
	for range console.MaxAccountFailures - 1 {
		e.login("amira@example.org", "wrong again")
	}
	e.signedIn(e.login("amira@example.org", "a long enough password"), "/")
}

func TestLoginThrottledPerAddress(t *testing.T) {
	e := newConsole(t)
	e.addUser("amira@example.org", console.RoleCWC, "ar", "a long enough password", false)
	const attacker = "203.0.113.9:6000"

	// twenty wrong guesses at twenty accounts from one address, each with another
	// X-Forwarded-For, which is not trusted
	for i := range console.MaxAddressFailures {
		a := e.login(fmt.Sprintf("user%d@example.org", i), "a guess at a password", fromAddr(attacker),
			withHeader("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i)))
		if a.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, a.status)
		}
	}
	a := e.login("amira@example.org", "a long enough password", fromAddr(attacker), withHeader("X-Forwarded-For", "10.9.9.9"))
	if a.status != http.StatusTooManyRequests || a.cookie != nil || a.header.Get("Retry-After") != "900" {
		t.Fatalf("from the address after 20 failures, the right password: %d, Retry-After %q; want 429, 900", a.status, a.header.Get("Retry-After"))
	}
	// the form's language (the login page's lang) carries to the refusal
	ar := e.login("amira@example.org", "a long enough password", fromAddr(attacker), func(r *req) { r.form.Set("lang", "ar") })
	if !strings.Contains(ar.body, "محاولات دخول فاشلة كثيرة. حاول مرة أخرى بعد 15 دقيقة.") || !strings.Contains(ar.body, `dir="rtl"`) {
		t.Errorf("429 in Arabic:\n%s", ar.body)
	}
	// another address is not affected (and the account has no failure of its own)
	e.signedIn(e.login("amira@example.org", "a long enough password", fromAddr("198.51.100.1:5000")), "/")
	// 15 minutes later the address may try again
	e.clock.Add(15 * time.Minute)
	e.signedIn(e.login("amira@example.org", "a long enough password", fromAddr(attacker)), "/")
}

func TestLoginThrottledPerIPv6Network(t *testing.T) {
	e := newConsole(t)
	e.addUser("amira@example.org", console.RoleCWC, "en", "a long enough password", false)
	for i := range console.MaxAddressFailures {
		e.login(fmt.Sprintf("user%d@example.org", i), "wrong", fromAddr(fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)))
	}
	if a := e.login("amira@example.org", "a long enough password", fromAddr("[2001:db8:1:2:abcd::1]:443")); a.status != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", a.status)
	}
	e.signedIn(e.login("amira@example.org", "a long enough password", fromAddr("[2001:db8:1:3::1]:443")), "/")
}

// A state-changing request a browser sent from another site is refused before anything
// happens; the same form from the console's own pages passes.
func TestCrossOriginRefused(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	u := e.addUser("amira@example.org", console.RoleAdmin, "en", "a long enough password", false)
	cookie := e.sessionOf(u)
	change := url.Values{"current": {"a long enough password"}, "new": {"a brand new password"}, "repeat": {"a brand new password"}}

	crossSite := []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"}, // another subdomain is another origin
		{"Origin": "https://evil.example"},
		{"Origin": "http://console.example.evil.example"},
	}
	for _, h := range crossSite {
		for _, r := range []req{
			{method: "POST", path: "/login", form: url.Values{"email": {"amira@example.org"}, "password": {"a long enough password"}}},
			{method: "POST", path: "/account", form: change, cookie: cookie},
			{method: "POST", path: "/logout", form: url.Values{}, cookie: cookie},
		} {
			r.header = h
			a := e.do(r)
			if a.status != http.StatusForbidden || a.cookie != nil ||
				!strings.Contains(a.body, "This form was sent from another site, so it was refused.") {
				t.Errorf("%s %s with %v: %d, cookie %v; want 403 saying it came from another site:\n%s", r.method, r.path, h, a.status, a.cookie, a.body)
			}
		}
	}
	// nothing happened: no session made, the password unchanged, the session not ended
	var sessions int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM staff_sessions`).Scan(&sessions); err != nil || sessions != 1 {
		t.Errorf("%d sessions (%v), want only the one made by the test", sessions, err)
	}
	if !e.valid(cookie) {
		t.Error("a cross-site logout ended the session")
	}
	if got, _ := store.StaffUserByID(ctx, e.pool, u.ID); got.PasswordHash != u.PasswordHash {
		t.Error("a cross-site form changed the password")
	}
	// a cross-site GET (a link from elsewhere) is fine: it changes nothing
	if a := e.do(req{method: "GET", path: "/account", cookie: cookie, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}); a.status != http.StatusOK {
		t.Errorf("cross-site GET /account: %d, want 200", a.status)
	}

	// the same forms from the console itself
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://console.example"}, nil} {
		a := e.do(req{method: "POST", path: "/login", header: h,
			form: url.Values{"email": {"amira@example.org"}, "password": {"a long enough password"}}})
		e.signedIn(a, "/")
	}
	a := e.do(req{method: "POST", path: "/account", form: change, cookie: cookie, header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account?changed=1" {
		t.Errorf("same-origin password change: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	a = e.do(req{method: "POST", path: "/logout", form: url.Values{}, cookie: cookie, header: map[string]string{"Origin": "http://console.example"}})
	if a.status != http.StatusSeeOther || e.valid(cookie) {
		t.Errorf("same-origin logout: %d, session still valid: %v", a.status, e.valid(cookie))
	}
}

// roleMatrixExpect is what each route of the table answers a request with no form from
// someone it lets in (a role it lists; anyone, for a public route). A route added to the
// table needs a line here.
var roleMatrixExpect = map[string]int{
	"GET /login":             http.StatusOK,
	"POST /login":            http.StatusUnauthorized, // no email, no password
	"POST /logout":           http.StatusSeeOther,
	"GET /{$}":               http.StatusOK,
	"GET /account":           http.StatusOK,
	"POST /account":          http.StatusBadRequest, // no current password
	"POST /account/language": http.StatusBadRequest, // no language
	"GET /cases":             http.StatusOK,
	"GET /dashboard":         http.StatusOK,
	// the case pages, for a case 1 that does not exist
	"GET /cases/{id}":           http.StatusNotFound,
	"POST /cases/{id}/assign":   http.StatusNotFound,
	"POST /cases/{id}/category": http.StatusNotFound,
	"POST /cases/{id}/priority": http.StatusNotFound,
	"POST /cases/{id}/status":   http.StatusNotFound,
	"POST /cases/{id}/refer":    http.StatusNotFound,
	"POST /cases/{id}/reply":    http.StatusNotFound,
	"POST /cases/{id}/resolve":  http.StatusNotFound,
}

// samplePath is a path a pattern matches: each wildcard a 1.
var wildcard = regexp.MustCompile(`\{[^}]*\}`)

func samplePath(pattern string) string {
	return wildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		if w == "{$}" {
			return ""
		}
		return "1"
	})
}

// TestRouteRoleMatrix walks every route of the console's table with every role and without
// a session: a role the route lists (or anyone, for a public route) gets what the route
// answers; another role 403; no session 303 to sign-in.
func TestRouteRoleMatrix(t *testing.T) {
	e := newConsole(t)
	users := map[string]store.StaffUser{}
	for _, role := range console.Roles() {
		users[role] = e.addUser(role+"@example.org", role, "en", "a long enough password", false)
	}
	routes := e.web.Routes()
	if len(routes) < len(roleMatrixExpect) {
		t.Errorf("the table has %d routes, the expectations %d", len(routes), len(roleMatrixExpect))
	}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		want, ok := roleMatrixExpect[key]
		if !ok {
			t.Errorf("route %s: say in roleMatrixExpect what it answers those it lets in", key)
			continue
		}
		path := samplePath(rt.Pattern)
		for _, role := range append([]string{""}, console.Roles()...) {
			who := role
			if who == "" {
				who = "anonymous"
			}
			r := req{method: rt.Method, path: path}
			if role != "" {
				r.cookie = e.sessionOf(users[role]) // a session of its own: some routes end it
			}
			if rt.Method == http.MethodPost {
				r.form = url.Values{}
			}
			a := e.do(r)
			switch {
			case rt.Public || (role != "" && slices.Contains(rt.Roles, role)):
				if a.status != want {
					t.Errorf("%s as %s: %d, want %d\n%.300s", key, who, a.status, want, a.body)
				}
			case role == "":
				loc := a.header.Get("Location")
				wantLoc := "/login"
				if rt.Method == http.MethodGet {
					wantLoc += "?next=" + url.QueryEscape(path)
				}
				if a.status != http.StatusSeeOther || loc != wantLoc {
					t.Errorf("%s as %s: %d to %q, want 303 to %s", key, who, a.status, loc, wantLoc)
				}
			default:
				if a.status != http.StatusForbidden || !strings.Contains(a.body, "cannot open this page") {
					t.Errorf("%s as %s: %d, want 403", key, who, a.status)
				}
			}
		}
	}
}

// The guard with routes each open to one role: no role gets another's route (admin does not
// get the psea page), and the handler is not reached for the others.
func TestRoleGuard(t *testing.T) {
	e := newConsole(t)
	mux := http.NewServeMux()
	var routes []console.Route
	reached := map[string]int{}
	var mu sync.Mutex
	for _, role := range console.Roles() {
		routes = append(routes, console.Route{Method: "GET", Pattern: "/only/" + role, Roles: []string{role},
			Handler: func(w http.ResponseWriter, r *http.Request) {
				u, ok := console.StaffFrom(r.Context())
				if !ok || u.Role != role {
					t.Errorf("/only/%s reached by %+v", role, u)
				}
				mu.Lock()
				reached[role]++
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}})
	}
	routes = append(routes, console.Route{Method: "POST", Pattern: "/cases/{ref}/close", Roles: []string{console.RoleCaseworker},
		Handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }})
	e.web.Register(mux, routes)
	e.h = mux

	cookies := map[string]string{}
	for _, role := range console.Roles() {
		cookies[role] = e.sessionOf(e.addUser(role+"@example.org", role, "ar", "a long enough password", false))
	}
	for _, route := range console.Roles() {
		for _, role := range console.Roles() {
			a := e.do(req{method: "GET", path: "/only/" + route, cookie: cookies[role]})
			want := http.StatusForbidden
			if role == route {
				want = http.StatusNoContent
			}
			if a.status != want {
				t.Errorf("GET /only/%s as %s: %d, want %d", route, role, a.status, want)
			}
			if want == http.StatusForbidden && !strings.Contains(a.body, "لا يسمح دورك") {
				t.Errorf("403 not in the user's language:\n%s", a.body)
			}
		}
	}
	for _, role := range console.Roles() {
		if reached[role] != 1 {
			t.Errorf("/only/%s reached %d times, want once", role, reached[role])
		}
	}
	if a := e.do(req{method: "POST", path: "/cases/ABC/close", form: url.Values{}, cookie: cookies[console.RoleAdmin]}); a.status != http.StatusForbidden {
		t.Errorf("POST /cases/ABC/close as admin: %d, want 403", a.status)
	}
	if a := e.do(req{method: "POST", path: "/cases/ABC/close", form: url.Values{}, cookie: cookies[console.RoleCaseworker],
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}}); a.status != http.StatusForbidden {
		t.Errorf("cross-site POST by the right role: %d, want 403", a.status)
	}

	// mistakes in a table are caught when it is registered
	for name, bad := range map[string]console.Route{
		"no role":      {Method: "GET", Pattern: "/x", Handler: func(http.ResponseWriter, *http.Request) {}},
		"unknown role": {Method: "GET", Pattern: "/x", Roles: []string{"root"}, Handler: func(http.ResponseWriter, *http.Request) {}},
		"public+roles": {Method: "GET", Pattern: "/x", Public: true, Roles: []string{"admin"}, Handler: func(http.ResponseWriter, *http.Request) {}},
		"no handler":   {Method: "GET", Pattern: "/x", Roles: []string{"admin"}},
		"PUT":          {Method: "PUT", Pattern: "/x", Roles: []string{"admin"}, Handler: func(http.ResponseWriter, *http.Request) {}},
		"link to POST": {Method: "POST", Pattern: "/x", Roles: []string{"admin"}, Nav: "nav_account", Handler: func(http.ResponseWriter, *http.Request) {}},
		"link to {id}": {Method: "GET", Pattern: "/x/{id}", Roles: []string{"admin"}, Nav: "nav_account", Handler: func(http.ResponseWriter, *http.Request) {}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			e.web.Register(http.NewServeMux(), []console.Route{bad})
		}()
	}
}

// A user with a one-time password may only choose their own; then the console opens.
func TestOneTimePassword(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	u := e.addUser("amira@example.org", console.RolePSEA, "en", "k7dq-m2xa-9fbe-wr4p", true)
	cookie := e.signedIn(e.login("amira@example.org", "k7dq-m2xa-9fbe-wr4p"), "/")
	a := e.do(req{method: "GET", path: "/", cookie: cookie})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account" {
		t.Fatalf("home with a one-time password: %d to %q, want 303 to /account", a.status, a.header.Get("Location"))
	}
	a = e.do(req{method: "GET", path: "/account", cookie: cookie})
	if a.status != http.StatusOK || !strings.Contains(a.body, "You signed in with a one-time password.") {
		t.Errorf("account with a one-time password: %d\n%s", a.status, a.body)
	}
	a = e.do(req{method: "POST", path: "/account", cookie: cookie,
		form: url.Values{"current": {"k7dq-m2xa-9fbe-wr4p"}, "new": {"my own password now"}, "repeat": {"my own password now"}}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%s", a.status, a.body)
	}
	got, err := store.StaffUserByID(ctx, e.pool, u.ID)
	if err != nil || got.OneTimePassword() || !got.PasswordChangedAt.Equal(e.clock.Now()) {
		t.Errorf("after the change: %+v %v, want password_changed_at now", got, err)
	}
	if a := e.do(req{method: "GET", path: "/", cookie: cookie}); a.status != http.StatusOK {
		t.Errorf("home after choosing a password: %d", a.status)
	}
}

func TestChangePassword(t *testing.T) {
	e := newConsole(t)
	e.addUser("amira@example.org", console.RoleCWC, "en", "the old password", false)
	cookie := e.signedIn(e.login("amira@example.org", "the old password"), "/")
	elsewhere := e.signedIn(e.login("amira@example.org", "the old password", fromAddr("198.51.100.7:1000")), "/")

	change := func(current, newPassword, repeat string) answer {
		return e.do(req{method: "POST", path: "/account", cookie: cookie,
			form: url.Values{"current": {current}, "new": {newPassword}, "repeat": {repeat}}})
	}
	for _, tt := range []struct {
		current, newPassword, repeat string
		want                         string
	}{
		{"not the password", "a brand new password", "a brand new password", "Your current password is wrong."},
		{"", "a brand new password", "a brand new password", "Your current password is wrong."},
		{"the old password", "short pass", "short pass", "at least 12 characters"},
		{"the old password", "كلمة سر قصي", "كلمة سر قصي", "at least 12 characters"}, // 11 characters, 20 bytes
		{"the old password", "a brand new password", "a brand new passw0rd", "The two new passwords are not the same."},
		{"the old password", "the old password", "the old password", "Choose a password different from the current one."},
		{"the old password", strings.Repeat("x", 1100), strings.Repeat("x", 1100), "too long"},
	} {
		a := change(tt.current, tt.newPassword, tt.repeat)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, tt.want) {
			t.Errorf("change from %q to %q: %d, want 400 saying %q\n%s", tt.current, tt.newPassword, a.status, tt.want, a.body)
		}
	}
	if !e.valid(elsewhere) {
		t.Fatal("a refused change ended the other session")
	}

	a := change("the old password", "a brand new password", "a brand new password")
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account?changed=1" {
		t.Fatalf("change: %d to %q", a.status, a.header.Get("Location"))
	}
	if page := e.do(req{method: "GET", path: "/account?changed=1", cookie: cookie}); !strings.Contains(page.body, "Your password has been changed") {
		t.Errorf("the account page does not say the password changed:\n%s", page.body)
	}
	if !e.valid(cookie) {
		t.Error("the change ended the session that made it")
	}
	if e.valid(elsewhere) {
		t.Error("the change did not end the other session")
	}
	if a := e.login("amira@example.org", "the old password"); a.status != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", a.status)
	}
	e.signedIn(e.login("amira@example.org", "a brand new password"), "/")

	// guessing the current password through a session is throttled like signing in
	for range console.MaxAccountFailures { // the change forgot the wrong one above
		change("guess", "a brand new password 2", "a brand new password 2")
	}
	if a := change("a brand new password", "a brand new password 2", "a brand new password 2"); a.status != http.StatusTooManyRequests {
		t.Errorf("after 5 wrong current passwords: %d, want 429", a.status)
	}
}

// Each language: its direction, its words, nothing loaded from elsewhere, small pages.
func TestPagesInEachLanguage(t *testing.T) {
	e := newConsole(t)
	for _, tt := range []struct {
		lang, dir string
		words     []string
	}{
		{"en", "ltr", []string{"Welcome", "Your account and password", "Sign out", "Administrator"}},
		{"ar", "rtl", []string{"أهلاً بك", "حسابك وكلمة المرور", "تسجيل الخروج", "مدير النظام"}},
		{"ckb", "rtl", []string{"بەخێربێیت", "هەژمار و وشەی نهێنییەکەت", "چوونەدەرەوە", "بەڕێوەبەری سیستەم"}},
	} {
		u := e.addUser(tt.lang+"@example.org", console.RoleAdmin, tt.lang, "a long enough password", false)
		cookie := e.sessionOf(u)
		for _, path := range []string{"/", "/account"} {
			a := e.do(req{method: "GET", path: path, cookie: cookie})
			if a.status != http.StatusOK {
				t.Fatalf("%s %s: %d", tt.lang, path, a.status)
			}
			checkPage(t, tt.lang+" "+path, a)
			if !strings.Contains(a.body, fmt.Sprintf(`<html lang="%s" dir="%s">`, tt.lang, tt.dir)) {
				t.Errorf("%s %s: want <html lang=%q dir=%q>", tt.lang, path, tt.lang, tt.dir)
			}
			if path == "/" {
				for _, w := range tt.words {
					if !strings.Contains(a.body, w) {
						t.Errorf("%s home: no %q\n%s", tt.lang, w, a.body)
					}
				}
			}
		}
	}
	// before sign-in: ?lang=, else the browser's language
	for _, tt := range []struct {
		path, accept, want string
	}{
		{"/login", "", `<html lang="en" dir="ltr">`},
		{"/login", "ar-IQ,ar;q=0.9", `<html lang="ar" dir="rtl">`},
		{"/login?lang=ckb", "ar-IQ", `<html lang="ckb" dir="rtl">`},
		{"/login?lang=xx", "ckb", `<html lang="ckb" dir="rtl">`},
	} {
		a := e.do(req{method: "GET", path: tt.path, header: map[string]string{"Accept-Language": tt.accept}})
		checkPage(t, tt.path, a)
		if !strings.Contains(a.body, tt.want) {
			t.Errorf("GET %s (Accept-Language %q): want %s\n%.400s", tt.path, tt.accept, tt.want, a.body)
		}
	}
	a := e.do(req{method: "GET", path: "/login?lang=ar&next=/account"})
	for _, l := range []string{`href="/login?lang=ckb&amp;next=%2Faccount"`, `href="/login?lang=en&amp;next=%2Faccount"`, ">English<", ">کوردی<"} {
		if !strings.Contains(a.body, l) {
			t.Errorf("the Arabic sign-in page has no %s\n%s", l, a.body)
		}
	}
}

var (
	styleBlock = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	external   = regexp.MustCompile(`(?i)<script|<link|<img|<iframe|src=|url\(|@import|https?://`)
)

// checkPage checks what every console page must be: HTML under 100 KB with no script and
// nothing from elsewhere, not cached or framed, its one inline style allowed by its hash.
func checkPage(t *testing.T, name string, a answer) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", name, ct)
	}
	if len(a.body) > 100<<10 {
		t.Errorf("%s: %d bytes, want under 100 KB", name, len(a.body))
	}
	if m := external.FindString(a.body); m != "" {
		t.Errorf("%s: has %q: no script, and nothing from elsewhere", name, m)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if got := a.header.Get(h); got != want {
			t.Errorf("%s: %s %q, want %q", name, h, got, want)
		}
	}
	csp := a.header.Get("Content-Security-Policy")
	m := styleBlock.FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("%s: no <style>", name)
	}
	sum := sha256.Sum256([]byte(m[1]))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; csp != console.ContentSecurityPolicy() || !strings.Contains(csp, want) {
		t.Errorf("%s: Content-Security-Policy %q does not allow the page's style (%s)", name, csp, want)
	}
}

// The console's 403 and sign-in pages, and the pages of a database that does not answer.
func TestDatabaseDown(t *testing.T) {
	e := newConsole(t)
	u := e.addUser("amira@example.org", console.RoleAdmin, "en", "a long enough password", false)
	cookie := e.sessionOf(u)
	e.pool.Close()
	a := e.do(req{method: "GET", path: "/", cookie: cookie})
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "Something went wrong on our side") {
		t.Errorf("home with the database down: %d\n%s", a.status, a.body)
	}
	a = e.login("amira@example.org", "a long enough password")
	if a.status != http.StatusServiceUnavailable || a.cookie != nil {
		t.Errorf("sign-in with the database down: %d, cookie %v", a.status, a.cookie)
	}
}

// A user chooses the language of their console on the account page: the next page is in it,
// right to left for Arabic and Sorani; a language the console has not is refused.
func TestChangeLanguage(t *testing.T) {
	e := newConsole(t)
	cookie := e.sessionOf(e.addUser("nasrin@example.org", console.RoleCaseworker, "en", "a long enough password", false))
	if a := e.do(req{method: "GET", path: "/account", cookie: cookie}); !strings.Contains(a.body, `<option value="en" selected>English</option>`) {
		t.Fatalf("the account page does not offer the languages with the user's chosen:\n%s", a.body)
	}
	a := e.do(req{method: "POST", path: "/account/language", form: url.Values{"language": {"ckb"}}, cookie: cookie})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account?language=1" {
		t.Fatalf("change: %d %s", a.status, a.header.Get("Location"))
	}
	a = e.do(req{method: "GET", path: "/account?language=1", cookie: cookie})
	if !strings.Contains(a.body, `lang="ckb" dir="rtl"`) || !strings.Contains(a.body, "کۆنسۆڵەکە ئێستا بەم زمانەیە.") {
		t.Errorf("after choosing Sorani:\n%.600s", a.body)
	}
	if a := e.do(req{method: "POST", path: "/account/language", form: url.Values{"language": {"fr"}}, cookie: cookie}); a.status != http.StatusBadRequest {
		t.Errorf("an unknown language: %d", a.status)
	}
}
