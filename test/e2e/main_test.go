// Package e2e runs the built sawt binary as an operator would: real processes, real signals,
// a real private PostgreSQL under SAWT_DATA_DIR, and the test PostgreSQL of store/pgtest for
// what needs an existing database.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

// testMain runs the tests under pgtest.Main (which also serves as pgtest's watchdog process,
// so nothing may happen before it), then removes the built binary.
func testMain(m *testing.M) int {
	code := pgtest.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	return code
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// sawtBinary builds ./cmd/sawt once per test binary and returns its path.
func sawtBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "sawt-e2e-bin-"); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "sawt")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sawt")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/sawt: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod), nil
}

// baseEnv is the test process's environment without anything that configures Sawt or
// PostgreSQL, plus vars.
func baseEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DATABASE_URL" || strings.HasPrefix(k, "SAWT_") || strings.HasPrefix(k, "TELEGRAM_") ||
			strings.HasPrefix(k, "TWILIO_") || strings.HasPrefix(k, "PG") {
			continue
		}
		if _, set := vars[k]; set {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running sawt process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	code           int // valid once done is closed
}

// start runs the binary with env vars; t.Cleanup kills it if it still runs.
func start(t *testing.T, vars map[string]string, stdin string, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(sawtBinary(t), args...)
	p.cmd.Env = baseEnv(vars)
	if _, set := vars["SAWT_DATA_DIR"]; !set {
		p.cmd.Dir = t.TempDir() // the default ./sawt-data (the escrow key) goes there
	}
	p.cmd.Stdin = strings.NewReader(stdin)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start sawt %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		if err != nil && p.code == -1 {
			p.code = -int(p.cmd.ProcessState.Sys().(syscall.WaitStatus).Signal())
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			t.Errorf("sawt %s still running at the end of the test: killing it", strings.Join(args, " "))
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits up to d for the process to exit and returns its exit code (negative: the
// signal that killed it); ok is false if it is still running.
func (p *proc) wait(d time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
		return p.code, true
	case <-time.After(d):
		return 0, false
	}
}

// runSawt runs the binary to the end (at most two minutes) and returns its exit code.
func runSawt(t *testing.T, vars map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := start(t, vars, stdin, args...)
	code, ok := p.wait(2 * time.Minute)
	if !ok {
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("sawt %s did not finish within 2 minutes; stderr:\n%s", strings.Join(args, " "), p.stderr.String())
	}
	return code, p.stdout.String(), p.stderr.String()
}

// dataDir makes a SAWT_DATA_DIR for a private PostgreSQL: under a fresh directory the
// postgres user may traverse (tests run as root, the server as postgres). At the end, a
// server still running there is stopped the hard way and everything removed.
func dataDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "sawt-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "data")
	t.Cleanup(func() {
		// pg_ctl stop returns once the pid file is gone, a moment before the
		// postmaster process itself has exited: give it that moment.
		if pid, gone := waitNoPostmaster(dir, 10*time.Second); !gone {
			t.Errorf("PostgreSQL (PID %d) still running on %s at the end of the test: stopping it", pid, dir)
			killPostmaster(pid, dir)
		}
		os.RemoveAll(base)
	})
	return dir
}

// postmasterRunning finds a live postmaster whose command line names the cluster under dir
// (the postmaster is the one PostgreSQL process that keeps "-D <data dir>" in its command
// line). Zombies, which nothing may reap in a container, do not count.
func postmasterRunning(dir string) (int, bool) {
	cluster := filepath.Join(dir, "postgres")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-D" && filepath.Clean(args[i+1]) == cluster && !zombie(pid) {
				return pid, true
			}
		}
	}
	return 0, false
}

func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // gone
	}
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	return len(rest) > 0 && (rest[0] == 'Z' || rest[0] == 'X')
}

// waitNoPostmaster waits up to d for the postmaster on dir to be gone: a clean stop removes
// postmaster.pid before the process has quite exited.
func waitNoPostmaster(dir string, d time.Duration) (int, bool) {
	deadline := time.Now().Add(d)
	for {
		pid, running := postmasterRunning(dir)
		if !running {
			return 0, true
		}
		if time.Now().After(deadline) {
			return pid, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killPostmaster is the last resort: PostgreSQL's immediate shutdown, then SIGKILL.
func killPostmaster(pid int, dir string) {
	syscall.Kill(pid, syscall.SIGQUIT)
	if _, gone := waitNoPostmaster(dir, 10*time.Second); !gone {
		syscall.Kill(pid, syscall.SIGKILL)
		waitNoPostmaster(dir, 5*time.Second)
	}
}

// ctxTimeout is a context for one database step of a test.
func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
