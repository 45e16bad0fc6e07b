package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

// recordingsSeed is a case with three recordings: one downloaded, one still at the phone
// provider, one confidential (linked to the case all the same, as a mistake would); and a
// case of the SEA category with a downloaded recording.
type recordingsSeed struct {
	c, sea                           caseSeed
	fetched, pending, secret, seaRec int64
}

var audio = []byte("ID3\x04\x00fake mp3 audio of a caller describing the broken water tank")

func seedRecordings(t *testing.T, e *consoleEnv) recordingsSeed {
	t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	s := recordingsSeed{c: seedCase(t, e.pool, now, caseSpec{ref: "1234567", conversation: true}),
		sea: seedCase(t, e.pool, now, caseSpec{ref: "2345678", category: cases.CategorySEA})}
	add := func(caseID int64, provider string, confidential, fetched bool) int64 {
		t.Helper()
		var id int64
		if err := e.pool.QueryRow(ctx, `
			INSERT INTO recordings (provider_id, case_id, duration_seconds, confidential, created_at)
			VALUES ($1, $2, 42, $3, $4) RETURNING id`, provider, caseID, confidential, now.Add(-time.Hour)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if fetched {
			if err := store.StoreRecordingAudio(ctx, e.pool, provider, "audio/mpeg", audio, now.Add(-50*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	if err := e.pool.QueryRow(ctx, `SELECT id FROM recordings WHERE case_id = $1`, s.c.id).Scan(&s.pending); err != nil {
		t.Fatal(err)
	}
	s.fetched = add(s.c.id, "RE-fetched", false, true)
	s.secret = add(s.c.id, "RE-secret", true, true)
	s.seaRec = add(s.sea.id, "RE-sea", false, true)
	return s
}

// The case page plays each downloaded recording from the console, and says of one still at
// the phone provider that it is not downloaded yet. The audio is served as stored, not to be
// cached, seekable; a recording not downloaded, confidential, of another case or of an SEA
// case is not found.
func TestCaseRecordings(t *testing.T) {
	e := newConsole(t)
	s := seedRecordings(t, e)
	cw := e.sessionOf(e.addUser("amal@example.org", console.RoleCaseworker, "ar", "a long enough password", false))

	a := e.do(req{method: "GET", path: fmt.Sprintf("/cases/%d", s.c.id), cookie: cw})
	src := fmt.Sprintf("/cases/%d/recordings/%d", s.c.id, s.fetched)
	// the player's source is the console's own, which its policy lets the page play; the rest
	// is checked as every page is
	if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "media-src 'self'") {
		t.Errorf("the policy does not let the page play sound from the console: %s", csp)
	}
	ownSource := a
	ownSource.body = strings.ReplaceAll(a.body, `src="/cases/`, `audio-from="/cases/`)
	checkPage(t, "case page", ownSource)
	if !strings.Contains(a.body, `<audio controls preload="none" src="`+src+`">`) {
		t.Errorf("the case page has no player for the downloaded recording:\n%s", a.body)
	}
	if n := strings.Count(a.body, "<audio"); n != 1 {
		t.Errorf("%d players, want one (the other recording is not downloaded, the third confidential)", n)
	}
	if !strings.Contains(a.body, "لم يُنزَّل بعد من مزوّد الخدمة الهاتفية") {
		t.Error("the page does not say the other recording is not downloaded yet")
	}

	a = e.do(req{method: "GET", path: src, cookie: cw})
	if a.status != http.StatusOK || a.body != string(audio) || a.header.Get("Content-Type") != "audio/mpeg" ||
		a.header.Get("Cache-Control") != "no-store" || a.header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("the recording: %d %v %q", a.status, a.header, a.body)
	}
	a = e.do(req{method: "GET", path: src, cookie: cw, header: map[string]string{"Range": "bytes=0-3"}})
	if a.status != http.StatusPartialContent || a.body != string(audio[:4]) {
		t.Errorf("the recording's first bytes: %d %q", a.status, a.body)
	}

	for name, path := range map[string]string{
		"not downloaded": fmt.Sprintf("/cases/%d/recordings/%d", s.c.id, s.pending),
		"confidential":   fmt.Sprintf("/cases/%d/recordings/%d", s.c.id, s.secret),
		"another case's": fmt.Sprintf("/cases/%d/recordings/%d", s.c.id, s.seaRec),
		"an SEA case's":  fmt.Sprintf("/cases/%d/recordings/%d", s.sea.id, s.seaRec),
		"no number":      fmt.Sprintf("/cases/%d/recordings/x", s.c.id),
		"no case":        fmt.Sprintf("/cases/999/recordings/%d", s.fetched),
	} {
		a := e.do(req{method: "GET", path: path, cookie: cw})
		if a.status != http.StatusNotFound || strings.Contains(a.body, "fake mp3") {
			t.Errorf("%s recording: %d\n%s", name, a.status, a.body)
			continue
		}
		checkPage(t, name+" recording", a)
		if name == "not downloaded" && !strings.Contains(a.body, "لم يُنزَّل هذا التسجيل بعد") {
			t.Errorf("the page does not say the recording is not downloaded yet:\n%s", a.body)
		}
	}

	// only caseworkers, as the case page
	for _, role := range []string{console.RoleAdmin, console.RoleViewer, console.RolePSEA, console.RoleCWC} {
		cookie := e.sessionOf(e.addUser(role+"@example.org", role, "en", "a long enough password", false))
		if a := e.do(req{method: "GET", path: src, cookie: cookie}); a.status != http.StatusForbidden || strings.Contains(a.body, "fake mp3") {
			t.Errorf("%s: %d", role, a.status)
		}
	}
}

// The API serves a case's recording to caseworkers' tokens as the page does, and says why
// when it does not.
func TestCaseRecordingsAPI(t *testing.T) {
	e, api, _ := newCasesAPI(t)
	mux := http.NewServeMux()
	api.Routes(mux)
	s := seedRecordings(t, e)
	get := func(token, path string) (int, http.Header, string) {
		t.Helper()
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, rec.Result().Header, string(b)
	}
	cw := tokenFor(t, e.pool, "case-bot", console.RoleCaseworker)
	path := func(c, r int64) string { return fmt.Sprintf("/api/v1/cases/%d/recordings/%d", c, r) }
	status, h, body := get(cw, path(s.c.id, s.fetched))
	if status != http.StatusOK || body != string(audio) || h.Get("Content-Type") != "audio/mpeg" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("the recording: %d %v %q", status, h, body)
	}
	for _, tc := range []struct {
		path, says string
	}{
		{path(s.c.id, s.pending), "not downloaded from the phone provider yet"},
		{path(s.c.id, s.secret), "no recording"},
		{path(s.sea.id, s.seaRec), "no recording"},
		{path(s.c.id, s.seaRec), "no recording"},
	} {
		status, _, body := get(cw, tc.path)
		var out map[string]string
		if status != http.StatusNotFound || json.Unmarshal([]byte(body), &out) != nil || !strings.Contains(out["error"], tc.says) {
			t.Errorf("%s: %d %s, want 404 saying %s", tc.path, status, body, tc.says)
		}
	}
	for _, role := range []string{console.RoleAdmin, console.RoleViewer, console.RolePSEA, console.RoleCWC} {
		if status, _, body := get(tokenFor(t, e.pool, role+"-bot", role), path(s.c.id, s.fetched)); status != http.StatusForbidden ||
			strings.Contains(body, "fake mp3") {
			t.Errorf("a %s token: %d", role, status)
		}
	}
}
