package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// result is what one in-process run of the command left behind.
type result struct {
	code           int
	stdout, stderr string
}

// syncBuffer is a bytes.Buffer safe for a command writing from several goroutines while the
// test reads it.
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

// testEnv is the environment of a command under test: nothing of the real environment leaks
// in. SAWT_DATA_DIR points at a directory the postgres user cannot enter, so a command that
// wrongly went on to start a private PostgreSQL fails at once instead of leaving a cluster
// in the source tree (the default is ./sawt-data).
func testEnv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	all := map[string]string{"SAWT_DATA_DIR": t.TempDir() + "/data"}
	for k, v := range vars {
		all[k] = v
	}
	return func(key string) string { return all[key] }
}

// runSawt runs `sawt args...` in-process with stdin as piped (not a terminal) input.
func runSawt(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr syncBuffer
	e := &env{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout, stderr: &stderr,
		getenv: testEnv(t, vars),
	}
	code := run(ctx, e, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args     []string
		synopsis string // the usage line the help must show
		also     string // something else only this help says
	}{
		{[]string{"-h"}, "Usage: sawt <command> [flags]", "  migrate  bring the database schema up to date"},
		{[]string{"--help"}, "Usage: sawt <command> [flags]", "  flows    work with the conversation flows"},
		{[]string{"help"}, "Usage: sawt <command> [flags]", "  chat     talk with Sawt in this terminal"},
		{[]string{"serve", "-h"}, "Usage: sawt serve\n", "Stops gracefully on SIGINT or SIGTERM."},
		{[]string{"chat", "-h"}, "Usage: sawt chat [--channel sms|telegram|voice|terminal] [--lang ar|ckb|badini|en] [--urn URN]", "-urn string"},
		{[]string{"migrate", "-h"}, "Usage: sawt migrate\n", "so several processes may run it at once"},
		{[]string{"flows", "-h"}, "Usage: sawt flows check [--dir DIR]", "Subcommands:\n  check "},
		{[]string{"flows", "--help"}, "Usage: sawt flows check [--dir DIR]", "Subcommands:\n  check "},
		{[]string{"flows", "check", "-h"}, "Usage: sawt flows check [--dir DIR]", "-dir string"},
		{[]string{"campaigns", "-h"}, "Usage: sawt campaigns create FILE.yaml [--as NAME]", "A campaign file:"},
		{[]string{"campaigns", "create", "-h"}, "Usage: sawt campaigns create FILE.yaml [--as NAME]", "allow_missing_languages"},
		{[]string{"recordings", "-h"}, "Usage: sawt recordings list [--case REF] [--limit N]", "sawt psea show REF"},
		{[]string{"recordings", "list", "-h"}, "Usage: sawt recordings list [--case REF] [--limit N]", "No audio is read."},
		{[]string{"recordings", "save", "-h"}, "Usage: sawt recordings save REF --out DIR [--as NAME]", "audit log"},
		{[]string{"tokens", "-h"}, "Usage: sawt tokens create NAME --role ROLE [--as ACTOR]", "Subcommands:\n  create "},
		{[]string{"tokens", "create", "-h"}, "Usage: sawt tokens create NAME --role admin|cwc|caseworker|psea|viewer [--as ACTOR]", "-role string"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runSawt(t, nil, "", tt.args...)
			if r.code != exitOK {
				t.Errorf("exit code %d, want %d; stderr:\n%s", r.code, exitOK, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.synopsis) {
				t.Errorf("usage on stderr does not show the synopsis %q:\n%s", tt.synopsis, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.also) {
				t.Errorf("usage on stderr does not say %q:\n%s", tt.also, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("help wrote to stdout (it belongs on stderr): %q", r.stdout)
			}
		})
	}
}

// The command list every top-level usage shows.
var commandLines = []string{"  serve ", "  chat ", "  migrate ", "  flows "}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // each must be on stderr
	}{
		{"no command", nil, append([]string{"Usage: sawt <command> [flags]"}, commandLines...)},
		{"unknown command", []string{"complain"}, append([]string{`sawt: unknown command "complain"`}, commandLines...)},
		{"serve unknown flag", []string{"serve", "--bogus"}, []string{"flag provided but not defined: -bogus", "sawt serve: usage: "}},
		{"chat unknown flag", []string{"chat", "-x"}, []string{"flag provided but not defined: -x", "sawt chat: usage: "}},
		{"migrate unknown flag", []string{"migrate", "--force"}, []string{"flag provided but not defined: -force", "sawt migrate: usage: "}},
		{"flows check unknown flag", []string{"flows", "check", "--fix"}, []string{"flag provided but not defined: -fix", "sawt flows: usage: "}},
		{"serve argument", []string{"serve", "now"}, []string{`sawt serve: usage: unexpected argument "now"`}},
		{"migrate argument", []string{"migrate", "up"}, []string{`sawt migrate: usage: unexpected argument "up"`}},
		{"chat argument", []string{"chat", "hello"}, []string{`sawt chat: usage: unexpected argument "hello"`}},
		{"flows without subcommand", []string{"flows"}, []string{"Usage: sawt flows check", "sawt flows: usage: missing subcommand"}},
		{"flows unknown subcommand", []string{"flows", "lint"}, []string{`sawt flows: usage: unknown subcommand "lint" (try: sawt flows check)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runSawt(t, nil, "", tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", r.code, exitUsage, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestBadConfiguration: every configuration mistake is reported before anything starts, as
// one line naming the variable, with exit status 2.
func TestBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want []string // each must be in the line
	}{
		{"http addr not host:port", map[string]string{"SAWT_HTTP_ADDR": "nonsense"}, []string{`SAWT_HTTP_ADDR="nonsense"`, "host:port"}},
		{"admin port out of range", map[string]string{"SAWT_ADMIN_ADDR": ":99999"}, []string{`SAWT_ADMIN_ADDR=":99999"`, "port"}},
		{"database url bad escape", map[string]string{"DATABASE_URL": "postgres://%zz"}, []string{"DATABASE_URL", "%zz"}},
		{"unknown time zone", map[string]string{"SAWT_TIMEZONE": "Mars/Base"}, []string{`SAWT_TIMEZONE="Mars/Base"`, "time zone"}},
		{"idle not a duration", map[string]string{"SAWT_SESSION_IDLE": "soon"}, []string{`SAWT_SESSION_IDLE="soon"`, "duration"}},
		{"idle negative", map[string]string{"SAWT_SESSION_IDLE": "-5m"}, []string{`SAWT_SESSION_IDLE="-5m"`}},
		{"max conns too small", map[string]string{"SAWT_DB_MAX_CONNS": "1"}, []string{`SAWT_DB_MAX_CONNS="1"`}},
		{"spool size not a size", map[string]string{"SAWT_SPOOL_MAX_BYTES": "lots"}, []string{`SAWT_SPOOL_MAX_BYTES="lots"`, "1GiB"}},
		{"spool size too small", map[string]string{"SAWT_SPOOL_MAX_BYTES": "10KB"}, []string{`SAWT_SPOOL_MAX_BYTES="10KB"`}},
		{"public url not http", map[string]string{"SAWT_PUBLIC_URL": "ftp://sawt.example.org"}, []string{`SAWT_PUBLIC_URL="ftp://sawt.example.org"`}},
		{"two mistakes, one line", map[string]string{"SAWT_HTTP_ADDR": "nonsense", "SAWT_TIMEZONE": "Mars/Base"}, []string{"SAWT_HTTP_ADDR", "SAWT_TIMEZONE"}},
	}
	for _, command := range []string{"serve", "chat", "migrate"} {
		for _, tt := range tests {
			t.Run(command+"/"+tt.name, func(t *testing.T) {
				args := []string{command}
				if command == "chat" {
					args = append(args, "--urn", "terminal:config-test")
				}
				r := runSawt(t, tt.vars, "", args...)
				if r.code != exitUsage {
					t.Errorf("exit code %d, want %d", r.code, exitUsage)
				}
				if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasSuffix(r.stderr, "\n") {
					t.Fatalf("stderr is %d lines, want exactly one:\n%s", n, r.stderr)
				}
				if prefix := "sawt " + command + ": "; !strings.HasPrefix(r.stderr, prefix) {
					t.Errorf("line does not start with %q: %s", prefix, r.stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("line does not say %q: %s", w, r.stderr)
					}
				}
				if r.stdout != "" {
					t.Errorf("stdout is not empty: %q", r.stdout)
				}
			})
		}
	}
}
