package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sawt/sawt/locales"
)

// languageNames are the languages as the operator's listing names them.
var languageNames = map[string]string{
	locales.Arabic: "Arabic", locales.Sorani: "Sorani", locales.Badini: "Badini", locales.English: "English",
}

func runPrompts(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "prompts", "prompts [--missing] [--lang LANG] [--audio-dir DIR]", `Prints the script of the phone line: for each language, every voice prompt's key, whether its
recording exists (shipped in the binary, or in DIR, default $SAWT_AUDIO_DIR, which adds to or
replaces them) and the text the voice artist reads. Texts with a number filled in when said are
spoken by text-to-speech, can not be recorded, and are listed after the others.

Recordings go in <lang>/<key>.mp3 (or .wav): see locales/audio/README.md. With --missing,
prints only the prompts still to record and exits 1 if there is any.`)
	missing := fs.Bool("missing", false, "print only the prompts without a recording; exit 1 if there is any")
	only := fs.String("lang", "", "only this language: "+strings.Join(locales.Languages, ", "))
	dir := fs.String("audio-dir", e.getenv("SAWT_AUDIO_DIR"), "directory of recordings, <lang>/<key>.mp3, used with the shipped ones")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *only != "" && !locales.Valid(*only) {
		return usageErrorf("unknown language %q for --lang (want one of %s)", *only, strings.Join(locales.Languages, ", "))
	}
	texts, err := locales.Default()
	if err != nil {
		return err
	}
	prompts, err := locales.DefaultPrompts(texts, *dir)
	if err != nil {
		return err
	}
	for _, p := range prompts.Problems() {
		fmt.Fprintf(e.stderr, "not used: %s\n", p)
	}

	byLang := map[string][]locales.PromptInfo{}
	for _, p := range prompts.List() {
		byLang[p.Lang] = append(byLang[p.Lang], p)
	}
	var absent int
	first := true
	for _, lang := range locales.Languages {
		if *only != "" && lang != *only {
			continue
		}
		if !first {
			fmt.Fprintln(e.stdout)
		}
		first = false
		absent += printPrompts(e.stdout, texts, lang, byLang[lang], *missing)
	}
	if *missing && absent > 0 {
		return fmt.Errorf("%d recordings missing", absent)
	}
	return nil
}

// printPrompts prints one language's prompts (only the missing ones with missingOnly), its
// summary and what happens to a missing recording. It returns how many are missing.
func printPrompts(w io.Writer, texts *locales.Catalog, lang string, list []locales.PromptInfo, missingOnly bool) int {
	title := lang + ": " + languageNames[lang]
	if self, err := texts.Text(lang, "language.self", nil, nil); err == nil && self != languageNames[lang] {
		title += " (" + self + ")"
	}
	fmt.Fprintf(w, "== %s ==\n", title)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var recordable, recorded int
	for _, p := range list {
		if p.TTS {
			continue
		}
		recordable++
		status := "missing"
		if p.Recorded {
			recorded++
			status = "recorded"
			if missingOnly {
				continue
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Key, status, scriptLine(lang, p))
	}
	if !missingOnly {
		for _, p := range list {
			if p.TTS {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Key, "text-to-speech", scriptLine(lang, p))
			}
		}
	}
	tw.Flush()

	fmt.Fprintf(w, "%s: %d of %d recorded\n", lang, recorded, recordable)
	switch lang {
	case locales.Sorani, locales.Badini:
		fmt.Fprintln(w, "A missing recording falls back to the Arabic recording, or to Arabic text-to-speech.")
	default:
		fmt.Fprintln(w, "Missing recordings are spoken by text-to-speech.")
	}
	return recordable - recorded
}

// scriptLine is a prompt's text on one line, marked with its language when it is another's.
func scriptLine(lang string, p locales.PromptInfo) string {
	text := strings.Join(strings.Fields(p.Text), " ")
	if p.TextLang != "" && p.TextLang != lang {
		text = "[no " + lang + " text; " + p.TextLang + "] " + text
	}
	return text
}
