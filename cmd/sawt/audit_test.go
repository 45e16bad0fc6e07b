package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// auditDatabase gives the test a migrated database with the entries given (actor, action,
// subject, detail each), and a pool on it for tampering.
func auditDatabase(t *testing.T, entries ...[4]string) (string, *pgxpool.Pool) {
	t.Helper()
	url := pgtest.NewURL(t)
	ctx := context.Background()
	pool, err := store.Open(ctx, url, store.PoolConfig{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for i, f := range entries {
		e := store.AuditEntry{At: time.Date(2026, 11, 23, 9, i, 0, 0, time.UTC), Actor: f[0], Action: f[1], Subject: f[2], Detail: f[3]}
		if err := store.AppendAudit(ctx, pool, e); err != nil {
			t.Fatal(err)
		}
	}
	return url, pool
}

func auditEntryIDs(t *testing.T, pool *pgxpool.Pool) []int64 {
	t.Helper()
	list, err := store.AuditEntries(context.Background(), pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range list {
		ids = append(ids, e.ID)
	}
	return ids
}

var someAudits = [][4]string{
	{"amira", "report.read", "SEA-7Q2K", "opened from the console"},
	{"system", "recipient.add", "escrow", ""},
	{"karwan", "report.status", "SEA-7Q2K", "new → acknowledged"},
}

func TestAuditVerifyCommand(t *testing.T) {
	url, pool := auditDatabase(t, someAudits...)
	vars := map[string]string{"DATABASE_URL": url}

	r := runSawt(t, vars, "", "audit", "verify")
	if r.code != exitOK || r.stdout != "audit log intact: 3 entries\n" || r.stderr != "" {
		t.Fatalf("intact log: exit %d, stdout %q, stderr %q; want 0 and \"audit log intact: 3 entries\"", r.code, r.stdout, r.stderr)
	}

	ids := auditEntryIDs(t, pool)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE audit_log SET detail = 'nothing happened' WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	r = runSawt(t, vars, "", "audit", "verify")
	if r.code != exitFailure {
		t.Errorf("tampered log: exit %d, want %d; stderr:\n%s", r.code, exitFailure, r.stderr)
	}
	want := fmt.Sprintf("sawt audit: audit log broken: audit entry %d was altered", ids[1])
	if !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting %q", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("tampered log: stdout %q, want nothing", r.stdout)
	}
}

func TestAuditVerifyEmpty(t *testing.T) {
	url, _ := auditDatabase(t)
	r := runSawt(t, map[string]string{"DATABASE_URL": url}, "", "audit", "verify")
	if r.code != exitOK || r.stdout != "audit log intact: 0 entries\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestAuditListCommand(t *testing.T) {
	url, pool := auditDatabase(t, append(someAudits, [4]string{"amira", "report.note", "SEA-7Q2K", "line one\nline two"})...)
	vars := map[string]string{"DATABASE_URL": url}
	ids := auditEntryIDs(t, pool)

	r := runSawt(t, vars, "", "audit", "list")
	if r.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 5 || strings.Join(strings.Fields(lines[0]), " ") != "ID TIME ACTOR ACTION SUBJECT DETAIL" {
		t.Fatalf("stdout is not a header and 4 entries:\n%s", r.stdout)
	}
	wantFields := [][]string{
		{fmt.Sprint(ids[0]), "2026-11-23T09:00:00Z", "amira", "report.read", "SEA-7Q2K", "opened", "from", "the", "console"},
		{fmt.Sprint(ids[1]), "2026-11-23T09:01:00Z", "system", "recipient.add", "escrow", "-"},
		{fmt.Sprint(ids[2]), "2026-11-23T09:02:00Z", "karwan", "report.status", "SEA-7Q2K", "new", "→", "acknowledged"},
		{fmt.Sprint(ids[3]), "2026-11-23T09:03:00Z", "amira", "report.note", "SEA-7Q2K", `"line`, `one\nline`, `two"`},
	}
	for i, want := range wantFields {
		if got := strings.Fields(lines[i+1]); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("line %d: %q, want the fields %q", i+1, lines[i+1], want)
		}
	}
	// Only those fields: no hashes.
	list, _ := store.AuditEntries(context.Background(), pool, 0)
	for _, e := range list {
		if strings.Contains(r.stdout, fmt.Sprintf("%x", e.Hash)[:16]) {
			t.Errorf("the list shows entry %d's hash", e.ID)
		}
	}

	r = runSawt(t, vars, "", "audit", "list", "--limit", "2")
	lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != exitOK || len(lines) != 3 || !strings.HasPrefix(lines[1], fmt.Sprint(ids[2])+" ") || !strings.HasPrefix(lines[2], fmt.Sprint(ids[3])+" ") {
		t.Errorf("--limit 2: exit %d, stdout:\n%s\nwant the newest two, oldest first", r.code, r.stdout)
	}
}

func TestAuditUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string // on stderr
	}{
		{[]string{"audit", "-h"}, exitOK, "Usage: sawt audit verify\n       sawt audit list [--limit N]"},
		{[]string{"audit", "--help"}, exitOK, "Subcommands:\n  verify "},
		{[]string{"audit", "verify", "-h"}, exitOK, "Usage: sawt audit verify\n\nWalks the audit log's hash chain"},
		{[]string{"audit", "list", "-h"}, exitOK, "-limit N"},
		{[]string{"-h"}, exitOK, "  audit    check or list the audit log"},
		{[]string{"audit"}, exitUsage, "sawt audit: usage: missing subcommand"},
		{[]string{"audit", "check"}, exitUsage, `sawt audit: usage: unknown subcommand "check"`},
		{[]string{"audit", "verify", "now"}, exitUsage, `sawt audit: usage: unexpected argument "now"`},
		{[]string{"audit", "list", "--limit", "-1"}, exitUsage, "sawt audit: usage: --limit must not be negative"},
		{[]string{"audit", "list", "--limit", "ten"}, exitUsage, "invalid value \"ten\" for flag -limit"},
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
