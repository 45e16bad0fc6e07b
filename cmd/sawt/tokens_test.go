package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// tokensDatabase gives the test a migrated database and a pool on it to look inside.
func tokensDatabase(t *testing.T) (map[string]string, *pgxpool.Pool) {
	t.Helper()
	url := pgtest.NewURL(t)
	pool, err := store.Open(context.Background(), url, store.PoolConfig{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return map[string]string{"DATABASE_URL": url}, pool
}

// createToken runs sawt tokens create and returns the token it printed.
func createToken(t *testing.T, vars map[string]string, name, role string) string {
	t.Helper()
	r := runSawt(t, vars, "", "tokens", "create", name, "--role", role, "--as", "amira")
	if r.code != exitOK {
		t.Fatalf("create %s: exit %d; stderr:\n%s", name, r.code, r.stderr)
	}
	token := strings.TrimSuffix(r.stdout, "\n")
	if strings.Contains(token, "\n") || !strings.HasPrefix(token, "sawt_") || len(token) != len("sawt_")+43 {
		t.Fatalf("create %s: stdout %q, want the token alone on one line", name, r.stdout)
	}
	if strings.Contains(r.stderr, token) {
		t.Errorf("create %s: the token is on stderr too", name)
	}
	return token
}

func TestTokensCreate(t *testing.T) {
	vars, pool := tokensDatabase(t)
	ctx := context.Background()

	r := runSawt(t, vars, "", "tokens", "create", "kobo-sync", "--role", "cwc", "--as", "amira")
	if r.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	token := strings.TrimSuffix(r.stdout, "\n")
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(token, "sawt_") || len(token) != 48 {
		t.Fatalf("stdout %q, want a token alone on its line", r.stdout)
	}
	if lines := strings.Count(r.stderr, "\n"); lines != 1 || !strings.Contains(r.stderr, "shown only this once") ||
		!strings.Contains(r.stderr, "Authorization: Bearer ") {
		t.Errorf("stderr %q: want one line saying the token is shown once and how to send it", r.stderr)
	}

	// only the token's SHA-256 is stored, and nothing of the token itself
	var (
		name, role string
		hash       []byte
		row        string
	)
	if err := pool.QueryRow(ctx, `SELECT name, role, hash, row_to_json(t)::text FROM api_tokens t`).Scan(&name, &role, &hash, &row); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(token))
	if name != "kobo-sync" || role != "cwc" || string(hash) != string(want[:]) {
		t.Errorf("stored %s, %s, hash %x; want kobo-sync, cwc, SHA-256 of the token %x", name, role, hash, want)
	}
	secret := strings.TrimPrefix(token, "sawt_")
	if strings.Contains(row, secret) || strings.Contains(row, hex.EncodeToString([]byte(secret))) {
		t.Errorf("the token is in the table: %s", row)
	}

	// the audit log says who made it, with which role
	entries, err := store.AuditEntries(ctx, pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Actor != "amira" || entries[0].Action != "token.create" ||
		entries[0].Subject != "kobo-sync" || entries[0].Detail != "cwc" {
		t.Errorf("audit log %+v: want amira token.create kobo-sync cwc", entries)
	}
	for _, e := range entries {
		if strings.Contains(e.Detail, secret) {
			t.Error("the token is in the audit log")
		}
	}

	// the same name again, in another case: refused, nothing stored
	r = runSawt(t, vars, "", "tokens", "create", "KOBO-SYNC", "--role", "viewer")
	if r.code != exitFailure || r.stdout != "" ||
		!strings.Contains(r.stderr, `sawt tokens: a token named "KOBO-SYNC" exists already`) ||
		!strings.Contains(r.stderr, "sawt tokens revoke KOBO-SYNC") {
		t.Errorf("duplicate: exit %d, stdout %q, stderr %q; want exit 1 saying the name is taken", r.code, r.stdout, r.stderr)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d tokens stored (%v), want 1", n, err)
	}
	if entries, _ := store.AuditEntries(ctx, pool, 0); len(entries) != 1 {
		t.Errorf("a refused create was audited: %+v", entries)
	}
}

func TestTokensListAndRevoke(t *testing.T) {
	vars, pool := tokensDatabase(t)
	ctx := context.Background()

	r := runSawt(t, vars, "", "tokens", "list")
	if r.code != exitOK || r.stdout != "" || !strings.Contains(r.stderr, "No API token yet") {
		t.Errorf("empty list: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	kobo := createToken(t, vars, "kobo-sync", "cwc")
	dash := createToken(t, vars, "dashboard", "viewer")
	if _, err := pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = '2026-11-23 09:30:00Z' WHERE name = 'dashboard'`); err != nil {
		t.Fatal(err)
	}

	r = runSawt(t, vars, "", "tokens", "revoke", "Kobo-Sync", "--as", "karwan")
	if r.code != exitOK || !strings.Contains(r.stdout, `Revoked token "Kobo-Sync"`) {
		t.Fatalf("revoke: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var revoked bool
	if err := pool.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM api_tokens WHERE name = 'kobo-sync'`).Scan(&revoked); err != nil || !revoked {
		t.Errorf("kobo-sync revoked: %v %v", revoked, err)
	}

	r = runSawt(t, vars, "", "tokens", "list")
	if r.code != exitOK {
		t.Fatalf("list: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME ROLE CREATED LAST USED REVOKED" {
		t.Fatalf("list: want a header and 2 tokens:\n%s", r.stdout)
	}
	// Baghdad time, the configured default
	if f := strings.Fields(lines[1]); f[0] != "dashboard" || f[1] != "viewer" || !strings.Contains(lines[1], "2026-11-23 12:30 +03") || f[len(f)-1] != "-" {
		t.Errorf("line 1: %q, want dashboard, viewer, last used 2026-11-23 12:30 +03, not revoked", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "kobo-sync" || f[1] != "cwc" || !strings.Contains(lines[2], "never") || f[len(f)-1] == "-" {
		t.Errorf("line 2: %q, want kobo-sync, cwc, never used, revoked", lines[2])
	}
	for _, tok := range []string{kobo, dash} {
		if strings.Contains(r.stdout+r.stderr, tok) || strings.Contains(r.stdout, tok[5:15]) {
			t.Errorf("the list shows a token's value:\n%s", r.stdout)
		}
	}

	// revoking again, or a name never made
	for _, name := range []string{"kobo-sync", "nobody"} {
		r = runSawt(t, vars, "", "tokens", "revoke", name)
		if want := `sawt tokens: no active token named "` + name + `"`; r.code != exitFailure || !strings.HasPrefix(r.stderr, want) {
			t.Errorf("revoke %s: exit %d, stderr %q; want exit 1 and %q", name, r.code, r.stderr, want)
		}
	}

	// the name of a revoked token is free again
	createToken(t, vars, "kobo-sync", "cwc")

	entries, err := store.AuditEntries(ctx, pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, strings.Join([]string{e.Actor, e.Action, e.Subject, e.Detail}, " "))
	}
	want := []string{
		"amira token.create kobo-sync cwc",
		"amira token.create dashboard viewer",
		"karwan token.revoke Kobo-Sync ",
		"amira token.create kobo-sync cwc",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTokensUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string // on stderr
	}{
		{[]string{"tokens", "-h"}, exitOK, "Usage: sawt tokens create NAME --role ROLE [--as ACTOR]\n       sawt tokens list\n       sawt tokens revoke NAME [--as ACTOR]"},
		{[]string{"tokens", "create", "-h"}, exitOK, "Usage: sawt tokens create NAME --role admin|cwc|caseworker|psea|viewer [--as ACTOR]"},
		{[]string{"tokens", "list", "-h"}, exitOK, "Token values are never shown"},
		{[]string{"tokens", "revoke", "-h"}, exitOK, "Usage: sawt tokens revoke NAME [--as ACTOR]"},
		{[]string{"-h"}, exitOK, "  tokens   API tokens for the /api/v1 JSON API (tokens create|list|revoke)"},
		{[]string{"tokens"}, exitUsage, "sawt tokens: usage: missing subcommand"},
		{[]string{"tokens", "show"}, exitUsage, `sawt tokens: usage: unknown subcommand "show"`},
		{[]string{"tokens", "create", "kobo"}, exitUsage, "sawt tokens: usage: --role is required: one of admin, cwc, caseworker, psea, viewer"},
		{[]string{"tokens", "create", "kobo", "--role", "root"}, exitUsage, `sawt tokens: usage: --role "root": use one of admin, cwc, caseworker, psea, viewer`},
		{[]string{"tokens", "create", "--role", "cwc"}, exitUsage, "sawt tokens: usage: missing NAME"},
		{[]string{"tokens", "create", " ", "--role", "cwc"}, exitUsage, "sawt tokens: usage: NAME is empty"},
		{[]string{"tokens", "create", "a\x1b[2Jb", "--role", "cwc"}, exitUsage, "has control characters"},
		{[]string{"tokens", "create", "a", "b", "--role", "cwc"}, exitUsage, `sawt tokens: usage: unexpected argument "b"`},
		{[]string{"tokens", "list", "all"}, exitUsage, `sawt tokens: usage: unexpected argument "all"`},
		{[]string{"tokens", "revoke"}, exitUsage, "sawt tokens: usage: missing NAME"},
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
