// Package pgtest gives each test its own freshly migrated PostgreSQL database. A test binary
// starts one throwaway server (store/localpg, not durable) on first use, migrates a template
// database once, and clones it per test, which takes milliseconds. With TEST_DATABASE_URL
// set, an existing server is used instead, with names unique to the process.
//
// Use it from the package's TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/localpg"
)

// env is the per-binary state, made on first use.
type env struct {
	server   *localpg.Server // nil with TEST_DATABASE_URL
	dir      string          // the server's base directory, removed at the end
	watchdog *watchdog
	baseURL  string        // the server's default database, or TEST_DATABASE_URL
	admin    *pgxpool.Pool // on baseURL: creates and drops databases
	template string
	prefix   string // sawt_t_<pid>_<random>_
}

var (
	mainRunning atomic.Bool
	setupOnce   sync.Once
	shared      *env
	setupErr    error
	cloneMu     sync.Mutex // one CREATE DATABASE ... TEMPLATE at a time
	dbSeq       atomic.Int64
)

// Main runs the tests, then drops the template and stops the server. Its result is the exit code.
func Main(m *testing.M) int {
	if isWatchdog() {
		return runWatchdog()
	}
	mainRunning.Store(true)
	code := m.Run()
	mainRunning.Store(false)
	if shared != nil {
		if err := shared.close(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// New gives the test its own migrated database and a pool on it. Both go in t.Cleanup.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := NewURL(t)
	pool, err := store.Open(context.Background(), dsn, store.PoolConfig{})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close) // runs before NewURL's drop
	return pool
}

// NewURL gives the test its own migrated database and returns its connection URL, for tests
// that hand it to a subprocess. The database is dropped in t.Cleanup.
func NewURL(t testing.TB) string {
	t.Helper()
	if !mainRunning.Load() {
		t.Fatal("pgtest: the package has no TestMain running pgtest.Main, so nobody would stop the test server; add\n\tfunc TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }")
	}
	setupOnce.Do(func() { shared, setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	e := shared
	name := fmt.Sprintf("%s%d", e.prefix, dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cloneMu.Lock()
	_, err := e.admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(e.template))
	cloneMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := e.drop(name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	dsn, err := withDatabase(e.baseURL, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

func setup() (_ *env, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	token := make([]byte, 4)
	rand.Read(token)
	tag := fmt.Sprintf("%d_%s", os.Getpid(), hex.EncodeToString(token))
	e := &env{template: "sawt_tpl_" + tag, prefix: "sawt_t_" + tag + "_"}
	defer func() {
		if err != nil {
			e.close()
		}
	}()

	e.baseURL = os.Getenv("TEST_DATABASE_URL")
	if e.baseURL == "" {
		if e.dir, err = os.MkdirTemp("", "sawt-pgtest-"); err != nil {
			return nil, err
		}
		// MkdirTemp makes it 0700; the postgres user must be able to enter it.
		if err = os.Chmod(e.dir, 0o755); err != nil {
			return nil, err
		}
		if e.server, err = localpg.Start(ctx, localpg.Options{Dir: e.dir}); err != nil {
			return nil, err
		}
		e.watchdog = startWatchdog(e.dir, e.server.DataDir())
		e.baseURL = e.server.URL("postgres")
	}
	if e.admin, err = store.Open(ctx, e.baseURL, store.PoolConfig{MaxConns: 4}); err != nil {
		return nil, err
	}
	if _, err = e.admin.Exec(ctx, "CREATE DATABASE "+ident(e.template)); err != nil {
		return nil, fmt.Errorf("create template database: %w", err)
	}
	tplURL, err := withDatabase(e.baseURL, e.template)
	if err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, tplURL, store.PoolConfig{})
	if err != nil {
		return nil, err
	}
	_, err = store.Migrate(ctx, pool)
	pool.Close() // nobody may be connected to a template while it is cloned
	if err != nil {
		return nil, fmt.Errorf("migrate template database: %w", err)
	}
	return e, nil
}

// drop removes a database, ending any session a test left open on it.
func (e *env) drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := e.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// close drops the template and stops and removes the server, whichever of them exist.
func (e *env) close() error {
	var errs []error
	if e.admin != nil {
		errs = append(errs, e.drop(e.template))
		e.admin.Close()
	}
	stopped := true
	if e.server != nil {
		if err := e.server.Stop(); err != nil {
			errs, stopped = append(errs, err), false
		}
	}
	// A server that did not stop still needs its postmaster.pid: the watchdog stops it.
	if e.dir != "" && stopped {
		errs = append(errs, os.RemoveAll(e.dir))
	}
	e.watchdog.release()
	return errors.Join(errs...)
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// withDatabase points a connection string, URL or keyword/value form, at database name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		q := u.Query()
		if q.Has("dbname") { // would override the path
			q.Del("dbname")
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	// In keyword/value form the last setting of a keyword wins. Our names need no quoting.
	return dsn + " dbname=" + name, nil
}
