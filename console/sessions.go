package console

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/store"
)

// CookieName is the session cookie's name. Its value is a random token; the database keeps
// only its SHA-256 (HashToken).
const CookieName = "sawt_session"

// Sign-in throttling: after MaxAccountFailures failed sign-ins to one email, or
// MaxAddressFailures from one client address, within ThrottleWindow, sign-in is refused (429)
// until the oldest of them is ThrottleWindow old, even with the right password.
const (
	ThrottleWindow     = 15 * time.Minute
	MaxAccountFailures = 5
	MaxAddressFailures = 20
)

// maxForm bounds a console form's body.
const maxForm = 64 << 10

// sessionTokenBytes is a session token's randomness: 256 bits, 43 characters of base64url.
const sessionTokenBytes = 32

// newSessionToken makes a session's cookie value and the hash to store for it.
func newSessionToken() (token string, hash []byte, err error) {
	b := make([]byte, sessionTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("make a session token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// sessionTokenLen is the length of a session token.
var sessionTokenLen = base64.RawURLEncoding.EncodedLen(sessionTokenBytes)

// wellFormedSession reports whether s has the form of our session tokens, so that anything
// else is refused without a database lookup.
func wellFormedSession(s string) bool {
	if len(s) != sessionTokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// session is a signed-in request's user and the hash of its session's token.
type session struct {
	user store.StaffUser
	hash []byte
	// pending: the password was right, the second factor is still to come. Such a session
	// opens only the page asking for the code (guard).
	pending bool
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) (session, bool) {
	s, ok := ctx.Value(sessionKey{}).(session)
	return s, ok
}

// StaffFrom returns the signed-in user the console's session check stored in the request's
// context.
func StaffFrom(ctx context.Context) (store.StaffUser, bool) {
	s, ok := sessionFrom(ctx)
	return s.user, ok
}

// session finds the request's session: nil when there is no cookie, or its session is
// unknown, ended or idle too long (hadCookie says whether there was a cookie). A session
// waiting for its second factor is returned too, marked pending. An error means the database
// did not answer.
func (w *Web) session(r *http.Request) (_ *session, hadCookie bool, _ error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, false, nil
	}
	if !wellFormedSession(c.Value) {
		return nil, true, nil
	}
	hash := HashToken(c.Value)
	u, pending, err := store.StaffSessionOf(r.Context(), w.Pool, hash, w.now(), w.idle())
	if errors.Is(err, store.ErrNotFound) {
		return nil, true, nil
	}
	if err != nil {
		return nil, true, err
	}
	return &session{user: u, hash: hash, pending: pending}, true, nil
}

// secureCookie decides whether the session cookie is marked Secure. With Secure set (serve
// sets it) it always is, except on a plain-HTTP request from a loopback address to a loopback
// host name (localhost, 127.0.0.1, [::1]): that is a browser on this machine, or at the end
// of an SSH tunnel, talking to the admin listener directly, where nothing crosses a network
// and some browsers would drop a Secure cookie sent over http. Behind a TLS proxy on the same
// machine the request also comes from loopback, but the browser's Host is the public name
// (proxies pass it on), so the cookie stays Secure. A client can only make its own cookie
// less protected this way, never another's.
func (w *Web) secureCookie(r *http.Request) bool {
	switch {
	case r.TLS != nil:
		return true
	case !w.Secure:
		return false
	default:
		return !(loopbackAddr(r.RemoteAddr) && loopbackHost(r.Host))
	}
}

func loopbackAddr(hostport string) bool {
	ap, err := netip.ParseAddrPort(hostport)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// setSessionCookie gives the browser its session token: HttpOnly (no script reads it),
// SameSite=Lax (not sent on another site's POST), for the whole console, Secure as
// secureCookie says. It has no Max-Age: the browser forgets it when closed, and the server
// ends the session after MaxAge or Idle anyway.
func (w *Web) setSessionCookie(rw http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(rw, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: w.secureCookie(r)})
}

// clearSessionCookie tells the browser to forget its session cookie.
func (w *Web) clearSessionCookie(rw http.ResponseWriter, r *http.Request) {
	http.SetCookie(rw, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: w.secureCookie(r)})
}

// accountKey is the throttling key of sign-ins to an email, whether or not it is an account
// (so that being throttled tells nothing of which emails exist).
func accountKey(email string) string { return "account:" + email }

// addressKey is the throttling key of sign-ins from the request's client: its address as the
// connection gives it (X-Forwarded-For is not trusted: anyone can send it), and for IPv6 the
// /64 network, which one client usually has whole.
func addressKey(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return "addr:" + r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + a.String()
}

// limit is a throttling key and the most failures it may have in ThrottleWindow.
type limit struct {
	key string
	max int
}

// throttled reports whether any of limits is reached, and if so when sign-in may be tried
// again: when the failures under that key in the window are fewer than its max.
func (w *Web) throttled(ctx context.Context, now time.Time, limits ...limit) (retryAt time.Time, _ bool, _ error) {
	since := now.Add(-ThrottleWindow)
	for _, l := range limits {
		n, err := store.CountLoginFailures(ctx, w.Pool, l.key, since)
		if err != nil {
			return time.Time{}, false, err
		}
		if n < l.max {
			continue
		}
		times, err := store.LoginFailuresSince(ctx, w.Pool, l.key, since)
		if err != nil {
			return time.Time{}, false, err
		}
		at := now.Add(ThrottleWindow)
		if i := len(times) - l.max; i >= 0 && i < len(times) {
			at = times[i].Add(ThrottleWindow)
		}
		if at.After(retryAt) {
			retryAt = at
		}
	}
	return retryAt, !retryAt.IsZero(), nil
}

// tooMany answers 429 on the page, saying when to try again (and in Retry-After).
func (w *Web) tooMany(rw http.ResponseWriter, r *http.Request, name string, p *page, now, retryAt time.Time) {
	wait := retryAt.Sub(now)
	mins := max(1, int(math.Ceil(wait.Minutes())))
	rw.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	p.Error = text(p.Lang, "throttled", minutes(p.Lang, mins))
	w.render(rw, r, http.StatusTooManyRequests, name, p)
}

// safeNext is where to go after sign-in: a path on this site, never another site
// (//evil.example, /\evil.example) and never the sign-in pages themselves; "/" otherwise.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "/login" || u.Path == "/logout" || u.Path == "/login/code" {
		return "/"
	}
	return next
}

// loginPage shows the sign-in form, in the language of ?lang= or the browser.
func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request) {
	lang := w.language(r)
	next := safeNext(r.URL.Query().Get("next"))
	w.render(rw, r, http.StatusOK, "login", w.loginForm(lang, next, ""))
}

// loginForm is the sign-in page, with links to it in the other languages.
func (w *Web) loginForm(lang, next, email string) *page {
	p := &page{Lang: lang, Title: text(lang, "login_title"), Next: next, Email: email}
	for _, l := range Languages() {
		if l == lang {
			continue
		}
		q := url.Values{"lang": {l}}
		if next != "/" {
			q.Set("next", next)
		}
		p.Langs = append(p.Langs, link{Href: "/login?" + q.Encode(), Code: l, Name: languageNames[l]})
	}
	return p
}

// login signs in: on the right email and password (and no throttling), a new session with a
// new token, whatever cookie the client sent (that session, if any, is ended: no session
// fixation), and 303 to next. For a user with two-step sign-in on, that session only waits
// for the code (for PendingSecondFactor), and the answer is 303 to /login/code, which makes
// the full session. Otherwise the form again with "wrong email or password" (401), or 429
// when throttled.
func (w *Web) login(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		lang := w.language(r)
		p := w.loginForm(lang, "/", "")
		p.Error = text(lang, "bad_form")
		w.render(rw, r, http.StatusBadRequest, "login", p)
		return
	}
	lang := w.language(r)
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	p := w.loginForm(lang, next, email)
	now := w.now()

	limits := []limit{{addressKey(r), MaxAddressFailures}}
	if email != "" {
		limits = append(limits, limit{accountKey(email), MaxAccountFailures})
	}
	retryAt, throttled, err := w.throttled(ctx, now, limits...)
	if err != nil {
		w.serverError(rw, r, "sign in: count failures", err)
		return
	}
	if throttled {
		w.log().Warn("console: sign-in throttled", "address", strings.TrimPrefix(addressKey(r), "addr:"), "until", retryAt)
		w.tooMany(rw, r, "login", p, now, retryAt)
		return
	}
	wrong := func() {
		p.Error = text(lang, "wrong_login")
		w.render(rw, r, http.StatusUnauthorized, "login", p)
	}
	if email == "" || password == "" {
		wrong()
		return
	}
	u, err := store.StaffUserByEmail(ctx, w.Pool, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.serverError(rw, r, "sign in: look up the user", err)
		return
	}
	ok := false
	if err == nil && u.DisabledAt == nil {
		ok, err = VerifyPassword(u.PasswordHash, password)
		if err != nil {
			w.log().Error("console: sign in: the stored password hash is unusable", "user", u.ID, "error", err)
		}
	} else {
		burnVerify(password) // as long as a real check: the timing does not tell who has an account
	}
	if !ok {
		for _, l := range limits {
			if err := store.RecordLoginFailure(ctx, w.Pool, l.key, now); err != nil {
				w.serverError(rw, r, "sign in: note a failure", err)
				return
			}
		}
		wrong()
		return
	}

	pending := u.TOTPEnabledAt != nil
	token, err := w.startSession(ctx, r, u, pending, nil)
	if err != nil {
		w.serverError(rw, r, "sign in: start a session", err)
		return
	}
	w.setSessionCookie(rw, r, token)
	if pending {
		w.log().Info("console: password accepted, waiting for the code", "user", u.ID, "role", u.Role)
		http.Redirect(rw, r, codePath(next), http.StatusSeeOther)
		return
	}
	w.log().Info("console: signed in", "user", u.ID, "role", u.Role)
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

// errPendingGone: the session waiting for its second factor ended before the code was taken
// (used by another request at the same moment, or signed out).
var errPendingGone = errors.New("the session waiting for the code has ended")

// startSession makes a new session of u with a new token, and returns the token. Whatever
// session the client came with ends, and so does the one whose hash is ending (a session
// waiting for its second factor, now given: errPendingGone if it has ended already). A
// pending session waits for the second factor and ends after PendingSecondFactor; the
// account's failed sign-ins are forgotten only once a full session is made, or a right
// password would let its holder go on guessing codes.
func (w *Web) startSession(ctx context.Context, r *http.Request, u store.StaffUser, pending bool, ending []byte) (string, error) {
	now := w.now()
	token, hash, err := newSessionToken()
	if err != nil {
		return "", err
	}
	expires := now.Add(w.maxAge())
	if pending {
		expires = now.Add(PendingSecondFactor)
	}
	err = pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if ending != nil {
			if ended, err := store.EndPendingStaffSession(ctx, tx, ending); err != nil || !ended {
				return cmp.Or(err, errPendingGone)
			}
		}
		// Whatever session the client came with ends: a token set by someone else (session
		// fixation) is worth nothing, and a stale one of this browser is not left behind.
		if c, err := r.Cookie(CookieName); err == nil && wellFormedSession(c.Value) {
			if err := store.DeleteStaffSession(ctx, tx, HashToken(c.Value)); err != nil {
				return err
			}
		}
		if err := store.CreateStaffSession(ctx, tx, store.StaffSession{TokenHash: hash, UserID: u.ID, CreatedAt: now,
			ExpiresAt: expires, PendingSecondFactor: pending}); err != nil {
			return err
		}
		if pending {
			return nil
		}
		// The account's failures are forgotten; the address's are not, or one valid account
		// would let its holder go on guessing others' passwords.
		return store.ClearLoginFailures(ctx, tx, accountKey(u.Email))
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// logout ends the request's session, if any, and tells the browser to forget it.
func (w *Web) logout(rw http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && wellFormedSession(c.Value) {
		hash := HashToken(c.Value)
		w.sea.drop(hash) // a focal point's key unlocked in this session leaves memory now
		if err := store.DeleteStaffSession(r.Context(), w.Pool, hash); err != nil {
			w.serverError(rw, r, "sign out", err)
			return
		}
	}
	w.clearSessionCookie(rw, r)
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

// accountPage is the account page of the request's user.
func (w *Web) accountPage(s session) *page {
	lang := s.user.Language
	p := &page{Lang: lang, Title: text(lang, "account_title"), User: &s.user}
	for _, l := range Languages() {
		p.Langs = append(p.Langs, link{Code: l, Name: languageNames[l], Text: map[bool]string{true: "selected"}[l == lang]})
	}
	if s.user.OneTimePassword() {
		p.Notice = text(lang, "one_time")
	}
	return p
}

// account shows the user's email, role and language, and the forms to change the password
// and the language, to say where they are alerted, and (psea, admin) to turn two-step
// sign-in on or off.
func (w *Web) account(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	p := w.accountPage(s)
	if r.URL.Query().Get("changed") == "1" && !s.user.OneTimePassword() {
		p.Message = text(p.Lang, "changed")
	}
	if r.URL.Query().Get("language") == "1" {
		p.Message = text(p.Lang, "language_changed")
	}
	if m := accountMessages[r.URL.Query().Get("done")]; m != "" {
		p.Message = text(p.Lang, m)
	}
	w.renderAccount(rw, r, http.StatusOK, s, p, nil)
}

// changeLanguage sets the language of the user's pages, from the next page on.
func (w *Web) changeLanguage(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	lang := ""
	if err := r.ParseForm(); err == nil {
		lang = r.PostForm.Get("language")
	}
	if !ValidLanguage(lang) {
		p := w.accountPage(s)
		p.Error = text(p.Lang, "bad_form")
		w.renderAccount(rw, r, http.StatusBadRequest, s, p, nil)
		return
	}
	if err := store.SetStaffLanguage(r.Context(), w.Pool, s.user.ID, lang); err != nil {
		w.serverError(rw, r, "change language", err)
		return
	}
	http.Redirect(rw, r, "/account?language=1", http.StatusSeeOther)
}

// changePassword changes the user's password: the current one is required (and wrong ones
// count against the account like failed sign-ins, so a borrowed session cannot be used to
// guess it), the new one has at least MinPasswordLen characters and differs from it. Every
// other session of the user ends.
func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	p := w.accountPage(s)
	lang := p.Lang
	fail := func(status int, key string) {
		p.Error = text(lang, key)
		w.renderAccount(rw, r, status, s, p, nil)
	}
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "bad_form")
		return
	}
	current, newPassword, repeat := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("repeat")
	now := w.now()
	key := accountKey(s.user.Email)
	retryAt, throttled, err := w.throttled(ctx, now, limit{key, MaxAccountFailures})
	if err != nil {
		w.serverError(rw, r, "change password: count failures", err)
		return
	}
	if throttled {
		w.tooMany(rw, r, "account", p, now, retryAt)
		return
	}
	if current == "" {
		fail(http.StatusBadRequest, "wrong_current")
		return
	}
	ok, err := VerifyPassword(s.user.PasswordHash, current)
	if err != nil {
		w.serverError(rw, r, "change password: check the current one", err)
		return
	}
	if !ok {
		if err := store.RecordLoginFailure(ctx, w.Pool, key, now); err != nil {
			w.serverError(rw, r, "change password: note a failure", err)
			return
		}
		fail(http.StatusBadRequest, "wrong_current")
		return
	}
	switch {
	case len(newPassword) > MaxPasswordLen:
		fail(http.StatusBadRequest, "too_long")
		return
	case utf8.RuneCountInString(newPassword) < MinPasswordLen:
		fail(http.StatusBadRequest, "too_short")
		return
	case newPassword != repeat:
		fail(http.StatusBadRequest, "mismatch")
		return
	case newPassword == current:
		fail(http.StatusBadRequest, "same_password")
		return
	}
	hash, err := HashPassword(newPassword)
	if err != nil {
		w.serverError(rw, r, "change password: hash it", err)
		return
	}
	var ended int64
	err = pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if err := store.SetStaffPassword(ctx, tx, s.user.ID, hash, &now); err != nil {
			return err
		}
		if ended, err = store.DeleteStaffSessionsOfUser(ctx, tx, s.user.ID, s.hash); err != nil {
			return err
		}
		return store.ClearLoginFailures(ctx, tx, key)
	})
	if err != nil {
		w.serverError(rw, r, "change password", err)
		return
	}
	w.log().Info("console: password changed", "user", s.user.ID, "other_sessions_ended", ended)
	http.Redirect(rw, r, "/account?changed=1", http.StatusSeeOther)
}
