package console_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// What the SEA inbox and the audit page answer those they let in, with no form, for a report
// 1 that does not exist and a psea user who has linked no identity.
func init() {
	for k, v := range map[string]int{
		"GET /sea":                      http.StatusOK,         // the form to link an identity
		"POST /sea/identity":            http.StatusBadRequest, // not a multipart form
		"POST /sea/unlock":              http.StatusSeeOther,   // no identity linked: to the inbox
		"POST /sea/lock":                http.StatusSeeOther,
		"GET /sea/{ref}":                http.StatusSeeOther, // locked: to the inbox, to unlock
		"POST /sea/{ref}/status":        http.StatusNotFound,
		"POST /sea/{ref}/note":          http.StatusNotFound,
		"GET /sea/{ref}/recordings/{n}": http.StatusSeeOther,
		"GET /audit":                    http.StatusOK,
	} {
		roleMatrixExpect[k] = v
	}
}

const (
	seaPassphrase = "olive tree at dawn"
	// seaPlanted is what the person said, and seaNoteText what a focal point wrote: neither
	// may be anywhere but on the report's page.
	seaPlanted  = "plantedphrase heron 7f3a9c asked for favours at the food card desk"
	seaNoteText = "notetext kite 91bd02 called back on the safe number"
	seaAudio    = "ID3 confidential audio 5e81"
	seaRef      = "46152399"
)

// seaEnv is a console with a focal point (Layla, whose identity file the test holds), the
// escrow, a report with a recording, a psea user and an admin; the console's log is kept.
type seaEnv struct {
	*consoleEnv
	logs          *bytes.Buffer
	file          []byte // Layla's identity file, as sawt psea keygen writes it
	pub           string
	layla, escrow int64 // their recipient IDs
	psea, admin   store.StaffUser
	reportID      int64
}

func newSEAEnv(t *testing.T) *seaEnv {
	t.Helper()
	e := &seaEnv{consoleEnv: newConsole(t), logs: &bytes.Buffer{}}
	e.web.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	now := e.clock.Now()
	var err error
	if e.file, e.pub, err = safeguarding.NewIdentity(seaPassphrase, 10); err != nil {
		t.Fatal(err)
	}
	if e.layla, err = store.AddPSEARecipient(ctx, e.pool, store.PSEARecipient{Name: "Layla", PublicKey: e.pub, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	escrow, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if e.escrow, err = store.AddPSEARecipient(ctx, e.pool, store.PSEARecipient{Name: safeguarding.EscrowName,
		PublicKey: escrow.Recipient().String(), Escrow: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	e.psea = e.addUser("layla@example.org", console.RolePSEA, "en", "a long enough password", false)
	e.admin = e.addUser("admin@example.org", console.RoleAdmin, "en", "a long enough password", false)
	e.reportID = seedSEAReport(t, e.pool, seaRef, now)
	return e
}

// seedSEAReport stores a report as the gateway does: what the person said sealed to every
// active recipient, a recording sealed likewise, and one recording not fetched yet.
func seedSEAReport(t *testing.T, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, ref string, now time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		id, err = store.InsertSEAReport(ctx, tx, store.SEAReport{Reference: ref, Channel: "voice",
			AckDueAt: now.Add(-time.Hour), ResolveDueAt: now.Add(30 * 24 * time.Hour), CreatedAt: now.Add(-25 * time.Hour)})
		if err != nil {
			return err
		}
		sealer := safeguarding.NewSealer()
		for _, a := range []safeguarding.Answer{
			{Field: "what", Value: seaPlanted, Media: []string{"RE-sea-1"}, At: now},
			{Field: "governorate", Value: "ninewa", At: now},
			{Field: "safe_now", Value: "no", At: now},
		} {
			plain, _ := json.Marshal(a)
			ct, err := sealer.Seal(ctx, tx, plain)
			if err != nil {
				return err
			}
			if err := store.AddSEAPart(ctx, tx, id, store.SEAPartAnswer, ct, now); err != nil {
				return err
			}
		}
		if err := store.LinkConfidentialRecordings(ctx, tx, id, []string{"RE-sea-1", "RE-sea-2"}, now); err != nil {
			return err
		}
		if err := store.RecordingReady(ctx, tx, "RE-sea-1", "CA1", "", 75, true, now); err != nil {
			return err
		}
		audio, err := sealer.Seal(ctx, tx, []byte(seaAudio))
		if err != nil {
			return err
		}
		return store.StoreRecordingAudio(ctx, tx, "RE-sea-1", "audio/mpeg", audio, now)
	})
	if err != nil {
		t.Fatalf("seed an SEA report: %v", err)
	}
	return id
}

// postIdentity posts the identity form: a multipart body with the file (none when nil) and
// the passphrase.
func (e *consoleEnv) postIdentity(cookie string, file []byte, passphrase string) answer {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("passphrase", passphrase)
	if file != nil {
		fw, _ := mw.CreateFormFile("identity", "focal-point.age")
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	hr := httptest.NewRequest("POST", "http://console.example/sea/identity", &body)
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	hr.RemoteAddr = "192.0.2.1:40000"
	hr.AddCookie(&http.Cookie{Name: console.CookieName, Value: cookie})
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	b, _ := io.ReadAll(rec.Result().Body)
	return answer{status: rec.Code, header: rec.Result().Header, body: string(b)}
}

// unlock posts the unlock form.
func (e *seaEnv) unlock(cookie, passphrase, next string) answer {
	e.t.Helper()
	form := url.Values{"passphrase": {passphrase}}
	if next != "" {
		form.Set("next", next)
	}
	return e.do(req{method: "POST", path: "/sea/unlock", cookie: cookie, form: form})
}

// link links Layla's identity to the psea user through the store, as the form does.
func (e *seaEnv) link() {
	e.t.Helper()
	if err := store.LinkPSEAIdentity(context.Background(), e.pool, e.psea.ID, e.layla, e.file, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// auditLines are the audit log's entries, oldest first, as "actor action subject detail".
func auditLines(t *testing.T, db store.DB) []string {
	t.Helper()
	entries, err := store.AuditEntries(context.Background(), db, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		var fields []string
		for _, f := range []string{e.Actor, e.Action, e.Subject, e.Detail} {
			if f != "" {
				fields = append(fields, f)
			}
		}
		lines = append(lines, strings.Join(fields, " "))
	}
	return lines
}

func wantAudit(t *testing.T, db store.DB, want ...string) {
	t.Helper()
	if got := auditLines(t, db); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := store.VerifyAudit(context.Background(), db); err != nil {
		t.Errorf("the audit chain: %v", err)
	}
}

// withWorkFactor is the identity file, armored as keygen writes it, made binary with its
// scrypt work factor changed to wf: what a crafted file asking for more work looks like.
func withWorkFactor(t *testing.T, file []byte, wf int) []byte {
	t.Helper()
	bin, err := io.ReadAll(armor.NewReader(bytes.NewReader(file)))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(-> scrypt \S+) 10\n`)
	if !re.Match(bin) {
		t.Fatalf("no scrypt stanza in %q", bin)
	}
	return re.ReplaceAll(bin, []byte(fmt.Sprintf("${1} %d\n", wf)))
}

// A psea user links their identity file: the form refuses a wrong passphrase, a file without
// one, another kind of age file, one asking for too much work, a key that is no focal
// point's and the escrow's, each saying why and keeping nothing; the right file is kept as
// it is, and unlocked at once. Every attempt is in the audit log, the passphrase nowhere.
func TestSEALinkIdentity(t *testing.T) {
	e := newSEAEnv(t)
	ctx := context.Background()
	cookie := e.sessionOf(e.psea)

	a := e.do(req{method: "GET", path: "/sea", cookie: cookie})
	checkPage(t, "GET /sea, not linked", a)
	if a.status != http.StatusOK || !strings.Contains(a.body, `action="/sea/identity" enctype="multipart/form-data"`) ||
		!strings.Contains(a.body, `type="file" name="identity"`) || strings.Contains(a.body, seaRef) {
		t.Fatalf("the inbox of a user with no identity: %d, want the form to link one and no reports\n%s", a.status, a.body)
	}
	home := e.do(req{method: "GET", path: "/", cookie: cookie})
	if !strings.Contains(home.body, `<a href="/sea">Reports of sexual exploitation and abuse</a>`) {
		t.Errorf("the start page has no link to the inbox:\n%s", home.body)
	}

	stranger, _, err := safeguarding.NewIdentity("a stranger's passphrase", 10)
	if err != nil {
		t.Fatal(err)
	}
	escrowFile, escrowKey, err := safeguarding.NewIdentity("escrow passphrase", 10)
	if err != nil {
		t.Fatal(err)
	}
	// the escrow, as registered: a protected file of its key (the generated one is plain)
	if _, err := e.pool.Exec(ctx, `UPDATE psea_recipients SET public_key = $1 WHERE id = $2`, escrowKey, e.escrow); err != nil {
		t.Fatal(err)
	}
	sealedToKey, err := safeguarding.Seal([]byte("AGE-SECRET-KEY-1..."), []string{e.pub})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := age.GenerateX25519Identity()
	for _, tc := range []struct {
		name       string
		file       []byte
		passphrase string
		says       string
	}{
		{"no file", nil, seaPassphrase, "Please choose your identity file."},
		{"wrong passphrase", e.file, "olive tree at dusk", "Wrong passphrase."},
		{"a short passphrase", e.file, "olive tree", "a passphrase of at least 12 characters"},
		{"a plain identity", []byte(plain.String() + "\n"), "", "not protected by a passphrase"},
		{"encrypted to a key", sealedToKey, seaPassphrase, "This is not an identity file"},
		{"too much work", withWorkFactor(t, e.file, 19), seaPassphrase, "asks for more work than the console allows"},
		{"a stranger's key", stranger, "a stranger's passphrase", "This key is not registered for a focal point."},
		{"the escrow's key", escrowFile, "escrow passphrase", "This is the escrow key."},
	} {
		a := e.postIdentity(cookie, tc.file, tc.passphrase)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, tc.says) {
			t.Errorf("%s: %d, want 400 saying %q\n%s", tc.name, a.status, tc.says, a.body)
		}
	}
	if _, err := store.PSEAIdentityOf(ctx, e.pool, e.psea.ID); err == nil {
		t.Fatal("a refused file was kept")
	}

	a = e.postIdentity(cookie, e.file, seaPassphrase)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/sea?done=linked" {
		t.Fatalf("link: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	ident, err := store.PSEAIdentityOf(ctx, e.pool, e.psea.ID)
	if err != nil || !bytes.Equal(ident.File, e.file) || ident.RecipientID != e.layla {
		t.Fatalf("kept: %+v %v, want Layla's file as it was", ident, err)
	}
	a = e.do(req{method: "GET", path: "/sea?done=linked", cookie: cookie})
	checkPage(t, "GET /sea, linked", a)
	for _, want := range []string{"Your identity file is linked, and your key is unlocked for this session.", `action="/sea/lock"`,
		`<a href="/sea/` + seaRef + `"><bdi dir="ltr">4615 2399</bdi></a>`, "Overdue", `class="overdue"`, "<bdi>Layla</bdi>"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the inbox after linking has no %q\n%s", want, a.body)
		}
	}
	if a := e.do(req{method: "GET", path: "/sea/" + seaRef, cookie: cookie}); a.status != http.StatusOK || !strings.Contains(a.body, seaPlanted) {
		t.Errorf("the report right after linking: %d", a.status)
	}

	wantAudit(t, e.pool,
		"layla@example.org psea.identity_refused wrong passphrase",
		"layla@example.org psea.identity_refused not a registered focal point's key",
		"layla@example.org psea.identity_refused the escrow key",
		"layla@example.org psea.identity_linked Layla",
		"layla@example.org psea.unlock Layla",
		"layla@example.org psea.list 1 reports",
		"layla@example.org psea.show "+seaRef,
	)
	for _, line := range auditLines(t, e.pool) {
		if strings.Contains(line, "olive") || strings.Contains(line, "passphrase'") {
			t.Errorf("the audit log holds a passphrase: %q", line)
		}
	}
	if strings.Contains(e.logs.String(), "olive") || strings.Contains(e.logs.String(), "escrow passphrase") {
		t.Errorf("the log holds a passphrase:\n%s", e.logs.String())
	}
}

// A linked user unlocks their key for the session, reads a report, plays its recording, adds
// a note and moves it on; each is in the audit log, without content. The key is for that
// session only: another session, the lock, and time without use of the SEA pages end it.
func TestSEAReadReport(t *testing.T) {
	e := newSEAEnv(t)
	ctx := context.Background()
	e.link()
	cookie := e.sessionOf(e.psea)
	page := "/sea/" + seaRef

	// locked: to the inbox, which says so and comes back to the report
	a := e.do(req{method: "GET", path: page, cookie: cookie})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/sea?next=%2Fsea%2F"+seaRef {
		t.Fatalf("the report, locked: %d to %q", a.status, a.header.Get("Location"))
	}
	a = e.do(req{method: "GET", path: a.header.Get("Location"), cookie: cookie})
	if !strings.Contains(a.body, "Unlock your key to open the report.") || !strings.Contains(a.body, `name="next" value="/sea/`+seaRef+`"`) ||
		strings.Contains(a.body, seaPlanted) {
		t.Fatalf("the inbox with next:\n%s", a.body)
	}
	if a := e.do(req{method: "GET", path: page + "/recordings/1", cookie: cookie}); a.status != http.StatusSeeOther {
		t.Errorf("a recording, locked: %d, want 303", a.status)
	}
	if a := e.unlock(cookie, "not the passphrase", page); a.status != http.StatusBadRequest || !strings.Contains(a.body, "Wrong passphrase.") {
		t.Errorf("a wrong passphrase: %d\n%s", a.status, a.body)
	}
	// next goes only to the inbox's own pages
	if a := e.unlock(cookie, seaPassphrase, "//evil.example/sea/"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/sea?done=unlocked" {
		t.Errorf("unlock with a foreign next: %d to %q", a.status, a.header.Get("Location"))
	}
	a = e.unlock(cookie, seaPassphrase, page)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != page {
		t.Fatalf("unlock: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}

	a = e.do(req{method: "GET", path: page, cookie: cookie})
	if a.status != http.StatusOK {
		t.Fatalf("the report: %d\n%s", a.status, a.body)
	}
	for _, want := range []string{seaPlanted, "<dt>What happened</dt>", "<dt>Governorate</dt><dd><p class=\"text\" dir=\"auto\">Ninewa</p>",
		"<dt>Safe now</dt><dd><p class=\"text\" dir=\"auto\">No</p>", "With a recording",
		`<audio controls preload="none" src="/sea/` + seaRef + `/recordings/1"></audio>`, "1:15",
		"Not fetched from the phone provider yet.", `<option value="acknowledged">Acknowledged</option>`,
		`action="/sea/` + seaRef + `/note"`, "Overdue"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the report's page has no %q\n%s", want, a.body)
		}
	}
	if csp := a.header.Get("Content-Security-Policy"); csp != console.ContentSecurityPolicy() || !strings.Contains(csp, "media-src 'self'") {
		t.Errorf("the report's page's policy %q: want the console's with media from itself", csp)
	}
	if a.header.Get("Cache-Control") != "no-store" || len(a.body) > 100<<10 {
		t.Errorf("the report's page: Cache-Control %q, %d bytes", a.header.Get("Cache-Control"), len(a.body))
	}

	// the recording, decrypted, not cached, one play each time
	a = e.do(req{method: "GET", path: page + "/recordings/1", cookie: cookie})
	if a.status != http.StatusOK || a.body != seaAudio || a.header.Get("Content-Type") != "audio/mpeg" ||
		a.header.Get("Cache-Control") != "no-store" || a.header.Get("Accept-Ranges") != "none" {
		t.Errorf("recording 1: %d %q %v", a.status, a.body, a.header)
	}
	for _, n := range []string{"2", "3", "0", "x"} {
		if a := e.do(req{method: "GET", path: page + "/recordings/" + n, cookie: cookie}); a.status != http.StatusNotFound {
			t.Errorf("recording %s: %d, want 404", n, a.status)
		}
	}

	// a note, sealed; an empty one refused with the page again
	a = e.do(req{method: "POST", path: page + "/note", cookie: cookie, form: url.Values{"note": {seaNoteText}}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != page+"?done=note" {
		t.Fatalf("note: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	a = e.do(req{method: "POST", path: page + "/note", cookie: cookie, form: url.Values{"note": {"  "}}})
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "The text is empty") || !strings.Contains(a.body, seaNoteText) {
		t.Errorf("an empty note: %d, want 400 and the page with the notes\n%s", a.status, a.body)
	}
	// status: a move not allowed, an unknown one, then acknowledged with a note
	a = e.do(req{method: "POST", path: page + "/status", cookie: cookie, form: url.Values{"status": {"closed"}, "status_note": {"kept draft"}}})
	if a.status != http.StatusConflict || !strings.Contains(a.body, "This report is “New”: it cannot move to that status.") ||
		!strings.Contains(a.body, "kept draft</textarea>") {
		t.Errorf("new → closed: %d\n%s", a.status, a.body)
	}
	if a := e.do(req{method: "POST", path: page + "/status", cookie: cookie, form: url.Values{"status": {"done"}}}); a.status != http.StatusBadRequest {
		t.Errorf("an unknown status: %d", a.status)
	}
	a = e.do(req{method: "POST", path: page + "/status", cookie: cookie, form: url.Values{"status": {"acknowledged"}, "status_note": {"second note"}}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != page+"?done=status" {
		t.Fatalf("acknowledge: %d %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	rep, err := store.SEAReportByID(ctx, e.pool, e.reportID)
	if err != nil || rep.Status != "acknowledged" || rep.AcknowledgedAt == nil {
		t.Errorf("the report after acknowledging: %+v %v", rep, err)
	}
	a = e.do(req{method: "GET", path: page + "?done=status", cookie: cookie})
	for _, want := range []string{"The status has been changed.", seaNoteText, "second note", "<bdi>layla@example.org</bdi>",
		"<dt>Acknowledged</dt>", `<option value="in_progress">In progress</option>`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the report after the moves has no %q\n%s", want, a.body)
		}
	}
	for path, want := range map[string]int{"/sea/12345671": http.StatusNotFound, "/sea/12345675": http.StatusNotFound, "/sea/abc": http.StatusNotFound} {
		if a := e.do(req{method: "GET", path: path, cookie: cookie}); a.status != want || !strings.Contains(a.body, "There is no report with this reference.") {
			t.Errorf("GET %s: %d, want %d", path, a.status, want)
		}
	}

	// another session of the same user has nothing unlocked
	other := e.sessionOf(e.psea)
	if a := e.do(req{method: "GET", path: page, cookie: other}); a.status != http.StatusSeeOther {
		t.Errorf("the report in another session: %d, want 303 to unlock", a.status)
	}
	// the lock forgets the key
	if a := e.do(req{method: "POST", path: "/sea/lock", cookie: cookie, form: url.Values{}}); a.status != http.StatusSeeOther ||
		a.header.Get("Location") != "/sea?done=locked" {
		t.Errorf("lock: %d %q", a.status, a.header.Get("Location"))
	}
	if a := e.do(req{method: "GET", path: page, cookie: cookie}); a.status != http.StatusSeeOther {
		t.Errorf("the report after the lock: %d, want 303", a.status)
	}
	// unused for the idle time, the key is gone, though the session lives on other pages
	e.unlock(cookie, seaPassphrase, "")
	e.clock.Add(20 * time.Minute)
	if a := e.do(req{method: "GET", path: "/account", cookie: cookie}); a.status != http.StatusOK {
		t.Fatalf("the account page: %d", a.status)
	}
	e.clock.Add(11 * time.Minute)
	if a := e.do(req{method: "GET", path: page, cookie: cookie}); a.status != http.StatusSeeOther {
		t.Errorf("the report after 31 minutes without the SEA pages: %d, want 303", a.status)
	}
	// signing out ends it too: that session is no more, and a new sign-in has nothing
	e.unlock(cookie, seaPassphrase, "")
	if n := e.web.UnlockedKeys(); n != 1 {
		t.Fatalf("%d keys unlocked, want 1", n)
	}
	e.do(req{method: "POST", path: "/logout", cookie: cookie, form: url.Values{}})
	if n := e.web.UnlockedKeys(); n != 0 {
		t.Errorf("signed out, %d keys stay in memory", n)
	}
	fresh := e.signedIn(e.login("layla@example.org", "a long enough password"), "/")
	if a := e.do(req{method: "GET", path: page, cookie: fresh}); a.status != http.StatusSeeOther {
		t.Errorf("the report after signing out and in again: %d, want 303", a.status)
	}

	wantAudit(t, e.pool,
		"layla@example.org psea.list 1 reports", // the inbox with next
		"layla@example.org psea.unlock_failed wrong passphrase",
		"layla@example.org psea.list 1 reports", // the inbox saying the passphrase is wrong
		"layla@example.org psea.unlock Layla",
		"layla@example.org psea.unlock Layla",
		"layla@example.org psea.show "+seaRef,
		"layla@example.org psea.recording "+seaRef+" recording 1",
		"layla@example.org psea.note "+seaRef,
		"layla@example.org psea.show "+seaRef, // the page again, refusing the empty note
		"layla@example.org psea.show "+seaRef, // refusing new → closed
		"layla@example.org psea.show "+seaRef, // refusing a status that is none
		"layla@example.org psea.status "+seaRef+" new → acknowledged",
		"layla@example.org psea.show "+seaRef,
		"layla@example.org psea.lock",
		"layla@example.org psea.unlock Layla",
		"layla@example.org psea.unlock Layla",
	)

	// the notes are sealed like the report: Layla's identity reads them, as sawt psea show does
	id, err := safeguarding.OpenIdentity(e.file, func() (string, error) { return seaPassphrase, nil })
	if err != nil {
		t.Fatal(err)
	}
	parts, _, err := safeguarding.OpenReport(ctx, e.pool, rep, id, false)
	if err != nil || len(parts) != 5 || parts[3].Note.Note != seaNoteText || parts[3].Note.By != "layla@example.org" ||
		parts[4].Note.Note != "second note" {
		t.Errorf("the report's parts: %+v %v", parts, err)
	}
}

// What a report says and what a focal point writes on it are on the report's page and
// nowhere else: not in the audit log, the console's log, any table of the database, the
// inbox's list, or the administrators' audit page, which shows the events.
func TestSEAConfidentiality(t *testing.T) {
	e := newSEAEnv(t)
	cookie := e.sessionOf(e.psea)
	page := "/sea/" + seaRef
	if a := e.postIdentity(cookie, e.file, seaPassphrase); a.status != http.StatusSeeOther {
		t.Fatalf("link: %d\n%s", a.status, a.body)
	}
	e.do(req{method: "POST", path: page + "/note", cookie: cookie, form: url.Values{"note": {seaNoteText}}})
	e.do(req{method: "POST", path: page + "/status", cookie: cookie, form: url.Values{"status": {"acknowledged"}, "status_note": {seaNoteText + " again"}}})
	shown := e.do(req{method: "GET", path: page, cookie: cookie})
	if !strings.Contains(shown.body, seaPlanted) || !strings.Contains(shown.body, seaNoteText+" again") {
		t.Fatalf("the report's page does not show what it says:\n%s", shown.body)
	}
	if a := e.do(req{method: "GET", path: page + "/recordings/1", cookie: cookie}); a.body != seaAudio {
		t.Fatalf("the recording: %q", a.body)
	}
	list := e.do(req{method: "GET", path: "/sea", cookie: cookie})
	adminCookie := e.sessionOf(e.admin)
	auditPage := e.do(req{method: "GET", path: "/audit", cookie: adminCookie})
	checkPage(t, "GET /audit", auditPage)
	for _, want := range []string{"psea.identity_linked", "psea.show", "psea.recording", "psea.note", "psea.status",
		"new → acknowledged", "<bdi>layla@example.org</bdi>", "entries. The chain is intact"} {
		if !strings.Contains(auditPage.body, want) {
			t.Errorf("the audit page has no %q\n%s", want, auditPage.body)
		}
	}

	var dump strings.Builder
	for _, table := range tableNames(t, e.pool) {
		var text string
		if err := e.pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM `+table+` t`).Scan(&text); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		dump.WriteString(table + "\n" + text + "\n")
	}
	places := map[string]string{
		"the audit log":          strings.Join(auditLines(t, e.pool), "\n"),
		"the console's log":      e.logs.String(),
		"the database":           dump.String(),
		"the inbox's list":       list.body,
		"the admin's audit page": auditPage.body,
	}
	for where, text := range places {
		for what, secret := range map[string]string{"what the person said": seaPlanted, "the note": seaNoteText,
			"the recording": seaAudio, "the passphrase": seaPassphrase} {
			for _, form := range []string{secret, strings.Fields(secret)[0] + " " + strings.Fields(secret)[1], hex.EncodeToString([]byte(secret))} {
				if strings.Contains(text, form) {
					t.Errorf("%s is in %s", what, where)
					break
				}
			}
		}
	}
	if !strings.Contains(e.logs.String(), "SEA report note") {
		t.Errorf("the console's log does not record the work done (without content):\n%s", e.logs.String())
	}
}

// tableNames are the database's tables, quoted.
func tableNames(t *testing.T, db store.DB) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Wrong passphrases are counted per user: after MaxUnlockFailures within the window, even
// the right one is refused until the oldest is ThrottleWindow old; a success forgets them.
func TestSEAUnlockThrottled(t *testing.T) {
	e := newSEAEnv(t)
	e.link()
	cookie := e.sessionOf(e.psea)
	for i := range console.MaxUnlockFailures {
		if a := e.unlock(cookie, fmt.Sprintf("guess %d", i), ""); a.status != http.StatusBadRequest {
			t.Fatalf("guess %d: %d, want 400", i, a.status)
		}
		e.clock.Add(time.Minute)
	}
	a := e.unlock(cookie, seaPassphrase, "")
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "600" ||
		!strings.Contains(a.body, "Too many wrong passphrases. Try again in 10 minutes.") {
		t.Fatalf("after %d wrong passphrases, the right one: %d, Retry-After %q\n%s", console.MaxUnlockFailures, a.status, a.header.Get("Retry-After"), a.body)
	}
	// another session of the same user is throttled too; the form to link another file also
	if a := e.unlock(e.sessionOf(e.psea), seaPassphrase, ""); a.status != http.StatusTooManyRequests {
		t.Errorf("another session: %d, want 429", a.status)
	}
	if a := e.postIdentity(cookie, e.file, seaPassphrase); a.status != http.StatusTooManyRequests {
		t.Errorf("linking while throttled: %d, want 429", a.status)
	}
	// the sign-in of that user is not affected
	e.signedIn(e.login("layla@example.org", "a long enough password"), "/")
	e.clock.Add(10 * time.Minute)
	cookie = e.sessionOf(e.psea)
	if a := e.unlock(cookie, seaPassphrase, ""); a.status != http.StatusSeeOther {
		t.Fatalf("after the window: %d\n%s", a.status, a.body)
	}
	for range console.MaxUnlockFailures - 1 {
		e.unlock(cookie, "guess", "")
	}
	if a := e.unlock(cookie, seaPassphrase, ""); a.status != http.StatusSeeOther {
		t.Errorf("the success forgot the failures before, so 4 more are allowed: %d", a.status)
	}
}

// Opening identity files takes a turn; with none free, an unlock waits, then is told the
// server is busy.
func TestSEAUnlockBusy(t *testing.T) {
	e := newSEAEnv(t)
	e.link()
	cookie := e.sessionOf(e.psea)
	console.HoldUnlockTurns(t, e.web, 50*time.Millisecond)
	a := e.unlock(cookie, seaPassphrase, "")
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "The server is busy opening other keys.") {
		t.Errorf("no turn free: %d\n%s", a.status, a.body)
	}
	if lines := auditLines(t, e.pool); strings.Contains(strings.Join(lines, "\n"), "unlock") {
		t.Errorf("a busy refusal was audited as an unlock: %v", lines)
	}
}

// Administrators cannot open a report, a recording, or any SEA form, even with a session in
// which a focal point's key was unlocked in another; they see on the audit page that the
// report was looked at, not what it says, and whether the chain is intact.
func TestSEAAdminRefused(t *testing.T) {
	e := newSEAEnv(t)
	e.link()
	focal := e.sessionOf(e.psea)
	e.unlock(focal, seaPassphrase, "")
	e.do(req{method: "GET", path: "/sea/" + seaRef, cookie: focal})
	admin := e.sessionOf(e.admin)
	for _, r := range []req{
		{method: "GET", path: "/sea"}, {method: "GET", path: "/sea/" + seaRef}, {method: "GET", path: "/sea/" + seaRef + "/recordings/1"},
		{method: "POST", path: "/sea/unlock", form: url.Values{"passphrase": {seaPassphrase}}},
		{method: "POST", path: "/sea/lock", form: url.Values{}},
		{method: "POST", path: "/sea/" + seaRef + "/status", form: url.Values{"status": {"acknowledged"}}},
		{method: "POST", path: "/sea/" + seaRef + "/note", form: url.Values{"note": {"x"}}},
	} {
		r.cookie = admin
		a := e.do(r)
		if a.status != http.StatusForbidden || strings.Contains(a.body, seaPlanted) || strings.Contains(a.body, seaAudio) {
			t.Errorf("%s %s as admin: %d, want 403 without content", r.method, r.path, a.status)
		}
	}
	if a := e.postIdentity(admin, e.file, seaPassphrase); a.status != http.StatusForbidden {
		t.Errorf("the identity form as admin: %d, want 403", a.status)
	}
	if rep, _ := store.SEAReportByID(context.Background(), e.pool, e.reportID); rep.Status != "new" {
		t.Errorf("an admin moved the report to %s", rep.Status)
	}
	home := e.do(req{method: "GET", path: "/", cookie: admin})
	if strings.Contains(home.body, `href="/sea"`) || !strings.Contains(home.body, `<a href="/audit">Audit log</a>`) {
		t.Errorf("the admin's start page: want a link to the audit log and none to the inbox\n%s", home.body)
	}
	a := e.do(req{method: "GET", path: "/audit", cookie: admin})
	if !strings.Contains(a.body, "<td><bdi dir=\"ltr\">psea.show</bdi></td><td><bdi>"+seaRef+"</bdi></td>") ||
		!strings.Contains(a.body, "2 entries. The chain is intact") || strings.Contains(a.body, seaPlanted) {
		t.Errorf("the audit page:\n%s", a.body)
	}
	if a := e.do(req{method: "GET", path: "/audit", cookie: focal}); a.status != http.StatusForbidden {
		t.Errorf("the audit page as psea: %d, want 403", a.status)
	}
}

// The audit page goes back a page at a time, newest first, and shows where the chain breaks
// when an entry was changed behind the database's back.
func TestAuditPage(t *testing.T) {
	e := newConsole(t)
	ctx := context.Background()
	admin := e.sessionOf(e.addUser("admin@example.org", console.RoleAdmin, "ar", "a long enough password", false))
	a := e.do(req{method: "GET", path: "/audit", cookie: admin})
	checkPage(t, "GET /audit, empty", a)
	if a.status != http.StatusOK || !strings.Contains(a.body, "سجل التدقيق فارغ.") || !strings.Contains(a.body, `dir="rtl"`) {
		t.Fatalf("an empty audit log, in Arabic: %d\n%s", a.status, a.body)
	}
	for i := range 130 {
		if err := store.AppendAudit(ctx, e.pool, store.AuditEntry{At: e.clock.Now(), Actor: "someone", Action: "psea.show",
			Subject: fmt.Sprintf("subject-%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	a = e.do(req{method: "GET", path: "/audit", cookie: admin})
	checkPage(t, "GET /audit", a)
	first, last := strings.Index(a.body, "subject-129"), strings.Index(a.body, "subject-030")
	if first < 0 || last < first || strings.Contains(a.body, "subject-029") || !strings.Contains(a.body, "عدد الإدخالات: 130.") {
		t.Fatalf("the first page: want entries 129 down to 30, and the chain of 130 intact\n%.3000s", a.body)
	}
	older := regexp.MustCompile(`<a href="(/audit\?before=\d+)">إدخالات أقدم</a>`).FindStringSubmatch(a.body)
	if older == nil {
		t.Fatalf("no link to older entries")
	}
	a = e.do(req{method: "GET", path: older[1], cookie: admin})
	if !strings.Contains(a.body, "subject-029") || !strings.Contains(a.body, "subject-000") || strings.Contains(a.body, "subject-030") ||
		strings.Contains(a.body, "إدخالات أقدم") || !strings.Contains(a.body, `<a href="/audit">أحدث الإدخالات</a>`) {
		t.Errorf("the older page:\n%.3000s", a.body)
	}
	if a := e.do(req{method: "GET", path: "/audit?before=x", cookie: admin}); a.status != http.StatusBadRequest {
		t.Errorf("?before=x: %d", a.status)
	}

	// changed behind the database's back: the table's owner can switch the guard off
	if _, err := e.pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := e.pool.QueryRow(ctx, `UPDATE audit_log SET detail = 'rewritten' WHERE subject = 'subject-050' RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	a = e.do(req{method: "GET", path: "/audit", cookie: admin})
	if !strings.Contains(a.body, fmt.Sprintf(`<p class="error" role="alert">تم تغيير الإدخال رقم %d بعد كتابته.`, id)) {
		t.Errorf("the audit page does not say entry %d was changed:\n%.1500s", id, a.body)
	}
}

// The inbox in Sorani: right to left, its words, the reference kept left to right.
func TestSEAInboxInSorani(t *testing.T) {
	e := newSEAEnv(t)
	e.link()
	if _, err := e.pool.Exec(context.Background(), `UPDATE staff_users SET language = 'ckb' WHERE id = $1`, e.psea.ID); err != nil {
		t.Fatal(err)
	}
	cookie := e.sessionOf(e.psea)
	a := e.do(req{method: "GET", path: "/sea", cookie: cookie})
	checkPage(t, "GET /sea in Sorani", a)
	for _, want := range []string{`<html lang="ckb" dir="rtl">`, "سکاڵاکانی چەوساندنەوە و دەستدرێژیی سێکسی", "کلیلەکەت بکەرەوە",
		`<bdi dir="ltr">4615 2399</bdi>`, "دواکەوتوو", "نوێ"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the Sorani inbox has no %q\n%s", want, a.body)
		}
	}
	e.unlock(cookie, seaPassphrase, "")
	a = e.do(req{method: "GET", path: "/sea/" + seaRef, cookie: cookie})
	for _, want := range []string{"چی ڕوویدا", "نەینەوا", seaPlanted} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the Sorani report has no %q", want)
		}
	}
}
