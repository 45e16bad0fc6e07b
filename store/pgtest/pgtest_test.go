package pgtest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func currentDB(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var name string
	if err := pool.QueryRow(context.Background(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

func queryInt(t *testing.T, pool *pgxpool.Pool, sql string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestMigratedAndIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := New(t), New(t)
	if currentDB(t, a) == currentDB(t, b) {
		t.Fatalf("both pools are on database %s", currentDB(t, a))
	}
	for _, pool := range []*pgxpool.Pool{a, b} {
		if n := queryInt(t, pool, `SELECT count(*) FROM categories`); n != 10 {
			t.Errorf("categories: %d rows, want 10", n)
		}
		if n := queryInt(t, pool, `SELECT count(*) FROM river_job`); n != 0 {
			t.Errorf("river_job: %d rows, want 0", n)
		}
		if err := store.CheckMigrated(ctx, pool); err != nil {
			t.Error(err)
		}
	}
	if _, err := a.Exec(ctx, `DELETE FROM categories WHERE code = 'feedback'`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, `CREATE TABLE scratch (x int)`); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, b, `SELECT count(*) FROM categories`); n != 10 {
		t.Errorf("a write in one database shows in another: %d categories", n)
	}
	if n := queryInt(t, b, `SELECT count(*) FROM pg_class WHERE relname = 'scratch'`); n != 0 {
		t.Error("a table created in one database shows in another")
	}
	// A later test starts from the template, not from what earlier tests did.
	if n := queryInt(t, New(t), `SELECT count(*) FROM categories`); n != 10 {
		t.Errorf("fresh database has %d categories, want 10", n)
	}
}

func TestParallel(t *testing.T) {
	for i := range 6 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := New(t)
			if _, err := pool.Exec(context.Background(), `DELETE FROM categories WHERE code = 'feedback'`); err != nil {
				t.Fatal(err)
			}
			if n := queryInt(t, pool, `SELECT count(*) FROM categories`); n != 9 {
				t.Errorf("%d categories after one delete, want 9", n)
			}
		})
	}
}

func TestNewURLDroppedAfterTest(t *testing.T) {
	var name string
	ok := t.Run("use", func(t *testing.T) {
		pool, err := store.Open(context.Background(), NewURL(t), store.PoolConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		name = currentDB(t, pool)
		if !strings.HasPrefix(name, "sawt_t_") {
			t.Errorf("database name %q", name)
		}
	})
	if !ok {
		t.FailNow()
	}
	var n int
	err := shared.admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("database %s still exists after its test (%d, %v)", name, n, err)
	}
}

// fatalTB records the first Fatal and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalTB) Fatalf(s string, args ...any) {
	f.msg = fmt.Sprintf(s, args...)
	runtime.Goexit()
}

func TestWithoutMain(t *testing.T) {
	mainRunning.Store(false)
	defer mainRunning.Store(true)
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(f)
	}()
	<-done
	if !strings.Contains(f.msg, "func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }") {
		t.Errorf("message %q does not say how to add TestMain", f.msg)
	}
}

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@db:5432/postgres?sslmode=disable":      "postgres://u:p@db:5432/x?sslmode=disable",
		"postgresql://u@/postgres?host=%2Ftmp&dbname=postgres": "postgresql://u@/x?host=%2Ftmp",
		"host=/tmp user=u dbname=postgres":                     "host=/tmp user=u dbname=postgres dbname=x",
	} {
		got, err := withDatabase(in, "x")
		if err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
