package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sawt/sawt/locales"
)

// shippedPrompts lists the voice prompts of the shipped texts, without recordings.
func shippedPrompts(t *testing.T) []locales.PromptInfo {
	t.Helper()
	texts, err := locales.Default()
	if err != nil {
		t.Fatal(err)
	}
	p, err := locales.NewPrompts(texts)
	if err != nil {
		t.Fatal(err)
	}
	return p.List()
}

// counts is, per language, how many prompts can be recorded and how many are text-to-speech.
func counts(list []locales.PromptInfo) (recordable, tts map[string]int) {
	recordable, tts = map[string]int{}, map[string]int{}
	for _, p := range list {
		if p.TTS {
			tts[p.Lang]++
		} else {
			recordable[p.Lang]++
		}
	}
	return recordable, tts
}

// recordAll writes a file for every recordable prompt of list into a new directory.
func recordAll(t *testing.T, list []locales.PromptInfo, skip func(locales.PromptInfo) bool) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range list {
		if p.TTS || skip != nil && skip(p) {
			continue
		}
		name := filepath.Join(dir, p.Lang, p.Key+".mp3")
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("ID3 "+p.Lang+" "+p.Key), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var summaryLine = regexp.MustCompile(`(?m)^(ar|ckb|badini|en): (\d+) of (\d+) recorded$`)

// summaries maps each language's summary line to its "N of M".
func summaries(stdout string) map[string]string {
	got := map[string]string{}
	for _, m := range summaryLine.FindAllStringSubmatch(stdout, -1) {
		got[m[1]] = m[2] + " of " + m[3]
	}
	return got
}

func TestPromptsListsEverything(t *testing.T) {
	list := shippedPrompts(t)
	recordable, tts := counts(list)
	r := runSawt(t, nil, "", "prompts")
	if r.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, exitOK, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
	sums := summaries(r.stdout)
	for _, lang := range locales.Languages {
		if want := fmt.Sprintf("0 of %d", recordable[lang]); sums[lang] != want {
			t.Errorf("%s summary: %q, want %q", lang, sums[lang], want)
		}
		if !strings.Contains(r.stdout, "== "+lang+": ") {
			t.Errorf("no heading for %s", lang)
		}
	}
	// One line per prompt and language, with its key, status and text.
	lines := strings.Split(r.stdout, "\n")
	for _, p := range list {
		status := "missing"
		if p.TTS {
			status = "text-to-speech"
		}
		line := regexp.MustCompile(`^` + regexp.QuoteMeta(p.Key) + ` +` + status + ` +(\[no .*\] )?` + regexp.QuoteMeta(strings.Join(strings.Fields(p.Text), " ")) + `$`)
		if !slices.ContainsFunc(lines, line.MatchString) {
			t.Errorf("no line %q", line)
		}
	}
	if n := count(r.stdout, "missing"); n != sum(recordable) {
		t.Errorf("%d missing lines, want %d", n, sum(recordable))
	}
	if n := count(r.stdout, "text-to-speech"); n != sum(tts) {
		t.Errorf("%d text-to-speech lines, want %d", n, sum(tts))
	}
	// Text-to-speech prompts come after the recordable ones of their language.
	for _, block := range strings.Split(r.stdout, "\n== ")[1:] {
		lines := strings.Split(block, "\n")
		last := slices.IndexFunc(lines, statusLine("text-to-speech").MatchString)
		if first := slices.IndexFunc(lines, statusLine("missing").MatchString); last >= 0 && first > last {
			t.Errorf("a text-to-speech prompt is listed before a recordable one:\n%s", block)
		}
	}
	for lang, note := range map[string]string{
		"ar":     "Missing recordings are spoken by text-to-speech.",
		"en":     "Missing recordings are spoken by text-to-speech.",
		"ckb":    "falls back to the Arabic recording, or to Arabic text-to-speech",
		"badini": "falls back to the Arabic recording, or to Arabic text-to-speech",
	} {
		i := strings.Index(r.stdout, lang+": 0 of ")
		if i < 0 || !strings.Contains(strings.SplitN(r.stdout[i:], "\n", 3)[1], note) {
			t.Errorf("%s: the summary is not followed by %q", lang, note)
		}
	}
}

// statusLine matches a prompt's line with status.
func statusLine(status string) *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9_.-]+ +` + status + `  `)
}

// count is how many prompts' lines of stdout have status.
func count(stdout, status string) int {
	var n int
	for _, l := range strings.Split(stdout, "\n") {
		if statusLine(status).MatchString(l) {
			n++
		}
	}
	return n
}

func sum(m map[string]int) int {
	var n int
	for _, v := range m {
		n += v
	}
	return n
}

// With the shipped (no) recordings, everything recordable is missing: exit 1.
func TestPromptsMissingShipped(t *testing.T) {
	recordable, _ := counts(shippedPrompts(t))
	r := runSawt(t, nil, "", "prompts", "--missing")
	if r.code != exitFailure {
		t.Errorf("exit code %d, want %d", r.code, exitFailure)
	}
	if n := count(r.stdout, "missing"); n != sum(recordable) {
		t.Errorf("%d missing lines, want %d", n, sum(recordable))
	}
	if count(r.stdout, "text-to-speech") > 0 {
		t.Errorf("--missing lists text-to-speech prompts:\n%s", r.stdout)
	}
	if want := fmt.Sprintf("sawt prompts: %d recordings missing\n", sum(recordable)); r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

// With a recording for every prompt, nothing is missing: exit 0, from --audio-dir or
// SAWT_AUDIO_DIR.
func TestPromptsAllRecorded(t *testing.T) {
	list := shippedPrompts(t)
	recordable, _ := counts(list)
	dir := recordAll(t, list, nil)
	for _, how := range []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"--audio-dir", nil, []string{"prompts", "--missing", "--audio-dir", dir}},
		{"SAWT_AUDIO_DIR", map[string]string{"SAWT_AUDIO_DIR": dir}, []string{"prompts", "--missing"}},
	} {
		t.Run(how.name, func(t *testing.T) {
			r := runSawt(t, how.vars, "", how.args...)
			if r.code != exitOK {
				t.Errorf("exit code %d, want %d; stderr:\n%s", r.code, exitOK, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("stderr: %q", r.stderr)
			}
			if count(r.stdout, "missing") > 0 {
				t.Errorf("a prompt is missing:\n%s", r.stdout)
			}
			sums := summaries(r.stdout)
			for _, lang := range locales.Languages {
				if want := fmt.Sprintf("%d of %d", recordable[lang], recordable[lang]); sums[lang] != want {
					t.Errorf("%s summary: %q, want %q", lang, sums[lang], want)
				}
			}
		})
	}

	// Without --missing the recordings are listed as recorded.
	r := runSawt(t, nil, "", "prompts", "--audio-dir", dir)
	if r.code != exitOK || count(r.stdout, "recorded") != sum(recordable) {
		t.Errorf("exit code %d, %d recorded lines, want %d:\n%s", r.code, count(r.stdout, "recorded"), sum(recordable), r.stdout)
	}
}

// One recording short in Badini: only that one is printed, and the exit is 1. Files that are
// not used are reported on stderr.
func TestPromptsOneMissing(t *testing.T) {
	list := shippedPrompts(t)
	recordable, _ := counts(list)
	var gap locales.PromptInfo
	for _, p := range list {
		if p.Lang == locales.Badini && !p.TTS {
			gap = p
			break
		}
	}
	dir := recordAll(t, list, func(p locales.PromptInfo) bool { return p == gap })
	if err := os.MkdirAll(filepath.Join(dir, "fr"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fr", "menu.ask.mp3"), []byte("ID3"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runSawt(t, nil, "", "prompts", "--missing", "--audio-dir", dir)
	if r.code != exitFailure {
		t.Errorf("exit code %d, want %d", r.code, exitFailure)
	}
	if n := count(r.stdout, "missing"); n != 1 || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(gap.Key)+` +missing `).MatchString(r.stdout) {
		t.Errorf("want only %s missing:\n%s", gap.Key, r.stdout)
	}
	if want := fmt.Sprintf("%d of %d", recordable["badini"]-1, recordable["badini"]); summaries(r.stdout)["badini"] != want {
		t.Errorf("badini summary %q, want %q", summaries(r.stdout)["badini"], want)
	}
	for _, w := range []string{"not used: " + filepath.Join(dir, "fr", "menu.ask.mp3") + ": unknown language", "sawt prompts: 1 recordings missing"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
}

func TestPromptsLang(t *testing.T) {
	recordable, _ := counts(shippedPrompts(t))
	for _, lang := range locales.Languages {
		t.Run(lang, func(t *testing.T) {
			r := runSawt(t, nil, "", "prompts", "--lang", lang)
			if r.code != exitOK {
				t.Errorf("exit code %d; stderr:\n%s", r.code, r.stderr)
			}
			sums := summaries(r.stdout)
			if len(sums) != 1 || sums[lang] != fmt.Sprintf("0 of %d", recordable[lang]) {
				t.Errorf("summaries %v, want only %s", sums, lang)
			}
			if n := strings.Count(r.stdout, "== "); n != 1 {
				t.Errorf("%d headings, want 1", n)
			}
			r = runSawt(t, nil, "", "prompts", "--lang", lang, "--missing")
			if r.code != exitFailure || count(r.stdout, "missing") != recordable[lang] {
				t.Errorf("--missing: exit code %d, %d missing, want %d, %d", r.code, count(r.stdout, "missing"), exitFailure, recordable[lang])
			}
		})
	}
}

func TestPromptsUsage(t *testing.T) {
	r := runSawt(t, nil, "", "prompts", "-h")
	if r.code != exitOK {
		t.Errorf("-h: exit code %d", r.code)
	}
	for _, w := range []string{"Usage: sawt prompts [--missing] [--lang LANG] [--audio-dir DIR]", "$SAWT_AUDIO_DIR", "-missing", "-lang string", "-audio-dir string"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("-h does not say %q:\n%s", w, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("-h wrote to stdout: %q", r.stdout)
	}
	if r := runSawt(t, nil, "", "-h"); !strings.Contains(r.stderr, "\n  prompts  ") {
		t.Errorf("sawt -h does not list prompts:\n%s", r.stderr)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown language", []string{"prompts", "--lang", "fr"}, `sawt prompts: usage: unknown language "fr" for --lang (want one of ar, ckb, badini, en)`},
		{"badini by tag", []string{"prompts", "--lang", "kmr"}, `unknown language "kmr"`},
		{"argument", []string{"prompts", "ckb"}, `sawt prompts: usage: unexpected argument "ckb"`},
		{"unknown flag", []string{"prompts", "--all"}, "flag provided but not defined: -all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runSawt(t, nil, "", tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit code %d, want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}

	dir := filepath.Join(t.TempDir(), "absent")
	r = runSawt(t, nil, "", "prompts", "--audio-dir", dir)
	if r.code != exitFailure || !strings.Contains(r.stderr, dir) {
		t.Errorf("missing audio dir: exit code %d, stderr %q", r.code, r.stderr)
	}
}
