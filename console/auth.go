// Package console is the staff console and the JSON API under /api/v1, both on the admin
// listener. Every API request is authenticated by a bearer token scoped to one role; a role
// never implies another, and a token's plaintext is never stored or logged, only its hash.
package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
)

// Roles of staff and tokens (ARCHITECTURE §10). None includes another: admin does not imply
// the others.
const (
	RoleAdmin      = "admin"      // users, settings, categories
	RoleCWC        = "cwc"        // communicating with communities: campaigns, distributions
	RoleCaseworker = "caseworker" // cases
	RolePSEA       = "psea"       // SEA reports only
	RoleViewer     = "viewer"     // aggregate dashboards only
)

// Roles lists every role, in the order above.
func Roles() []string {
	return []string{RoleAdmin, RoleCWC, RoleCaseworker, RolePSEA, RoleViewer}
}

// ValidRole reports whether role is one of the roles.
func ValidRole(role string) bool { return slices.Contains(Roles(), role) }

// tokenPrefix starts every token, so a leaked one is recognisable (and secret scanners can
// find it) and a wrong kind of credential is refused without a database lookup.
const tokenPrefix = "sawt_"

// tokenBytes is the token's randomness: 256 bits, 43 characters of base64url.
const tokenBytes = 32

var tokenLen = len(tokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenBytes)

// NewToken makes a new API token and the hash to store for it. The token is shown once to
// whoever made it and never stored.
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("make a token: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the hash a token is stored and looked up by: SHA-256. A fast hash is right
// here, unlike for passwords: a token is 256 random bits, so there is nothing to guess from
// its hash, and a slow hash would only slow down every API request.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Caller is who an authenticated API request comes from: a token.
type Caller struct {
	TokenID int64
	Name    string
	Role    string
}

type callerKey struct{}

// CallerFrom returns the caller Auth.Require stored in the request's context.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Auth authenticates API requests by their bearer token.
type Auth struct {
	Pool *pgxpool.Pool
	// Now is the clock of last uses. Defaults to time.Now.
	Now func() time.Time
	// Logger gets database failures. Defaults to discarding them.
	Logger *slog.Logger
}

// The challenge a 401 carries (RFC 6750 §3).
const challenge = `Bearer realm="sawt"`

// Require is middleware that lets through only requests with the bearer token of an active
// token whose role is one of roles, listed explicitly (admin is not implied), and stores the
// Caller in the request's context. Otherwise it answers 401 (no token, or not a valid one),
// 403 (a valid token of another role) or 503 (the database did not answer). It panics when
// given no role or an unknown one: that is a mistake in the routes, not in a request.
func (a *Auth) Require(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 {
		panic("console: Auth.Require needs at least one role")
	}
	for _, r := range roles {
		if !ValidRole(r) {
			panic(fmt.Sprintf("console: Auth.Require: unknown role %q", r))
		}
	}
	roles = slices.Clone(roles)
	needs := strings.Join(roles, ", ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok {
				w.Header().Set("WWW-Authenticate", challenge)
				WriteError(w, http.StatusUnauthorized, "missing bearer token: create one with sawt tokens create")
				return
			}
			invalid := func() {
				w.Header().Set("WWW-Authenticate", challenge+`, error="invalid_token"`)
				WriteError(w, http.StatusUnauthorized, "invalid or revoked token")
			}
			if !wellFormed(token) {
				invalid()
				return
			}
			ctx := r.Context()
			t, err := store.APITokenByHash(ctx, a.Pool, HashToken(token))
			if errors.Is(err, store.ErrNotFound) {
				invalid()
				return
			}
			if err != nil {
				a.logger().Error("API authentication: look up the token", "error", err)
				WriteError(w, http.StatusServiceUnavailable, "database unavailable")
				return
			}
			if !slices.Contains(roles, t.Role) {
				WriteError(w, http.StatusForbidden, "this token's role (%s) may not do this; it needs one of: %s", t.Role, needs)
				return
			}
			now := a.now()
			if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= time.Minute { // spare the round trip (TouchAPIToken checks too)
				if err := store.TouchAPIToken(ctx, a.Pool, t.ID, now); err != nil {
					a.logger().Warn("API authentication: note the token's use", "token", t.Name, "error", err)
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, callerKey{}, Caller{TokenID: t.ID, Name: t.Name, Role: t.Role})))
		})
	}
}

func (a *Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Auth) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// bearerToken takes the token from an Authorization header "Bearer <token>" (the scheme in
// any case, RFC 9110 §11.1); false when the header is missing or not of that form.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// wellFormed reports whether s has the form of our tokens, so that anything else (another
// system's credential, a truncated paste) is refused without a database lookup.
func wellFormed(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, tokenPrefix) {
		return false
	}
	for _, c := range []byte(s[len(tokenPrefix):]) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// WriteJSON answers with v as JSON and the status. A v that cannot be encoded is a 500.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = json.NewEncoder(&buf).Encode(errorBody{Error: "internal error: the answer could not be encoded"})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorBody struct {
	Error string `json:"error"`
}

// WriteError answers with the status and {"error": "..."}, the message formatted as by
// fmt.Sprintf.
func WriteError(w http.ResponseWriter, status int, format string, args ...any) {
	WriteJSON(w, status, errorBody{Error: fmt.Sprintf(format, args...)})
}
