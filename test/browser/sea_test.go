package browser

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// silentWAV is half a second of silence as a WAV file: audio a browser can really load.
func silentWAV() []byte {
	const rate, samples = 8000, 4000
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + samples*2))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(samples * 2))
	b.Write(make([]byte, samples*2))
	return b.Bytes()
}

// seedSEA registers a focal point (whose identity file it returns, protected by passphrase)
// and the escrow, and stores a report saying planted, with a recording, as the gateway does.
func (e *consoleEnv) seedSEA(ref, passphrase, planted string) []byte {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now()
	file, pub, err := safeguarding.NewIdentity(passphrase, 10)
	if err != nil {
		e.t.Fatal(err)
	}
	escrow, err := age.GenerateX25519Identity()
	if err != nil {
		e.t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		for _, r := range []store.PSEARecipient{{Name: "Layla", PublicKey: pub, CreatedAt: now},
			{Name: safeguarding.EscrowName, PublicKey: escrow.Recipient().String(), Escrow: true, CreatedAt: now}} {
			if _, err := store.AddPSEARecipient(ctx, tx, r); err != nil {
				return err
			}
		}
		id, err := store.InsertSEAReport(ctx, tx, store.SEAReport{Reference: ref, Channel: "telegram",
			AckDueAt: now.Add(time.Hour), ResolveDueAt: now.Add(30 * 24 * time.Hour), CreatedAt: now.Add(-time.Hour)})
		if err != nil {
			return err
		}
		sealer := safeguarding.NewSealer()
		plain, _ := json.Marshal(safeguarding.Answer{Field: "what", Value: planted, Media: []string{"RE-browser"}, At: now})
		ct, err := sealer.Seal(ctx, tx, plain)
		if err != nil {
			return err
		}
		if err := store.AddSEAPart(ctx, tx, id, store.SEAPartAnswer, ct, now); err != nil {
			return err
		}
		if err := store.LinkConfidentialRecordings(ctx, tx, id, []string{"RE-browser"}, now); err != nil {
			return err
		}
		audio, err := sealer.Seal(ctx, tx, silentWAV())
		if err != nil {
			return err
		}
		return store.StoreRecordingAudio(ctx, tx, "RE-browser", "audio/wav", audio, now)
	})
	if err != nil {
		e.t.Fatalf("seed an SEA report: %v", err)
	}
	return file
}

// An administrator is refused the SEA inbox. A PSEA focal point signs in, links their
// identity file through the form, locks their key and unlocks it with the passphrase, opens
// the report from the list and reads what the person said, and the browser can load its
// recording. The admin sees on the audit page that the report was read, and not what it says.
func TestFocalPointReadsAReportAnAdminCannotOpen(t *testing.T) {
	path := needBrowser(t)
	e := startConsole(t)
	const ref, passphrase = "46152399", "olive tree at dawn"
	planted := "plantedphrase-b7c41e the officer asked me for favours"
	file := e.seedSEA(ref, passphrase, planted)
	identity := filepath.Join(t.TempDir(), "layla.age")
	if err := os.WriteFile(identity, file, 0o600); err != nil {
		t.Fatal(err)
	}
	e.addUser("admin@example.org", console.RoleAdmin, "en")
	e.addUser("layla@example.org", console.RolePSEA, "en")
	b := newBrowser(t, path, e.url)

	// the administrator: refused, the inbox and the report
	signIn(b, "admin@example.org")
	for _, p := range []string{"/sea", "/sea/" + ref} {
		if status := b.open(p); status != http.StatusForbidden {
			b.fatalf("an admin opening %s: %d, want 403", p, status)
		}
		if h1 := b.text("main h1"); h1 != "Not allowed" {
			t.Errorf("%s as admin: the heading is %q, want Not allowed", p, h1)
		}
		if body := run(b, "read the page", chromedp.Evaluate[string](`document.body.innerText`)); strings.Contains(body, planted) || strings.Contains(body, ref) {
			t.Errorf("the 403 page of %s shows the report", p)
		}
	}
	b.open("/")
	if status := b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`))); status != http.StatusOK {
		b.fatalf("signing out: %d", status)
	}

	// the focal point: link the identity file, which unlocks it
	signIn(b, "layla@example.org")
	if status := b.load("open the inbox", chromedp.Click(chromedp.CSS(`ul.nav a[href="/sea"]`))); status != http.StatusOK {
		b.fatalf("the inbox: %d", status)
	}
	b.do("choose the identity file and type the passphrase",
		chromedp.SetUploadFiles(chromedp.CSS(`form[action="/sea/identity"] input[name="identity"]`), []string{identity}),
		chromedp.SendKeys(chromedp.CSS(`form[action="/sea/identity"] input[name="passphrase"]`), passphrase))
	if status := b.load("link the identity", chromedp.Click(chromedp.CSS(`form[action="/sea/identity"] button[type="submit"]`))); status != http.StatusOK {
		b.fatalf("after linking: %d", status)
	}
	if msg := b.text("p.ok"); !strings.Contains(msg, "Your identity file is linked") {
		b.fatalf("after linking the page says %q", msg)
	}
	// lock, then unlock with the passphrase alone
	if status := b.load("lock", chromedp.Click(chromedp.CSS(`form[action="/sea/lock"] button`))); status != http.StatusOK {
		b.fatalf("after locking: %d", status)
	}
	b.do("type the passphrase", chromedp.SendKeys(chromedp.CSS(`form[action="/sea/unlock"] input[name="passphrase"]`), passphrase))
	if status := b.load("unlock", chromedp.Click(chromedp.CSS(`form[action="/sea/unlock"] button`))); status != http.StatusOK {
		b.fatalf("after unlocking: %d", status)
	}
	if p := b.path(); p != "/sea?done=unlocked" {
		b.fatalf("after unlocking the browser is at %s", p)
	}

	// the report, from its reference in the list
	link := `table.sea-list a[href="/sea/` + ref + `"]`
	if got := b.text(link); got != "4615 2399" {
		t.Errorf("the list's link says %q, want 4615 2399", got)
	}
	if status := b.load("open the report", chromedp.Click(chromedp.CSS(link))); status != http.StatusOK {
		b.fatalf("the report: %d", status)
	}
	if said := b.text("dl.sea-answers dd p.text"); said != planted {
		b.fatalf("the report says %q, want %q", said, planted)
	}
	// the recording loads: the page's policy lets it, and the console serves it decrypted
	state := run(b, "load the recording", chromedp.Evaluate[map[string]any](`(async () => {
		const a = document.querySelector('ul.sea-recordings audio');
		a.preload = 'auto'; a.load();
		for (let i = 0; i < 100 && a.readyState < 1 && !a.error; i++) await new Promise(r => setTimeout(r, 100));
		return {ready: a.readyState, error: a.error ? a.error.code : 0, duration: a.duration};
	})()`, chromedp.EvalAwaitPromise))
	if state["error"] != 0.0 || state["ready"].(float64) < 1 || state["duration"] != 0.5 {
		t.Errorf("the recording in the browser: %v, want it loaded, half a second long", state)
	}
	b.open("/")
	b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))

	// the administrator sees the events on the audit page, not the content
	signIn(b, "admin@example.org")
	if status := b.load("open the audit log", chromedp.Click(chromedp.CSS(`ul.nav a[href="/audit"]`))); status != http.StatusOK {
		b.fatalf("the audit page: %d", status)
	}
	body := run(b, "read the audit page", chromedp.Evaluate[string](`document.body.innerText`))
	for _, want := range []string{"psea.identity_linked", "psea.unlock", "psea.show", "psea.recording", "layla@example.org", ref, "The chain is intact"} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit page has no %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, planted) || strings.Contains(body, passphrase) {
		t.Error("the audit page shows what the report says, or the passphrase")
	}
}
