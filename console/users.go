package console

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/sawt/sawt/store"
)

// DefaultAdminEmail is the first administrator's email when SAWT_ADMIN_EMAIL is not set.
const DefaultAdminEmail = "admin@localhost"

// NormalizeEmail checks that s looks like an email address (name@domain, no spaces, at most
// 254 characters; "admin@localhost" is one) and returns it trimmed and lower-cased, as it is
// stored.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", errors.New("the email is empty")
	}
	if len(e) > 254 {
		return "", fmt.Errorf("%q is too long for an email address", s)
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.IndexFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 ||
		strings.ContainsAny(e, `<>()[],;:\"`) {
		return "", fmt.Errorf("%q is not an email address (name@example.org)", s)
	}
	return e, nil
}

// NewUserPassword makes a one-time password and its hash, for a new user or a reset.
func NewUserPassword() (password, hash string, err error) {
	if password, err = NewPassword(); err != nil {
		return "", "", err
	}
	if hash, err = HashPassword(password); err != nil {
		return "", "", err
	}
	return password, hash, nil
}

// EnsureFirstAdmin makes an administrator with this email and a one-time password when there
// is no staff user at all, and returns the password; "" when there were users already. Of
// several processes calling it at once on an empty database, exactly one makes the user and
// gets the password (store.InsertFirstStaffUser).
func EnsureFirstAdmin(ctx context.Context, db store.DB, email string, now time.Time) (string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	n, err := store.CountStaffUsers(ctx, db)
	if err != nil || n > 0 { // spare the hash on every start but the first
		return "", err
	}
	password, hash, err := NewUserPassword()
	if err != nil {
		return "", err
	}
	_, created, err := store.InsertFirstStaffUser(ctx, db, store.StaffUser{Email: email, Role: RoleAdmin, PasswordHash: hash,
		Language: "en", CreatedAt: now})
	if err != nil || !created {
		return "", err
	}
	return password, nil
}
