package console_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

func init() {
	for k, v := range map[string]int{
		"GET /login/code":            http.StatusSeeOther,   // no session waiting for a code: to sign in, or home
		"POST /login/code":           http.StatusSeeOther,   // the same
		"POST /account/alerts":       http.StatusSeeOther,   // empty: no alert address
		"POST /account/totp":         http.StatusSeeOther,   // a key to set up
		"POST /account/totp/confirm": http.StatusBadRequest, // nothing being set up
		"POST /account/totp/off":     http.StatusBadRequest, // not on
	} {
		roleMatrixExpect[k] = v
	}
}

const totpPassword = "a long enough password"

// enableTOTP turns two-step sign-in on for u directly in the database and returns its secret.
func (e *consoleEnv) enableTOTP(u store.StaffUser) []byte {
	e.t.Helper()
	ctx := context.Background()
	secret := make([]byte, console.TOTPSecretBytes)
	_, _ = rand.Read(secret)
	if err := store.SetStaffTOTPPending(ctx, e.pool, u.ID, secret); err != nil {
		e.t.Fatal(err)
	}
	if ok, err := store.EnableStaffTOTP(ctx, e.pool, u.ID, secret, 0, e.clock.Now()); err != nil || !ok {
		e.t.Fatalf("enable: %v %v", ok, err)
	}
	return secret
}

// pendingOf starts a session of u waiting for its second factor, directly in the database.
func (e *consoleEnv) pendingOf(u store.StaffUser) string {
	e.t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := e.clock.Now()
	if err := store.CreateStaffSession(context.Background(), e.pool, store.StaffSession{TokenHash: console.HashToken(token),
		UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(console.PendingSecondFactor), PendingSecondFactor: true}); err != nil {
		e.t.Fatal(err)
	}
	return token
}

// code posts a code of two-step sign-in with a pending session's cookie.
func (e *consoleEnv) code(cookie, code string, next ...string) answer {
	e.t.Helper()
	form := url.Values{"code": {code}}
	if len(next) > 0 {
		form.Set("next", next[0])
	}
	return e.do(req{method: "POST", path: "/login/code", cookie: cookie, form: form})
}

// pending checks that a sign-in with the right password waits for the code, and returns the
// pending session's cookie.
func (e *consoleEnv) pending(a answer, to string) string {
	e.t.Helper()
	if a.status != http.StatusSeeOther || a.header.Get("Location") != to || a.cookie == nil || a.cookie.Value == "" {
		e.t.Fatalf("sign-in with two-step on: %d to %q, cookie %v; want 303 to %s with a cookie\n%s",
			a.status, a.header.Get("Location"), a.cookie, to, a.body)
	}
	return a.cookie.Value
}

func auditActions(t *testing.T, e *consoleEnv) []string {
	t.Helper()
	entries, err := store.AuditEntries(context.Background(), e.pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range entries {
		got = append(got, a.Actor+" "+a.Action+" "+a.Subject)
	}
	return got
}

var (
	keyOnPage = regexp.MustCompile(`<code dir="ltr">([A-Z2-7 ]+)</code>`)
	uriOnPage = regexp.MustCompile(`<textarea readonly rows="3" dir="ltr">([^<]+)</textarea>`)
)

// A PSEA focal point turns two-step sign-in on from the account page: the key is shown (in
// groups, and as an otpauth URI) and kept on the server; a wrong code or password does not
// turn it on, the right code with the password does, ends their other sessions and is
// audited.
func TestTOTPEnrol(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	u := e.addUser("amira@example.org", console.RolePSEA, "en", totpPassword, false)
	cookie := e.sessionOf(u)
	elsewhere := e.sessionOf(u)

	a := e.do(req{method: "GET", path: "/account", cookie: cookie})
	if a.status != http.StatusOK || !strings.Contains(a.body, `<h2 id="totp">Two-step sign-in</h2>`) ||
		!strings.Contains(a.body, `<form method="post" action="/account/totp">`) {
		t.Fatalf("the account page does not offer two-step sign-in: %d\n%s", a.status, a.body)
	}
	checkPage(t, "account", a)

	// confirming before starting: refused
	if a := e.do(req{method: "POST", path: "/account/totp/confirm", cookie: cookie,
		form: url.Values{"password": {totpPassword}, "code": {"123456"}}}); a.status != http.StatusBadRequest {
		t.Errorf("confirm without a key: %d, want 400", a.status)
	}

	a = e.do(req{method: "POST", path: "/account/totp", cookie: cookie, form: url.Values{}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account#totp" {
		t.Fatalf("start: %d to %q", a.status, a.header.Get("Location"))
	}
	page := e.do(req{method: "GET", path: "/account", cookie: cookie})
	checkPage(t, "account while setting up", page)
	m := keyOnPage.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no key on the page:\n%s", page.body)
	}
	if !regexp.MustCompile(`^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$`).MatchString(m[1]) {
		t.Errorf("key %q: want 32 base32 characters in groups of four", m[1])
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil || len(secret) != 20 {
		t.Fatalf("key %q: %v, %d bytes", m[1], err, len(secret))
	}
	um := uriOnPage.FindStringSubmatch(page.body)
	if um == nil {
		t.Fatalf("no otpauth URI on the page:\n%s", page.body)
	}
	uri, err := url.Parse(strings.ReplaceAll(um[1], "&amp;", "&"))
	if err != nil || uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Path != "/Sawt:amira@example.org" ||
		uri.Query().Get("issuer") != "Sawt" || uri.Query().Get("secret") != strings.ReplaceAll(m[1], " ", "") {
		t.Errorf("URI %s: want otpauth://totp/Sawt:amira@example.org with the key and issuer Sawt", um[1])
	}
	// the key is kept on the server, not in a form the browser sends back
	if strings.Contains(page.body, `name="secret"`) || strings.Contains(page.body, `type="hidden" name="key"`) {
		t.Error("the key is in a form field")
	}
	if st, err := store.StaffTOTPOf(ctx, e.pool, u.ID); err != nil || string(st.Pending) != string(secret) || st.Secret != nil {
		t.Errorf("stored %+v %v: want the shown key pending, none enabled", st, err)
	}

	confirm := func(password, code string) answer {
		return e.do(req{method: "POST", path: "/account/totp/confirm", cookie: cookie,
			form: url.Values{"password": {password}, "code": {code}}})
	}
	now := e.clock.Now()
	wrongCode := fmt.Sprintf("%06d", (atoi(console.TOTPCode(secret, now))+1)%1000000)
	if a := confirm(totpPassword, wrongCode); a.status != http.StatusBadRequest || !strings.Contains(a.body, "This code does not match the key.") ||
		keyOnPage.FindStringSubmatch(a.body)[1] != m[1] {
		t.Errorf("a wrong code: %d, want 400 with the same key shown again\n%s", a.status, a.body)
	}
	if a := confirm("not the password", console.TOTPCode(secret, now)); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, "Your current password is wrong.") {
		t.Errorf("a wrong password: %d, want 400", a.status)
	}
	if got, _ := store.StaffUserByID(ctx, e.pool, u.ID); got.TOTPEnabledAt != nil {
		t.Fatal("two-step sign-in was turned on by a refused form")
	}
	a = confirm(totpPassword, console.TOTPCode(secret, now))
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account?done=totp_on#totp" {
		t.Fatalf("confirm: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	got, _ := store.StaffUserByID(ctx, e.pool, u.ID)
	if got.TOTPEnabledAt == nil || !got.TOTPEnabledAt.Equal(now) || got.TOTPSetup {
		t.Errorf("after confirming: enabled %v, setting up %v", got.TOTPEnabledAt, got.TOTPSetup)
	}
	page = e.do(req{method: "GET", path: "/account?done=totp_on", cookie: cookie})
	if !strings.Contains(page.body, "Two-step sign-in is on, and you have been signed out everywhere else.") ||
		!strings.Contains(page.body, `action="/account/totp/off"`) || keyOnPage.MatchString(page.body) {
		t.Errorf("the account page after turning it on:\n%s", page.body)
	}
	if e.valid(elsewhere) {
		t.Error("another session survived turning two-step sign-in on")
	}
	if got := auditActions(t, e); len(got) != 1 || got[0] != "amira@example.org user.totp_enable amira@example.org" {
		t.Errorf("audit log %q", got)
	}
	// the code that confirmed it is used: it does not sign in
	pend := e.pending(e.login("amira@example.org", totpPassword), "/login/code")
	if a := e.code(pend, console.TOTPCode(secret, now)); a.status != http.StatusUnauthorized {
		t.Errorf("the code that turned it on, again: %d, want 401", a.status)
	}
	// starting again once on: refused
	if a := e.do(req{method: "POST", path: "/account/totp", cookie: cookie, form: url.Values{}}); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, "Two-step sign-in is already on.") {
		t.Errorf("start again when on: %d", a.status)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// Two-step sign-in is offered to PSEA focal points and administrators only: the other roles'
// account page has no such section, and its forms answer 403.
func TestTOTPOfferedOnlyToPSEAAndAdmin(t *testing.T) {
	e := newConsole(t)
	for _, role := range console.Roles() {
		cookie := e.sessionOf(e.addUser(role+"@example.org", role, "en", totpPassword, false))
		a := e.do(req{method: "GET", path: "/account", cookie: cookie})
		offered := strings.Contains(a.body, "Two-step sign-in")
		if want := role == console.RolePSEA || role == console.RoleAdmin; offered != want {
			t.Errorf("%s: two-step sign-in offered %v, want %v", role, offered, want)
		}
		if role == console.RoleCaseworker {
			if a := e.do(req{method: "POST", path: "/account/totp", cookie: cookie, form: url.Values{}}); a.status != http.StatusForbidden {
				t.Errorf("caseworker starting two-step sign-in: %d, want 403", a.status)
			}
		}
	}
}

// With two-step sign-in on, the right password gives a session that only waits for the code;
// the right code gives a new full session and the waiting one stops working; a code is taken
// once; a waiting session ends after five minutes.
func TestTOTPSignIn(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	u := e.addUser("amira@example.org", console.RoleAdmin, "ar", totpPassword, false)
	secret := e.enableTOTP(u)

	pend := e.pending(e.login("amira@example.org", totpPassword, withNext("/account")), "/login/code?next=%2Faccount")
	var pendingFlag bool
	if err := e.pool.QueryRow(ctx, `SELECT pending_second_factor FROM staff_sessions WHERE token_hash = $1`,
		console.HashToken(pend)).Scan(&pendingFlag); err != nil || !pendingFlag {
		t.Fatalf("the session made by the password: pending %v (%v)", pendingFlag, err)
	}
	// the password alone opens nothing
	for _, path := range []string{"/", "/account", "/dashboard"} {
		if a := e.do(req{method: "GET", path: path, cookie: pend}); a.status != http.StatusSeeOther || a.header.Get("Location") != "/login/code" {
			t.Errorf("GET %s with the password only: %d to %q, want 303 to /login/code", path, a.status, a.header.Get("Location"))
		}
	}
	a := e.do(req{method: "GET", path: "/login/code?next=%2Faccount", cookie: pend})
	checkPage(t, "code page", a)
	if a.status != http.StatusOK || !strings.Contains(a.body, `dir="rtl"`) || !strings.Contains(a.body, "التحقق بخطوتين") ||
		!strings.Contains(a.body, `name="next" value="/account"`) || !strings.Contains(a.body, `autocomplete="one-time-code"`) {
		t.Fatalf("the code page: %d\n%s", a.status, a.body)
	}
	now := e.clock.Now()
	right := console.TOTPCode(secret, now)
	wrong := fmt.Sprintf("%06d", (atoi(right)+500000)%1000000)
	if a := e.code(pend, wrong, "/account"); a.status != http.StatusUnauthorized || a.cookie != nil ||
		!strings.Contains(a.body, "هذا الرمز غير صحيح") {
		t.Errorf("a wrong code: %d, cookie %v\n%s", a.status, a.cookie, a.body)
	}
	a = e.code(pend, right, "/account")
	full := e.signedIn(a, "/account")
	if full == pend {
		t.Fatal("the full session kept the token of the waiting one")
	}
	if !e.valid(full) {
		t.Error("the full session is not valid")
	}
	// the waiting session's token is worth nothing now
	if a := e.do(req{method: "GET", path: "/login/code", cookie: pend}); a.status != http.StatusSeeOther || a.header.Get("Location") != "/login" {
		t.Errorf("the code page with the used token: %d to %q, want 303 to /login", a.status, a.header.Get("Location"))
	}
	if e.valid(pend) {
		t.Error("the token of the waiting session opens the account")
	}
	var sessions int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM staff_sessions WHERE user_id = $1`, u.ID).Scan(&sessions); err != nil || sessions != 1 {
		t.Errorf("%d sessions (%v), want the full one only", sessions, err)
	}

	// the same code again, from a new sign-in: refused (replay); the next step's is taken
	pend = e.pending(e.login("amira@example.org", totpPassword), "/login/code")
	if a := e.code(pend, right); a.status != http.StatusUnauthorized {
		t.Errorf("the used code again: %d, want 401", a.status)
	}
	e.clock.Add(30 * time.Second)
	e.signedIn(e.code(pend, console.TOTPCode(secret, e.clock.Now())), "/")

	// a waiting session ends after five minutes
	pend = e.pending(e.login("amira@example.org", totpPassword), "/login/code")
	e.clock.Add(console.PendingSecondFactor)
	if a := e.code(pend, console.TOTPCode(secret, e.clock.Now())); a.status != http.StatusSeeOther || a.header.Get("Location") != "/login" {
		t.Errorf("a code after five minutes: %d to %q, want 303 to /login", a.status, a.header.Get("Location"))
	}

	// a full session on the code page goes home; signing out from the code page ends the wait
	if a := e.do(req{method: "GET", path: "/login/code", cookie: full}); a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		t.Errorf("the code page when signed in: %d to %q", a.status, a.header.Get("Location"))
	}
	e.clock.Add(30 * time.Second)
	pend = e.pending(e.login("amira@example.org", totpPassword), "/login/code")
	if a := e.do(req{method: "POST", path: "/logout", cookie: pend, form: url.Values{}}); a.status != http.StatusSeeOther {
		t.Errorf("sign out while waiting: %d", a.status)
	}
	if a := e.code(pend, console.TOTPCode(secret, e.clock.Now())); a.status != http.StatusSeeOther || a.header.Get("Location") != "/login" {
		t.Errorf("a code after signing out: %d to %q", a.status, a.header.Get("Location"))
	}
	// the user without two-step sign-in is not asked for a code
	e.addUser("karwan@example.org", console.RoleAdmin, "en", totpPassword, false)
	e.signedIn(e.login("karwan@example.org", totpPassword), "/")
}

// A session waiting for its second factor opens no page of the table: every route but the
// code page's answers it 303 to /login/code, or, for signing in or out, what it answers
// anyone; never a page.
func TestPendingSessionOpensNothingElse(t *testing.T) {
	e := newConsole(t)
	users := map[string]store.StaffUser{}
	for _, role := range console.Roles() {
		users[role] = e.addUser(role+"@example.org", role, "en", totpPassword, false)
		e.enableTOTP(users[role])
	}
	for _, rt := range e.web.Routes() {
		if rt.SecondFactor {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		path := samplePath(rt.Pattern)
		for _, role := range console.Roles() {
			r := req{method: rt.Method, path: path, cookie: e.pendingOf(users[role])}
			if rt.Method == http.MethodPost {
				r.form = url.Values{}
			}
			a := e.do(r)
			switch {
			case a.status == http.StatusOK:
				t.Errorf("%s as %s waiting for the code: 200\n%.300s", key, role, a.body)
			case rt.Public && rt.Method == http.MethodPost:
				if want := roleMatrixExpect[key]; a.status != want {
					t.Errorf("%s as %s waiting for the code: %d, want %d as for anyone", key, role, a.status, want)
				}
			case a.status != http.StatusSeeOther || a.header.Get("Location") != "/login/code":
				t.Errorf("%s as %s waiting for the code: %d to %q, want 303 to /login/code", key, role, a.status, a.header.Get("Location"))
			}
		}
	}
	// and the API beside it does not take the cookie either (it takes bearer tokens only)
}

// Wrong codes count as failed sign-ins: after five, the account is refused, even with the
// right code, and so is its password; a right password in between does not forget them.
func TestTOTPThrottled(t *testing.T) {
	e := newConsole(t)
	u := e.addUser("amira@example.org", console.RolePSEA, "en", totpPassword, false)
	secret := e.enableTOTP(u)
	wrong := func(now time.Time) string {
		return fmt.Sprintf("%06d", (atoi(console.TOTPCode(secret, now))+1)%1000000)
	}
	for i := range console.MaxAccountFailures {
		// a new sign-in with the right password every time: it does not clear the failures
		pend := e.pending(e.login("amira@example.org", totpPassword, fromAddr(fmt.Sprintf("192.0.2.%d:5000", 10+i))), "/login/code")
		if a := e.code(pend, wrong(e.clock.Now())); a.status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d, want 401", i+1, a.status)
		}
		if i == console.MaxAccountFailures-1 {
			a := e.code(pend, console.TOTPCode(secret, e.clock.Now()))
			if a.status != http.StatusTooManyRequests || a.cookie != nil || !strings.Contains(a.body, "Too many failed sign-ins.") {
				t.Errorf("the right code after 5 wrong ones: %d, cookie %v; want 429", a.status, a.cookie)
			}
		}
		e.clock.Add(time.Minute)
	}
	if a := e.login("amira@example.org", totpPassword, fromAddr("198.51.100.1:5000")); a.status != http.StatusTooManyRequests {
		t.Errorf("the password after 5 wrong codes: %d, want 429", a.status)
	}
	// 15 minutes after the first failure, one may try again; a right code forgets them
	e.clock.Add(console.ThrottleWindow - 4*time.Minute)
	pend := e.pending(e.login("amira@example.org", totpPassword), "/login/code")
	e.signedIn(e.code(pend, console.TOTPCode(secret, e.clock.Now())), "/")
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM login_failures WHERE key = 'account:amira@example.org'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d failures of the account left after a right code (%v)", n, err)
	}
}

// Turning two-step sign-in off needs the password and a code; it is audited, and the next
// sign-in asks for no code.
func TestTOTPOff(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	u := e.addUser("amira@example.org", console.RoleAdmin, "ckb", totpPassword, false)
	secret := e.enableTOTP(u)
	cookie := e.sessionOf(u)
	off := func(password, code string) answer {
		return e.do(req{method: "POST", path: "/account/totp/off", cookie: cookie,
			form: url.Values{"password": {password}, "code": {code}}})
	}
	code := console.TOTPCode(secret, e.clock.Now())
	if a := off("not the password", code); a.status != http.StatusBadRequest || !strings.Contains(a.body, "وشەی نهێنیی ئێستات هەڵەیە") {
		t.Errorf("wrong password: %d\n%s", a.status, a.body)
	}
	if a := off(totpPassword, ""); a.status != http.StatusBadRequest || !strings.Contains(a.body, "ئەم کۆدە هەڵەیە") {
		t.Errorf("no code: %d\n%s", a.status, a.body)
	}
	if got, _ := store.StaffUserByID(ctx, e.pool, u.ID); got.TOTPEnabledAt == nil {
		t.Fatal("turned off by a refused form")
	}
	a := off(totpPassword, code)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account?done=totp_off#totp" {
		t.Fatalf("off: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	if st, _ := store.StaffTOTPOf(ctx, e.pool, u.ID); st.Secret != nil || st.Pending != nil {
		t.Error("the secret is kept after turning it off")
	}
	if got := auditActions(t, e); len(got) != 1 || got[0] != "amira@example.org user.totp_disable amira@example.org" {
		t.Errorf("audit log %q", got)
	}
	e.signedIn(e.login("amira@example.org", totpPassword), "/")
	if a := off(totpPassword, code); a.status != http.StatusBadRequest {
		t.Errorf("off when off: %d", a.status)
	}
}

// Any user says where Sawt alerts them: a Telegram chat id and a phone number, checked and
// stored in international form; a bad one is refused with what was typed kept.
func TestAlertAddresses(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	u := e.addUser("nasrin@example.org", console.RoleCaseworker, "en", totpPassword, false)
	cookie := e.sessionOf(u)
	save := func(tg, phone string) answer {
		return e.do(req{method: "POST", path: "/account/alerts", cookie: cookie, form: url.Values{"telegram": {tg}, "phone": {phone}}})
	}
	a := save(" 123456789 ", "0750 123 4567")
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/account?done=alerts#alerts" {
		t.Fatalf("save: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	got, _ := store.StaffUserByID(ctx, e.pool, u.ID)
	if got.AlertTelegramChat == nil || *got.AlertTelegramChat != 123456789 || got.AlertPhone != "+9647501234567" {
		t.Errorf("stored %v %q, want 123456789 and +9647501234567", got.AlertTelegramChat, got.AlertPhone)
	}
	page := e.do(req{method: "GET", path: "/account?done=alerts", cookie: cookie})
	if !strings.Contains(page.body, "Your alert addresses are saved.") || !strings.Contains(page.body, `name="telegram" value="123456789"`) ||
		!strings.Contains(page.body, `value="&#43;9647501234567"`) {
		t.Errorf("the account page after saving:\n%s", page.body)
	}
	for _, tt := range []struct{ tg, phone, want string }{
		{"abc", "", "A Telegram chat ID is a whole number."},
		{"0", "", "A Telegram chat ID is a whole number."},
		{"", "12345", "This phone number is not valid."},
		{"", "+964 0750", "This phone number is not valid."},
	} {
		a := save(tt.tg, tt.phone)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, tt.want) || !strings.Contains(a.body, `name="telegram" value="`+tt.tg+`"`) {
			t.Errorf("save %q %q: %d, want 400 saying %q with the typed values\n%s", tt.tg, tt.phone, a.status, tt.want, a.body)
		}
	}
	// Arabic-Indic digits are fine; empty fields remove the addresses
	if a := save("٩٨٧٦", ""); a.status != http.StatusSeeOther {
		t.Errorf("Arabic-Indic digits: %d", a.status)
	}
	if got, _ := store.StaffUserByID(ctx, e.pool, u.ID); got.AlertTelegramChat == nil || *got.AlertTelegramChat != 9876 || got.AlertPhone != "" {
		t.Errorf("stored %v %q", got.AlertTelegramChat, got.AlertPhone)
	}
	save("", "")
	if got, _ := store.StaffUserByID(ctx, e.pool, u.ID); got.AlertTelegramChat != nil || got.AlertPhone != "" {
		t.Errorf("not cleared: %v %q", got.AlertTelegramChat, got.AlertPhone)
	}
}

// A caseworker's start page says how many of their cases are past their deadline, with a
// link to the overdue queue; nothing when none is, and nothing for other roles.
func TestHomeOverdueCount(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	cw := e.addUser("nasrin@example.org", console.RoleCaseworker, "ar", totpPassword, false)
	cookie := e.sessionOf(cw)
	a := e.do(req{method: "GET", path: "/", cookie: cookie})
	if a.status != http.StatusOK || strings.Contains(a.body, "حالاتك التي تجاوزت موعدها") {
		t.Errorf("home without overdue cases: %d\n%s", a.status, a.body)
	}
	now := e.clock.Now()
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		c, err := store.ContactForURN(ctx, tx, "tel:+9647700000001")
		if err != nil {
			return err
		}
		for i, k := range []struct {
			assignee, status string
			due              time.Duration
		}{
			{"nasrin@example.org", "new", -time.Hour},
			{"nasrin@example.org", "in_progress", -2 * time.Hour},
			{"nasrin@example.org", "new", time.Hour},     // not yet due
			{"nasrin@example.org", "closed", -time.Hour}, // closed
			{"karwan@example.org", "new", -time.Hour},    // another's
		} {
			id, err := store.InsertCase(ctx, tx, store.CaseRow{Reference: fmt.Sprintf("2000000%d", i), ContactID: c.ID, Category: "other",
				Priority: "normal", Status: k.status, Channel: "sms", CreatedAt: now.Add(-48 * time.Hour),
				AckDueAt: now.Add(k.due), ReferDueAt: now.Add(k.due), ResolveDueAt: now.Add(k.due)}, "system")
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE cases SET assignee = $2 WHERE id = $1`, id, k.assignee); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a = e.do(req{method: "GET", path: "/", cookie: cookie})
	if !strings.Contains(a.body, `<a href="/cases?overdue=1">حالاتك التي تجاوزت موعدها:</a> <bdi dir="ltr">2</bdi>`) {
		t.Errorf("home with two overdue cases:\n%s", a.body)
	}
	checkPage(t, "home", a)
	admin := e.sessionOf(e.addUser("admin@example.org", console.RoleAdmin, "en", totpPassword, false))
	if a := e.do(req{method: "GET", path: "/", cookie: admin}); strings.Contains(a.body, "past their deadline") {
		t.Error("an administrator's home shows overdue cases")
	}
}

// A route for the second factor is a public one: one with roles is a mistake in the table.
func TestSecondFactorRouteMustBePublic(t *testing.T) {
	e := newConsole(t)
	defer func() {
		if recover() == nil {
			t.Error("Register took a second-factor route with roles")
		}
	}()
	e.web.Register(http.NewServeMux(), []console.Route{{Method: "GET", Pattern: "/x", Roles: []string{console.RoleAdmin},
		SecondFactor: true, Handler: func(http.ResponseWriter, *http.Request) {}}})
}
