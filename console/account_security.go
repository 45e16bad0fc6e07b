package console

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
)

// PendingSecondFactor is how long a session that passed the password has to give the code
// of two-step sign-in: after that, sign in again.
const PendingSecondFactor = 5 * time.Minute

// totpRoles are the roles offered two-step sign-in: those that see SEA reports and manage
// the console. (Once on, it is asked for whatever the role.)
var totpRoles = []string{RolePSEA, RoleAdmin}

// offersTOTP reports whether the user may turn two-step sign-in on.
func offersTOTP(u store.StaffUser) bool { return slices.Contains(totpRoles, u.Role) }

// Audit actions of two-step sign-in (the audit log names who, never a secret or code).
const (
	auditTOTPEnable  = "user.totp_enable"
	auditTOTPDisable = "user.totp_disable"
	// AuditTOTPReset is an administrator turning it off for someone (sawt users totp-reset).
	AuditTOTPReset = "user.totp_reset"
)

// accountMessages are the account page's confirmations, by ?done=.
var accountMessages = map[string]string{"totp_on": "totp_turned_on", "totp_off": "totp_turned_off", "alerts": "alerts_saved"}

// accountData is what the account page shows besides the user: the two-step sign-in section
// (nil for a role not offered it) and where the user is alerted.
type accountData struct {
	TOTP *totpView
	// Telegram and Phone fill the alert form: as stored, or as typed when refused.
	Telegram, Phone string
}

// totpView is the two-step sign-in section: on since a time, being set up (the key to type
// in and its URI), or off.
type totpView struct {
	On        bool
	Since     string
	SettingUp bool
	Key, URI  string
}

// renderAccount renders the account page p of s's user with its sections; more may change
// them (a refused form shows what was typed).
func (w *Web) renderAccount(rw http.ResponseWriter, r *http.Request, status int, s session, p *page, more func(*accountData)) {
	if s.user.OneTimePassword() {
		// Only the password form until they have chosen their own.
		w.render(rw, r, status, "account", p)
		return
	}
	d := &accountData{Phone: s.user.AlertPhone}
	if s.user.AlertTelegramChat != nil {
		d.Telegram = strconv.FormatInt(*s.user.AlertTelegramChat, 10)
	}
	if offersTOTP(s.user) || s.user.TOTPEnabledAt != nil {
		v := &totpView{}
		switch {
		case s.user.TOTPEnabledAt != nil:
			v.On = true
			v.Since = w.localTime(*s.user.TOTPEnabledAt)
		case s.user.TOTPSetup:
			t, err := store.StaffTOTPOf(r.Context(), w.Pool, s.user.ID)
			if err != nil {
				w.serverError(rw, r, "account: read the two-step sign-in setup", err)
				return
			}
			if t.Pending != nil {
				v.SettingUp, v.Key, v.URI = true, totpKeyText(t.Pending), totpURI(t.Pending, s.user.Email)
			}
		}
		d.TOTP = v
	}
	if more != nil {
		more(d)
	}
	p.Data = d
	w.render(rw, r, status, "account", p)
}

// accountFail answers a refused account form: the page again with the message of key.
func (w *Web) accountFail(rw http.ResponseWriter, r *http.Request, s session, status int, key string, more func(*accountData)) {
	p := w.accountPage(s)
	p.Error = text(p.Lang, key)
	w.renderAccount(rw, r, status, s, p, more)
}

// checkPasswordOf checks the current password typed on an account form, under the account's
// sign-in throttling: a wrong one counts as a failed sign-in, so a borrowed session cannot be
// used to guess it. It answers the request itself unless it returns true.
func (w *Web) checkPasswordOf(rw http.ResponseWriter, r *http.Request, s session, password string) bool {
	ctx := r.Context()
	now := w.now()
	key := accountKey(s.user.Email)
	retryAt, throttled, err := w.throttled(ctx, now, limit{key, MaxAccountFailures})
	if err != nil {
		w.serverError(rw, r, "account: count failures", err)
		return false
	}
	if throttled {
		w.tooMany(rw, r, "account", w.accountPage(s), now, retryAt)
		return false
	}
	if password == "" {
		w.accountFail(rw, r, s, http.StatusBadRequest, "wrong_current", nil)
		return false
	}
	ok, err := VerifyPassword(s.user.PasswordHash, password)
	if err != nil {
		w.serverError(rw, r, "account: check the password", err)
		return false
	}
	if !ok {
		if err := store.RecordLoginFailure(ctx, w.Pool, key, now); err != nil {
			w.serverError(rw, r, "account: note a failure", err)
			return false
		}
		w.accountFail(rw, r, s, http.StatusBadRequest, "wrong_current", nil)
		return false
	}
	return true
}

// parseAccountForm reads a POSTed account form, or answers 400.
func (w *Web) parseAccountForm(rw http.ResponseWriter, r *http.Request, s session) bool {
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		w.accountFail(rw, r, s, http.StatusBadRequest, "bad_form", nil)
		return false
	}
	return true
}

// totpStart begins turning two-step sign-in on: a new random secret, kept on the server
// (never in the page's form) until a code from it confirms it, and shown on the account
// page to be typed or pasted into an authenticator app. Starting again replaces it.
func (w *Web) totpStart(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if !w.parseAccountForm(rw, r, s) {
		return
	}
	if s.user.TOTPEnabledAt != nil {
		w.accountFail(rw, r, s, http.StatusBadRequest, "totp_already_on", nil)
		return
	}
	secret, err := newTOTPSecret()
	if err != nil {
		w.serverError(rw, r, "two-step sign-in: make a secret", err)
		return
	}
	err = store.SetStaffTOTPPending(r.Context(), w.Pool, s.user.ID, secret)
	if errors.Is(err, store.ErrNotFound) { // turned on meanwhile, in another tab
		w.accountFail(rw, r, s, http.StatusBadRequest, "totp_already_on", nil)
		return
	}
	if err != nil {
		w.serverError(rw, r, "two-step sign-in: keep the secret", err)
		return
	}
	http.Redirect(rw, r, "/account#totp", http.StatusSeeOther)
}

// totpConfirm turns two-step sign-in on, with the password (a borrowed session cannot tie
// the account to someone else's phone) and a right code from the secret being set up. The
// user's other sessions end, and it is written to the audit log.
func (w *Web) totpConfirm(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	if !w.parseAccountForm(rw, r, s) {
		return
	}
	if s.user.TOTPEnabledAt != nil {
		w.accountFail(rw, r, s, http.StatusBadRequest, "totp_already_on", nil)
		return
	}
	if !s.user.TOTPSetup {
		w.accountFail(rw, r, s, http.StatusBadRequest, "totp_no_setup", nil)
		return
	}
	if !w.checkPasswordOf(rw, r, s, r.PostForm.Get("password")) {
		return
	}
	t, err := store.StaffTOTPOf(ctx, w.Pool, s.user.ID)
	if err != nil {
		w.serverError(rw, r, "two-step sign-in: read the setup", err)
		return
	}
	now := w.now()
	step, ok := matchTOTP(t.Pending, r.PostForm.Get("code"), now, -1)
	if !ok {
		w.accountFail(rw, r, s, http.StatusBadRequest, "totp_wrong_setup_code", nil)
		return
	}
	enabled := false
	err = pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) (err error) {
		if enabled, err = store.EnableStaffTOTP(ctx, tx, s.user.ID, t.Pending, step, now); err != nil || !enabled {
			return err
		}
		if _, err := store.DeleteStaffSessionsOfUser(ctx, tx, s.user.ID, s.hash); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.AuditEntry{At: now, Actor: s.user.Email, Action: auditTOTPEnable,
			Subject: s.user.Email, Detail: "console"})
	})
	if err != nil {
		w.serverError(rw, r, "two-step sign-in: turn it on", err)
		return
	}
	if !enabled { // a new setup started meanwhile, in another tab
		w.accountFail(rw, r, s, http.StatusBadRequest, "totp_no_setup", nil)
		return
	}
	w.log().Info("console: two-step sign-in turned on", "user", s.user.ID)
	http.Redirect(rw, r, "/account?done=totp_on#totp", http.StatusSeeOther)
}

// totpOff turns two-step sign-in off: it needs the password and a code, both counted like
// sign-ins when wrong. It is written to the audit log.
func (w *Web) totpOff(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	if !w.parseAccountForm(rw, r, s) {
		return
	}
	if s.user.TOTPEnabledAt == nil {
		w.accountFail(rw, r, s, http.StatusBadRequest, "totp_not_on", nil)
		return
	}
	if !w.checkPasswordOf(rw, r, s, r.PostForm.Get("password")) {
		return
	}
	t, err := store.StaffTOTPOf(ctx, w.Pool, s.user.ID)
	if err != nil {
		w.serverError(rw, r, "two-step sign-in: read the secret", err)
		return
	}
	now := w.now()
	wrong := func() {
		if err := store.RecordLoginFailure(ctx, w.Pool, accountKey(s.user.Email), now); err != nil {
			w.serverError(rw, r, "two-step sign-in: note a failure", err)
			return
		}
		w.accountFail(rw, r, s, http.StatusBadRequest, "wrong_code", nil)
	}
	step, ok := matchTOTP(t.Secret, r.PostForm.Get("code"), now, t.LastStep)
	if !ok {
		wrong()
		return
	}
	used := false
	err = pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) (err error) {
		if used, err = store.UseStaffTOTPStep(ctx, tx, s.user.ID, step); err != nil || !used {
			return err
		}
		if _, err := store.DisableStaffTOTP(ctx, tx, s.user.ID); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.AuditEntry{At: now, Actor: s.user.Email, Action: auditTOTPDisable,
			Subject: s.user.Email, Detail: "console"})
	})
	if err != nil {
		w.serverError(rw, r, "two-step sign-in: turn it off", err)
		return
	}
	if !used { // the same code, used at the same moment elsewhere
		wrong()
		return
	}
	w.log().Info("console: two-step sign-in turned off", "user", s.user.ID)
	http.Redirect(rw, r, "/account?done=totp_off#totp", http.StatusSeeOther)
}

// changeAlerts sets where the user is alerted about their work (overdue cases): a Telegram
// chat id (a whole number: the chat with Sawt's bot) and a phone number for SMS, each
// optional; an empty field removes it.
func (w *Web) changeAlerts(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if !w.parseAccountForm(rw, r, s) {
		return
	}
	tg, phone := normalDigits(r.PostForm.Get("telegram")), strings.TrimSpace(r.PostForm.Get("phone"))
	typed := func(d *accountData) { d.Telegram, d.Phone = r.PostForm.Get("telegram"), r.PostForm.Get("phone") }
	var chat *int64
	if tg != "" {
		n, err := strconv.ParseInt(tg, 10, 64)
		if err != nil || n == 0 {
			w.accountFail(rw, r, s, http.StatusBadRequest, "alert_bad_telegram", typed)
			return
		}
		chat = &n
	}
	if phone != "" {
		urn, err := channels.NewTelURN(phone)
		if err != nil {
			w.accountFail(rw, r, s, http.StatusBadRequest, "alert_bad_phone", typed)
			return
		}
		phone = urn.Path()
	}
	if err := store.SetStaffAlertContact(r.Context(), w.Pool, s.user.ID, chat, phone); err != nil {
		w.serverError(rw, r, "save the alert addresses", err)
		return
	}
	http.Redirect(rw, r, "/account?done=alerts#alerts", http.StatusSeeOther)
}

// pendingKey is the context key of a session waiting for its second factor (only the
// routes marked SecondFactor get one).
type pendingKey struct{}

func pendingFrom(ctx context.Context) (session, bool) {
	s, ok := ctx.Value(pendingKey{}).(session)
	return s, ok
}

// codePath is the page asking for the code, with where to go after it.
func codePath(next string) string {
	if next == "/" {
		return "/login/code"
	}
	return "/login/code?" + url.Values{"next": {next}}.Encode()
}

// codeForm is the page asking for the code of two-step sign-in.
func codeForm(lang, next string) *page {
	return &page{Lang: lang, Title: text(lang, "code_title"), Next: next}
}

// codePage asks a session waiting for its second factor for the code. Without one: a
// signed-in user goes to the start page, anyone else to sign in.
func (w *Web) codePage(rw http.ResponseWriter, r *http.Request) {
	ps, ok := pendingFrom(r.Context())
	if !ok {
		w.noPending(rw, r)
		return
	}
	w.render(rw, r, http.StatusOK, "signin_code", codeForm(ps.user.Language, safeNext(r.URL.Query().Get("next"))))
}

// noPending answers the code page without a session waiting for a code.
func (w *Web) noPending(rw http.ResponseWriter, r *http.Request) {
	if _, ok := sessionFrom(r.Context()); ok {
		http.Redirect(rw, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

// code takes the code of two-step sign-in: a right one (not used before) makes a full
// session with a new token and ends the pending one, so its cookie is worth nothing after;
// a wrong one counts as a failed sign-in of the account and of the address, under the same
// throttling as passwords.
func (w *Web) code(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ps, ok := pendingFrom(ctx)
	if !ok {
		w.noPending(rw, r)
		return
	}
	lang := ps.user.Language
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		p := codeForm(lang, "/")
		p.Error = text(lang, "bad_form")
		w.render(rw, r, http.StatusBadRequest, "signin_code", p)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	p := codeForm(lang, next)
	now := w.now()
	limits := []limit{{addressKey(r), MaxAddressFailures}, {accountKey(ps.user.Email), MaxAccountFailures}}
	retryAt, throttled, err := w.throttled(ctx, now, limits...)
	if err != nil {
		w.serverError(rw, r, "sign in: count failures", err)
		return
	}
	if throttled {
		w.log().Warn("console: second factor throttled", "user", ps.user.ID, "until", retryAt)
		w.tooMany(rw, r, "signin_code", p, now, retryAt)
		return
	}
	t, err := store.StaffTOTPOf(ctx, w.Pool, ps.user.ID)
	if err != nil {
		w.serverError(rw, r, "sign in: read the second factor", err)
		return
	}
	if t.Secret == nil {
		// Turned off meanwhile (sawt users totp-reset): sign in again.
		if err := store.DeleteStaffSession(ctx, w.Pool, ps.hash); err != nil {
			w.serverError(rw, r, "sign in: end the pending session", err)
			return
		}
		w.clearSessionCookie(rw, r)
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	step, ok := matchTOTP(t.Secret, r.PostForm.Get("code"), now, t.LastStep)
	if ok {
		// Taken once: of two requests with the same code, one only gets a session.
		if ok, err = store.UseStaffTOTPStep(ctx, w.Pool, ps.user.ID, step); err != nil {
			w.serverError(rw, r, "sign in: note the code used", err)
			return
		}
	}
	if !ok {
		for _, l := range limits {
			if err := store.RecordLoginFailure(ctx, w.Pool, l.key, now); err != nil {
				w.serverError(rw, r, "sign in: note a failure", err)
				return
			}
		}
		p.Error = text(lang, "wrong_code")
		w.render(rw, r, http.StatusUnauthorized, "signin_code", p)
		return
	}
	token, err := w.startSession(ctx, r, ps.user, false, ps.hash)
	if errors.Is(err, errPendingGone) {
		w.clearSessionCookie(rw, r)
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	if err != nil {
		w.serverError(rw, r, "sign in: start a session", err)
		return
	}
	w.log().Info("console: signed in", "user", ps.user.ID, "role", ps.user.Role, "second_factor", true)
	w.setSessionCookie(rw, r, token)
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

// homeData is what the start page shows a caseworker: how many of the cases assigned to them
// are past their deadline (0: nothing is said).
type homeData struct{ Overdue int }

func init() {
	pages["signin_code"] = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/signin_code.html"))
}
