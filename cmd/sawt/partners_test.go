package main

import (
	"strings"
	"testing"

	"github.com/sawt/sawt/store/pgtest"
)

// Referral partners are added, listed and retired from the command line; a name twice is
// refused, and a retired partner is listed only with --all.
func TestPartnersCommands(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t)}
	r := runSawt(t, vars, "", "partners", "add", "Mercy Health Clinic", "--sector", "health", "--contact", "Dr Hana, +964 750 000 0000")
	if r.code != exitOK || strings.TrimSpace(r.stdout) != "1" {
		t.Fatalf("add: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runSawt(t, vars, "", "partners", "add", " mercy health clinic "); r.code == exitOK || !strings.Contains(r.stderr, "already") {
		t.Errorf("the same name again: %d %q", r.code, r.stderr)
	}
	r = runSawt(t, vars, "", "partners", "list")
	if r.code != exitOK || !strings.Contains(r.stdout, "Mercy Health Clinic") || !strings.Contains(r.stdout, "health") {
		t.Errorf("list: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runSawt(t, vars, "", "partners", "retire", "1"); r.code != exitOK || !strings.Contains(r.stdout, "retired") {
		t.Errorf("retire: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runSawt(t, vars, "", "partners", "list"); strings.Contains(r.stdout, "Mercy") {
		t.Errorf("a retired partner is listed: %q", r.stdout)
	}
	if r := runSawt(t, vars, "", "partners", "list", "--all"); !strings.Contains(r.stdout, "retired") {
		t.Errorf("list --all: %q", r.stdout)
	}
	if r := runSawt(t, vars, "", "partners", "retire", "9"); r.code == exitOK || !strings.Contains(r.stderr, "no partner 9") {
		t.Errorf("retire a missing one: %d %q", r.code, r.stderr)
	}
}
