package localpg

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// baseDir makes a directory the postgres user can enter (t.TempDir's are 0700 root-owned
// when tests run as root).
func baseDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// logLines collects Logf output.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(t *testing.T) func(string, ...any) {
	return func(format string, args ...any) {
		t.Logf(format, args...)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, format)
	}
}

func (l *logLines) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func countRows(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM notes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStartStopRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs logLines
	opts := Options{Dir: baseDir(t), Logf: logs.logf(t)}
	s := start(t, opts)
	if err := s.EnsureDatabase(ctx, "sawt"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureDatabase(ctx, "sawt"); err != nil {
		t.Fatalf("second EnsureDatabase: %v", err)
	}
	conn := connect(t, s.URL("sawt"))
	mustExec(t, conn, `CREATE TABLE notes (body text)`)
	mustExec(t, conn, `INSERT INTO notes VALUES ('kept')`)
	var listen, fsync string
	if err := conn.QueryRow(ctx, `SHOW listen_addresses`).Scan(&listen); err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		t.Errorf("listen_addresses = %q, want empty (no TCP)", listen)
	}
	if err := conn.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil || fsync != "off" {
		t.Errorf("fsync = %q (%v), want off when not Durable", fsync, err)
	}
	conn.Close(ctx)
	versionFile := filepath.Join(s.DataDir(), "PG_VERSION")
	before, err := os.Stat(versionFile)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if c, err := pgx.Connect(ctx, s.URL("sawt")); err == nil {
		c.Close(ctx)
		t.Fatal("server still answers after Stop")
	}

	s2 := start(t, opts)
	conn2 := connect(t, s2.URL("sawt"))
	if n := countRows(t, conn2); n != 1 {
		t.Errorf("after restart: %d rows, want 1", n)
	}
	if n := logs.count("initialising"); n != 1 {
		t.Errorf("initdb ran %d times, want 1", n)
	}
	if after, err := os.Stat(versionFile); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("PG_VERSION was rewritten (%v)", err)
	}
}

func TestFindBinaries(t *testing.T) {
	t.Parallel()
	dir, err := FindBinaries(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasBinaries(dir) {
		t.Errorf("FindBinaries(nil) = %s, which lacks initdb, pg_ctl or postgres", dir)
	}

	_, err = FindBinaries([]string{t.TempDir()})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("empty search path: err = %v, want ErrNoBinaries", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "DATABASE_URL") || strings.Contains(msg, "\n") {
		t.Errorf("message %q should be one line mentioning DATABASE_URL", msg)
	}
	_, err = Start(context.Background(), Options{Dir: baseDir(t), SearchPath: []string{}})
	if !errors.Is(err, ErrNoBinaries) {
		t.Errorf("Start without binaries: err = %v, want ErrNoBinaries", err)
	}
}

// A data directory too deep for a Unix socket path gets a short private socket directory.
func TestLongPathSocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(baseDir(t), strings.Repeat("d", 100))
	s := start(t, Options{Dir: dir})
	if len(filepath.Join(s.DataDir(), ".s.PGSQL.5432")) <= maxSocketPath {
		t.Fatal("test directory is not long enough")
	}
	if !isPrivateSocketDir(s.socketDir) {
		t.Fatalf("socket directory %s is not a private one under %s", s.socketDir, os.TempDir())
	}
	fi, err := os.Stat(s.socketDir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %o, want 0700", fi.Mode().Perm())
	}
	mustExec(t, connect(t, s.URL("postgres")), `SELECT 1`)

	// A second Start finds the socket through postmaster.pid.
	s2 := start(t, Options{Dir: dir})
	if s2.socketDir != s.socketDir {
		t.Errorf("second Start uses socket directory %s, want %s", s2.socketDir, s.socketDir)
	}
	mustExec(t, connect(t, s2.URL("postgres")), `SELECT 1`)

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.socketDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("private socket directory %s left after Stop (%v)", s.socketDir, err)
	}
}

// A second Start on a directory whose server runs adopts it and leaves it running on Stop.
func TestAdoptRunningServer(t *testing.T) {
	t.Parallel()
	var logs logLines
	dir := baseDir(t)
	s1 := start(t, Options{Dir: dir})
	s2 := start(t, Options{Dir: dir, Logf: logs.logf(t)})
	if s2.URL("x") != s1.URL("x") {
		t.Errorf("URLs differ: %s and %s", s2.URL("x"), s1.URL("x"))
	}
	if logs.count("using the PostgreSQL server already running") != 1 {
		t.Error("second Start did not say it reused the running server")
	}
	if err := s2.Stop(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, connect(t, s1.URL("postgres")), `SELECT 1`)
}

// A server killed outright leaves postmaster.pid behind; the next Start must still work.
func TestStartAfterCrash(t *testing.T) {
	t.Parallel()
	dir := baseDir(t)
	opts := Options{Dir: dir}
	s := start(t, opts)
	conn := connect(t, s.URL("postgres"))
	mustExec(t, conn, `CREATE TABLE notes (body text)`)
	mustExec(t, conn, `INSERT INTO notes VALUES ('kept')`)
	mustExec(t, conn, `CHECKPOINT`) // not Durable: get the row to the files before the kill
	conn.Close(context.Background())

	pf, err := readPidFile(s.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	children := childrenOf(pf.pid)
	if err := syscall.Kill(pf.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Wait for the server's processes to die (they may stay zombies: nobody reaps here).
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range append(children, pf.pid) {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := os.Stat(filepath.Join(s.DataDir(), "postmaster.pid")); err != nil {
		t.Fatalf("want a stale postmaster.pid: %v", err)
	}

	s2 := start(t, opts)
	if n := countRows(t, connect(t, s2.URL("postgres"))); n != 1 {
		t.Errorf("after crash: %d rows, want 1", n)
	}
}

func childrenOf(ppid int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(stat), ") ")
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// A relative Dir works, and a server that fails to start explains itself with its log.
// Not parallel: it changes the working directory.
func TestRelativeDirAndStartFailure(t *testing.T) {
	t.Chdir(baseDir(t))
	s := start(t, Options{Dir: "data"})
	if !filepath.IsAbs(s.DataDir()) {
		t.Errorf("DataDir %s is not absolute", s.DataDir())
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(s.DataDir(), "postgresql.auto.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("no_such_setting = 1\n")
	f.Close()
	_, err = Start(context.Background(), Options{Dir: "data"})
	if err == nil || !strings.Contains(err.Error(), "no_such_setting") {
		t.Fatalf("err = %v, want the server log's complaint about no_such_setting", err)
	}
}
