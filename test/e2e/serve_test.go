package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var runningLine = regexp.MustCompile(`msg="sawt is running" public=(\S+) admin=(\S+)`)

// privateServeEnv configures serve (and chat) to run a private PostgreSQL under dir, with
// both listeners on ports the system picks.
func privateServeEnv(dir string) map[string]string {
	return map[string]string{
		"SAWT_DATA_DIR":   dir,
		"SAWT_HTTP_ADDR":  "127.0.0.1:0",
		"SAWT_ADMIN_ADDR": "127.0.0.1:0",
	}
}

// waitReady waits until serve logs its addresses and its admin listener answers /healthz
// with 200 and /readyz with 200 {"status":"ready"}. It returns the public and admin addresses.
func waitReady(t *testing.T, p *proc, within time.Duration) (public, admin string) {
	t.Helper()
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if code, exited := p.wait(0); exited {
			t.Fatalf("serve exited with %d before it was ready; stderr:\n%s", code, p.stderr.String())
		}
		if admin == "" {
			if m := runningLine.FindStringSubmatch(p.stderr.String()); m != nil {
				public, admin = m[1], m[2]
			}
		}
		if admin != "" && status(client, "http://"+admin+"/healthz") == http.StatusOK {
			if code, body := getJSON(client, "http://"+admin+"/readyz"); code == http.StatusOK && body["status"] == "ready" {
				return public, admin
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready within %v (admin %q); stderr:\n%s", within, admin, p.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func status(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func getJSON(c *http.Client, url string) (int, map[string]string) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, body
}

// stop sends sig to serve and checks that it exits 0 within 30s, having said so, and that
// the private PostgreSQL on dir is gone with it.
func stop(t *testing.T, p *proc, sig syscall.Signal, dir string) {
	t.Helper()
	stopServe(t, p, sig)
	log := p.stderr.String()
	for _, want := range []string{"shutting down", "stopping PostgreSQL in " + filepath.Join(dir, "postgres")} {
		if !strings.Contains(log, want) {
			t.Errorf("after %v serve did not log %q:\n%s", sig, want, log)
		}
	}
	checkPostgresGone(t, dir, "serve stopped by "+sig.String())
}

func checkPostgresGone(t *testing.T, dir, after string) {
	t.Helper()
	if pid, gone := waitNoPostmaster(dir, 5*time.Second); !gone {
		t.Errorf("after %s, PostgreSQL (PID %d) still runs on %s", after, pid, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres", "postmaster.pid")); err == nil {
		t.Errorf("after %s, postmaster.pid is left in %s", after, dir)
	}
}

// TestServeManagedPostgres: without DATABASE_URL, serve makes and runs its own PostgreSQL,
// reports healthy, ready and its metrics, says which channels are off, and on SIGTERM exits 0
// and takes PostgreSQL down with it.
func TestServeManagedPostgres(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	p := start(t, privateServeEnv(dir), "", "serve")
	public, admin := waitReady(t, p, 60*time.Second)

	if pid, running := postmasterRunning(dir); !running {
		t.Errorf("serve is ready but no postmaster runs on %s", dir)
	} else if pid == p.cmd.Process.Pid {
		t.Errorf("the postmaster is sawt itself?")
	}
	log := p.stderr.String()
	for _, want := range []string{
		"initialising PostgreSQL cluster in " + filepath.Join(dir, "postgres"),
		"created database sawt",
		`msg="migration applied" migration="sawt 001 core"`,
		`msg="telegram channel: off (TELEGRAM_BOT_TOKEN is not set)"`,
		`msg="twilio channels (SMS, voice): off (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set)"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("start-up log does not say %q:\n%s", want, log)
		}
	}

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /metrics: %d", resp.StatusCode)
	}
	for _, name := range []string{"go_goroutines ", "process_open_fds ", "sawt_flow_step_seconds_count "} {
		if !strings.Contains(string(metrics), name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if code, body := getJSON(client, "http://"+public+"/metrics"); code != http.StatusNotFound || body["error"] != "not found" {
		t.Errorf("GET /metrics on the public listener: %d %v, want 404 (metrics are admin only)", code, body)
	}

	stop(t, p, syscall.SIGTERM, dir)
}

// TestServeReusesCluster: a second serve on the same SAWT_DATA_DIR starts the existing
// cluster instead of making a new one, and what was stored in between is still there; a chat
// run while serve is up shares its server without stopping it; SIGINT stops serve cleanly.
func TestServeReusesCluster(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := privateServeEnv(dir)

	first := start(t, env, "", "serve")
	waitReady(t, first, 60*time.Second)
	if !strings.Contains(first.stderr.String(), "initialising PostgreSQL cluster") {
		t.Fatalf("first serve on an empty data dir did not initialise a cluster:\n%s", first.stderr.String())
	}
	stop(t, first, syscall.SIGTERM, dir)

	// With serve down, chat starts the private server itself, opens a case and stops it.
	inputs := "hi\n1\n1\nThe water tank in block C is broken\n1\nJeddah 5\n1\n1\n"
	code, stdout, stderr := runSawt(t, env, inputs, "chat", "--lang", "en", "--urn", "terminal:e2e")
	if code != 0 {
		t.Fatalf("chat exited with %d; stderr:\n%s", code, stderr)
	}
	m := regexp.MustCompile(`Your complaint number is (\d{4} \d{4})\.`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("chat printed no complaint number:\n%s", stdout)
	}
	reference := m[1]
	if strings.Contains(stderr, "initialising PostgreSQL cluster") {
		t.Errorf("chat initialised a new cluster over serve's:\n%s", stderr)
	}
	checkPostgresGone(t, dir, "chat ended")

	second := start(t, env, "", "serve")
	_, admin := waitReady(t, second, 60*time.Second)
	log := second.stderr.String()
	if strings.Contains(log, "initialising PostgreSQL cluster") {
		t.Errorf("second serve initialised the cluster again:\n%s", log)
	}
	for _, unwanted := range []string{"created database sawt", "migration applied"} {
		if strings.Contains(log, unwanted) {
			t.Errorf("second serve says %q: the first run's database is gone:\n%s", unwanted, log)
		}
	}
	if !strings.Contains(log, "starting PostgreSQL in "+filepath.Join(dir, "postgres")) {
		t.Errorf("second serve did not start the existing cluster:\n%s", log)
	}

	// Someone else checks the case while serve runs: chat uses serve's server.
	code, stdout, stderr = runSawt(t, env, "hi\n4\n"+strings.ReplaceAll(reference, " ", "")+"\n",
		"chat", "--lang", "en", "--urn", "terminal:e2e-neighbour")
	if code != 0 {
		t.Fatalf("status chat exited with %d; stderr:\n%s", code, stderr)
	}
	if want := "Complaint " + reference + ": we have received it."; !strings.Contains(stdout, want) {
		t.Errorf("the case opened before the restart is not found: no %q in\n%s", want, stdout)
	}
	if !strings.Contains(stderr, "using the PostgreSQL server already running") {
		t.Errorf("chat did not use the server serve runs:\n%s", stderr)
	}
	if code, body := getJSON(&http.Client{Timeout: 5 * time.Second}, "http://"+admin+"/readyz"); code != http.StatusOK || body["status"] != "ready" {
		t.Errorf("after the chat ended serve is not ready any more (%d %v): chat stopped a server it did not start", code, body)
	}

	stop(t, second, syscall.SIGINT, dir)
}

// TestServeNoBinaries: without PostgreSQL binaries serve says what to install. It can only be
// produced on a machine without /usr/lib/postgresql, which serve searches besides PATH.
func TestServeNoBinaries(t *testing.T) {
	t.Parallel()
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		t.Skipf("PostgreSQL is installed under %s, which serve searches whatever PATH says; localpg's own tests cover ErrNoBinaries through SearchPath", dirs[0])
	}
	dir := dataDir(t)
	env := privateServeEnv(dir)
	env["PATH"] = t.TempDir()
	code, _, stderr := runSawt(t, env, "", "serve")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(stderr, "PostgreSQL server binaries (initdb, pg_ctl) not found") || !strings.Contains(stderr, "DATABASE_URL") {
		t.Errorf("stderr does not say the binaries are missing and DATABASE_URL is the way out:\n%s", stderr)
	}
}

// TestServeBadAddress: a bad address is refused before anything starts: one line, exit 2, no
// cluster made.
func TestServeBadAddress(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := privateServeEnv(dir)
	env["SAWT_HTTP_ADDR"] = "nonsense"
	code, stdout, stderr := runSawt(t, env, "", "serve")
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if n := strings.Count(stderr, "\n"); n != 1 || !strings.HasPrefix(stderr, "sawt serve: ") || !strings.Contains(stderr, `SAWT_HTTP_ADDR="nonsense"`) {
		t.Errorf("want one line \"sawt serve: ... SAWT_HTTP_ADDR=\\\"nonsense\\\" ...\", got %d lines:\n%s", n, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout is not empty: %q", stdout)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("serve with a bad address created %s", dir)
	}
}
