package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sawt/sawt/store/pgtest"
)

// A campaign written as a YAML file is made, listed, shown and steered from the command line;
// a file with a typo or a link is refused with a message that says where.
func TestCampaignsCommands(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t)}
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("fire.yaml", `
name: Winter fire safety
topic: safety
texts:
  ar: "لا تترك الموقد مشتعلا في الخيمة ليلا."
  ckb: "شەو ئاگردان لە چادردا داگیرساو جێمەهێڵە."
  badini: "شەڤێ ئاگردانێ د چادرێ دا هەلکری نەهێلە."
  en: "Do not leave a heater burning in the tent at night."
audience:
  governorates: [duhok]
schedule:
  cron: "0 18 * * 5"
`)
	r := runSawt(t, vars, "", "campaigns", "create", good, "--as", "cwc.one")
	if r.code != exitOK || strings.TrimSpace(r.stdout) != "1" || !strings.Contains(r.stderr, "first run") {
		t.Fatalf("create: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runSawt(t, vars, "", "campaigns", "list")
	if r.code != exitOK || !strings.Contains(r.stdout, "scheduled") || !strings.Contains(r.stdout, "Winter fire safety") {
		t.Errorf("list: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runSawt(t, vars, "", "campaigns", "pause", "1")
	if r.code != exitOK || r.stdout != "Campaign 1 is paused.\n" {
		t.Errorf("pause: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runSawt(t, vars, "", "campaigns", "show", "1")
	var shown struct {
		State     string `json:"state"`
		CreatedBy string `json:"created_by"`
		Schedule  struct {
			Cron string `json:"cron"`
		} `json:"schedule"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil || shown.State != "paused" ||
		shown.CreatedBy != "cwc.one" || shown.Schedule.Cron != "0 18 * * 5" {
		t.Errorf("show: %d %+v %v\n%s", r.code, shown, err, r.stdout)
	}

	for name, c := range map[string]struct {
		file, says string
		code       int
	}{
		"typo":      {write("typo.yaml", "name: x\nschedul:\n  now: true\n"), "field schedul not found", exitFailure},
		"link":      {write("link.yaml", strings.Replace(readFile(t, good), "Do not", "See bit.ly/fire. Do not", 1)), "texts.en: contains a link", exitFailure},
		"empty":     {write("empty.yaml", ""), "is empty", exitFailure},
		"no file":   {filepath.Join(dir, "none.yaml"), "no such file", exitFailure},
		"unknown":   {"", "missing FILE.yaml", exitUsage},
		"bad id":    {"", "", exitUsage},
		"not found": {"", "no campaign 99", exitFailure},
	} {
		args := []string{"campaigns", "create", c.file}
		switch name {
		case "unknown":
			args = []string{"campaigns", "create"}
		case "bad id":
			args = []string{"campaigns", "show", "x"}
			c.says = `"x" is not a campaign ID`
		case "not found":
			args = []string{"campaigns", "cancel", "99"}
		}
		r := runSawt(t, vars, "", args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.says) {
			t.Errorf("%s: exit %d %q, want %d saying %q", name, r.code, r.stderr, c.code, c.says)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
