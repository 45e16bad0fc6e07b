package browser

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/gateway/gatewaytest"
	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

const password = "a long enough password"

// consoleEnv is the console as serve builds it (console.Web with the gateway as its Cases),
// on its own database, served over plain HTTP on 127.0.0.1.
type consoleEnv struct {
	t    *testing.T
	pool *pgxpool.Pool
	gw   *gateway.Gateway
	url  string
}

func startConsole(t *testing.T) *consoleEnv {
	t.Helper()
	pool := pgtest.New(t)
	gw := gatewaytest.New(t, gateway.Config{Pool: pool}) // its messages wait queued
	loc := time.FixedZone("+03", 3*60*60)
	// Campaigns and alerts are queued as River jobs that no worker takes: nothing is sent.
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	web := &console.Web{Pool: pool, Location: loc, Cases: gw, Simulator: gw,
		Outreach: &outreach.Service{Pool: pool, River: rc, Location: loc},
		Logger:   slog.New(slog.NewTextHandler(testOutput{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	mux := http.NewServeMux()
	web.Mount(mux)
	srv := httptest.NewServer(mux) // on 127.0.0.1: the session cookie is not Secure
	t.Cleanup(srv.Close)
	return &consoleEnv{t: t, pool: pool, gw: gw, url: srv.URL}
}

// testOutput writes the console's warnings and errors to the test's log.
type testOutput struct{ t *testing.T }

func (o testOutput) Write(p []byte) (int, error) {
	o.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// addUser stores a staff user who has chosen their password already.
func (e *consoleEnv) addUser(email, role, lang string) {
	e.t.Helper()
	hash, err := console.HashPassword(password)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	if _, err := store.InsertStaffUser(context.Background(), e.pool, store.StaffUser{Email: email, Role: role, Language: lang,
		PasswordHash: hash, CreatedAt: now, PasswordChangedAt: &now}); err != nil {
		e.t.Fatal(err)
	}
}

// seedCase stores a person who wrote by SMS from urn in Arabic, and their case, which they
// agreed to be contacted about, taken in hand by a caseworker (in progress).
func (e *consoleEnv) seedCase(urn channels.URN, digits string) (int64, cases.Reference) {
	e.t.Helper()
	ctx := context.Background()
	check, _ := cases.DammDigit(digits)
	ref := cases.Reference(digits + string(check))
	var id int64
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if err := store.LockURN(ctx, tx, urn); err != nil {
			return err
		}
		contact, err := store.ContactForURN(ctx, tx, urn)
		if err != nil {
			return err
		}
		if err := store.SetContactLanguage(ctx, tx, contact.ID, "ar"); err != nil {
			return err
		}
		now := time.Now().Add(-2 * time.Hour)
		c, err := cases.Open(ctx, tx, cases.New{ContactID: contact.ID, Category: cases.CategoryAssistanceRequest,
			Channel: string(channels.SMS), Language: "ar", Description: "الحنفية في المخيم مكسورة منذ أسبوع",
			Governorate: "ninewa", Site: "Hasansham U3", ConsentContact: true},
			func() cases.Reference { return ref }, now)
		if err != nil {
			return err
		}
		id = c.ID
		for i, to := range []cases.Status{cases.StatusAcknowledged, cases.StatusInProgress} {
			if err := cases.ChangeStatus(ctx, tx, id, to, "amal@example.org", "", now.Add(time.Duration(i+1)*10*time.Minute)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("seed a case: %v", err)
	}
	return id, ref
}

// signIn signs in on the sign-in page, as a person would, and lands on the start page.
func signIn(b *browser, email string) {
	b.t.Helper()
	if status := b.open("/login"); status != http.StatusOK {
		b.fatalf("the sign-in page: %d", status)
	}
	b.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password))
	if status := b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`))); status != http.StatusOK {
		b.fatalf("signing in ended on a page with status %d", status)
	}
	if p := b.path(); p != "/" {
		b.fatalf("signed in, the browser is at %s, want the start page /", p)
	}
}

// layout is where the queue's cells are, and the direction the browser lays the page out in.
type layout struct {
	Dir        string  `json:"dir"`       // <html dir>
	Direction  string  `json:"direction"` // the computed CSS direction of <html>
	Cells      int     `json:"cells"`
	FirstLeft  float64 `json:"firstLeft"` // the first column's cell (the reference)
	FirstRight float64 `json:"firstRight"`
	LastLeft   float64 `json:"lastLeft"` // the last column's cell (the assignee)
	LastRight  float64 `json:"lastRight"`
	HeadFirst  float64 `json:"headFirst"` // the first and last column headings' left edges
	HeadLast   float64 `json:"headLast"`
}

const queueLayout = `(() => {
	const row = document.querySelector('table.queue tbody tr');
	const head = document.querySelector('table.queue thead tr');
	const first = row.cells[0].getBoundingClientRect(), last = row.cells[row.cells.length - 1].getBoundingClientRect();
	return {
		dir: document.documentElement.dir, direction: getComputedStyle(document.documentElement).direction,
		cells: row.cells.length,
		firstLeft: first.left, firstRight: first.right, lastLeft: last.left, lastRight: last.right,
		headFirst: head.cells[0].getBoundingClientRect().left,
		headLast: head.cells[head.cells.length - 1].getBoundingClientRect().left,
	};
})()`

// details are the case page's terms and what each says (its <dt> and the <dd> after it).
const details = `Object.fromEntries([...document.querySelectorAll('main dl dt')].map(dt =>
	[dt.textContent.trim(), dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : '']))`

// An Arabic caseworker signs in, finds the case in the queue, laid out right to left, and
// resolves it with a note; the page says the person is being told. The person answers "1"
// (yes) to whether they are satisfied, and the case page, reloaded, shows them satisfied.
func TestCaseworkerResolvesACaseInArabic(t *testing.T) {
	path := needBrowser(t)
	start := time.Now()
	e := startConsole(t)
	e.addUser("amal@example.org", console.RoleCaseworker, "ar")
	urn := channels.URN("tel:+9647701234567")
	id, ref := e.seedCase(urn, "1234567")
	b := newBrowser(t, path, e.url)
	t.Logf("console and browser (%s) ready in %s", path, time.Since(start).Round(time.Millisecond))

	signIn(b, "amal@example.org")
	if h1 := b.text("main h1"); h1 != "أهلاً بك" {
		b.fatalf("the start page's heading is %q, want it in Arabic", h1)
	}

	// the queue, from the start page's link
	if status := b.load("open the queue", chromedp.Click(chromedp.CSS(`ul.nav a[href="/cases"]`))); status != http.StatusOK {
		b.fatalf("the queue: %d", status)
	}
	if h1 := b.text("main h1"); h1 != "الحالات" {
		b.fatalf("the queue's heading is %q, want it in Arabic (الحالات)", h1)
	}
	l := run(b, "measure the queue", chromedp.Evaluate[layout](queueLayout))
	t.Logf("queue layout: %+v", l)
	if l.Dir != "rtl" || l.Direction != "rtl" {
		t.Errorf("the queue page has dir=%q and is laid out %q, want rtl", l.Dir, l.Direction)
	}
	// Right to left, the reference (first column) is the rightmost cell, the last column
	// left of it: the whole of the first cell is to the right of the last.
	if l.Cells < 2 || l.FirstLeft < l.LastRight || l.HeadFirst <= l.HeadLast {
		t.Errorf("the queue is not laid out right to left: the first column spans %.0f–%.0f, the last %.0f–%.0f (headings at %.0f and %.0f)",
			l.FirstLeft, l.FirstRight, l.LastLeft, l.LastRight, l.HeadFirst, l.HeadLast)
	}

	// the case, from its reference in the queue
	link := fmt.Sprintf(`table.queue a[href="/cases/%d"]`, id)
	if got := b.text(link); got != ref.Display() {
		t.Errorf("the queue's link to the case says %q, want %q", got, ref.Display())
	}
	if status := b.load("open the case", chromedp.Click(chromedp.CSS(link))); status != http.StatusOK {
		b.fatalf("the case page: %d", status)
	}
	casePath := fmt.Sprintf("/cases/%d", id)
	if p := b.path(); p != casePath {
		b.fatalf("the reference led to %s, want %s", p, casePath)
	}
	if h1 := b.text("main h1"); !strings.Contains(h1, ref.Display()) {
		b.fatalf("the case page's heading %q does not name the case %s", h1, ref.Display())
	}

	// resolve it
	note := "أُصلحت الحنفية يوم الأحد."
	b.do("write the resolution", chromedp.SendKeys(chromedp.CSS(`textarea[name="resolution"]`), note))
	if status := b.load("resolve the case", chromedp.Click(chromedp.CSS(`form[action$="/resolve"] button[type="submit"]`))); status != http.StatusOK {
		b.fatalf("after resolving: %d", status)
	}
	if p, want := b.path(), casePath+"?done=resolved&told=1"; p != want {
		b.fatalf("after resolving the browser is at %s, want %s", p, want)
	}
	if msg, want := b.text("p.ok"), "تم تسجيل الردّ، وسيُرسَل إلى الشخص مع سؤاله إن كان راضيًا عنه."; msg != want {
		t.Errorf("after resolving the page says %q, want %q", msg, want)
	}
	d := run(b, "read the case's details", chromedp.Evaluate[map[string]string](details))
	for term, want := range map[string]string{"الردّ المقدَّم": note, "رضاه عن الردّ": "لم يُجب بعد"} {
		if d[term] != want {
			t.Errorf("after resolving, the case page's %q is %q, want %q (details: %v)", term, d[term], want, d)
		}
	}
	if status := b.text("main dl dd"); status != "تمت الإجابة" { // the first detail is the status
		t.Errorf("the case's status shows as %q, want resolved (تمت الإجابة)", status)
	}
	if k, err := store.CaseByID(context.Background(), e.pool, id); err != nil || k.Status != "resolved" || k.Resolution != note {
		t.Errorf("the case after the form: status %q, resolution %q, %v", k.Status, k.Resolution, err)
	}

	// the person answers the question they were sent: 1, yes
	if _, err := e.gw.Receive(context.Background(), channels.Inbound{Channel: channels.SMS, URN: urn,
		ExternalID: "SM-satisfied-1", Text: "1"}); err != nil {
		t.Fatalf("the person's answer: %v", err)
	}
	b.do("reload the case page", chromedp.Reload())
	d = run(b, "read the case's details again", chromedp.Evaluate[map[string]string](details))
	if got, want := d["رضاه عن الردّ"], "نعم، راضٍ"; got != want {
		t.Errorf("after the person's answer, satisfaction shows %q, want %q (details: %v)", got, want, d)
	}
	if k, err := store.CaseByID(context.Background(), e.pool, id); err != nil || k.Satisfied == nil || !*k.Satisfied {
		t.Errorf("the case after the answer: satisfied %v, %v", k.Satisfied, err)
	}

	shot := run(b, "take a screenshot", chromedp.FullScreenshot(90))
	file := filepath.Join(t.TempDir(), "case.jpg")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the case page: %s (%d bytes); the whole test took %s", file, len(shot), time.Since(start).Round(time.Millisecond))
}

// A user of another role signs in, and the queue is refused them: the 403 page.
func TestAdminIsRefusedTheQueue(t *testing.T) {
	path := needBrowser(t)
	e := startConsole(t)
	e.addUser("admin@example.org", console.RoleAdmin, "en")
	b := newBrowser(t, path, e.url)

	signIn(b, "admin@example.org")
	if status := b.open("/cases"); status != http.StatusForbidden {
		b.fatalf("an admin opening /cases: %d, want 403", status)
	}
	if h1 := b.text("main h1"); h1 != "Not allowed" {
		t.Errorf("the page's heading is %q, want Not allowed", h1)
	}
	if msg := b.text("main p.error"); !strings.Contains(msg, "cannot open this page") {
		t.Errorf("the page says %q, want that the role cannot open it", msg)
	}
	if n := run(b, "look for the queue", chromedp.Evaluate[int](`document.querySelectorAll('table.queue').length`)); n != 0 {
		t.Error("the 403 page shows the queue")
	}
}
