package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

var oneTimePassword = regexp.MustCompile(`^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$`)

// addUser runs sawt users add and returns the password it printed.
func addUser(t *testing.T, vars map[string]string, email, role string, more ...string) string {
	t.Helper()
	r := runSawt(t, vars, "", append([]string{"users", "add", email, "--role", role, "--as", "amira"}, more...)...)
	if r.code != exitOK {
		t.Fatalf("add %s: exit %d; stderr:\n%s", email, r.code, r.stderr)
	}
	password := strings.TrimSuffix(r.stdout, "\n")
	if !oneTimePassword.MatchString(password) {
		t.Fatalf("add %s: stdout %q, want the one-time password alone on its line", email, r.stdout)
	}
	if strings.Contains(r.stderr, password) {
		t.Errorf("add %s: the password is on stderr too", email)
	}
	return password
}

func TestUsersAdd(t *testing.T) {
	vars, pool := tokensDatabase(t)
	ctx := context.Background()

	password := addUser(t, vars, "Amira@Example.org", "psea", "--language", "ckb")
	u, err := store.StaffUserByEmail(ctx, pool, "amira@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "amira@example.org" || u.Role != "psea" || u.Language != "ckb" || !u.OneTimePassword() {
		t.Errorf("stored %+v: want lower-cased email, psea, ckb, a one-time password", u)
	}
	if ok, err := console.VerifyPassword(u.PasswordHash, password); !ok || err != nil {
		t.Errorf("the printed password does not match the stored hash: %v %v", ok, err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=65536,t=1,p=2$") || strings.Contains(u.PasswordHash, password) {
		t.Errorf("stored hash %q: want argon2id with the production costs, without the password", u.PasswordHash)
	}
	if v := addUser(t, vars, "karwan@example.org", "viewer"); v == password {
		t.Error("two users got the same password")
	}
	if k, _ := store.StaffUserByEmail(ctx, pool, "karwan@example.org"); k.Language != "en" {
		t.Errorf("default language %q, want en", k.Language)
	}

	entries, err := store.AuditEntries(ctx, pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Actor != "amira" || entries[0].Action != "user.add" ||
		entries[0].Subject != "amira@example.org" || entries[0].Detail != "psea" {
		t.Errorf("audit log %+v: want amira user.add amira@example.org psea first", entries)
	}

	// the same email in another case: refused, nothing stored
	r := runSawt(t, vars, "", "users", "add", "AMIRA@example.org", "--role", "admin")
	if r.code != exitFailure || r.stdout != "" || !strings.Contains(r.stderr, "sawt users: a user with the email amira@example.org exists already") {
		t.Errorf("duplicate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if n, _ := store.CountStaffUsers(ctx, pool); n != 2 {
		t.Errorf("%d users, want 2", n)
	}
}

func TestUsersListAndPassword(t *testing.T) {
	vars, pool := tokensDatabase(t)
	ctx := context.Background()

	r := runSawt(t, vars, "", "users", "list")
	if r.code != exitOK || r.stdout != "" || !strings.Contains(r.stderr, "No console user yet") {
		t.Errorf("empty list: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	old := addUser(t, vars, "karwan@example.org", "caseworker", "--language", "ar")
	addUser(t, vars, "amira@example.org", "admin")
	if _, err := pool.Exec(ctx, `UPDATE staff_users SET password_changed_at = '2026-11-23 09:30:00Z' WHERE email = 'amira@example.org'`); err != nil {
		t.Fatal(err)
	}

	r = runSawt(t, vars, "", "users", "list")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != exitOK || len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "EMAIL ROLE LANGUAGE ADDED PASSWORD CHOSEN DISABLED" {
		t.Fatalf("list: exit %d, want a header and 2 users:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if f := strings.Fields(lines[1]); f[0] != "amira@example.org" || f[1] != "admin" || f[2] != "en" || !strings.Contains(lines[1], "2026-11-23 12:30 +03") {
		t.Errorf("line 1: %q, want amira, admin, en, password chosen 2026-11-23 12:30 +03", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "karwan@example.org" || f[1] != "caseworker" || f[2] != "ar" || !strings.Contains(lines[2], "one-time") {
		t.Errorf("line 2: %q, want karwan, caseworker, ar, one-time", lines[2])
	}
	if strings.Contains(r.stdout, "argon2") || strings.Contains(r.stdout, old) {
		t.Error("the list shows a password or its hash")
	}

	// a new one-time password ends their sessions, and the old one stops working
	k, _ := store.StaffUserByEmail(ctx, pool, "karwan@example.org")
	token := sha256.Sum256([]byte("a session"))
	if err := store.CreateStaffSession(ctx, pool, store.StaffSession{TokenHash: token[:], UserID: k.ID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r = runSawt(t, vars, "", "users", "password", "Karwan@example.org", "--as", "amira")
	newPassword := strings.TrimSuffix(r.stdout, "\n")
	if r.code != exitOK || !oneTimePassword.MatchString(newPassword) || newPassword == old ||
		!strings.Contains(r.stderr, "1 session ended") || strings.Contains(r.stderr, newPassword) {
		t.Fatalf("password: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	k, _ = store.StaffUserByEmail(ctx, pool, "karwan@example.org")
	if ok, _ := console.VerifyPassword(k.PasswordHash, newPassword); !ok || !k.OneTimePassword() {
		t.Error("the new password does not match, or is not one-time")
	}
	if ok, _ := console.VerifyPassword(k.PasswordHash, old); ok {
		t.Error("the old password still matches")
	}
	if _, err := store.StaffSessionUser(ctx, pool, token[:], time.Now(), time.Hour); err == nil {
		t.Error("the session survived the reset")
	}
	entries, _ := store.AuditEntries(ctx, pool, 0)
	if last := entries[len(entries)-1]; last.Actor != "amira" || last.Action != "user.password" || last.Subject != "karwan@example.org" {
		t.Errorf("audit log ends with %+v, want amira user.password karwan@example.org", last)
	}

	r = runSawt(t, vars, "", "users", "password", "nobody@example.org")
	if r.code != exitFailure || r.stdout != "" || !strings.Contains(r.stderr, "sawt users: no user with the email nobody@example.org") {
		t.Errorf("unknown user: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestUsersUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string // on stderr
	}{
		{[]string{"users", "-h"}, exitOK, "Usage: sawt users add EMAIL --role ROLE [--language en|ar|ckb] [--as ACTOR]\n       sawt users list\n       sawt users password EMAIL [--as ACTOR]"},
		{[]string{"users", "add", "-h"}, exitOK, "Usage: sawt users add EMAIL --role admin|cwc|caseworker|psea|viewer [--language en|ar|ckb] [--as ACTOR]"},
		{[]string{"users", "list", "-h"}, exitOK, "Passwords\nare never shown"},
		{[]string{"users", "password", "-h"}, exitOK, "Usage: sawt users password EMAIL [--as ACTOR]"},
		{[]string{"-h"}, exitOK, "  users    people who sign in to the staff console (users add|list|password)"},
		{[]string{"users"}, exitUsage, "sawt users: usage: missing subcommand"},
		{[]string{"users", "remove"}, exitUsage, `sawt users: usage: unknown subcommand "remove"`},
		{[]string{"users", "add", "a@example.org"}, exitUsage, "sawt users: usage: --role is required: one of admin, cwc, caseworker, psea, viewer"},
		{[]string{"users", "add", "a@example.org", "--role", "root"}, exitUsage, `sawt users: usage: --role "root": use one of`},
		{[]string{"users", "add", "a@example.org", "--role", "cwc", "--language", "badini"}, exitUsage, `sawt users: usage: --language "badini": use one of en, ar, ckb`},
		{[]string{"users", "add", "--role", "cwc"}, exitUsage, "sawt users: usage: missing EMAIL"},
		{[]string{"users", "add", "amira", "--role", "cwc"}, exitUsage, `sawt users: usage: "amira" is not an email address`},
		{[]string{"users", "add", "a b@example.org", "--role", "cwc"}, exitUsage, "is not an email address"},
		{[]string{"users", "add", "a@example.org", "b@example.org", "--role", "cwc"}, exitUsage, `unexpected argument "b@example.org"`},
		{[]string{"users", "list", "all"}, exitUsage, `sawt users: usage: unexpected argument "all"`},
		{[]string{"users", "password"}, exitUsage, "sawt users: usage: missing EMAIL"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runSawt(t, nil, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

// serving is a serve run in-process until the test ends.
type serving struct {
	admin  string
	stderr *syncBuffer
}

func startServe(t *testing.T, vars map[string]string) *serving {
	t.Helper()
	getenv := testEnv(t, vars)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: getenv}, []string{"serve"})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop within 30s")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := runningLine.FindStringSubmatch(stderr.String()); m != nil {
			return &serving{admin: m[2], stderr: &stderr}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it was running; stderr:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log \"sawt is running\" within 60s; stderr:\n%s", stderr.String())
		}
	}
}

var firstAdminLine = regexp.MustCompile(`(?m)^\*\*\* FIRST CONSOLE ADMINISTRATOR \*\*\* email: (\S+) one-time password: (\S+) \(shown only this once: sign in at http://(\S+)/login and choose your own\)$`)

// Two serve processes start at once on a database without console users: exactly one makes
// the administrator and prints its one-time password, once, and that password signs in on
// the admin listener.
func TestServeMakesFirstAdmin(t *testing.T) {
	url_ := pgtest.NewURL(t)
	vars := map[string]string{
		"DATABASE_URL": url_, "SAWT_HTTP_ADDR": "127.0.0.1:0", "SAWT_ADMIN_ADDR": "127.0.0.1:0",
		"SAWT_ADMIN_EMAIL": "Chief@Example.org",
	}
	var (
		wg     sync.WaitGroup
		serves [2]*serving
	)
	for i := range serves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serves[i] = startServe(t, vars)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var email, password, addr string
	printed := 0
	for _, s := range serves {
		out := s.stderr.String()
		ms := firstAdminLine.FindAllStringSubmatch(out, -1)
		printed += len(ms)
		if len(ms) == 1 {
			email, password, addr = ms[0][1], ms[0][2], ms[0][3]
			if addr != s.admin {
				t.Errorf("the line gives the address %s, the admin listener is %s", addr, s.admin)
			}
		}
		if strings.Count(out, "FIRST CONSOLE ADMINISTRATOR") != len(ms) {
			t.Errorf("a malformed first-administrator line:\n%s", out)
		}
	}
	if printed != 1 {
		t.Fatalf("the first administrator's password was printed %d times, want once; stderr:\n%s\n---\n%s",
			printed, serves[0].stderr.String(), serves[1].stderr.String())
	}
	if email != "chief@example.org" || !oneTimePassword.MatchString(password) {
		t.Errorf("printed %s %s: want chief@example.org and a one-time password", email, password)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(password string) *http.Response {
		resp, err := client.PostForm("http://"+addr+"/login", url.Values{"email": {"CHIEF@example.org"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("wrong-wrong-wrong-wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d, want 401", resp.StatusCode)
	}
	resp := post(password)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == console.CookieName {
			cookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || cookie == nil {
		t.Fatalf("sign in with the printed password: %d to %q, cookie %v; want 303 to / with a session", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	if cookie.Secure || !cookie.HttpOnly {
		t.Errorf("cookie %v: want HttpOnly, and not Secure for a browser on this machine over plain HTTP", cookie)
	}
	// with a one-time password, the console sends them to choose their own
	get := func(path string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.AddCookie(cookie)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Errorf("GET / with the one-time password: %d to %q, want 303 to /account", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get("/account"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /account: %d, want 200", resp.StatusCode)
	}
	// the API beside it is unchanged
	if resp := get("/api/v1/campaigns/1"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/campaigns/1 with a console cookie: %d, want 401 (the API takes bearer tokens only)", resp.StatusCode)
	}

	// a later start finds the administrator and prints nothing
	later := startServe(t, vars)
	if strings.Contains(later.stderr.String(), "FIRST CONSOLE ADMINISTRATOR") {
		t.Errorf("a later start printed a password again:\n%s", later.stderr.String())
	}
}

// A bad SAWT_ADMIN_EMAIL is a configuration mistake, reported with status 2.
func TestServeBadAdminEmail(t *testing.T) {
	r := runSawt(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t), "SAWT_ADMIN_EMAIL": "not an email"}, "", "serve")
	if r.code != exitUsage || !strings.Contains(r.stderr, `SAWT_ADMIN_EMAIL: "not an email" is not an email address`) {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// A user who left is disabled: their sessions end and no new one is accepted; enabled again,
// they may sign in; both are in the audit log.
func TestUsersDisableAndEnable(t *testing.T) {
	vars, pool := tokensDatabase(t)
	ctx := context.Background()
	addUser(t, vars, "layla@example.org", "caseworker")
	u, err := store.StaffUserByEmail(ctx, pool, "layla@example.org")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	hash := console.HashToken("a-session-of-layla")
	if err := store.CreateStaffSession(ctx, pool, store.StaffSession{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r := runSawt(t, vars, "", "users", "disable", "Layla@Example.org", "--as", "admin.one")
	if r.code != exitOK || !strings.Contains(r.stdout, "layla@example.org is disabled; 1 session ended") {
		t.Fatalf("disable: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := store.StaffSessionUser(ctx, pool, hash, now, time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a disabled user's session: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(runSawt(t, vars, "", "users", "list").stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "layla@example.org") || strings.HasSuffix(lines[1], " -") {
		t.Errorf("list does not show the user disabled:\n%s", strings.Join(lines, "\n"))
	}
	if r := runSawt(t, vars, "", "users", "enable", "layla@example.org"); r.code != exitOK || !strings.Contains(r.stdout, "may sign in again") {
		t.Errorf("enable: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if u, _ := store.StaffUserByEmail(ctx, pool, "layla@example.org"); u.DisabledAt != nil {
		t.Error("still disabled after enable")
	}
	if r := runSawt(t, vars, "", "users", "disable", "nobody@example.org"); r.code == exitOK || !strings.Contains(r.stderr, "no user with the email nobody@example.org") {
		t.Errorf("disable a missing user: %d %q", r.code, r.stderr)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('user.disable', 'user.enable')`).Scan(&n); err != nil || n != 2 {
		t.Errorf("audit entries: %d %v", n, err)
	}
}
