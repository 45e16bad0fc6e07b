package locales

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// promptTexts is a small catalog of its own, so that the expectations do not move when the
// shipped texts do: two recordable prompts (menu.welcome missing in Sorani), a text with a
// reference, a plural text, and keys that are no voice prompts.
func promptTexts(t *testing.T) *Catalog {
	t.Helper()
	files := fstest.MapFS{
		"en.yaml": {Data: []byte(`
menu.ask: How can we help you?
menu.welcome: Welcome to Sawt.
complaint.done: Your number is {{.reference}}.
complaint.reply_within:
  one: Within 1 day.
  other: Within {{.PluralCount}} days.
command.menu: menu, back
yesno.yes.words: yes, y
telegram.private_only: Private chats only.
`)},
		"ar.yaml": {Data: []byte(`
menu.ask: كيف يمكننا مساعدتك؟
menu.welcome: أهلاً بك في صوت.
complaint.done: رقمك هو {{.reference}}.
complaint.reply_within:
  zero: اليوم.
  one: خلال يوم واحد.
  two: خلال يومين.
  few: خلال {{.PluralCount}} أيام.
  many: خلال {{.PluralCount}} يومًا.
  other: خلال {{.PluralCount}} يوم.
command.menu: قائمة
yesno.yes.words: نعم
telegram.private_only: المحادثات الخاصة فقط.
`)},
		"ckb.yaml": {Data: []byte(`
menu.ask: چۆن یارمەتیت بدەین؟
complaint.done: ژمارەکەت {{.reference}}ە.
complaint.reply_within:
  one: لە ماوەی یەک ڕۆژدا.
  other: لە ماوەی {{.PluralCount}} ڕۆژدا.
command.menu: لیست
yesno.yes.words: بەڵێ
telegram.private_only: تەنها چاتی تایبەت.
`)},
		"badini.yaml": {Data: []byte(`
menu.ask: ئەم چاوا دشێین هاریکاریا تە بکەین؟
menu.welcome: بخێر بێی بۆ سەوت.
complaint.done: ژمارا تە {{.reference}} ە.
complaint.reply_within:
  one: د ماوێ ئێک ڕۆژێدا.
  other: د ماوێ {{.PluralCount}} ڕۆژاندا.
command.menu: لیست
yesno.yes.words: بەلێ
telegram.private_only: تنێ چاتێن تایبەت.
`)},
	}
	c, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var modTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// recordings is a directory with two good recordings and one of each mistake.
func recordings() fstest.MapFS {
	return fstest.MapFS{
		"README.md":                     {Data: []byte("notes for the voice artist")},
		".DS_Store":                     {Data: []byte("finder")},
		"ar/menu.ask.mp3":               {Data: []byte("ID3 arabic menu.ask"), ModTime: modTime},
		"ckb/menu.ask.wav":              {Data: []byte("RIFF sorani menu.ask"), ModTime: modTime},
		"xx/foo.mp3":                    {Data: []byte("?")},
		"ar/menu.welcome.ogg":           {Data: []byte("?")},
		"ar/no.such.key.mp3":            {Data: []byte("?")},
		"ar/command.menu.mp3":           {Data: []byte("?")},
		"ar/complaint.done.mp3":         {Data: []byte("?")},
		"en/Menu.Ask.MP3":               {Data: []byte("?")},
		"en/menu.welcome.mp3":           {Data: []byte("")},
		"badini/old/menu.ask.mp3":       {Data: []byte("?")},
		"stray.mp3":                     {Data: []byte("?")},
		"badini/menu.welcome.mp3":       {Data: []byte("badini mp3")},
		"badini/menu.welcome.wav":       {Data: []byte("badini wav")},
		"en/complaint.reply_within.mp3": {Data: []byte("?")},
	}
}

func newTestPrompts(t *testing.T, dirs ...fs.FS) *Prompts {
	t.Helper()
	p, err := NewPrompts(promptTexts(t), dirs...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPromptsRecorded(t *testing.T) {
	p := newTestPrompts(t, recordings())
	tests := []struct {
		lang, key, path string
	}{
		{"ar", "menu.ask", "/audio/ar/menu.ask.mp3"},
		{"ckb", "menu.ask", "/audio/ckb/menu.ask.wav"},
		{"badini", "menu.ask", ""},                                   // no fallback to the Sorani or Arabic recording here
		{"en", "menu.ask", ""},                                       // only a badly named file
		{"badini", "menu.welcome", "/audio/badini/menu.welcome.mp3"}, // mp3 before wav
		{"en", "menu.welcome", ""},                                   // empty file
		{"ar", "menu.welcome", ""},                                   // .ogg
		{"ar", "complaint.done", ""},                                 // text-to-speech
		{"en", "complaint.reply_within", ""},                         // plural: text-to-speech
		{"ar", "command.menu", ""},                                   // not a voice prompt
		{"xx", "foo", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		got, ok := p.Recorded(tt.lang, tt.key)
		if got != tt.path || ok != (tt.path != "") {
			t.Errorf("Recorded(%q, %q) = %q, %v; want %q", tt.lang, tt.key, got, ok, tt.path)
		}
	}
	if n := testing.AllocsPerRun(100, func() { p.Recorded("ckb", "menu.ask") }); n != 0 {
		t.Errorf("Recorded allocates %v times per call, want 0", n)
	}
}

func TestPromptsProblems(t *testing.T) {
	p := newTestPrompts(t, recordings())
	want := []string{
		"audio/ar/command.menu.mp3: not a voice prompt",
		"audio/ar/complaint.done.mp3: spoken by text-to-speech (a number is filled in), can not be recorded",
		"audio/ar/menu.welcome.ogg: unknown extension (want .mp3 or .wav)",
		`audio/ar/no.such.key.mp3: unknown key "no.such.key"`,
		"audio/badini/menu.welcome.wav: ignored, menu.welcome.mp3 is used",
		"audio/badini/old: directory ignored (recordings go in <lang>/<key>.<mp3|wav>)",
		"audio/en/Menu.Ask.MP3: bad file name (use lower case a-z, 0-9, _ . -)",
		"audio/en/complaint.reply_within.mp3: spoken by text-to-speech (a number is filled in), can not be recorded",
		"audio/en/menu.welcome.mp3: empty file",
		"audio/stray.mp3: not in a language directory (<lang>/<key>.<mp3|wav>)",
		"audio/xx/foo.mp3: unknown language",
	}
	got := p.Problems()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The caller's copy is its own.
	got[0] = "changed"
	if p.Problems()[0] == "changed" {
		t.Error("Problems returns the index's own slice")
	}
}

// A later directory replaces a recording of an earlier one for the same language and key,
// whatever the format, and adds to the rest.
func TestPromptsOverride(t *testing.T) {
	base := fstest.MapFS{
		"ar/menu.ask.mp3":     {Data: []byte("base ar menu.ask")},
		"ar/menu.welcome.mp3": {Data: []byte("base ar menu.welcome")},
	}
	over := fstest.MapFS{
		"ar/menu.ask.wav": {Data: []byte("override ar menu.ask")},
		"en/menu.ask.mp3": {Data: []byte("override en menu.ask")},
	}
	p := newTestPrompts(t, base, over)
	for _, tt := range []struct{ lang, key, path string }{
		{"ar", "menu.ask", "/audio/ar/menu.ask.wav"},
		{"ar", "menu.welcome", "/audio/ar/menu.welcome.mp3"},
		{"en", "menu.ask", "/audio/en/menu.ask.mp3"},
	} {
		if got, _ := p.Recorded(tt.lang, tt.key); got != tt.path {
			t.Errorf("Recorded(%s, %s) = %q, want %q", tt.lang, tt.key, got, tt.path)
		}
	}
	h := p.Handler()
	if code, body := get(t, h, "/audio/ar/menu.ask.wav"); code != 200 || body != "override ar menu.ask" {
		t.Errorf("override: %d %q", code, body)
	}
	if code, _ := get(t, h, "/audio/ar/menu.ask.mp3"); code != 404 {
		t.Errorf("replaced recording: %d, want 404", code)
	}
	if len(p.Problems()) != 0 {
		t.Errorf("problems: %v", p.Problems())
	}

	// In the other order the mp3 wins.
	p = newTestPrompts(t, over, base)
	if got, _ := p.Recorded("ar", "menu.ask"); got != "/audio/ar/menu.ask.mp3" {
		t.Errorf("reversed: Recorded(ar, menu.ask) = %q", got)
	}
}

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
	return w.Code, w.Body.String()
}

func TestPromptsHandler(t *testing.T) {
	p := newTestPrompts(t, recordings())
	// Mounted the way the gateway does it.
	mux := http.NewServeMux()
	mux.Handle(PromptPattern, p.Handler())
	do := func(method, target string, header map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}

	mp3 := do("GET", "/audio/ar/menu.ask.mp3", nil)
	if mp3.Code != 200 || mp3.Body.String() != "ID3 arabic menu.ask" {
		t.Fatalf("GET mp3: %d %q", mp3.Code, mp3.Body.String())
	}
	wantHeaders := map[string]string{
		"Content-Type":   "audio/mpeg",
		"Cache-Control":  "public, max-age=86400",
		"Content-Length": "19",
		"Accept-Ranges":  "bytes",
		"Last-Modified":  modTime.Format(http.TimeFormat),
	}
	for k, v := range wantHeaders {
		if got := mp3.Header().Get(k); got != v {
			t.Errorf("GET mp3: %s = %q, want %q", k, got, v)
		}
	}
	etag := mp3.Header().Get("ETag")
	if len(etag) < 10 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Errorf("ETag %q is not a quoted hash", etag)
	}

	wav := do("GET", "/audio/ckb/menu.ask.wav", nil)
	if wav.Code != 200 || wav.Header().Get("Content-Type") != "audio/wav" || wav.Body.String() != "RIFF sorani menu.ask" {
		t.Errorf("GET wav: %d %q %q", wav.Code, wav.Header().Get("Content-Type"), wav.Body.String())
	}
	if wav.Header().Get("ETag") == etag {
		t.Error("two different recordings have the same ETag")
	}

	if w := do("GET", "/audio/ar/menu.ask.mp3", map[string]string{"If-None-Match": etag}); w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d, %d bytes; want 304, none", w.Code, w.Body.Len())
	}
	if w := do("GET", "/audio/ar/menu.ask.mp3", map[string]string{"If-None-Match": `"other"`}); w.Code != 200 {
		t.Errorf("If-None-Match of another version: %d, want 200", w.Code)
	}
	if w := do("GET", "/audio/ar/menu.ask.mp3", map[string]string{"If-Modified-Since": modTime.Add(time.Hour).Format(http.TimeFormat)}); w.Code != 304 {
		t.Errorf("If-Modified-Since: %d, want 304", w.Code)
	}
	if w := do("GET", "/audio/ar/menu.ask.mp3", map[string]string{"Range": "bytes=0-2"}); w.Code != 206 || w.Body.String() != "ID3" {
		t.Errorf("Range: %d %q, want 206 \"ID3\"", w.Code, w.Body.String())
	}
	head := do("HEAD", "/audio/ar/menu.ask.mp3", nil)
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != "19" ||
		head.Header().Get("Content-Type") != "audio/mpeg" || head.Header().Get("ETag") != etag {
		t.Errorf("HEAD: %d, %d bytes, headers %v", head.Code, head.Body.Len(), head.Header())
	}

	for _, target := range []string{
		"/audio/xx/menu.ask.mp3",            // unknown language
		"/audio/en/menu.ask.mp3",            // not recorded
		"/audio/badini/menu.ask.mp3",        // no fallback to another language's file
		"/audio/ar/menu.ask.wav",            // recorded, but as mp3
		"/audio/ar/menu.ask",                // no extension
		"/audio/ar/complaint.done.mp3",      // text-to-speech: the file is not served
		"/audio/ar/command.menu.mp3",        // not a voice prompt
		"/audio/ar/menu.welcome.ogg",        // unknown format
		"/audio/ar/no.such.key.mp3",         // unknown key
		"/audio/badini/menu.welcome.wav",    // shadowed by the mp3
		"/audio/en/Menu.Ask.MP3",            // bad name
		"/audio/ar/..%2F..%2Fcatalog.go",    // traversal
		"/audio/ar/..%2Fckb%2Fmenu.ask.wav", // traversal into a good file
		"/audio/..%2Far/menu.ask.mp3",       // traversal in the language
		"/audio/ar/menu.ask.mp3%00",         // NUL
		"/audio/ar/%2E%2E",                  // ..
		"/audio/ar/menu.ask.mp3%3Fx=1",      // escaped query
		"/audio/ar/README.md",
		"/audio/xx/foo.mp3",
	} {
		w := do("GET", target, nil)
		if w.Code != 404 {
			t.Errorf("GET %s: %d, want 404", target, w.Code)
		}
		if ct := w.Header().Get("Content-Type"); w.Code == 404 && !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("GET %s: 404 with Content-Type %q, want plain text", target, ct)
		}
		if strings.Contains(w.Body.String(), "ID3") || strings.Contains(w.Body.String(), "RIFF") {
			t.Errorf("GET %s served a recording", target)
		}
	}
	if w := do("POST", "/audio/ar/menu.ask.mp3", nil); w.Code == 200 {
		t.Errorf("POST: %d", w.Code)
	}

	// Used on its own, without the caller's mux, the handler routes the same.
	if code, body := get(t, p.Handler(), "/audio/ckb/menu.ask.wav"); code != 200 || body != "RIFF sorani menu.ask" {
		t.Errorf("unmounted handler: %d %q", code, body)
	}
	if code, _ := get(t, p.Handler(), "/elsewhere"); code != 404 {
		t.Errorf("unmounted handler, other path: %d, want 404", code)
	}
}

func TestPromptsList(t *testing.T) {
	p := newTestPrompts(t, recordings())
	type row struct {
		lang, key, text, textLang string
		recorded                  bool
		path                      string
		tts                       bool
	}
	want := []row{
		{"ar", "complaint.done", "رقمك هو {{.reference}}.", "ar", false, "", true},
		{"ar", "complaint.reply_within", "خلال {{.PluralCount}} يوم.", "ar", false, "", true},
		{"ar", "menu.ask", "كيف يمكننا مساعدتك؟", "ar", true, "/audio/ar/menu.ask.mp3", false},
		{"ar", "menu.welcome", "أهلاً بك في صوت.", "ar", false, "", false},
		{"ckb", "complaint.done", "ژمارەکەت {{.reference}}ە.", "ckb", false, "", true},
		{"ckb", "complaint.reply_within", "لە ماوەی {{.PluralCount}} ڕۆژدا.", "ckb", false, "", true},
		{"ckb", "menu.ask", "چۆن یارمەتیت بدەین؟", "ckb", true, "/audio/ckb/menu.ask.wav", false},
		{"ckb", "menu.welcome", "أهلاً بك في صوت.", "ar", false, "", false}, // falls back to Arabic
		{"badini", "complaint.done", "ژمارا تە {{.reference}} ە.", "badini", false, "", true},
		{"badini", "complaint.reply_within", "د ماوێ {{.PluralCount}} ڕۆژاندا.", "badini", false, "", true},
		{"badini", "menu.ask", "ئەم چاوا دشێین هاریکاریا تە بکەین؟", "badini", false, "", false},
		{"badini", "menu.welcome", "بخێر بێی بۆ سەوت.", "badini", true, "/audio/badini/menu.welcome.mp3", false},
		{"en", "complaint.done", "Your number is {{.reference}}.", "en", false, "", true},
		{"en", "complaint.reply_within", "Within {{.PluralCount}} days.", "en", false, "", true},
		{"en", "menu.ask", "How can we help you?", "en", false, "", false},
		{"en", "menu.welcome", "Welcome to Sawt.", "en", false, "", false},
	}
	var got []row
	for _, i := range p.List() {
		got = append(got, row{i.Lang, i.Key, i.Text, i.TextLang, i.Recorded, i.Path, i.TTS})
	}
	if !slices.Equal(got, want) {
		t.Errorf("List:\n%v\nwant:\n%v", got, want)
	}
}

func TestIsVoicePrompt(t *testing.T) {
	for key, want := range map[string]bool{
		"menu.ask": true, "yesno.yes": true, "language.self": true, "complaint.done": true,
		"command.menu": false, "yesno.yes.words": false, "telegram.private_only": false,
		"satisfaction.ask": false, "case_reply.message": false,
	} {
		if got := IsVoicePrompt(key); got != want {
			t.Errorf("IsVoicePrompt(%q) = %v, want %v", key, got, want)
		}
	}
}

// The shipped recordings: none yet, nothing wrong, and a README that explains the layout.
func TestDefaultPrompts(t *testing.T) {
	c := shipped(t)
	p, err := DefaultPrompts(c, "")
	if err != nil {
		t.Fatal(err)
	}
	if probs := p.Problems(); len(probs) != 0 {
		t.Errorf("problems with the shipped recordings:\n%s", strings.Join(probs, "\n"))
	}
	readme, err := fs.ReadFile(embeddedAudio, "audio/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"<lang>/<key>.mp3", "mono", "SAWT_AUDIO_DIR", "sawt prompts"} {
		if !strings.Contains(string(readme), w) {
			t.Errorf("audio/README.md does not mention %q", w)
		}
	}
	list := p.List()
	if len(list) == 0 || len(list)%len(Languages) != 0 {
		t.Fatalf("List has %d prompts, want the same number in each of %d languages", len(list), len(Languages))
	}
	var tts, recordable int
	for _, i := range list {
		// Every prompt must be recordable under its own name.
		if !validName(i.Key + ".mp3") {
			t.Errorf("key %q can not be a recording's file name", i.Key)
		}
		if !IsVoicePrompt(i.Key) {
			t.Errorf("%s is listed but is no voice prompt", i.Key)
		}
		if i.Text == "" {
			t.Errorf("%s %s: no text", i.Lang, i.Key)
		}
		if i.TTS {
			tts++
		} else {
			recordable++
		}
	}
	if tts == 0 || recordable == 0 {
		t.Errorf("%d text-to-speech prompts, %d recordable: the shipped texts have both", tts, recordable)
	}
	for _, lang := range Languages {
		for key, want := range map[string]bool{"menu.ask": false, "complaint.done": true, "common.tries_left": true} {
			i := slices.IndexFunc(list, func(i PromptInfo) bool { return i.Lang == lang && i.Key == key })
			if i < 0 {
				t.Errorf("%s %s is not listed", lang, key)
			} else if list[i].TTS != want {
				t.Errorf("%s %s: TTS = %v, want %v", lang, key, list[i].TTS, want)
			}
		}
	}

	// A directory of recordings adds to them; problems name its real path.
	dir := t.TempDir()
	for name, data := range map[string]string{"ckb/menu.ask.mp3": "ckb", "xx/menu.ask.mp3": "xx"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err = DefaultPrompts(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := p.Recorded("ckb", "menu.ask"); !ok || got != "/audio/ckb/menu.ask.mp3" {
		t.Errorf("Recorded(ckb, menu.ask) = %q, %v", got, ok)
	}
	if want := []string{dir + "/xx/menu.ask.mp3: unknown language"}; !slices.Equal(p.Problems(), want) {
		t.Errorf("Problems = %q, want %q", p.Problems(), want)
	}
	w := httptest.NewRecorder()
	p.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/audio/ckb/menu.ask.mp3", nil))
	if body, _ := io.ReadAll(w.Body); w.Code != 200 || string(body) != "ckb" || w.Header().Get("Last-Modified") == "" {
		t.Errorf("GET: %d %q, Last-Modified %q", w.Code, body, w.Header().Get("Last-Modified"))
	}

	if _, err := DefaultPrompts(c, filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("missing directory: err = %v, want one naming it", err)
	}
	if _, err := DefaultPrompts(c, filepath.Join(dir, "ckb", "menu.ask.mp3")); err == nil {
		t.Error("a file as directory: no error")
	}
}
