package flows

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Flow is one conversation: a named list of steps, read from a YAML file.
type Flow struct {
	Name  string  `yaml:"name"`
	Start string  `yaml:"start"` // defaults to the first step
	Steps []*Step `yaml:"steps"`
	// Hangup is where a phone call that ends in the middle of this flow goes: to a step that
	// keeps what the caller said so far (when the condition holds), or nowhere.
	Hangup *Hangup `yaml:"hangup"`
	// Confidential makes every message of the flow confidential: the message log keeps a
	// placeholder for what the person sent and for what we said, and every answer is handed
	// to the gateway to seal (Seal) instead of being kept in the session.
	Confidential bool `yaml:"confidential"`
	// Detect names the step that words of concern lead to from any point of any conversation
	// (Config.Detect): the flow asks whether the person means it, and on no goes back to where
	// they were ("goto: resume"). At most one flow has it.
	Detect string `yaml:"detect"`
	// Interrupts marks a flow that staff start for a person (Engine.Start: their case was
	// answered) and that may come in the middle of another conversation: that conversation is
	// kept while the flow runs and, when it ends, goes on where it was, its question asked
	// again. Without it, a started flow replaces the conversation.
	Interrupts bool `yaml:"interrupts"`

	File  string           `yaml:"-"`
	Line  int              `yaml:"-"`
	steps map[string]*Step // by ID
}

// Hangup says what a hung-up call leaves behind. Steps it reaches say nothing to anyone.
type Hangup struct {
	When string `yaml:"when"` // "var=value" or "var!=value"; empty: always
	Goto string `yaml:"goto"`
	Line int    `yaml:"-"`
}

// UnmarshalYAML keeps the line, for error reports.
func (h *Hangup) UnmarshalYAML(n *yaml.Node) error {
	type plain Hangup
	if err := n.Decode((*plain)(h)); err != nil {
		return err
	}
	h.Line = n.Line
	return nil
}

// Step is one turn: what Sawt says, what it waits for and where each answer leads.
type Step struct {
	ID string `yaml:"id"`
	// Say is the texts said on entering the step, in order.
	Say Parts `yaml:"say"`
	// SayAll is a text said once in every language, each line in its own (the language menu).
	SayAll string `yaml:"say_all"`
	// Input is what the step waits for: "choice", "yesno", "text", or the name of a validator
	// the engine was given (e.g. "reference"). Empty: the step waits for nothing.
	Input   string    `yaml:"input"`
	Choices []*Choice `yaml:"choices"`
	Save    string    `yaml:"save"` // variable that keeps the answer (text, yesno, validator)
	Max     int       `yaml:"max"`  // for text: longer answers are kept whole, and the person told
	// Action is a call the gateway makes (open a case, look one up); On maps its outcome to
	// the next step, Goto is the default. A yesno step may also send "yes" and "no" apart
	// with On.
	Action string            `yaml:"action"`
	Args   map[string]string `yaml:"args"`
	On     map[string]string `yaml:"on"`
	Goto   string            `yaml:"goto"` // a step ID, "flow:<name>" or "end"
	// Repeat makes a step patient: an answer that is not understood is met with Retry and the
	// question again, as often as needed (the main menu).
	Repeat bool   `yaml:"repeat"`
	Retry  string `yaml:"retry"`
	// Errors maps a validator's problem ("length", "checksum", …) to the text explaining it.
	Errors map[string]string `yaml:"errors"`
	// CountTries tells the person how many tries they have left after a wrong answer.
	CountTries bool `yaml:"count_tries"`
	// GiveUp is said when the tries are used up, before going back to the menu.
	GiveUp string `yaml:"give_up"`
	// Confidential marks a step whose answer must never be kept in the message log.
	Confidential bool `yaml:"confidential"`
	// Only names the one channel the step is for ("voice"), or with "!" the one it is not for
	// ("!voice"); elsewhere it is passed over to its goto.
	Only string `yaml:"only"`
	// When is a condition on the session's variables, as a text's ("var=value", "var!=value",
	// several joined by commas, all of which must hold; "var=" is an empty or unset variable):
	// where it does not hold the step is passed over to its goto, as with Only. A choice step
	// whose question is already answered ("category=") goes on without asking it.
	When string `yaml:"when"`
	// Options makes a choice step's options come from data instead of choices: those the last
	// call gave (CallResult.Options), each labelled in the person's language. Choosing one keeps
	// its value in the variable Options names and its label in "<name>_label", then goes to
	// goto. They are offered and matched like choices (numbered, their labels typed in any
	// language); with no options from the call there is nothing to choose, and the person is
	// taken back to the main menu instead. Needs input: choice and a goto, and no choices.
	Options string `yaml:"options"`
	// Skip, on a text step, offers an option to skip the question, leading there. Not on the
	// phone, where a recording cannot be skipped by a key: ask before it instead.
	Skip string `yaml:"skip"`

	Line int `yaml:"-"`
}

// Choice is one option of a choice step.
type Choice struct {
	Label string `yaml:"label"` // text key
	// Language makes the option a language: its label is that language's own name and
	// choosing it sets the contact's language.
	Language string `yaml:"language"`
	// Set is variables choosing the option keeps. When the option leads to another flow
	// ("flow:<name>") they are carried into it, with Save, so that the flow starts knowing
	// them (a menu item that opens a complaint of a given category); not out of a confidential
	// flow, whose answers are sealed rather than kept.
	Set  map[string]string `yaml:"set"`
	Goto string            `yaml:"goto"`
	// Words are extra things people type for this option, in any script.
	Words []string `yaml:"words"`
	// Match names a validator (Config.Validators): an answer that is neither a button of the
	// step nor the number of one of its options, and that the validator accepts, chooses this
	// option, its value kept in Save (a verification code sent back). Tried before labels. The
	// main menu's match options are also tried on a message that starts the menu afresh (a
	// first message, one after an expired conversation), which then goes straight to them.
	Match string `yaml:"match"`
	// Save is the variable that keeps the value Match accepted; left unset when the option is
	// chosen by its number or label. Needed with match.
	Save string `yaml:"save"`

	Line int `yaml:"-"`
	// option is the data an option of an Options step was made from (nil for a YAML choice).
	option *Option
}

// Part is one text of a step: a key, optionally counted (plural forms) or conditional.
type Part struct {
	Text string `yaml:"text"`
	// Digits names a variable whose number is said digit by digit on the phone (a case
	// reference), and written as it is elsewhere. A part has Text or Digits.
	Digits string `yaml:"digits"`
	Count  string `yaml:"count"` // variable holding the number that picks the plural form
	When   string `yaml:"when"`  // "var=value" or "var!=value"
	Line   int    `yaml:"-"`
}

// Parts is a step's texts; in YAML a single key or a list of keys and {text, count, when}.
type Parts []Part

// UnmarshalYAML accepts `say: key`, `say: {digits: var}`, `say: [key, …]` and
// `say: [{text: key, count: n}, …]`.
func (p *Parts) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*p = Parts{{Text: n.Value, Line: n.Line}}
		return nil
	case yaml.MappingNode:
		var part Part
		if err := n.Decode(&part); err != nil {
			return err
		}
		part.Line = n.Line
		*p = Parts{part}
		return nil
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if item.Kind == yaml.ScalarNode {
				*p = append(*p, Part{Text: item.Value, Line: item.Line})
				continue
			}
			var part Part
			if err := item.Decode(&part); err != nil {
				return err
			}
			part.Line = item.Line
			*p = append(*p, part)
		}
		return nil
	}
	return fmt.Errorf("line %d: say must be a text key or a list of them", n.Line)
}

// UnmarshalYAML keeps the line of the step, for error reports.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	type plain Step
	if err := n.Decode((*plain)(s)); err != nil {
		return err
	}
	s.Line = n.Line
	return nil
}

// UnmarshalYAML keeps the line of the choice, for error reports.
func (c *Choice) UnmarshalYAML(n *yaml.Node) error {
	type plain Choice
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Line = n.Line
	return nil
}

// Step finds a step by ID.
func (f *Flow) Step(id string) *Step { return f.steps[id] }

// ParseFlow reads one flow file. Structural problems that make the flow unusable are errors;
// the rest is for Check.
func ParseFlow(file string, data []byte) (*Flow, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty file", file)
	}
	root := doc.Content[0]
	f := &Flow{File: file, Line: root.Line}
	dec := root
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	f.File, f.Line = file, root.Line
	if f.Name == "" {
		return nil, fmt.Errorf("%s:%d: flow has no name", file, root.Line)
	}
	if len(f.Steps) == 0 {
		return nil, fmt.Errorf("%s:%d: flow %q has no steps", file, root.Line, f.Name)
	}
	f.steps = make(map[string]*Step, len(f.Steps))
	for i, s := range f.Steps {
		if s == nil { // "- " alone in the list
			return nil, fmt.Errorf("%s:%d: step %d of flow %q is empty", file, root.Line, i+1, f.Name)
		}
		for j, c := range s.Choices {
			if c == nil {
				return nil, fmt.Errorf("%s:%d: choice %d of step %q is empty", file, s.Line, j+1, s.ID)
			}
		}
		if s.ID == "" {
			return nil, fmt.Errorf("%s:%d: step has no id", file, s.Line)
		}
		if _, dup := f.steps[s.ID]; dup {
			return nil, fmt.Errorf("%s:%d: step %q defined twice", file, s.Line, s.ID)
		}
		f.steps[s.ID] = s
	}
	if f.Start == "" {
		f.Start = f.Steps[0].ID
	}
	return f, nil
}

// LoadFlows reads every *.yaml file of fsys. Two files naming the same flow is an error.
func LoadFlows(fsys fs.FS) (map[string]*Flow, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	flows := map[string]*Flow{}
	var errs []string
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		f, err := ParseFlow(path.Base(name), data)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if other, dup := flows[f.Name]; dup {
			errs = append(errs, fmt.Sprintf("%s:%d: flow %q is also defined in %s", f.File, f.Line, f.Name, other.File))
			continue
		}
		flows[f.Name] = f
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return flows, nil
}
