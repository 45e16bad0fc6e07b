// Package localpg runs a private PostgreSQL server from the system's own binaries, so that
// Sawt works out of the box without DATABASE_URL (`sawt serve`, `sawt chat`) and so that
// tests get a real server without Docker. The cluster lives in a directory of ours; the
// server listens only on a Unix socket, never on a TCP port.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Options says where and how to run the server.
type Options struct {
	// Dir is the base directory; the cluster lives in Dir/postgres. Created if needed.
	Dir string
	// Durable keeps PostgreSQL's crash safety. False (tests) turns off fsync,
	// synchronous_commit and full_page_writes, which is much faster and loses data only
	// if the machine itself crashes.
	Durable bool
	// Logf receives progress lines; nil means silent.
	Logf func(format string, args ...any)
	// SearchPath, if non-nil, replaces the default places to look for the binaries
	// (see FindBinaries).
	SearchPath []string
}

// Server is a running PostgreSQL server, started by us or found running on our Dir.
type Server struct {
	dataDir   string
	binDir    string
	socketDir string
	port      int
	owned     bool   // we started it, so Stop stops it
	pid       int    // its postmaster, if owned
	privSock  string // private socket directory we created, removed by Stop
	user      serverUser
	logf      func(string, ...any)

	mu      sync.Mutex
	stopped bool
}

// maxSocketPath is the longest Unix socket path the kernel takes (sun_path less its NUL).
const maxSocketPath = 107

// privateSocketPrefix names the short socket directories we make under os.TempDir().
const privateSocketPrefix = "sawt-pg-"

// Start runs initdb on first use, then starts the server, or adopts one already running on
// the same directory (left by a killed process, or started by a sibling process).
func Start(ctx context.Context, opts Options) (*Server, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if opts.Dir == "" {
		return nil, errors.New("localpg: Options.Dir is empty")
	}
	base, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	// pg_ctl pastes the data directory and log paths into a shell command in double quotes.
	if strings.ContainsAny(base, "\"$`\\\n") {
		return nil, fmt.Errorf("PostgreSQL data directory %q: the path must not contain any of \" $ ` \\ or a newline", base)
	}
	dataDir := filepath.Join(base, "postgres")
	version, _ := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	binDir, err := findBinariesFor(strings.TrimSpace(string(version)), opts.SearchPath)
	if err != nil {
		return nil, err
	}
	u, err := lookupServerUser()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, err
	}
	if err := u.checkReachable(base); err != nil {
		return nil, err
	}
	unlock, err := lockDir(ctx, filepath.Join(base, "postgres.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	s := &Server{dataDir: dataDir, binDir: binDir, user: u, logf: logf}
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := s.initdb(ctx, opts.Durable); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	removeStale(dataDir, logf)
	if s.running(ctx) {
		logf("using the PostgreSQL server already running in %s", dataDir)
		if err := s.adopt(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.start(ctx, opts.Durable); err != nil {
		return nil, err
	}
	return s, nil
}

// findBinariesFor prefers, for an existing cluster, the Debian install of its own major
// version: another version's server cannot open it.
func findBinariesFor(version string, searchPath []string) (string, error) {
	if version != "" && searchPath == nil {
		if d := filepath.Join(debianRoot, version, "bin"); hasBinaries(d) {
			return d, nil
		}
	}
	return FindBinaries(searchPath)
}

// initdbTimeout bounds initdb, which is not interrupted by the caller: a half-made cluster
// would look like a real one to every later start.
const initdbTimeout = 5 * time.Minute

// initdb creates the cluster in a sibling directory and renames it into place only when
// complete, so an interrupted first start leaves nothing that a later start would mistake for
// a cluster.
func (s *Server) initdb(ctx context.Context, durable bool) error {
	s.logf("initialising PostgreSQL cluster in %s", s.dataDir)
	tmp := s.dataDir + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove the remains of an interrupted initdb: %w", err)
	}
	if err := s.user.mkdirOwned(tmp); err != nil {
		return err
	}
	args := []string{"-D", tmp, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"}
	if !durable {
		args = append(args, "--no-sync")
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), initdbTimeout)
	defer cancel()
	out, err := s.user.command(ictx, filepath.Join(s.binDir, "initdb"), args...).CombinedOutput()
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("initdb %s: %w\n%s", s.dataDir, err, strings.TrimSpace(string(out)))
	}
	// Only an empty directory may stand in the way: never delete what might be someone's data.
	if err := os.Remove(s.dataDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(tmp)
		return fmt.Errorf("%s exists but holds no PostgreSQL cluster (no PG_VERSION): move it away and start again", s.dataDir)
	}
	return os.Rename(tmp, s.dataDir)
}

// running asks pg_ctl whether a server runs on the data directory (exit status 0).
func (s *Server) running(ctx context.Context) bool {
	cmd := s.user.command(ctx, filepath.Join(s.binDir, "pg_ctl"), "status", "-D", s.dataDir)
	return cmd.Run() == nil
}

// adopt takes the socket of a server someone else started and waits until it answers.
func (s *Server) adopt(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		pf, err := readPidFile(s.dataDir)
		if err == nil && pf.socketDir != "" {
			s.socketDir, s.port = pf.socketDir, pf.port
			conn, err := pgconn.Connect(ctx, s.URL("postgres"))
			if err == nil {
				conn.Close(ctx)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL in %s is running but does not accept connections on its Unix socket: %w", s.dataDir, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) start(ctx context.Context, durable bool) error {
	socketDir := s.dataDir
	if len(filepath.Join(socketDir, ".s.PGSQL.5432")) > maxSocketPath {
		dir, err := os.MkdirTemp("", privateSocketPrefix)
		if err != nil {
			return err
		}
		if err := s.user.mkdirOwned(dir); err != nil {
			os.RemoveAll(dir)
			return err
		}
		socketDir, s.privSock = dir, dir
	}
	// The directory list is itself quoted for PostgreSQL, which splits it at commas.
	settings := []string{
		"listen_addresses=",
		`unix_socket_directories="` + strings.ReplaceAll(socketDir, `"`, `""`) + `"`,
	}
	if !durable {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	}
	var o []string
	for _, kv := range settings {
		o = append(o, "-c", shellQuote(kv))
	}
	logFile := filepath.Join(s.dataDir, "server.log")
	var logSize int64
	if fi, err := os.Stat(logFile); err == nil {
		logSize = fi.Size()
	}
	s.logf("starting PostgreSQL in %s (socket in %s)", s.dataDir, socketDir)
	// Not interrupted by the caller (pg_ctl bounds its own wait): killing pg_ctl would leave
	// the server it already forked running with no one to stop it. A caller whose context
	// ends meanwhile gets a running Server and stops it.
	cmd := s.user.command(context.WithoutCancel(ctx), filepath.Join(s.binDir, "pg_ctl"), "start", "-w", "-t", "60",
		"-D", s.dataDir, "-l", logFile, "-o", strings.Join(o, " "))
	// Its own process group: a Ctrl-C in the terminal must not reach the server before
	// our graceful shutdown has finished with the database.
	cmd.SysProcAttr.Setpgid = true
	if out, err := cmd.CombinedOutput(); err != nil {
		s.removePrivateSocketDir()
		msg := strings.TrimSpace(string(out))
		if tail := logTail(logFile, logSize); tail != "" {
			msg += "\nserver log " + logFile + ":\n" + tail
		}
		return fmt.Errorf("start PostgreSQL in %s: %w\n%s", s.dataDir, err, msg)
	}
	pf, err := readPidFile(s.dataDir)
	if err != nil {
		return fmt.Errorf("PostgreSQL in %s started but: %w", s.dataDir, err)
	}
	s.owned, s.pid, s.socketDir, s.port = true, pf.pid, socketDir, pf.port
	return nil
}

// DataDir is the cluster's data directory.
func (s *Server) DataDir() string { return s.dataDir }

// URL is a connection string for database dbname over the server's Unix socket.
func (s *Server) URL(dbname string) string {
	q := url.Values{
		"host":    {s.socketDir},
		"port":    {strconv.Itoa(s.port)},
		"sslmode": {"disable"},
	}
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + dbname, RawQuery: q.Encode()}
	return u.String()
}

// EnsureDatabase creates database name unless it exists.
func (s *Server) EnsureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to local PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P04" { // duplicate_database: someone beat us to it
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	s.logf("created database %s", name)
	return nil
}

// Stop shuts the server down (fast mode: sessions are ended, nothing is lost) if this Server
// started it. Calling it again does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || !s.owned {
		s.stopped = true
		return nil
	}
	// If our postmaster died, whatever runs there now is someone else's.
	if pf, err := readPidFile(s.dataDir); err != nil || pf.pid != s.pid || !alive(pf.pid) {
		s.logf("PostgreSQL in %s had already stopped", s.dataDir)
		s.removePrivateSocketDir()
		s.stopped = true
		return nil
	}
	s.logf("stopping PostgreSQL in %s", s.dataDir)
	out, err := s.user.command(context.Background(), filepath.Join(s.binDir, "pg_ctl"),
		"stop", "-D", s.dataDir, "-m", "fast", "-w", "-t", "60").CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop PostgreSQL in %s: %w\n%s", s.dataDir, err, strings.TrimSpace(string(out)))
	}
	s.removePrivateSocketDir()
	s.stopped = true
	return nil
}

func (s *Server) removePrivateSocketDir() {
	if s.privSock != "" {
		os.RemoveAll(s.privSock)
		s.privSock = ""
	}
}

// isPrivateSocketDir reports whether dir is one of our short socket directories.
func isPrivateSocketDir(dir string) bool {
	return filepath.Dir(dir) == filepath.Clean(os.TempDir()) &&
		strings.HasPrefix(filepath.Base(dir), privateSocketPrefix)
}
