package pgtest

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A test binary that dies without reaching the end of Main (a -timeout panic, a kill) would
// leave its server running and its directory behind. So the binary starts a copy of itself as
// a watchdog holding the read end of a pipe: when the pipe closes, because Main finished or
// because the process died, the watchdog stops the server if it still runs and removes the
// directory. Main runs the watchdog instead of the tests when these variables are set.
const (
	watchdogDirEnv  = "PGTEST_WATCHDOG_DIR"
	watchdogDataEnv = "PGTEST_WATCHDOG_DATA"
)

type watchdog struct {
	cmd  *exec.Cmd
	pipe *os.File // write end; closing it wakes the watchdog
}

// startWatchdog is best effort: without it, a normal run still cleans up.
func startWatchdog(dir, dataDir string) *watchdog {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil
	}
	defer r.Close()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), watchdogDirEnv+"="+dir, watchdogDataEnv+"="+dataDir)
	cmd.Stdin = r
	// Its own process group, so that a Ctrl-C which kills the tests does not kill it too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil
	}
	return &watchdog{cmd: cmd, pipe: w}
}

// release tells the watchdog that Main has cleaned up, and waits for it to exit.
func (w *watchdog) release() {
	if w == nil {
		return
	}
	w.pipe.Close()
	w.cmd.Wait()
}

func isWatchdog() bool { return os.Getenv(watchdogDirEnv) != "" }

func runWatchdog() int {
	io.Copy(io.Discard, os.Stdin) // returns when the test binary closes the pipe or dies
	dir, dataDir := os.Getenv(watchdogDirEnv), os.Getenv(watchdogDataEnv)
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	if b, err := os.ReadFile(pidFile); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 {
			// SIGQUIT is PostgreSQL's immediate shutdown: the data is thrown away anyway.
			syscall.Kill(pid, syscall.SIGQUIT)
			for i := 0; i < 100; i++ {
				if _, err := os.Stat(pidFile); err != nil {
					break // the postmaster removes it on exit
				}
				time.Sleep(100 * time.Millisecond)
				if i == 99 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}
	os.RemoveAll(dir)
	return 0
}
