package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sawt/sawt/store/pgtest"
)

// A distribution file with its household list is imported from the command line; a list with
// bad lines is refused whole, each line named as FILE:LINE, and nothing is imported.
func TestDistributionsCommands(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t)}
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("households.csv", "phone,household,language,name\n+9647701234567,HH-1,ar,Layla\n07501234568,HH-2,بادینی,\n")
	write("bad.csv", "phone,household,language\n+9647701234569,HH-3,ar\n12,HH-4,ar\n+9647701234570,HH-5,\n")
	spec := write("mamrashan.yaml", `
site: Mamrashan camp
governorate: duhok
starts_at: 2030-12-10T09:00:00+03:00
place: the hall near gate 2
items: food basket
bring: ration card
households: households.csv
`)
	r := runSawt(t, vars, "", "distributions", "import", spec, "--as", "cwc.one")
	if r.code != exitOK || strings.TrimSpace(r.stdout) != "1" || !strings.Contains(r.stderr, "2 households imported (2 new)") {
		t.Fatalf("import: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runSawt(t, vars, "", "distributions", "import", "--distribution", "1", filepath.Join(dir, "bad.csv"))
	if r.code == exitOK || !strings.Contains(r.stderr, "bad.csv:3: phone:") || !strings.Contains(r.stderr, "bad.csv:4: language:") ||
		!strings.Contains(r.stderr, "2 problems; nothing was imported") {
		t.Errorf("bad list: %d %q", r.code, r.stderr)
	}
	r = runSawt(t, vars, "", "distributions", "import", filepath.Join(dir, "households.csv"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "--distribution ID") {
		t.Errorf("a list without its distribution: %d %q", r.code, r.stderr)
	}
	r = runSawt(t, vars, "", "distributions", "list")
	if r.code != exitOK || !strings.Contains(r.stdout, "Mamrashan camp") || !strings.Contains(r.stdout, "2030-12-10 09:00") {
		t.Errorf("list: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runSawt(t, vars, "", "distributions", "cancel", "1")
	if r.code != exitOK || !strings.Contains(r.stdout, "cancelled") {
		t.Errorf("cancel: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runSawt(t, vars, "", "distributions", "show", "1")
	var shown struct {
		State      string `json:"state"`
		Households int    `json:"households"`
		CreatedBy  string `json:"created_by"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil || shown.State != "cancelled" || shown.Households != 2 || shown.CreatedBy != "cwc.one" {
		t.Errorf("show: %d %+v %v\n%s", r.code, shown, err, r.stdout)
	}
	if r := runSawt(t, vars, "", "distributions", "show", "7"); r.code == exitOK || !strings.Contains(r.stderr, "no distribution 7") {
		t.Errorf("show a missing one: %d %q", r.code, r.stderr)
	}
	if r := runSawt(t, vars, "", "distributions", "-h"); r.code != exitOK || !strings.Contains(r.stdout+r.stderr, "A distribution file") {
		t.Errorf("-h: %d %q", r.code, r.stdout+r.stderr)
	}
}
