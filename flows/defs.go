package flows

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
)

//go:embed defs/*.yaml
var shipped embed.FS

// Shipped returns the flows embedded in the binary.
func Shipped() (map[string]*Flow, error) {
	sub, err := fs.Sub(shipped, "defs")
	if err != nil {
		return nil, err
	}
	return LoadFlows(sub)
}

// Load returns the shipped flows, with those of dir (when not empty) added or put in place of
// the shipped flow of the same name.
func Load(dir string) (map[string]*Flow, error) {
	defs, err := Shipped()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return defs, nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("flows directory: %w", err)
	}
	local, err := LoadFlows(os.DirFS(dir))
	if err != nil {
		return nil, err
	}
	for name, f := range local {
		defs[name] = f
	}
	return defs, nil
}
