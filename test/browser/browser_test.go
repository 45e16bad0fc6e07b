// Package browser drives the staff console in a real headless Chromium, through chromedp:
// what only a browser shows, such as the right-to-left layout, and whole journeys through
// the console's pages and forms, on the real console and a real database (store/pgtest).
//
// The browser is CHROME_PATH when set, else the first of chromium, chromium-browser,
// google-chrome and google-chrome-stable on PATH. Without one the tests are skipped, unless
// CI is set: CI must run them, so there they fail.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sawt/sawt/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// browserNames are the programs looked for on PATH, in order, when CHROME_PATH is not set.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findBrowser is the browser's path: CHROME_PATH when set (and then only it), else the
// first of browserNames on PATH.
func findBrowser() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("CHROME_PATH=%s: %w", p, err)
		}
		return path, nil
	}
	for _, name := range browserNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("none of %s is on PATH, and CHROME_PATH is not set", strings.Join(browserNames, ", "))
}

// needBrowser is the browser's path. Without one the test is skipped, or fails when CI is set.
func needBrowser(t *testing.T) string {
	t.Helper()
	path, err := findBrowser()
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "" {
		t.Skipf("no browser for the console's browser tests: %v (install chromium, or set CHROME_PATH; with CI set this fails)", err)
	}
	t.Fatalf("CI is set, and it must run the browser tests, but no browser was found: %v", err)
	return ""
}

// Timeouts: the machine may be small and busy, so they are generous.
const (
	startTimeout = 60 * time.Second // the browser starting and opening its tab
	stepTimeout  = 30 * time.Second // one step: a page to load, an element to appear
)

// browser is one headless Chromium, with one tab, on the console at base.
type browser struct {
	t    *testing.T
	ctx  context.Context // the tab's; steps run under a timeout derived from it
	base string          // the console's URL, without a trailing slash
}

// newBrowser starts a headless Chromium (closed when the test ends) for the console at base.
func newBrowser(t *testing.T, path, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc) // ends the browser and waits for it
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)

	// The first Do starts the browser: it lives as long as ctx, so the timeout is a watchdog
	// of the start alone, not derived into ctx.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start the browser %s: %v", path, err)
		}
	case <-time.After(startTimeout):
		t.Fatalf("the browser %s did not start in %s", path, startTimeout)
	}
	return &browser{t: t, ctx: ctx, base: strings.TrimSuffix(base, "/")}
}

// step is the context of one step.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// do runs actions in order, and fails the test on an error, saying what was being done.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// run runs an action that returns a value, and fails the test on an error.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	return v
}

// load runs actions that make the tab load a page (a click on a link or a form's button, a
// navigation) and waits for it: the page's HTTP status, after any redirect.
func (b *browser) load(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	if resp == nil {
		b.fatalf("%s: no response", what)
	}
	return resp.Status
}

// open loads the console's page at path, and returns its HTTP status.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	return b.load("open "+path, chromedp.Navigate(b.base+path))
}

// path is the path and query of the tab's page.
func (b *browser) path() string {
	b.t.Helper()
	return strings.TrimPrefix(run(b, "read the location", chromedp.Location()), b.base)
}

// text is the visible text of the first element that matches the CSS selector, trimmed.
func (b *browser) text(css string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "read the text of "+css, chromedp.Text(chromedp.CSS(css))))
}

// fatalf fails the test, with where the tab is and what its page says, when it can tell.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\nat " + loc
	}
	if body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
		msg += "\n" + body
	} else if errors.Is(err, context.DeadlineExceeded) {
		msg += "\n(the page did not answer)"
	}
	b.t.Fatal(msg)
}
