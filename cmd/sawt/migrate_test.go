package main

import (
	"strings"
	"testing"

	"github.com/sawt/sawt/store/pgtest"
)

func TestMigrateUpToDate(t *testing.T) {
	url := pgtest.NewURL(t) // migrated already
	r := runSawt(t, map[string]string{"DATABASE_URL": url}, "", "migrate")
	if r.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, exitOK, r.stderr)
	}
	if r.stdout != "The database is up to date.\n" {
		t.Errorf("stdout %q, want exactly \"The database is up to date.\\n\"", r.stdout)
	}
}

// An unreachable database is a failure (exit 1), not a usage error, and says so on one line.
func TestMigrateUnreachable(t *testing.T) {
	sock := t.TempDir() // no server listens here
	url := "postgres://postgres@/sawt?host=" + sock + "&connect_timeout=2&sslmode=disable"
	r := runSawt(t, map[string]string{"DATABASE_URL": url}, "", "migrate")
	if r.code != exitFailure {
		t.Errorf("exit code %d, want %d", r.code, exitFailure)
	}
	if !strings.HasPrefix(r.stderr, "sawt migrate: ") || !strings.Contains(r.stderr, "connect to PostgreSQL") {
		t.Errorf("stderr does not say the database could not be reached:\n%s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout is not empty: %q", r.stdout)
	}
}
