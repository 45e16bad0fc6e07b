package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestNewToken(t *testing.T) {
	token, hash, err := console.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(token, "sawt_")
	if !ok || len(rest) != 43 {
		t.Fatalf("token %q: want sawt_ and 43 characters", token)
	}
	if b, err := base64.RawURLEncoding.DecodeString(rest); err != nil || len(b) != 32 {
		t.Errorf("token %q is not 32 bytes of base64url: %v", token, err)
	}
	if !bytes.Equal(hash, console.HashToken(token)) || len(hash) != 32 {
		t.Errorf("hash %x is not HashToken's", hash)
	}
	other, _, err := console.NewToken()
	if err != nil || other == token {
		t.Errorf("two tokens alike: %q %v", other, err)
	}
}

func TestValidRole(t *testing.T) {
	for _, r := range []string{"admin", "cwc", "caseworker", "psea", "viewer"} {
		if !console.ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	for _, r := range []string{"", "Admin", "root", "cwc "} {
		if console.ValidRole(r) {
			t.Errorf("ValidRole(%q) = true", r)
		}
	}
}

// tokenFor stores a new token of that name and role and returns it.
func tokenFor(t *testing.T, pool *pgxpool.Pool, name, role string) string {
	t.Helper()
	token, hash, err := console.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateAPIToken(context.Background(), pool, name, role, hash, time.Now()); err != nil {
		t.Fatal(err)
	}
	return token
}

// reached is the handler behind the middleware: it answers 200 with the caller it saw.
var reached = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := console.CallerFrom(r.Context())
	if !ok {
		console.WriteError(w, http.StatusInternalServerError, "no caller in the context")
		return
	}
	console.WriteJSON(w, http.StatusOK, c)
})

func TestRequire(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	ops := tokenFor(t, pool, "ops-bot", console.RoleCWC)
	viewer := tokenFor(t, pool, "dashboard", console.RoleViewer)
	admin := tokenFor(t, pool, "root", console.RoleAdmin)
	revoked := tokenFor(t, pool, "old", console.RoleCWC)
	if err := store.RevokeAPIToken(ctx, pool, "old", time.Now()); err != nil {
		t.Fatal(err)
	}
	unknown, _, _ := console.NewToken()

	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	auth := &console.Auth{Pool: pool, Now: func() time.Time { return now }}
	h := auth.Require(console.RoleCWC, console.RoleAdmin)(reached)
	psea := auth.Require(console.RolePSEA)(reached)

	const challenge = `Bearer realm="sawt"`
	tests := []struct {
		name      string
		handler   http.Handler
		header    string // Authorization
		status    int
		error     string // the JSON error; "" for success
		challenge string // WWW-Authenticate
	}{
		{"no header", h, "", 401, "missing bearer token: create one with sawt tokens create", challenge},
		{"wrong scheme", h, "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+ops)), 401, "missing bearer token: create one with sawt tokens create", challenge},
		{"token without scheme", h, ops, 401, "missing bearer token: create one with sawt tokens create", challenge},
		{"scheme without token", h, "Bearer ", 401, "missing bearer token: create one with sawt tokens create", challenge},
		{"two tokens", h, "Bearer " + ops + " " + ops, 401, "missing bearer token: create one with sawt tokens create", challenge},
		{"unknown token", h, "Bearer " + unknown, 401, "invalid or revoked token", challenge + `, error="invalid_token"`},
		{"not one of our tokens", h, "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", 401, "invalid or revoked token", challenge + `, error="invalid_token"`},
		{"truncated token", h, "Bearer " + ops[:len(ops)-1], 401, "invalid or revoked token", challenge + `, error="invalid_token"`},
		{"revoked token", h, "Bearer " + revoked, 401, "invalid or revoked token", challenge + `, error="invalid_token"`},
		{"wrong role", h, "Bearer " + viewer, 403, "this token's role (viewer) may not do this; it needs one of: cwc, admin", ""},
		{"admin not implied", psea, "Bearer " + admin, 403, "this token's role (admin) may not do this; it needs one of: psea", ""},
		{"right role", h, "Bearer " + ops, 200, "", ""},
		{"scheme in another case", h, "bEARER " + ops, 200, "", ""},
		{"listed admin", h, "Bearer " + admin, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/v1/cases", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			tt.handler.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			checkJSONHeaders(t, rec)
			if tt.error == "" {
				return
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body) != 1 || body["error"] != tt.error {
				t.Errorf("body %s, want {\"error\": %q}", rec.Body, tt.error)
			}
		})
	}

	// the handler sees who called, and the use is noted
	req := httptest.NewRequest("GET", "/api/v1/campaigns", nil)
	req.Header.Set("Authorization", "Bearer "+ops)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	stored, err := store.APITokenByHash(ctx, pool, console.HashToken(ops))
	if err != nil {
		t.Fatal(err)
	}
	var c console.Caller
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || c != (console.Caller{TokenID: stored.ID, Name: "ops-bot", Role: "cwc"}) {
		t.Errorf("the handler saw %s (%v), want ops-bot's token %d with role cwc", rec.Body, err, stored.ID)
	}
	if stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(now) {
		t.Errorf("last used %v, want %s", stored.LastUsedAt, now)
	}
	// refused requests are not uses
	if v, err := store.APITokenByHash(ctx, pool, console.HashToken(viewer)); err != nil || v.LastUsedAt != nil {
		t.Errorf("a refused token's last use was noted: %v %v", v.LastUsedAt, err)
	}
}

func TestRequireDatabaseDown(t *testing.T) {
	pool := pgtest.New(t)
	token := tokenFor(t, pool, "ops-bot", console.RoleCWC)
	var logs bytes.Buffer
	auth := &console.Auth{Pool: pool, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	h := auth.Require(console.RoleCWC)(reached)
	pool.Close()

	req := httptest.NewRequest("GET", "/api/v1/cases", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	checkJSONHeaders(t, rec)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"error":"database unavailable"}` {
		t.Errorf("body %s", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "closed pool") {
		t.Errorf("the failure was not logged with its cause:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the token was logged")
	}
}

func TestRequireNeedsKnownRoles(t *testing.T) {
	for _, roles := range [][]string{nil, {"cwc", "root"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Require(%q) did not panic", roles)
				}
			}()
			(&console.Auth{}).Require(roles...)
		}()
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	console.WriteJSON(rec, http.StatusCreated, map[string]any{"reference": "1234567", "n": 2})
	checkJSONHeaders(t, rec)
	if rec.Code != http.StatusCreated || strings.TrimSpace(rec.Body.String()) != `{"n":2,"reference":"1234567"}` {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}

	rec = httptest.NewRecorder()
	console.WriteJSON(rec, http.StatusOK, map[string]any{"bad": func() {}})
	checkJSONHeaders(t, rec)
	if rec.Code != http.StatusInternalServerError || !strings.HasPrefix(rec.Body.String(), `{"error":`) {
		t.Errorf("unencodable value: %d %s, want a 500 with a JSON error", rec.Code, rec.Body)
	}

	rec = httptest.NewRecorder()
	console.WriteError(rec, http.StatusNotFound, "no case %s", `"12<3>"`)
	checkJSONHeaders(t, rec)
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 404 || body["error"] != `no case "12<3>"` {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

func checkJSONHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if got := rec.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Errorf("body is not JSON: %s", rec.Body)
	}
}
