package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrExists: a row with this unique key exists already (a staff user with this email).
var ErrExists = errors.New("exists already")

// StaffUser is a person who signs in to the console.
type StaffUser struct {
	ID int64
	// Email is lower-cased: it is unique whatever its case.
	Email string
	Role  string
	// PasswordHash is the argon2id hash (PHC string); the console checks passwords against it.
	PasswordHash string
	// Language of the console's pages: en, ar or ckb.
	Language  string
	CreatedAt time.Time
	// PasswordChangedAt is when the person last chose their own password; nil while the
	// password is a one-time one given to them.
	PasswordChangedAt *time.Time
	// DisabledAt: a disabled account cannot sign in.
	DisabledAt *time.Time
	// TOTPEnabledAt is when the user turned on two-step sign-in (a code from an authenticator
	// app after the password); nil while it is off. The secret is read only when needed
	// (StaffTOTPOf).
	TOTPEnabledAt *time.Time
	// TOTPSetup: the user has started turning two-step sign-in on, and not yet confirmed it
	// with a code.
	TOTPSetup bool
	// AlertTelegramChat and AlertPhone are where Sawt alerts the person about their work
	// (overdue cases): a Telegram chat, a phone number in E.164 form; nil and "" when not given.
	AlertTelegramChat *int64
	AlertPhone        string
}

// OneTimePassword reports whether the user still has a password given to them, not one of
// their own choosing.
func (u StaffUser) OneTimePassword() bool { return u.PasswordChangedAt == nil }

// staffLockKey serialises the making of the first staff user, so two `serve` processes
// starting on an empty database make one.
const staffLockKey = 0x5a_77_74_04 // "Sawt" + 4; apiTokenLockKey is + 3

// staffSessionTouchEvery is how stale a session's last_seen_at may get: a busy session is
// written at most once in that time, not once per request.
const staffSessionTouchEvery = time.Minute

// loginFailuresKept is how long failed sign-ins are kept: far longer than any throttling
// window, short enough that the table stays small.
const loginFailuresKept = 24 * time.Hour

const staffUserColumns = `id, email, role, password_hash, language, created_at, password_changed_at, disabled_at, ` +
	`totp_enabled_at, totp_pending_secret IS NOT NULL, alert_telegram_chat, alert_phone`

// scanStaffUser reads staffUserColumns, then extra columns into extra.
func scanStaffUser(row pgx.Row, extra ...any) (StaffUser, error) {
	var u StaffUser
	var phone *string
	err := row.Scan(append([]any{&u.ID, &u.Email, &u.Role, &u.PasswordHash, &u.Language, &u.CreatedAt, &u.PasswordChangedAt,
		&u.DisabledAt, &u.TOTPEnabledAt, &u.TOTPSetup, &u.AlertTelegramChat, &phone}, extra...)...)
	if phone != nil {
		u.AlertPhone = *phone
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// normEmail is how emails are stored and looked up: trimmed and lower-cased.
func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// InsertStaffUser stores a new staff user and returns its ID. Its email is stored trimmed and
// lower-cased; Language defaults to en; ID and DisabledAt are ignored. An email another user
// has already, in any case, gives an error wrapping ErrExists without aborting the transaction
// db may be. The caller checks the role and language (the database refuses unknown ones) and
// hashes the password.
func InsertStaffUser(ctx context.Context, db DB, u StaffUser) (int64, error) {
	u.Email = normEmail(u.Email)
	if u.Email == "" {
		return 0, errors.New("a staff user needs an email")
	}
	if u.PasswordHash == "" {
		return 0, errors.New("a staff user needs a password hash")
	}
	if u.Language == "" {
		u.Language = "en"
	}
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO staff_users (email, role, password_hash, language, created_at, password_changed_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (email) DO NOTHING
		RETURNING id`, u.Email, u.Role, u.PasswordHash, u.Language, u.CreatedAt, u.PasswordChangedAt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("staff user %q: %w", u.Email, ErrExists)
	}
	return id, err
}

// InsertFirstStaffUser stores u (as InsertStaffUser does) only when there is no staff user at
// all, and reports whether it did. Callers are serialised by a transaction-scoped advisory
// lock (given a pool, it runs in a transaction of its own), and a conflict on the email is
// not an error: of several processes starting at once on an empty database, exactly one
// makes the user and is told so.
func InsertFirstStaffUser(ctx context.Context, db DB, u StaffUser) (id int64, created bool, err error) {
	u.Email = normEmail(u.Email)
	if u.Email == "" || u.PasswordHash == "" {
		return 0, false, errors.New("a staff user needs an email and a password hash")
	}
	if u.Language == "" {
		u.Language = "en"
	}
	insert := func(db DB) error {
		if _, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, staffLockKey); err != nil {
			return fmt.Errorf("staff users: lock: %w", err)
		}
		err := db.QueryRow(ctx, `
			INSERT INTO staff_users (email, role, password_hash, language, created_at, password_changed_at)
			SELECT $1, $2, $3, $4, $5, $6
			WHERE NOT EXISTS (SELECT 1 FROM staff_users)
			ON CONFLICT (email) DO NOTHING
			RETURNING id`, u.Email, u.Role, u.PasswordHash, u.Language, u.CreatedAt, u.PasswordChangedAt).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err == nil {
			created = true
		}
		return err
	}
	if _, inTx := db.(pgx.Tx); !inTx {
		if b, ok := db.(beginner); ok {
			err = pgx.BeginFunc(ctx, b, func(tx pgx.Tx) error { return insert(tx) })
			return id, created && err == nil, err
		}
	}
	err = insert(db)
	return id, created && err == nil, err
}

// StaffUserByEmail finds the staff user with this email (in any case), disabled or not, or
// ErrNotFound.
func StaffUserByEmail(ctx context.Context, db DB, email string) (StaffUser, error) {
	return scanStaffUser(db.QueryRow(ctx, `SELECT `+staffUserColumns+` FROM staff_users WHERE email = $1`, normEmail(email)))
}

// StaffUserByID finds the staff user with this ID, or ErrNotFound.
func StaffUserByID(ctx context.Context, db DB, id int64) (StaffUser, error) {
	return scanStaffUser(db.QueryRow(ctx, `SELECT `+staffUserColumns+` FROM staff_users WHERE id = $1`, id))
}

// CountStaffUsers counts the staff users, disabled ones too.
func CountStaffUsers(ctx context.Context, db DB) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM staff_users`).Scan(&n)
	return n, err
}

// ListStaffUsers lists every staff user by email.
func ListStaffUsers(ctx context.Context, db DB) ([]StaffUser, error) {
	rows, err := db.Query(ctx, `SELECT `+staffUserColumns+` FROM staff_users ORDER BY email`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (StaffUser, error) { return scanStaffUser(row) })
}

// SetStaffPassword replaces a staff user's password hash. changedAt is when they chose it
// themselves; nil makes it a one-time password they must replace. It does not end their
// sessions: see DeleteStaffSessionsOfUser. ErrNotFound when there is no such user.
func SetStaffPassword(ctx context.Context, db DB, userID int64, hash string, changedAt *time.Time) error {
	if hash == "" {
		return errors.New("a staff user needs a password hash")
	}
	tag, err := db.Exec(ctx, `UPDATE staff_users SET password_hash = $2, password_changed_at = $3 WHERE id = $1`,
		userID, hash, changedAt)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("staff user %d: %w", userID, ErrNotFound)
	}
	return nil
}

// StaffSession is a signed-in browser: the SHA-256 of its cookie's token, never the token.
type StaffSession struct {
	TokenHash  []byte
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// PendingSecondFactor: the password was right, the second factor is still to come. Such a
	// session is not a signed-in user (StaffSessionUser refuses it); see StaffSessionOf.
	PendingSecondFactor bool
}

// CreateStaffSession stores a new session, seen last when created. It also removes the
// user's sessions past their absolute end, so they do not pile up.
func CreateStaffSession(ctx context.Context, db DB, s StaffSession) error {
	if len(s.TokenHash) != 32 {
		return errors.New("a staff session needs the SHA-256 of its token")
	}
	if !s.ExpiresAt.After(s.CreatedAt) {
		return errors.New("a staff session must end after it starts")
	}
	if _, err := db.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1 AND expires_at <= $2`, s.UserID, s.CreatedAt); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `
		INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, pending_second_factor)
		VALUES ($1, $2, $3, $3, $4, $5)`, s.TokenHash, s.UserID, s.CreatedAt, s.ExpiresAt, s.PendingSecondFactor)
	return err
}

// StaffSessionUser finds the user of the signed-in session with this token hash, as of now:
// it gives ErrNotFound when there is no such session, when it has ended (expires_at), when it
// has been idle for idle or longer, when the user is disabled, or when the session still
// waits for its second factor. It notes now as the session's last use, at most once a minute
// (so the idle time is measured to within a minute).
func StaffSessionUser(ctx context.Context, db DB, tokenHash []byte, now time.Time, idle time.Duration) (StaffUser, error) {
	u, pending, err := StaffSessionOf(ctx, db, tokenHash, now, idle)
	if err == nil && pending {
		return StaffUser{}, ErrNotFound
	}
	return u, err
}

// StaffSessionOf is StaffSessionUser that also finds a session waiting for its second factor,
// and says whether it is one: the caller must then let it do nothing but give the code.
func StaffSessionOf(ctx context.Context, db DB, tokenHash []byte, now time.Time, idle time.Duration) (_ StaffUser, pending bool, _ error) {
	if idle <= 0 {
		return StaffUser{}, false, errors.New("staff session: the idle timeout must be positive")
	}
	u, err := scanStaffUser(db.QueryRow(ctx, `
		WITH s AS (
			SELECT s.token_hash, s.user_id, s.last_seen_at, s.pending_second_factor
			FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
			WHERE s.token_hash = $1 AND s.expires_at > $2::timestamptz
			  AND s.last_seen_at > $2::timestamptz - $3::interval AND u.disabled_at IS NULL
		), touched AS (
			UPDATE staff_sessions t SET last_seen_at = $2::timestamptz
			FROM s WHERE t.token_hash = s.token_hash AND s.last_seen_at <= $2::timestamptz - $4::interval
		)
		SELECT `+prefixed("u.", staffUserColumns)+`, s.pending_second_factor FROM s JOIN staff_users u ON u.id = s.user_id`,
		tokenHash, now, idle, staffSessionTouchEvery), &pending)
	return u, pending, err
}

// prefixed puts a table alias before each of a list of columns.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + c
	}
	return strings.Join(cols, ", ")
}

// DeleteStaffSession ends the session with this token hash; none is not an error.
func DeleteStaffSession(ctx context.Context, db DB, tokenHash []byte) error {
	_, err := db.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, tokenHash)
	return err
}

// DeleteStaffSessionsOfUser ends every session of the user but the one whose token hash is
// keep (nil: all of them), and returns how many it ended.
func DeleteStaffSessionsOfUser(ctx context.Context, db DB, userID int64, keep []byte) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`,
		userID, keep)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// RecordLoginFailure notes a failed sign-in at at under key, and prunes that key's failures
// older than a day.
func RecordLoginFailure(ctx context.Context, db DB, key string, at time.Time) error {
	if key == "" {
		return errors.New("a login failure needs a key")
	}
	if _, err := db.Exec(ctx, `DELETE FROM login_failures WHERE key = $1 AND at < $2`, key, at.Add(-loginFailuresKept)); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `INSERT INTO login_failures (key, at) VALUES ($1, $2)`, key, at)
	return err
}

// CountLoginFailures counts the failed sign-ins under key after since (a failure at since
// itself is just out of the window).
func CountLoginFailures(ctx context.Context, db DB, key string, since time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM login_failures WHERE key = $1 AND at > $2`, key, since).Scan(&n)
	return n, err
}

// LoginFailuresSince lists the times of the failed sign-ins under key after since, oldest
// first.
func LoginFailuresSince(ctx context.Context, db DB, key string, since time.Time) ([]time.Time, error) {
	rows, err := db.Query(ctx, `SELECT at FROM login_failures WHERE key = $1 AND at > $2 ORDER BY at`, key, since)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[time.Time])
}

// ClearLoginFailures forgets the failed sign-ins under key.
func ClearLoginFailures(ctx context.Context, db DB, key string) error {
	_, err := db.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return err
}

// SetStaffDisabled disables a user (at) or enables one again (nil); ErrNotFound for none.
func SetStaffDisabled(ctx context.Context, db DB, userID int64, at *time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE staff_users SET disabled_at = $2 WHERE id = $1`, userID, at)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// SetStaffLanguage sets the language of a user's console pages.
func SetStaffLanguage(ctx context.Context, db DB, userID int64, lang string) error {
	tag, err := db.Exec(ctx, `UPDATE staff_users SET language = $2 WHERE id = $1`, userID, lang)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// StaffTOTP is a user's two-step sign-in as stored: the secret when it is on, the secret
// being set up, and the time step of the last code accepted.
type StaffTOTP struct {
	Secret, Pending []byte
	// LastStep is the time step of the last code accepted; -1 when none was.
	LastStep int64
}

// StaffTOTPOf reads a user's TOTP secrets; ErrNotFound when there is no such user.
func StaffTOTPOf(ctx context.Context, db DB, userID int64) (StaffTOTP, error) {
	t := StaffTOTP{}
	err := db.QueryRow(ctx, `SELECT totp_secret, totp_pending_secret, coalesce(totp_last_step, -1) FROM staff_users WHERE id = $1`,
		userID).Scan(&t.Secret, &t.Pending, &t.LastStep)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// SetStaffTOTPPending keeps the secret a user is setting up their authenticator app with,
// replacing any earlier one, until they confirm it (EnableStaffTOTP). Two-step sign-in must
// be off: ErrNotFound otherwise, or when there is no such user.
func SetStaffTOTPPending(ctx context.Context, db DB, userID int64, secret []byte) error {
	tag, err := db.Exec(ctx, `UPDATE staff_users SET totp_pending_secret = $2 WHERE id = $1 AND totp_enabled_at IS NULL`,
		userID, secret)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// EnableStaffTOTP turns two-step sign-in on with the secret being set up, if it is still
// secret (not replaced by a newer setup meanwhile) and two-step sign-in is off; step is the
// time step of the code that confirmed it, which is not accepted again. It reports whether
// it did.
func EnableStaffTOTP(ctx context.Context, db DB, userID int64, secret []byte, step int64, at time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `
		UPDATE staff_users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_enabled_at = $4,
		       totp_last_step = $3
		WHERE id = $1 AND totp_pending_secret = $2 AND totp_enabled_at IS NULL`, userID, secret, step, at)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// UseStaffTOTPStep notes that a code of time step step was accepted, if no code of that step
// or a later one was before and two-step sign-in is on; it reports whether it did. A code is
// so accepted once, even by two requests at the same moment: one of them gets false.
func UseStaffTOTPStep(ctx context.Context, db DB, userID, step int64) (bool, error) {
	tag, err := db.Exec(ctx, `
		UPDATE staff_users SET totp_last_step = $2
		WHERE id = $1 AND totp_enabled_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $2)`, userID, step)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// DisableStaffTOTP turns a user's two-step sign-in off and forgets its secrets (and any
// setup under way); it reports whether it was on. ErrNotFound when there is no such user.
func DisableStaffTOTP(ctx context.Context, db DB, userID int64) (wasOn bool, _ error) {
	err := db.QueryRow(ctx, `
		UPDATE staff_users u SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, totp_pending_secret = NULL
		FROM (SELECT id, totp_enabled_at IS NOT NULL AS was_on FROM staff_users WHERE id = $1 FOR UPDATE) old
		WHERE u.id = old.id RETURNING old.was_on`, userID).Scan(&wasOn)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	return wasOn, err
}

// EndPendingStaffSession ends the session with this token hash if it is one waiting for its
// second factor, and reports whether it did: of two requests giving the code with the same
// session, one only finds it.
func EndPendingStaffSession(ctx context.Context, db DB, tokenHash []byte) (bool, error) {
	tag, err := db.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1 AND pending_second_factor`, tokenHash)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// DeletePendingStaffSessions ends the user's sessions that wait for their second factor.
func DeletePendingStaffSessions(ctx context.Context, db DB, userID int64) error {
	_, err := db.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1 AND pending_second_factor`, userID)
	return err
}

// SetStaffAlertContact sets where Sawt alerts a user about their work: a Telegram chat (nil:
// none) and a phone number in E.164 form ("": none). The caller checks them.
func SetStaffAlertContact(ctx context.Context, db DB, userID int64, telegramChat *int64, phone string) error {
	tag, err := db.Exec(ctx, `UPDATE staff_users SET alert_telegram_chat = $2, alert_phone = nullif($3, '') WHERE id = $1`,
		userID, telegramChat, phone)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}
