package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverUser is who initdb and the server run as: PostgreSQL refuses to run as root, so
// root hands them to the "postgres" system user; anyone else runs them as themselves.
type serverUser struct {
	name string
	cred *syscall.Credential // nil: the current user
	uid  int
	gid  int
}

func lookupServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		return serverUser{name: "current user", uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return serverUser{}, fmt.Errorf("running as root, PostgreSQL must run as the \"postgres\" system user, which does not exist: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return serverUser{}, fmt.Errorf("user postgres has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	// Groups: an empty list drops root's supplementary groups.
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	return serverUser{name: "postgres", cred: cred, uid: uid, gid: gid}, nil
}

// mkdirOwned creates dir (mode 0700) owned by the server user, or fixes an existing one.
func (u serverUser) mkdirOwned(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if u.cred != nil {
		if err := os.Chown(dir, u.uid, u.gid); err != nil {
			return err
		}
	}
	return os.Chmod(dir, 0o700)
}

// checkReachable fails clearly when a directory on the way to dir does not let the server
// user through, instead of letting initdb fail with a bare "Permission denied".
func (u serverUser) checkReachable(dir string) error {
	if u.cred == nil {
		return nil
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok {
			mode := uint32(fi.Mode().Perm())
			bit := uint32(0o001)
			switch {
			case int(st.Uid) == u.uid:
				bit = 0o100
			case int(st.Gid) == u.gid:
				bit = 0o010
			}
			if mode&bit == 0 {
				return fmt.Errorf("the %s user cannot enter %s (mode %04o, owner uid %d): make it searchable (chmod o+x %s) or put the data directory elsewhere", u.name, p, mode, st.Uid, p)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// command prepares a PostgreSQL program to run as the server user, from "/" (root's working
// directory may be closed to it) and without PG* variables, which would change its port or
// data directory behind our back.
func (u serverUser) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = "/"
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	return cmd
}

// pidFile is what a running postmaster writes in its data directory's postmaster.pid.
type pidFile struct {
	pid       int
	port      int
	socketDir string
	status    string // "starting", "ready", "stopping"
}

func readPidFile(dataDir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	line := func(n int) string { // 1-based, as in PostgreSQL's pidfile.h
		if n <= len(lines) {
			return strings.TrimSpace(lines[n-1])
		}
		return ""
	}
	var pf pidFile
	pf.pid, err = strconv.Atoi(line(1))
	if err != nil {
		return pidFile{}, fmt.Errorf("postmaster.pid: bad PID line %q", line(1))
	}
	pf.port, _ = strconv.Atoi(line(4))
	pf.socketDir = line(5)
	pf.status = line(8)
	return pf, nil
}

// alive reports whether pid is a live process. A zombie counts as dead: where nothing reaps
// orphans (a container whose init does not), a killed postmaster stays a zombie, and both
// pg_ctl and postgres would take its leftover postmaster.pid for a running server.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	_, rest, _ := bytes.Cut(stat, []byte(") ")) // after "pid (comm) "
	return len(rest) == 0 || rest[0] != 'Z'
}

// removeStale clears what a crashed server left behind if its postmaster is gone: the
// postmaster.pid, the socket lock file and our private socket directory.
func removeStale(dataDir string, logf func(string, ...any)) {
	pf, err := readPidFile(dataDir)
	if err != nil || alive(pf.pid) {
		return
	}
	logf("removing postmaster.pid left by a PostgreSQL server that is gone (PID %d)", pf.pid)
	os.Remove(filepath.Join(dataDir, "postmaster.pid"))
	if pf.socketDir == "" {
		return
	}
	if isPrivateSocketDir(pf.socketDir) {
		os.RemoveAll(pf.socketDir)
	} else {
		os.Remove(filepath.Join(pf.socketDir, fmt.Sprintf(".s.PGSQL.%d.lock", pf.port)))
	}
}

// lockDir takes an exclusive lock on path, so two processes starting on the same directory
// do not both run initdb or pg_ctl start. Release with the returned function.
func lockDir(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another process starting PostgreSQL (lock %s): %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logTail returns the last lines written to the server log after offset.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 4096
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > max {
		offset = fi.Size() - max
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}

// shellQuote quotes s for /bin/sh: pg_ctl hands the -o options to a shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-=./,:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
