package locales

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// The recordings shipped in the binary: audio/<lang>/<key>.<mp3|wav>, see audio/README.md.
//
//go:embed audio
var embeddedAudio embed.FS

// PromptPattern is the route Prompts.Handler answers; mount the handler on it exactly.
const PromptPattern = "GET /audio/{lang}/{prompt}"

// Audio formats, by file extension, best first: when a directory has both, the first wins.
var audioTypes = []struct{ ext, contentType string }{
	{".mp3", "audio/mpeg"},
	{".wav", "audio/wav"},
}

// Prompts is the index of the voice prompt recordings: which texts the phone line plays as a
// recording, which it can only speak by text-to-speech, and the recordings' bytes. It is made
// once at start and is safe for concurrent use.
type Prompts struct {
	texts    *Catalog
	keys     []string                 // every voice prompt key, sorted
	tts      map[promptKey]bool       // lang+key → spoken by text-to-speech
	byKey    map[promptKey]*recording // lang+key → its recording
	byName   map[promptKey]*recording // lang+"<key>.<ext>" → its recording
	problems []string
}

type promptKey struct{ lang, key string }

type recording struct {
	path        string // URL path, /audio/<lang>/<key>.<ext>
	name        string // <key>.<ext>
	contentType string
	data        []byte
	etag        string
	modTime     time.Time
	rank        int    // index in audioTypes
	file        string // where it was read from, for reports
}

// PromptInfo is one voice prompt of one language.
type PromptInfo struct {
	Lang string
	Key  string
	// Text is the script the voice artist reads. When Lang has no text for Key it is the text
	// of the fallback language, TextLang. For a text-to-speech prompt it is the text with its
	// placeholders ({{.reference}}) unfilled.
	Text     string
	TextLang string
	Recorded bool
	Path     string // URL path of the recording, when Recorded
	TTS      bool   // spoken by text-to-speech (a number is filled in): can not be recorded
}

// IsVoicePrompt reports whether key is a text the phone line says: every key but the words
// people type (command.*, *.words), Telegram-only texts (telegram.*) and the texts of case
// work (satisfaction.*, case_reply.*), which go by SMS or Telegram even to someone who called.
func IsVoicePrompt(key string) bool {
	for _, written := range []string{"command.", "telegram.", "satisfaction.", "case_reply."} {
		if strings.HasPrefix(key, written) {
			return false
		}
	}
	return !strings.HasSuffix(key, ".words")
}

// DefaultPrompts indexes the recordings embedded in the binary and, when overrideDir is not
// empty, those of overrideDir (same layout), which add to or replace them.
func DefaultPrompts(texts *Catalog, overrideDir string) (*Prompts, error) {
	sub, err := fs.Sub(embeddedAudio, "audio")
	if err != nil {
		return nil, err
	}
	srcs := []audioSource{{"audio", sub}}
	if overrideDir != "" {
		info, err := os.Stat(overrideDir)
		if err != nil {
			return nil, fmt.Errorf("audio directory: %w", err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("audio directory %s: not a directory", overrideDir)
		}
		srcs = append(srcs, audioSource{filepath.Clean(overrideDir), os.DirFS(overrideDir)})
	}
	return newPrompts(texts, srcs)
}

// NewPrompts indexes the recordings <lang>/<key>.<mp3|wav> of dirs; a recording in a later
// dir replaces one of an earlier dir for the same language and key. Files that are not used
// are reported by Problems, named as audio/<lang>/<file>.
func NewPrompts(texts *Catalog, dirs ...fs.FS) (*Prompts, error) {
	srcs := make([]audioSource, len(dirs))
	for i, d := range dirs {
		srcs[i] = audioSource{"audio", d}
	}
	return newPrompts(texts, srcs)
}

type audioSource struct {
	label string // prefix of file names in reports
	fsys  fs.FS
}

func newPrompts(texts *Catalog, srcs []audioSource) (*Prompts, error) {
	if texts == nil {
		return nil, errors.New("voice prompts: no texts")
	}
	p := &Prompts{
		texts:  texts,
		tts:    map[promptKey]bool{},
		byKey:  map[promptKey]*recording{},
		byName: map[promptKey]*recording{},
	}
	seen := map[string]bool{}
	for _, lang := range Languages {
		for key := range texts.messages[lang] {
			if IsVoicePrompt(key) && !seen[key] {
				seen[key] = true
				p.keys = append(p.keys, key)
			}
		}
	}
	sort.Strings(p.keys)
	for _, lang := range Languages {
		for _, key := range p.keys {
			if spokenByTTS(texts, lang, key) {
				p.tts[promptKey{lang, key}] = true
			}
		}
	}
	for _, src := range srcs {
		if err := p.index(src, seen); err != nil {
			return nil, err
		}
	}
	for id, rec := range p.byKey {
		p.byName[promptKey{id.lang, rec.name}] = rec
	}
	return p, nil
}

// index adds the recordings of one source, replacing those of earlier sources.
func (p *Prompts) index(src audioSource, keys map[string]bool) error {
	found := map[promptKey]*recording{} // this source's, best format per key
	err := fs.WalkDir(src.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if name == "." && err != nil {
			return fmt.Errorf("audio directory %s: %w", src.label, err)
		}
		if name == "." {
			return nil
		}
		if err != nil { // an unreadable subdirectory
			p.problems = append(p.problems, src.label+"/"+name+": "+err.Error())
			return nil
		}
		base := path.Base(name)
		if strings.HasPrefix(base, ".") { // .DS_Store, .git, editor files
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		report := func(msg string) { p.problems = append(p.problems, src.label+"/"+name+": "+msg) }
		dir, file := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case d.IsDir() && dir == "":
			return nil // a language directory, checked file by file
		case d.IsDir():
			report("directory ignored (recordings go in <lang>/<key>.<mp3|wav>)")
			return fs.SkipDir
		case dir == "":
			if !strings.HasSuffix(strings.ToLower(base), ".md") {
				report("not in a language directory (<lang>/<key>.<mp3|wav>)")
			}
			return nil
		case !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0:
			report("not a regular file")
			return nil
		}
		lang := dir
		if !Valid(lang) {
			report("unknown language")
			return nil
		}
		if !validName(file) {
			report("bad file name (use lower case a-z, 0-9, _ . -)")
			return nil
		}
		rank := -1
		ext := path.Ext(file)
		for i, t := range audioTypes {
			if ext == t.ext {
				rank = i
			}
		}
		if rank < 0 {
			report("unknown extension (want .mp3 or .wav)")
			return nil
		}
		key := strings.TrimSuffix(file, ext)
		switch {
		case !keys[key] && p.texts.known(key):
			report("not a voice prompt")
			return nil
		case !keys[key]:
			report(fmt.Sprintf("unknown key %q", key))
			return nil
		case p.tts[promptKey{lang, key}]:
			report("spoken by text-to-speech (a number is filled in), can not be recorded")
			return nil
		}
		id := promptKey{lang, key}
		if prev := found[id]; prev != nil {
			if prev.rank <= rank {
				report(fmt.Sprintf("ignored, %s is used", prev.name))
				return nil
			}
			p.problems = append(p.problems, prev.file+": ignored, "+file+" is used")
		}
		data, err := fs.ReadFile(src.fsys, name)
		if err != nil {
			report(fmt.Sprintf("can not read: %v", err))
			return nil
		}
		if len(data) == 0 {
			report("empty file")
			return nil
		}
		var mod time.Time
		if info, err := fs.Stat(src.fsys, name); err == nil {
			mod = info.ModTime()
		}
		sum := sha256.Sum256(data)
		found[id] = &recording{
			path:        "/audio/" + lang + "/" + file,
			name:        file,
			contentType: audioTypes[rank].contentType,
			data:        data,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
			modTime:     mod,
			rank:        rank,
			file:        src.label + "/" + name,
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, rec := range found {
		p.byKey[id] = rec
	}
	return nil
}

// known reports whether any language has a text for key.
func (c *Catalog) known(key string) bool {
	for _, lang := range Languages {
		if c.Has(lang, key) {
			return true
		}
	}
	return false
}

// validName reports whether a file or URL name has only a-z, 0-9, _, . and -, and is not
// . or ..; nothing else is ever looked up.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// spokenByTTS reports whether key in lang (or in the language its text falls back to) has a
// number or reference filled in when said: a placeholder, or a plural text.
func spokenByTTS(texts *Catalog, lang, key string) bool {
	if en := texts.messages[English][key]; en != nil && isPlural(en) {
		return true
	}
	for _, l := range Fallbacks(lang) {
		m := texts.messages[l][key]
		if m == nil {
			continue
		}
		if isPlural(m) {
			return true
		}
		for _, f := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
			if strings.Contains(f, "{{") {
				return true
			}
		}
		return false
	}
	return false
}

func isPlural(m *i18n.Message) bool {
	return m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != ""
}

// Recorded returns the URL path of the recording of key in lang (/audio/<lang>/<key>.<ext>),
// if there is one. There is none for a text spoken by text-to-speech. It does not fall back
// to another language.
func (p *Prompts) Recorded(lang, key string) (string, bool) {
	if rec := p.byKey[promptKey{lang, key}]; rec != nil {
		return rec.path, true
	}
	return "", false
}

// Problems lists the files that are not used and why, e.g. "audio/xx/foo.mp3: unknown
// language", in the order they were found.
func (p *Prompts) Problems() []string {
	return append([]string(nil), p.problems...)
}

// List is every voice prompt of every language, in the order of Languages and then by key.
func (p *Prompts) List() []PromptInfo {
	list := make([]PromptInfo, 0, len(Languages)*len(p.keys))
	for _, lang := range Languages {
		for _, key := range p.keys {
			info := PromptInfo{Lang: lang, Key: key, TTS: p.tts[promptKey{lang, key}]}
			if info.TTS {
				info.Text, info.TextLang = p.rawText(lang, key)
			} else if text, from, err := p.texts.TextWithLanguage(lang, key, nil, nil); err == nil {
				info.Text, info.TextLang = text, from
			}
			info.Path, info.Recorded = p.Recorded(lang, key)
			list = append(list, info)
		}
	}
	return list
}

// rawText is the text of key as written, placeholders unfilled; the "other" form of a plural.
func (p *Prompts) rawText(lang, key string) (string, string) {
	for _, l := range Fallbacks(lang) {
		if m := p.texts.messages[l][key]; m != nil {
			return strings.TrimSpace(m.Other), l
		}
	}
	return "", ""
}

// Handler serves the recordings at PromptPattern, GET /audio/{lang}/{prompt}, where prompt is
// <key>.<mp3|wav>: with the file's content type, an ETag, a day of caching, and ranges.
// Anything else is 404.
func (p *Prompts) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PromptPattern, p.serve)
	return mux
}

func (p *Prompts) serve(w http.ResponseWriter, r *http.Request) {
	lang, name := r.PathValue("lang"), r.PathValue("prompt")
	var rec *recording
	if Valid(lang) && validName(name) {
		rec = p.byName[promptKey{lang, name}]
	}
	if rec == nil {
		http.Error(w, "no such recording", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", rec.contentType)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", rec.etag)
	http.ServeContent(w, r, rec.name, rec.modTime, bytes.NewReader(rec.data))
}

// Text is key's text in lang (by the fallback chain), or "" when no language has it: what the
// phone line speaks where there is no recording.
func (p *Prompts) Text(lang, key string) string {
	text, err := p.texts.Text(lang, key, nil, nil)
	if err != nil {
		return ""
	}
	return text
}
