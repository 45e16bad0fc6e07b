package flows_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
)

// FuzzParseFlow reads any file as a flow definition and, when it parses, checks it against
// the shipped texts: a broken file is an error with its line, never a panic.
func FuzzParseFlow(f *testing.F) {
	shipped, err := filepath.Glob("defs/*.yaml")
	if err != nil || len(shipped) == 0 {
		f.Fatalf("no shipped flows: %v", err)
	}
	for _, name := range shipped {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nsteps:\n  - id: a\n    goto: a\n"))
	f.Add([]byte("name: x\nsteps:\n  - id: a\n  - id: a\n"))
	f.Add([]byte("- [\n"))
	f.Add([]byte("name: &a [*a]\n"))
	texts, err := locales.Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := flows.ParseFlow("fuzz.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if fl.Step(fl.Start) == nil && fl.Start == "" {
			t.Fatal("a parsed flow without a start")
		}
		_ = flows.Check(map[string]*flows.Flow{fl.Name: fl}, texts, testConfig)
	})
}
