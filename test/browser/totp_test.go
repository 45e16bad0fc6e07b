package browser

import (
	"encoding/base32"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sawt/sawt/console"
)

// A Sorani PSEA focal point turns on two-step sign-in from the account page, laid out right to
// left: types the key shown into their "app" (here, the console's own TOTP), confirms with a
// code and their password, signs out, and signs in again: after the password the console asks
// for the code, and the code opens the start page.
func TestPSEATurnsOnTwoStepSignIn(t *testing.T) {
	path := needBrowser(t)
	e := startConsole(t)
	e.addUser("shilan@example.org", console.RolePSEA, "ckb")
	b := newBrowser(t, path, e.url)
	shots := t.TempDir()
	screenshot := func(name string) {
		shot := run(b, "take a screenshot", chromedp.FullScreenshot(90))
		file := filepath.Join(shots, name+".jpg")
		if err := os.WriteFile(file, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", file)
	}

	signIn(b, "shilan@example.org")
	if status := b.open("/account"); status != http.StatusOK {
		b.fatalf("the account page: %d", status)
	}
	if h := b.text("h2#totp"); h != "چوونەژوورەوەی دوو هەنگاوی" {
		b.fatalf("the two-step sign-in heading is %q", h)
	}
	if status := b.load("start two-step sign-in", chromedp.Click(chromedp.CSS(`form[action="/account/totp"] button`))); status != http.StatusOK {
		b.fatalf("after starting: %d", status)
	}
	key := b.text("main code")
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(key, " ", ""))
	if err != nil || len(secret) != console.TOTPSecretBytes {
		b.fatalf("the key shown %q: %v", key, err)
	}
	dir := run(b, "read the direction", chromedp.Evaluate[string](`getComputedStyle(document.documentElement).direction`))
	codeDir := run(b, "read the key's direction", chromedp.Evaluate[string](`getComputedStyle(document.querySelector('main code')).direction`))
	if dir != "rtl" || codeDir != "ltr" {
		t.Errorf("the page is laid out %q and the key %q, want rtl with the key ltr", dir, codeDir)
	}
	screenshot("setup")

	b.do("confirm with a code and the password",
		chromedp.SendKeys(chromedp.CSS(`form[action="/account/totp/confirm"] input[name="password"]`), password),
		chromedp.SendKeys(chromedp.CSS(`form[action="/account/totp/confirm"] input[name="code"]`), console.TOTPCode(secret, time.Now())))
	if status := b.load("turn it on", chromedp.Click(chromedp.CSS(`form[action="/account/totp/confirm"] button`))); status != http.StatusOK {
		b.fatalf("after confirming: %d", status)
	}
	if msg := b.text("p.ok"); msg != "چوونەژوورەوەی دوو هەنگاوی چالاک کرا، و لە هەموو ئامێرەکانی ترەوە چوویتە دەرەوە." {
		b.fatalf("after confirming the page says %q", msg)
	}

	if status := b.load("sign out", chromedp.Click(chromedp.CSS(`form.signout button`))); status != http.StatusOK {
		b.fatalf("after signing out: %d", status)
	}
	b.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "shilan@example.org"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password))
	if status := b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`))); status != http.StatusOK {
		b.fatalf("signing in ended on a page with status %d", status)
	}
	if p := b.path(); p != "/login/code" {
		b.fatalf("after the password the browser is at %s, want /login/code", p)
	}
	screenshot("code")
	// The code that turned it on is used: the app's next one (a step ahead is accepted).
	b.do("type the code", chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), console.TOTPCode(secret, time.Now().Add(30*time.Second))))
	if status := b.load("give the code", chromedp.Click(chromedp.CSS(`form[action="/login/code"] button`))); status != http.StatusOK {
		b.fatalf("after the code: %d", status)
	}
	if p := b.path(); p != "/" {
		b.fatalf("after the code the browser is at %s, want the start page", p)
	}
	if h1 := b.text("main h1"); h1 != "بەخێربێیت" {
		t.Errorf("the start page's heading is %q", h1)
	}
}
