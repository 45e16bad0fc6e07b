package localpg

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestInterruptedFirstStart: stopping sawt while the cluster is being created must neither
// leave a half-made cluster that later starts take for a real one, nor a server running with
// no one to stop it.
func TestInterruptedFirstStart(t *testing.T) {
	dir := baseDir(t)
	// The remains of an initdb killed outright (kill -9) are cleared, not mistaken for a cluster.
	if err := os.MkdirAll(filepath.Join(dir, "postgres.init", "global"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "postgres.init", "PG_VERSION"), []byte("15\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel) // during initdb
	s, err := Start(ctx, Options{Dir: dir})
	if err == nil {
		// initdb and pg_ctl are not interrupted: the caller gets a running server to stop.
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres.init")); !os.IsNotExist(err) {
		t.Errorf("postgres.init left behind (%v)", err)
	}

	s = start(t, Options{Dir: dir})
	conn := connect(t, s.URL("postgres"))
	mustExec(t, conn, `CREATE TABLE notes (n int)`)
	if n := countRows(t, conn); n != 0 {
		t.Errorf("notes = %d", n)
	}
}

func TestNonClusterDirectoryIsNotDeleted(t *testing.T) {
	dir := baseDir(t)
	keep := filepath.Join(dir, "postgres", "precious.txt")
	if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s, err := Start(ctx, Options{Dir: dir}); err == nil {
		s.Stop()
		t.Fatal("Start made a cluster over a directory that holds other files")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file in the data directory was lost: %v", err)
	}
}
