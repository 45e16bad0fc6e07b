package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
)

func TestFlowsCheckShipped(t *testing.T) {
	shipped, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	r := runSawt(t, nil, "", "flows", "check")
	if r.code != exitOK {
		t.Fatalf("exit code %d, want %d: the shipped flows have problems:\n%s%s", r.code, exitOK, r.stdout, r.stderr)
	}
	m := regexp.MustCompile(`^ok: (\d+) flows, (\d+) texts in each of (\d+) languages\n$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("stdout is not one \"ok: N flows, N texts in each of N languages\" line: %q", r.stdout)
	}
	if n, _ := strconv.Atoi(m[1]); n != len(shipped) {
		t.Errorf("reports %d flows, %d are shipped", n, len(shipped))
	}
	if n, _ := strconv.Atoi(m[2]); n < 50 {
		t.Errorf("reports %d texts per language; the shipped flows alone use more", n)
	}
	if n, _ := strconv.Atoi(m[3]); n != len(locales.Languages) {
		t.Errorf("reports %d languages, want %d", n, len(locales.Languages))
	}
}

// Each broken flow has exactly one planted problem, at a known line. Comment lines at the top
// shift the lines so that a report of the wrong line cannot pass by chance.
func TestFlowsCheckFindsProblems(t *testing.T) {
	tests := []struct {
		name, file, yaml string
		line             int
		msg              string // the message must contain this
	}{
		{
			name: "choice without goto", file: "choice.yaml", line: 10,
			msg: `step "ask": choice menu.feedback leads nowhere (no goto)`,
			yaml: `# a menu of two choices, the second leading nowhere
name: broken_choice
steps:
  - id: ask
    say: menu.ask
    input: choice
    choices:
      - {label: menu.complaint, goto: end}

      - {label: menu.feedback}
`,
		},
		{
			name: "goto unknown step", file: "goto.yaml", line: 4,
			msg: `step "first": unknown step "nowhere"`,
			yaml: `# goes to a step that does not exist
name: broken_goto
steps:
  - id: first
    say: menu.ask
    goto: nowhere
`,
		},
		{
			name: "goto unknown flow", file: "goto_flow.yaml", line: 3,
			msg: `step "first": unknown flow "atlantis"`,
			yaml: `name: broken_goto_flow
steps:
  - id: first
    say: menu.ask
    goto: "flow:atlantis"
`,
		},
		{
			name: "unreachable step", file: "island.yaml", line: 8,
			msg: `step "island" is unreachable`,
			yaml: `# the second step is never reached
name: broken_unreachable
steps:
  - id: first
    say: menu.ask
    goto: end

  - id: island
    say: menu.ask
    goto: end
`,
		},
		{
			name: "text in no language", file: "text.yaml", line: 6,
			msg: `text "complaint.no_such_text" is missing in ar, ckb, badini, en`,
			yaml: `# says a text no language has
# (two comment lines)
name: broken_text
steps:
  - id: first
    say: complaint.no_such_text
    goto: end
`,
		},
		{
			name: "unknown input type", file: "input.yaml", line: 5,
			msg: `step "first": unknown input "colour"`,
			yaml: `# waits for an input type the engine does not have
name: broken_input

steps:
  - id: first
    say: menu.ask
    input: colour
    save: colour
    goto: end
`,
		},
		{
			name: "unknown action", file: "action.yaml", line: 4,
			msg: `step "call": unknown action "teleport"`,
			yaml: `# calls an action the gateway does not have
name: broken_action
steps:
  - id: call
    action: teleport
    goto: done
  - id: done
    say: menu.ask
    goto: end
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runSawt(t, nil, "", "flows", "check", "--dir", dir)
			if r.code != exitFailure {
				t.Errorf("exit code %d, want %d", r.code, exitFailure)
			}
			want := tt.file + ":" + strconv.Itoa(tt.line) + ": "
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("want exactly the one planted problem, got %d lines:\n%s", len(lines), r.stdout)
			}
			if !strings.HasPrefix(lines[0], want) {
				t.Errorf("problem is not reported at %s\ngot: %s", want, lines[0])
			}
			if !strings.Contains(lines[0], tt.msg) {
				t.Errorf("problem does not say %q\ngot: %s", tt.msg, lines[0])
			}
			if !strings.Contains(r.stderr, "1 problems found") {
				t.Errorf("stderr does not sum up the problems: %q", r.stderr)
			}
		})
	}
}

// All planted problems at once: every one is reported, sorted by file and line, and the
// directory can also come from SAWT_FLOWS_DIR.
func TestFlowsCheckSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.yaml": "name: b\nsteps:\n  - id: one\n    say: menu.ask\n    goto: two\n  - id: lost\n    say: menu.ask\n    goto: end\n",
		"a.yaml": "name: a\nsteps:\n  - id: one\n    say: a.missing\n    goto: end\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`a.yaml:4: text "a.missing" is missing in ar, ckb, badini, en`,
		`b.yaml:3: step "one": unknown step "two"`,
		`b.yaml:6: step "lost" is unreachable`,
	}
	for _, how := range []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"--dir", nil, []string{"flows", "check", "--dir", dir}},
		{"SAWT_FLOWS_DIR", map[string]string{"SAWT_FLOWS_DIR": dir}, []string{"flows", "check"}},
	} {
		t.Run(how.name, func(t *testing.T) {
			r := runSawt(t, how.vars, "", how.args...)
			if r.code != exitFailure {
				t.Errorf("exit code %d, want %d", r.code, exitFailure)
			}
			if got := strings.Join(want, "\n") + "\n"; r.stdout != got {
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, got)
			}
			if !strings.Contains(r.stderr, "3 problems found") {
				t.Errorf("stderr does not sum up the problems: %q", r.stderr)
			}
		})
	}
}

// A file that cannot be read as a flow stops the check with its name and line.
func TestFlowsCheckUnreadable(t *testing.T) {
	tests := []struct {
		name, file, yaml, want string
	}{
		{"no name", "anon.yaml", "# nameless\nsteps:\n  - id: one\n    say: menu.ask\n", "anon.yaml:2: flow has no name"},
		{"no steps", "empty.yaml", "name: empty\n", `empty.yaml:1: flow "empty" has no steps`},
		{"step twice", "twice.yaml", "name: twice\nsteps:\n  - id: one\n    say: menu.ask\n  - id: one\n    say: menu.ask\n", `twice.yaml:5: step "one" defined twice`},
		{"not yaml", "bad.yaml", "name: [unclosed\n", "bad.yaml: yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runSawt(t, nil, "", "flows", "check", "--dir", dir)
			if r.code != exitFailure {
				t.Errorf("exit code %d, want %d", r.code, exitFailure)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, r.stderr)
			}
			if strings.HasPrefix(r.stdout, "ok:") {
				t.Errorf("check says ok: %s", r.stdout)
			}
		})
	}
}

func TestFlowsCheckMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	r := runSawt(t, nil, "", "flows", "check", "--dir", dir)
	if r.code != exitFailure {
		t.Errorf("exit code %d, want %d", r.code, exitFailure)
	}
	if !strings.Contains(r.stderr, "flows directory") || !strings.Contains(r.stderr, dir) {
		t.Errorf("stderr does not name the missing directory %s:\n%s", dir, r.stderr)
	}
}
