package browser

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

// An Arabic caseworker opens the simulator from the start page, starts a conversation as an
// Arabic-speaking person on Telegram, and talks with the live flows: the main menu, its
// options as buttons, and a choice that moves the flow on. A reload shows the conversation.
func TestSimulatorInArabic(t *testing.T) {
	path := needBrowser(t)
	e := startConsole(t)
	e.addUser("amal@example.org", console.RoleCaseworker, "ar")
	b := newBrowser(t, path, e.url)
	signIn(b, "amal@example.org")

	if status := b.load("open the simulator", chromedp.Click(chromedp.CSS(`ul.nav a[href="/simulator"]`))); status != http.StatusOK {
		b.fatalf("the simulator: %d", status)
	}
	if h1 := b.text("main h1"); h1 != "محاكي المحادثة" {
		b.fatalf("the simulator's heading is %q", h1)
	}
	b.do("choose Telegram and Arabic",
		chromedp.SetValue(chromedp.CSS(`select[name="channel"]`), "telegram"),
		chromedp.SetValue(chromedp.CSS(`select[name="language"]`), "ar"))
	if status := b.load("start a conversation", chromedp.Click(chromedp.CSS(`button[name="start"]`))); status != http.StatusOK {
		b.fatalf("after starting: %d", status)
	}
	if msg := b.text("p.ok"); msg != "بدأت محادثة جديدة. اكتب الرسالة الأولى." {
		t.Errorf("after starting the page says %q", msg)
	}
	say := func(text string) string {
		t.Helper()
		b.do("type "+text, chromedp.SendKeys(chromedp.CSS(`textarea[name="text"]`), text))
		if status := b.load("send "+text, chromedp.Click(chromedp.CSS(`form.sim-send button[type="submit"]`))); status != http.StatusOK {
			b.fatalf("after sending %q: %d", text, status)
		}
		return b.text("ol.conv li:last-child p.text")
	}
	if last := say("مرحبا"); !strings.Contains(last, "كيف يمكننا مساعدتك؟") || !strings.Contains(last, "[1 تقديم شكوى]") {
		t.Errorf("the answer to hello is %q, want the Arabic main menu with its options as buttons", last)
	}
	if last := say("1"); !strings.Contains(last, "ما موضوع شكواك؟") || !strings.Contains(last, "[1 طلب مساعدة]") {
		t.Errorf("the answer to 1 is %q, want the complaint's first question", last)
	}
	b.do("reload the simulator", chromedp.Reload())
	if n := run(b, "count the messages", chromedp.Evaluate[int](`document.querySelectorAll('ol.conv li').length`)); n != 4 {
		t.Errorf("after a reload the conversation has %d messages, want 4", n)
	}
	if dir := run(b, "read the page's direction", chromedp.Evaluate[string](`getComputedStyle(document.documentElement).direction`)); dir != "rtl" {
		t.Errorf("the simulator is laid out %s, want rtl", dir)
	}
}

// A caseworker's browser plays a case's recording from the case page: the console serves it,
// and its policy lets the page load it.
func TestCaseRecordingPlays(t *testing.T) {
	path := needBrowser(t)
	e := startConsole(t)
	e.addUser("amal@example.org", console.RoleCaseworker, "en")
	id, _ := e.seedCase(channels.URN("tel:+9647701234567"), "1234567")
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `INSERT INTO recordings (provider_id, case_id, duration_seconds, created_at)
		VALUES ('RE-1', $1, 1, now())`, id); err != nil {
		t.Fatal(err)
	}
	if err := store.StoreRecordingAudio(ctx, e.pool, "RE-1", "audio/wav", silentWAV(), time.Now()); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, path, e.url)
	signIn(b, "amal@example.org")
	if status := b.open(fmt.Sprintf("/cases/%d", id)); status != http.StatusOK {
		b.fatalf("the case page: %d", status)
	}
	type loaded struct {
		Duration float64 `json:"duration"`
		Error    string  `json:"error"`
	}
	got := run(b, "load the recording", chromedp.Evaluate[loaded](`new Promise(resolve => {
		const a = document.querySelector('main audio');
		if (!a) { resolve({duration: 0, error: 'no player'}); return; }
		document.addEventListener('securitypolicyviolation', ev => resolve({duration: 0, error: 'refused by ' + ev.violatedDirective}));
		a.addEventListener('loadedmetadata', () => resolve({duration: a.duration, error: ''}));
		a.addEventListener('error', () => resolve({duration: 0, error: 'media error ' + (a.error ? a.error.code : '')}));
		a.preload = 'auto';
		a.load();
	})`, chromedp.EvalAwaitPromise))
	if got.Error != "" || got.Duration < 0.4 || got.Duration > 0.6 {
		t.Errorf("the recording in the browser: %+v, want it loaded, half a second long", got)
	}
}
