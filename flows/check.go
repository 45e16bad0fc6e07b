package flows

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
)

// Problem is one defect of a flow or of the texts, with where it is.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Check validates every flow against the engine's inputs and actions and the texts: targets
// that do not exist, steps no path reaches, options that lead nowhere, texts missing in any
// language. Problems come sorted by file and line.
func Check(defs map[string]*Flow, texts *locales.Catalog, cfg Config) []Problem {
	c := checker{defs: defs, texts: texts, cfg: cfg}
	for _, name := range []string{MenuFlow, LanguageFlow} {
		if defs[name] == nil {
			c.probs = append(c.probs, Problem{File: name + ".yaml", Msg: fmt.Sprintf("flow %q is required", name)})
		}
	}
	for _, key := range engineKeys {
		c.key("engine", 0, key)
	}
	for _, lang := range locales.Languages {
		c.key("engine", 0, keyLanguageName+lang)
	}
	var detecting []string
	for _, f := range defs {
		c.flow(f)
		if f.Detect != "" {
			detecting = append(detecting, f.Name)
		}
	}
	if len(detecting) > 1 {
		sort.Strings(detecting)
		c.probs = append(c.probs, Problem{File: "flows", Msg: "detect: is set in more than one flow: " + strings.Join(detecting, ", ")})
	}
	for _, p := range texts.Check() {
		c.probs = append(c.probs, Problem{File: "locales/" + p.File, Msg: p.Key + ": " + p.Msg})
	}
	sort.SliceStable(c.probs, func(i, j int) bool {
		a, b := c.probs[i], c.probs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	// A target checked on two counts (a pass-over goto that is also the step's next) is one
	// problem.
	seen := map[Problem]bool{}
	probs := c.probs[:0]
	for _, p := range c.probs {
		if !seen[p] {
			seen[p] = true
			probs = append(probs, p)
		}
	}
	return probs
}

type checker struct {
	defs  map[string]*Flow
	texts *locales.Catalog
	cfg   Config
	probs []Problem
}

func (c *checker) add(f *Flow, line int, format string, args ...any) {
	c.probs = append(c.probs, Problem{File: f.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// key reports a text key missing in any language.
func (c *checker) key(file string, line int, key string) {
	if key == "" {
		return
	}
	var missing []string
	for _, lang := range locales.Languages {
		if !c.texts.Has(lang, key) {
			missing = append(missing, lang)
		}
	}
	if len(missing) > 0 {
		c.probs = append(c.probs, Problem{File: file, Line: line,
			Msg: fmt.Sprintf("text %q is missing in %s", key, strings.Join(missing, ", "))})
	}
}

func (c *checker) flow(f *Flow) {
	if f.steps[f.Start] == nil {
		c.add(f, f.Line, "start step %q does not exist", f.Start)
	}
	if f.Detect != "" && f.steps[f.Detect] == nil {
		c.add(f, f.Line, "detect step %q does not exist", f.Detect)
	}
	for _, s := range f.Steps {
		c.step(f, s)
	}
	if h := f.Hangup; h != nil {
		if h.When != "" && !validCondition(h.When) {
			c.add(f, h.Line, "hangup: condition %q must be var=value or var!=value", h.When)
		}
		if h.Goto == "" || h.Goto == gotoEnd || strings.HasPrefix(h.Goto, flowPrefix) {
			c.add(f, h.Line, "hangup: goto must name a step of this flow")
		} else {
			c.target(f, h.Line, "hangup", h.Goto)
		}
	}
	reached := c.reachable(f)
	for _, s := range f.Steps {
		if !reached[s.ID] {
			c.add(f, s.Line, "step %q is unreachable", s.ID)
		}
	}
}

// maxPayload is Telegram's limit on a button's callback data; an option's payload is
// "<flow>.<step>:<number>".
const maxPayload = 64

func (c *checker) step(f *Flow, s *Step) {
	if n := len(f.Name) + 1 + len(s.ID) + 3; n > maxPayload {
		c.add(f, s.Line, "step %q: flow and step names are too long for a button (%d bytes, at most %d)", s.ID, n, maxPayload)
	}
	if s.Only != "" && !channels.Kind(strings.TrimPrefix(s.Only, "!")).Valid() {
		c.add(f, s.Line, "step %q: only: %q is not a channel (telegram, sms, voice, terminal; ! before one for all but it)", s.ID, s.Only)
	}
	if s.When != "" {
		if !validCondition(s.When) {
			c.add(f, s.Line, "step %q: condition %q must be var=value or var!=value", s.ID, s.When)
		}
		if s.Goto == "" {
			c.add(f, s.Line, "step %q: when: needs a goto: to pass the step over to", s.ID)
		}
	}
	if s.Goto != "" && (s.When != "" || s.Only != "") {
		c.target(f, s.Line, s.ID, s.Goto) // where the step is passed over to
	}
	if s.Options != "" && s.Input != InputChoice {
		c.add(f, s.Line, "step %q: options: is for choice steps (input: choice)", s.ID)
	}
	if s.Skip != "" {
		if s.Input != InputText {
			c.add(f, s.Line, "step %q: skip: is for text steps", s.ID)
		}
		c.target(f, s.Line, s.ID, s.Skip)
		c.key(f.File, s.Line, keySkip)
	}
	for _, p := range s.Say {
		c.key(f.File, p.Line, p.Text)
		if (p.Text == "") == (p.Digits == "") {
			c.add(f, p.Line, "step %q: a text needs either text: or digits:", s.ID)
		}
		if p.When != "" && !validCondition(p.When) {
			c.add(f, p.Line, "step %q: condition %q must be var=value or var!=value", s.ID, p.When)
		}
	}
	c.key(f.File, s.Line, s.SayAll)
	c.key(f.File, s.Line, s.Retry)
	c.key(f.File, s.Line, s.GiveUp)
	for _, k := range sortedKeys(s.Errors) {
		c.key(f.File, s.Line, s.Errors[k])
	}
	waits := s.Input != ""
	switch s.Input {
	case "":
	case InputChoice:
		switch {
		case s.Options != "":
			if len(s.Choices) > 0 {
				c.add(f, s.Line, "step %q: a step with options: offers those of the call, not choices:", s.ID)
			}
			if s.Goto == "" {
				c.add(f, s.Line, "step %q: a step with options: needs a goto: for the option chosen", s.ID)
			} else {
				c.target(f, s.Line, s.ID, s.Goto)
			}
		case len(s.Choices) == 0:
			c.add(f, s.Line, "step %q: a choice step needs choices", s.ID)
		}
		for _, ch := range s.Choices {
			c.choice(f, s, ch)
		}
	case InputYesNo, InputText:
		if s.Save == "" && (s.Input == InputText || s.On["yes"] == "" || s.On["no"] == "") {
			c.add(f, s.Line, "step %q: %s input needs save: to keep the answer", s.ID, s.Input)
		}
		if s.Input == InputYesNo && len(s.On) > 0 {
			for _, o := range sortedKeys(s.On) {
				if o != "yes" && o != "no" {
					c.add(f, s.Line, "step %q: a yesno step has no answer %q (yes or no)", s.ID, o)
				}
				c.target(f, s.Line, s.ID, s.On[o])
			}
			if _, ok := s.On["yes"]; !ok || s.On["no"] == "" {
				c.target(f, s.Line, s.ID, s.Goto)
			}
			break
		}
		c.target(f, s.Line, s.ID, s.Goto)
	default:
		if c.cfg.Validators[s.Input] == nil {
			c.add(f, s.Line, "step %q: unknown input %q", s.ID, s.Input)
		}
		if s.Save == "" {
			c.add(f, s.Line, "step %q: %s input needs save: to keep the answer", s.ID, s.Input)
		}
		c.target(f, s.Line, s.ID, s.Goto)
	}
	if s.Input != InputChoice && len(s.Choices) > 0 {
		c.add(f, s.Line, "step %q: choices without input: choice", s.ID)
	}
	if s.Action != "" {
		if waits {
			c.add(f, s.Line, "step %q: a step either waits for input or makes a call, not both", s.ID)
		}
		outcomes, known := c.cfg.Actions[s.Action]
		if !known {
			c.add(f, s.Line, "step %q: unknown action %q", s.ID, s.Action)
		}
		for _, o := range sortedKeys(s.On) {
			if known && !contains(outcomes, o) {
				c.add(f, s.Line, "step %q: action %q has no outcome %q", s.ID, s.Action, o)
			}
			c.target(f, s.Line, s.ID, s.On[o])
		}
		if s.Goto == "" {
			for _, o := range outcomes {
				if _, ok := s.On[o]; !ok {
					c.add(f, s.Line, "step %q: outcome %q of %q leads nowhere (add it to on: or set goto:)", s.ID, o, s.Action)
				}
			}
		} else {
			c.target(f, s.Line, s.ID, s.Goto)
		}
	} else if len(s.On) > 0 && s.Input != InputYesNo {
		c.add(f, s.Line, "step %q: on: without an action", s.ID)
	}
	if !waits && s.Action == "" && s.Goto != "" {
		c.target(f, s.Line, s.ID, s.Goto)
	}
	if !waits && s.Action == "" && len(s.Say) == 0 && s.SayAll == "" && s.Goto == "" {
		c.add(f, s.Line, "step %q says nothing and goes nowhere", s.ID)
	}
}

func (c *checker) choice(f *Flow, s *Step, ch *Choice) {
	switch {
	case ch.Language != "":
		if !locales.Valid(ch.Language) {
			c.add(f, ch.Line, "step %q: unknown language %q (ar, ckb, badini, en)", s.ID, ch.Language)
		}
		c.key(f.File, ch.Line, keyLanguageSelf)
	case ch.Label == "":
		c.add(f, ch.Line, "step %q: choice has no label", s.ID)
	default:
		c.key(f.File, ch.Line, ch.Label)
	}
	name := firstNonEmpty(ch.Label, ch.Language)
	switch {
	case ch.Match != "":
		if c.cfg.Validators[ch.Match] == nil {
			c.add(f, ch.Line, "step %q: choice %s: match: %q is not a validator of the engine", s.ID, name, ch.Match)
		}
		if ch.Save == "" {
			c.add(f, ch.Line, "step %q: choice %s: match: needs save: to keep the answer", s.ID, name)
		}
	case ch.Save != "":
		c.add(f, ch.Line, "step %q: choice %s: save: is for an option chosen by match:", s.ID, name)
	}
	if ch.Goto == "" {
		c.add(f, ch.Line, "step %q: choice %s leads nowhere (no goto)", s.ID, name)
		return
	}
	c.target(f, ch.Line, s.ID, ch.Goto)
}

// target reports a goto that points at nothing.
func (c *checker) target(f *Flow, line int, from, t string) {
	switch {
	case t == "":
		c.add(f, line, "step %q leads nowhere (no goto)", from)
	case t == gotoEnd, t == gotoResume:
	case strings.HasPrefix(t, flowPrefix):
		if c.defs[strings.TrimPrefix(t, flowPrefix)] == nil {
			c.add(f, line, "step %q: unknown flow %q", from, strings.TrimPrefix(t, flowPrefix))
		}
	case f.steps[t] == nil:
		c.add(f, line, "step %q: unknown step %q", from, t)
	}
}

// reachable walks every path from the start step.
func (c *checker) reachable(f *Flow) map[string]bool {
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		s := f.steps[id]
		if s == nil || seen[id] {
			return
		}
		seen[id] = true
		walk(s.Goto)
		walk(s.Skip)
		for _, ch := range s.Choices {
			walk(ch.Goto)
		}
		for _, t := range s.On {
			walk(t)
		}
	}
	walk(f.Start)
	if f.Detect != "" {
		walk(f.Detect)
	}
	if f.Hangup != nil {
		walk(f.Hangup.Goto)
	}
	return seen
}

// validCondition reports whether cond is conditions the engine understands (run.when):
// var=value or var!=value, several joined by commas; an empty value is an empty or unset
// variable.
func validCondition(cond string) bool {
	for _, part := range strings.Split(cond, ",") {
		name, _, ok := strings.Cut(part, "!=")
		if !ok {
			name, _, ok = strings.Cut(part, "=")
		}
		if !ok || strings.TrimSpace(name) == "" {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
