package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

var emptySeq atomic.Int64

// emptyDatabase creates a database with no schema at all on pgtest's server (pgtest's own
// databases come migrated) and returns its URL; it is dropped at the end of the test.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	base := pgtest.NewURL(t)
	admin, err := pgxpool.New(ctxTimeout(t), base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	name := fmt.Sprintf("e2e_race_%d_%d", time.Now().UnixNano(), emptySeq.Add(1))
	if _, err := admin.Exec(ctxTimeout(t), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest URL: %v", err)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// TestMigrateConcurrently: two `sawt migrate` started together on an empty database both
// succeed; one applies every migration, the other finds nothing left to do, and each
// migration is recorded once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dbURL := emptyDatabase(t)
	env := map[string]string{"DATABASE_URL": dbURL}

	procs := []*proc{start(t, env, "", "migrate"), start(t, env, "", "migrate")}
	var appliers, idle int
	for i, p := range procs {
		code, ok := p.wait(time.Minute)
		if !ok {
			t.Fatalf("migrate %d still running after a minute (deadlock on the lock?); stderr:\n%s", i, p.stderr.String())
		}
		out := p.stdout.String()
		if code != 0 {
			t.Errorf("migrate %d exited with %d; stdout:\n%s\nstderr:\n%s", i, code, out, p.stderr.String())
			continue
		}
		switch {
		case out == "The database is up to date.\n":
			idle++
		case strings.Contains(out, "applied sawt 001 core\n") && strings.HasPrefix(out, "applied river 001 "):
			appliers++
		default:
			t.Errorf("migrate %d printed neither the migrations it applied nor \"up to date\":\n%s", i, out)
		}
	}
	if appliers != 1 || idle != 1 {
		t.Errorf("%d processes applied migrations and %d found none to apply, want 1 and 1", appliers, idle)
	}

	ctx := ctxTimeout(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version`)
	if err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int, error) {
		var v [2]int
		err := r.Scan(&v[0], &v[1])
		return v, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ms) {
		t.Errorf("schema_migrations holds versions %v, want %d versions", got, len(ms))
	}
	for i, m := range ms {
		if i < len(got) && (got[i][0] != m.Version || got[i][1] != 1) {
			t.Errorf("schema_migrations: version %d recorded %d times; want version %d once", got[i][0], got[i][1], m.Version)
		}
	}
	if err := store.CheckMigrated(ctx, pool); err != nil {
		t.Errorf("after both migrations: %v", err)
	}
}

// TestMigrateUpToDate: the binary against an already migrated database changes nothing.
func TestMigrateUpToDate(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runSawt(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t)}, "", "migrate")
	if code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	if stdout != "The database is up to date.\n" {
		t.Errorf("stdout %q, want \"The database is up to date.\\n\"", stdout)
	}
}
