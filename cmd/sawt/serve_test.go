package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/store/pgtest"
)

var runningLine = regexp.MustCompile(`msg="sawt is running" public=(\S+) admin=(\S+)`)

// TestServeWithDatabaseURL: serve on an existing database answers health and readiness on the
// admin listener, 404 on the public one, and stops with status 0 when its context ends.
func TestServeWithDatabaseURL(t *testing.T) {
	getenv := testEnv(t, map[string]string{
		"DATABASE_URL":    pgtest.NewURL(t),
		"SAWT_HTTP_ADDR":  "127.0.0.1:0",
		"SAWT_ADMIN_ADDR": "127.0.0.1:0",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: getenv}, []string{"serve"})
	}()

	var public, admin string
	deadline := time.Now().Add(30 * time.Second)
	for public == "" {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it was running; stderr:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if m := runningLine.FindStringSubmatch(stderr.String()); m != nil {
			public, admin = m[1], m[2]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log \"sawt is running\" within 30s; stderr:\n%s", stderr.String())
		}
	}

	tests := []struct {
		addr, path string
		status     int
		body       map[string]string
	}{
		{admin, "/healthz", http.StatusOK, map[string]string{"status": "ok"}},
		{admin, "/readyz", http.StatusOK, map[string]string{"status": "ready"}},
		{admin, "/nothing", http.StatusNotFound, map[string]string{"error": "not found"}},
		{public, "/healthz", http.StatusNotFound, map[string]string{"error": "not found"}}, // health is not public
	}
	for _, tt := range tests {
		resp, err := http.Get("http://" + tt.addr + tt.path)
		if err != nil {
			t.Errorf("GET %s%s: %v", tt.addr, tt.path, err)
			continue
		}
		var body map[string]string
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || err != nil || len(body) != len(tt.body) {
			t.Errorf("GET %s%s: %d %v %v, want %d %v", tt.addr, tt.path, resp.StatusCode, body, err, tt.status, tt.body)
			continue
		}
		for k, v := range tt.body {
			if body[k] != v {
				t.Errorf("GET %s%s: %v, want %v", tt.addr, tt.path, body, tt.body)
			}
		}
	}
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"go_goroutines", "sawt_flow_step_seconds_count"} {
		if !strings.Contains(string(metrics), name) {
			t.Errorf("/metrics has no %s", name)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited with %d after its context ended, want %d; stderr:\n%s", code, exitOK, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30s of its context ending; stderr:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `msg=stopped`) {
		t.Errorf("serve did not log that it stopped:\n%s", stderr.String())
	}
	if c, err := net.DialTimeout("tcp", admin, time.Second); err == nil {
		c.Close()
		t.Errorf("admin listener %s still accepts connections after serve returned", admin)
	}
}

// A port in use is reported at start-up, naming the variable, with status 1.
func TestServePortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r := runSawt(t, map[string]string{
		"DATABASE_URL":    pgtest.NewURL(t),
		"SAWT_HTTP_ADDR":  "127.0.0.1:0",
		"SAWT_ADMIN_ADDR": busy.Addr().String(),
	}, "", "serve")
	if r.code != exitFailure {
		t.Errorf("exit code %d, want %d", r.code, exitFailure)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "sawt serve: ") || !strings.Contains(last, "SAWT_ADMIN_ADDR="+busy.Addr().String()) ||
		!strings.Contains(last, "address already in use") {
		t.Errorf("last line of stderr does not say SAWT_ADMIN_ADDR's port is in use:\n%s", r.stderr)
	}
}
