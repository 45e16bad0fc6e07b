package browser

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

// seedContacts stores people reachable by SMS, each reading lang.
func (e *consoleEnv) seedContacts(lang string, phones ...string) {
	e.t.Helper()
	ctx := context.Background()
	for _, phone := range phones {
		var id int64
		if err := e.pool.QueryRow(ctx, `INSERT INTO contacts (language, governorate) VALUES ($1, 'ninewa') RETURNING id`, lang).Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.pool.Exec(ctx, `INSERT INTO urns (urn, scheme, contact_id) VALUES ($1, 'tel', $2)`, "tel:"+phone, id); err != nil {
			e.t.Fatal(err)
		}
	}
}

// A cwc team member writes a campaign for later, previews it (the people it would reach,
// the SMS parts of its Arabic text, the languages without a text), creates it, and pauses
// it: its page says it is paused.
func TestCWCCreatesAndPausesACampaign(t *testing.T) {
	path := needBrowser(t)
	start := time.Now()
	e := startConsole(t)
	e.addUser("noor@example.org", console.RoleCWC, "en")
	e.seedContacts("ar", "+9647700000001", "+9647700000002")
	e.seedContacts("en", "+9647700000003")
	b := newBrowser(t, path, e.url)

	signIn(b, "noor@example.org")
	if status := b.load("open the campaigns", chromedp.Click(chromedp.CSS(`ul.nav a[href="/campaigns"]`))); status != http.StatusOK {
		b.fatalf("the campaigns: %d", status)
	}
	if status := b.load("open the form", chromedp.Click(chromedp.CSS(`a[href="/campaigns/new"]`))); status != http.StatusOK {
		b.fatalf("the new campaign form: %d", status)
	}
	arabic := "تبدأ حملة التطعيم ضد الحصبة يوم الأحد في المركز الصحي بالمخيم، والتطعيم مجاني للأطفال."
	later := time.Now().In(time.FixedZone("+03", 3*60*60)).Add(72 * time.Hour).Format("2006-01-02T15:04")
	b.do("fill in the campaign",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Measles vaccination"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="text_ar"]`), arabic),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="text_en"]`), "Measles vaccination on Sunday at the camp clinic. It is free."),
		chromedp.Click(chromedp.CSS(`input[name="allow_missing"]`)),
		chromedp.Click(chromedp.CSS(`input[name="when"][value="at"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name="at"]`), later))

	// preview: nothing is made, the form comes back with the counts
	if status := b.load("preview", chromedp.Click(chromedp.CSS(`button[formaction="/campaigns/preview"]`))); status != http.StatusOK {
		b.fatalf("the preview: %d", status)
	}
	if p := b.path(); p != "/campaigns/preview" {
		b.fatalf("previewed, the browser is at %s", p)
	}
	if n := b.text("section.preview dd.reached"); n != "3" {
		t.Errorf("the preview says the campaign reaches %q people, want 3", n)
	}
	if sms := b.text("#sms-ar"); !strings.HasPrefix(sms, "SMS parts: 2 · UCS-2") {
		t.Errorf("the Arabic text's SMS parts: %q, want 2 in UCS-2", sms)
	}
	if missing := b.text("section.preview p.missing"); missing != "No text in Sorani: its readers get the Arabic text." {
		t.Errorf("the first missing-language warning: %q", missing)
	}
	if n := countCampaigns(t, e); n != 0 {
		t.Fatalf("the preview stored %d campaigns", n)
	}
	if got := run(b, "read the time kept", chromedp.Evaluate[string](`document.querySelector('input[name="at"]').value`)); got != later {
		t.Errorf("the previewed form kept the time %q, want %q", got, later)
	}

	// create it
	if status := b.load("create the campaign", chromedp.Click(chromedp.CSS(`form[action="/campaigns"] button:not([formaction])`))); status != http.StatusOK {
		b.fatalf("after creating: %d", status)
	}
	m := regexp.MustCompile(`^/campaigns/(\d+)\?done=created$`).FindStringSubmatch(b.path())
	if m == nil {
		b.fatalf("created, the browser is at %s, want the campaign's page", b.path())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	if state := b.text("dd.state"); state != "Scheduled" {
		t.Errorf("the new campaign's state shows %q, want Scheduled", state)
	}
	if msg := b.text("p.ok"); msg != "The campaign has been created." {
		t.Errorf("the page says %q", msg)
	}

	// pause it
	if status := b.load("pause the campaign", chromedp.Click(chromedp.CSS(`form[action$="/pause"] button`))); status != http.StatusOK {
		b.fatalf("after pausing: %d", status)
	}
	if state := b.text("dd.state"); state != "Paused" {
		t.Errorf("after pausing, the state shows %q, want Paused", state)
	}
	if n := run(b, "look for the buttons", chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/pause"]').length`)); n != 0 {
		t.Error("a paused campaign still offers to pause it")
	}
	c, err := store.CampaignByID(context.Background(), e.pool, id)
	if err != nil || c.State != store.CampaignPaused || c.CreatedBy != "staff:noor@example.org" {
		t.Errorf("the campaign in the database: state %q, made by %q, %v", c.State, c.CreatedBy, err)
	}

	shot := run(b, "take a screenshot", chromedp.FullScreenshot(90))
	file := filepath.Join(t.TempDir(), "campaign.jpg")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the campaign page: %s (%d bytes); the whole test took %s", file, len(shot), time.Since(start).Round(time.Millisecond))
}

func countCampaigns(t *testing.T, e *consoleEnv) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM campaigns`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
