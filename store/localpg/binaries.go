package localpg

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries says no usable PostgreSQL installation was found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL")

// debianRoot is where Debian and Ubuntu install each major version, outside PATH.
const debianRoot = "/usr/lib/postgresql"

// FindBinaries returns the directory holding initdb, pg_ctl and postgres. A non-nil
// searchPath is the list of directories to try, in order. A nil one means: initdb on PATH
// (symlinks resolved, since pg_ctl looks for postgres next to its real self), then
// /usr/lib/postgresql/*/bin, highest version first.
func FindBinaries(searchPath []string) (string, error) {
	dirs := searchPath
	if dirs == nil {
		dirs = defaultSearchPath()
	}
	for _, d := range dirs {
		if hasBinaries(d) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func defaultSearchPath() []string {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if abs, err := filepath.Abs(p); err == nil {
			dirs = append(dirs, filepath.Dir(abs))
		}
	}
	return append(dirs, debianBinDirs()...)
}

// debianBinDirs lists /usr/lib/postgresql/<version>/bin, highest version first.
func debianBinDirs() []string {
	matches, _ := filepath.Glob(filepath.Join(debianRoot, "*", "bin"))
	version := func(dir string) []int {
		var v []int
		for _, part := range strings.Split(filepath.Base(filepath.Dir(dir)), ".") {
			n, _ := strconv.Atoi(part)
			v = append(v, n)
		}
		return v
	}
	sort.Slice(matches, func(i, j int) bool {
		a, b := version(matches[i]), version(matches[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
	return matches
}

// hasBinaries reports whether dir holds the three programs we run (pg_ctl needs postgres).
func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}
