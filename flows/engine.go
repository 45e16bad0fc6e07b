// Package flows is the conversation engine: pure and deterministic. It takes a session, the
// context of one turn (time, channel, language) and what the person sent, and returns the new
// session with a list of effects (replies, language and subscription changes) and at most one
// call for the gateway to make (open a case, look one up), whose result resumes the engine.
// It never touches the database or a provider, and reads no clock of its own, so a
// conversation replayed with the same inputs gives the same transcript.
package flows

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
)

// Names of the flows the engine itself enters.
const (
	MenuFlow     = "menu"
	LanguageFlow = "language"
	// PhoneFlow asks whether a phone number the person shared may be kept; optional.
	PhoneFlow = "phone"
	// VoicemailFlow takes a message a caller left while the line could not answer
	// (channels.VoicemailPayload), its recordings in the variable "recording"; optional.
	VoicemailFlow = "voicemail"
)

// MenuPayload is what the "main menu" option sends when pressed as a button.
const MenuPayload = channels.MenuPayload

// LabelSuffix names the variable that keeps the label of an option a call gave (Step.Options)
// in the person's language: "topic" has "topic_label".
const LabelSuffix = "_label"

// MediaSuffix names the variable that keeps the provider's ID of a voice note or recording
// given as a text answer: "description" has "description_media".
const MediaSuffix = "_media"

// Target keywords in goto.
const (
	gotoEnd    = "end"
	flowPrefix = "flow:"
	// gotoResume goes back to the conversation a detection interrupted (Flow.Detect).
	gotoResume = "resume"
)

// Built-in input types; any other input names a Validator.
const (
	InputChoice = "choice"
	InputYesNo  = "yesno"
	InputText   = "text"
)

// Session is where a contact is in the conversation.
type Session struct {
	Flow    string            `json:"flow,omitempty"`
	Step    string            `json:"step,omitempty"`
	Vars    map[string]string `json:"vars,omitempty"`
	Tries   int               `json:"tries,omitempty"`
	Calling bool              `json:"calling,omitempty"` // waiting on the result of a Call
	// Paused is the conversation a detection interrupted, resumed if the person says it is
	// not what they meant.
	Paused *Session `json:"paused,omitempty"`
	// Options are those the last call gave, offered by a step with Step.Options; entering
	// another flow drops them.
	Options []Option `json:"options,omitempty"`
	// UpdatedAt is when the session last moved, for the idle timeout.
	UpdatedAt time.Time `json:"updated_at"`
}

// Env is what the engine knows of the turn besides the input.
type Env struct {
	Now     time.Time
	Channel channels.Kind
	// Language is the contact's chosen language, "" until they choose.
	Language string
	// LanguageHint is a served language suggested by the provider: offered first.
	LanguageHint string
}

// Input is what the person sent.
type Input struct {
	Text    string
	Payload string // from a pressed button
	Media   []channels.Media
	// SharedPhone is a number the person shared as their own; see PhoneFlow.
	SharedPhone string
}

// Call asks the gateway to do something only it can (the database), then Resume.
type Call struct {
	Action string
	Args   map[string]string
}

// CallResult is what a Call gave: an outcome that picks the next step, and variables.
type CallResult struct {
	Outcome string
	Vars    map[string]string
	// Options are things to choose from that the call found (topics of updates), offered by a
	// step with Step.Options. They replace those of an earlier call.
	Options []Option
}

// Option is one option given by a call: the value kept when it is chosen, and its label in
// each language it has one in (a language code: ar, ckb, badini, en).
type Option struct {
	Value  string            `json:"value"`
	Labels map[string]string `json:"labels"`
}

// Effect is one consequence of a turn, applied by the gateway in order.
type Effect interface{ isEffect() }

// Reply is a message to send to the person. A confidential one is kept in the message log as
// a placeholder only.
type Reply struct {
	Message      Message
	Confidential bool
}

// Seal is an answer given in a confidential flow: the gateway encrypts it into the report
// at once. It is never kept in the session.
type Seal struct {
	Field string
	Value string
	Media []string // provider IDs of a recording or voice note given as the answer
}

// SetLanguage records the contact's choice of language.
type SetLanguage struct{ Language string }

// SetOptOut records that the contact stopped (true) or resumed (false) broadcasts.
type SetOptOut struct{ OptedOut bool }

func (Reply) isEffect()       {}
func (SetLanguage) isEffect() {}
func (SetOptOut) isEffect()   {}
func (Seal) isEffect()        {}

// Sprint is the result of one Step or Resume.
type Sprint struct {
	Session Session
	Effects []Effect
	// Call, when not nil, must be made and its result given to Resume.
	Call *Call
	// Confidential is true when the input just taken belongs to a confidential step: the
	// message log must not keep its text.
	Confidential bool
}

// Validator checks an answer of its input type: it returns the value to keep, or a problem
// code ("length", "checksum", …) that the step's Errors map to a text.
type Validator func(input string) (value, problem string)

// Config tunes the engine. Zero values mean the defaults.
type Config struct {
	// IdleTimeout is how long a conversation waits for an answer before the next message
	// starts again at the menu. Defaults to DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxTries is how many answers a step accepts that it does not understand before going
	// back to the menu. Defaults to DefaultMaxTries.
	MaxTries int
	// Validators are the input types beyond choice, yesno and text.
	Validators map[string]Validator
	// Actions are the calls the gateway answers, each with the outcomes it may return.
	Actions map[string][]string
	// Detect, when set, looks at every message (folded by locales.Fold) for words of concern
	// (a report of abuse): a match leads to the Detect step of the flow that has one, wherever
	// the person was. It returns the language the words are in.
	Detect func(folded string) (lang string, ok bool)
}

// Defaults of Config.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxTries    = 3
	maxStepsPerTurn    = 100 // guards against a flow that loops without waiting
)

func (c Config) withDefaults() Config {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxTries <= 0 {
		c.MaxTries = DefaultMaxTries
	}
	return c
}

// Engine runs the flows. It is safe for concurrent use: all its state is read-only.
type Engine struct {
	flows    map[string]*Flow
	texts    *locales.Catalog
	cfg      Config
	commands map[string]command // folded word → command
	yes, no  map[string]bool
	// labels holds each option's folded forms people may type: computed once, since
	// matching runs on every message.
	labels map[*Choice][]string
	// detect is the flow with a Detect step, if any.
	detect *Flow
}

type command struct {
	name string // menu, language, stop, start
	lang string // the language the word belongs to
}

// Text keys the engine itself uses; they must exist like any flow's.
var engineKeys = []string{
	keyNotUnderstood, keyNeedWords, keyTooManyTries, keyTriesLeft, keyTextLong, keyExpired,
	keyStopped, keyStarted, keyMenuLabel, keyWelcome, keyLanguageSelf, keyYes, keyNo, keyMediaNotExpected, keySkip,
	"command.menu", "command.language", "command.stop", "command.start", "yesno.yes.words", "yesno.no.words",
}

const (
	keyNotUnderstood = "common.not_understood"
	keyNeedWords     = "common.need_words"
	keyTooManyTries  = "common.too_many_tries"
	keyTriesLeft     = "common.tries_left"
	keyTextLong      = "common.text_long"
	keyExpired       = "common.expired"
	keyStopped       = "common.stopped"
	keyStarted       = "common.started"
	keyMenuLabel     = "common.main_menu"
	keyWelcome       = "menu.welcome"
	keyLanguageSelf  = "language.self"
	keyLanguageName  = "language.name." // + the language: its name in each language
	keyYes           = "yesno.yes"
	keyNo            = "yesno.no"

	keyMediaNotExpected = "common.media_not_expected"
	keySkip             = "common.skip"
)

// New makes an engine over the given flows and texts. It does not validate them: run Check.
func New(defs map[string]*Flow, texts *locales.Catalog, cfg Config) (*Engine, error) {
	for _, name := range []string{MenuFlow, LanguageFlow} {
		if defs[name] == nil {
			return nil, fmt.Errorf("flow %q is missing", name)
		}
	}
	e := &Engine{flows: defs, texts: texts, cfg: cfg.withDefaults(), commands: map[string]command{},
		yes: map[string]bool{"1": true}, no: map[string]bool{"2": true}}
	for _, lang := range locales.Languages {
		for _, name := range []string{"menu", "language", "stop", "start"} {
			for _, w := range texts.Words(lang, "command."+name) {
				if _, taken := e.commands[w]; !taken {
					e.commands[w] = command{name, lang}
				}
			}
		}
		for _, w := range texts.Words(lang, "yesno.yes.words") {
			e.yes[w] = true
		}
		for _, w := range texts.Words(lang, "yesno.no.words") {
			e.no[w] = true
		}
	}
	e.commands["0"] = command{name: "menu"}
	e.labels = map[*Choice][]string{}
	for _, f := range defs {
		if f.Detect != "" && f.steps[f.Detect] != nil && (e.detect == nil || f.Name < e.detect.Name) {
			e.detect = f
		}
		for _, st := range f.Steps {
			for _, c := range st.Choices {
				e.labels[c] = e.foldedLabels(c)
			}
		}
	}
	return e, nil
}

// foldedLabels are the folded forms of an option in every language, plus its words.
func (e *Engine) foldedLabels(c *Choice) []string {
	var out []string
	if c.option != nil {
		for _, lang := range sortedKeys(c.option.Labels) {
			if label := locales.Fold(c.option.Labels[lang]); label != "" {
				out = append(out, label)
			}
		}
		return out
	}
	key, langs := c.Label, locales.Languages
	if c.Language != "" {
		key, langs = keyLanguageSelf, []string{c.Language}
		out = append(out, locales.Fold(c.Language))
	}
	for _, lang := range langs {
		if text, err := e.texts.Text(lang, key, nil, nil); err == nil {
			out = append(out, locales.Fold(text))
		}
	}
	for _, w := range c.Words {
		out = append(out, locales.Fold(w))
	}
	return out
}

// Step takes one input from the person.
func (e *Engine) Step(sess Session, env Env, in Input) Sprint {
	r := e.newRun(sess, env)
	// Whatever arrives in a confidential conversation is confidential, even "menu".
	wasConfidential := r.confidential()
	r.step(in)
	r.out.Confidential = r.out.Confidential || wasConfidential
	return r.finish()
}

// Start begins a flow that no message of the person asked for: staff answered their case, and
// the flow tells them and asks what they think. vars are known to the flow from its start (the
// case, its reference, the answer), as a menu option's are. A flow that interrupts
// (Flow.Interrupts) keeps a conversation in progress to go on with when it ends; any other
// replaces it. Like Step, the sprint may carry a Call to make and Resume with. An unknown flow
// starts nothing: the session comes back as it was, with no effects (see HasFlow).
func (e *Engine) Start(sess Session, env Env, flow string, vars map[string]string) Sprint {
	f := e.flows[flow]
	if f == nil {
		return Sprint{Session: sess}
	}
	r := e.newRun(sess, env)
	var paused *Session
	if f.Interrupts && r.active() {
		p := r.sess
		paused = &p
	}
	r.sess = Session{Flow: f.Name, Step: f.Start, Vars: make(map[string]string, len(vars)), Paused: paused}
	for k, v := range vars {
		r.sess.Vars[k] = v
	}
	r.advance()
	return r.finish()
}

// HasFlow reports whether the engine has a flow of this name.
func (e *Engine) HasFlow(name string) bool { return e.flows[name] != nil }

// Resume continues after a Call with its result.
func (e *Engine) Resume(sess Session, env Env, res CallResult) Sprint {
	r := e.newRun(sess, env)
	st := r.current()
	if !sess.Calling || st == nil || st.Action == "" {
		// Nothing was waiting for this result: start again rather than guess.
		r.enterFlow(MenuFlow)
		return r.finish()
	}
	r.sess.Calling = false
	for k, v := range res.Vars {
		r.sess.Vars[k] = v
	}
	r.sess.Options = res.Options
	next := st.Goto
	if t, ok := st.On[res.Outcome]; ok {
		next = t
	}
	r.goTo(next)
	return r.finish()
}

type run struct {
	e     *Engine
	env   Env
	sess  Session
	out   Sprint
	msg   Message
	steps int
	// silent drops every reply: no one is there to hear them (the caller hung up).
	silent bool
	// msgConfidential: something of the message being built was said in a confidential flow.
	msgConfidential bool
}

func (e *Engine) newRun(sess Session, env Env) *run {
	if sess.Vars == nil {
		sess.Vars = map[string]string{}
	} else {
		vars := make(map[string]string, len(sess.Vars))
		for k, v := range sess.Vars {
			vars[k] = v
		}
		sess.Vars = vars
	}
	return &run{e: e, env: env, sess: sess}
}

func (r *run) finish() Sprint {
	r.flush()
	r.sess.UpdatedAt = r.env.Now
	r.out.Session = r.sess
	return r.out
}

func (r *run) current() *Step {
	f := r.e.flows[r.sess.Flow]
	if f == nil {
		return nil
	}
	return f.steps[r.sess.Step]
}

// idle reports whether the session rests at the main menu, where any input is a menu answer.
func (r *run) idle() bool {
	f := r.e.flows[MenuFlow]
	return r.sess.Flow == MenuFlow && r.sess.Step == f.Start
}

func (r *run) step(in Input) {
	folded := locales.Fold(in.Text)
	switch in.Payload {
	case channels.CallPayload:
		// A call starts from the top: the language menu, or a welcome and the main menu.
		r.sess = Session{}
		r.begin(Input{}, "")
		return
	case channels.HangupPayload:
		r.hangup()
		return
	case channels.VoicemailPayload:
		// A message a caller left while the line could not answer them: whatever they were
		// doing is over, and what they said becomes a call-back case.
		var ids []string
		for _, m := range in.Media {
			if m.ID != "" {
				ids = append(ids, m.ID)
			}
		}
		r.sess = Session{}
		if r.e.flows[VoicemailFlow] != nil {
			r.enterFlowWith(VoicemailFlow, map[string]string{"recording": strings.Join(ids, " ")})
		}
		return
	}
	cmd, ok := r.e.commands[folded]
	switch in.Payload {
	case "":
	case MenuPayload:
		cmd, ok = command{name: "menu"}, true
	case channels.StopPayload, channels.StartPayload:
		cmd, ok = command{name: in.Payload, lang: r.e.commands[folded].lang}, true
	default:
		ok = false
	}
	if ok && r.command(cmd) {
		return
	}
	if r.detected(in, folded) {
		return
	}
	if in.SharedPhone != "" && r.env.Language != "" && r.e.flows[PhoneFlow] != nil {
		r.enterFlow(PhoneFlow)
		r.sess.Vars["phone"] = in.SharedPhone
		return
	}
	st := r.current()
	switch {
	case r.sess.Flow == "" || st == nil || r.sess.Calling || r.env.Language == "" && r.sess.Flow != LanguageFlow:
		r.begin(in, folded)
	case r.env.Now.Sub(r.sess.UpdatedAt) > r.e.cfg.IdleTimeout && !r.idle():
		if r.env.Language == "" {
			r.begin(in, folded) // nothing was said in a language they chose: simply start
			return
		}
		if r.menuMatch(in, folded) {
			return
		}
		r.say(keyExpired, nil)
		r.enterFlow(MenuFlow)
	default:
		r.answer(st, in, folded)
	}
}

// confidential reports whether the conversation is in a confidential flow.
func (r *run) confidential() bool {
	f := r.e.flows[r.sess.Flow]
	return f != nil && f.Confidential
}

// detected looks for words of concern in what the person wrote, outside a confidential flow:
// on a match the message is confidential, and the person is asked the Detect step's question,
// the conversation they were in kept to go back to. The words tell the language of a person
// who has not chosen one yet.
func (r *run) detected(in Input, folded string) bool {
	d := r.e.detect
	if d == nil || r.e.cfg.Detect == nil || in.Payload != "" || r.confidential() {
		return false
	}
	lang, ok := r.e.cfg.Detect(folded)
	if !ok {
		return false
	}
	r.out.Confidential = true
	var paused *Session
	if r.active() {
		p := r.sess
		paused = &p
	}
	if r.env.Language == "" && locales.Valid(lang) {
		r.env.Language = lang
		r.out.Effects = append(r.out.Effects, SetLanguage{Language: lang})
	}
	r.sess = Session{Flow: d.Name, Step: d.Detect, Vars: map[string]string{}, Paused: paused}
	r.advance()
	return true
}

// active reports whether the person is in the middle of a conversation: at a question of a
// flow (not resting at the main menu, nor choosing a language), not gone idle.
func (r *run) active() bool {
	return r.current() != nil && !r.sess.Calling && !r.idle() && r.sess.Flow != LanguageFlow &&
		r.env.Now.Sub(r.sess.UpdatedAt) <= r.e.cfg.IdleTimeout
}

// resume goes back to the conversation a detection or a started flow interrupted, asking its
// question again; with none, to the main menu. What that conversation had interrupted in turn
// stays kept.
func (r *run) resume() {
	p := r.sess.Paused
	if p == nil || r.e.flows[p.Flow] == nil || r.e.flows[p.Flow].steps[p.Step] == nil {
		r.enterFlow(MenuFlow)
		return
	}
	r.sess = *p
	r.sess.Tries = 0
	if r.sess.Vars == nil {
		r.sess.Vars = map[string]string{}
	}
	r.advance()
}

// hangup closes a conversation whose call ended: the flow's hangup step keeps what can be
// kept, silently; otherwise it is dropped, and the next message starts afresh.
func (r *run) hangup() {
	r.silent = true
	f := r.e.flows[r.sess.Flow]
	if f != nil && f.Hangup != nil && !r.sess.Calling && r.when(f.Hangup.When) {
		r.goTo(f.Hangup.Goto)
		return
	}
	r.sess = Session{}
}

// begin greets a contact without a conversation: the language menu until they have chosen
// (taking their first message as the choice when it names a language), else the main menu.
func (r *run) begin(in Input, folded string) {
	if r.env.Language == "" {
		lf := r.e.flows[LanguageFlow]
		start := lf.steps[lf.Start]
		r.sess = Session{Flow: LanguageFlow, Step: lf.Start, Vars: map[string]string{}}
		if c, _ := r.matchChoice(start, in, folded); c != nil && c.Language != "" {
			r.choose(start, c, "")
			return
		}
		r.advance()
		return
	}
	if r.menuMatch(in, folded) {
		return
	}
	r.say(keyWelcome, nil)
	r.enterFlow(MenuFlow)
}

// menuMatch starts the main menu afresh at one of its options chosen by a validator
// (Choice.Match), when what the person sent is such an answer: a verification code sent back
// goes straight to its flow, without a welcome or word of an expired conversation.
func (r *run) menuMatch(in Input, folded string) bool {
	menu := r.e.flows[MenuFlow]
	start := menu.steps[menu.Start]
	if start == nil || start.Input != InputChoice {
		return false
	}
	c, value := r.matchValidated(start.Choices, in, folded)
	if c == nil {
		return false
	}
	r.sess = Session{Flow: MenuFlow, Step: menu.Start, Vars: map[string]string{}}
	r.choose(start, c, value)
	return true
}

// command runs a global command; false means it does not apply here and the input is an
// ordinary answer.
func (r *run) command(cmd command) bool {
	if cmd.name == "menu" && r.env.Language == "" {
		return false // the language menu is the only menu yet
	}
	if r.env.Language == "" && r.env.LanguageHint == "" {
		r.env.LanguageHint = cmd.lang // answer in the language the word was written in
	}
	switch cmd.name {
	case "menu":
		r.enterFlow(MenuFlow)
	case "language":
		r.enterFlow(LanguageFlow)
	case "stop":
		r.out.Effects = append(r.out.Effects, SetOptOut{OptedOut: true})
		r.say(keyStopped, nil)
		r.flushWithMenuHint()
	case "start":
		if r.sess.Flow == "" {
			return false // a first message (Telegram's /start): greet, there is nothing to resume
		}
		r.out.Effects = append(r.out.Effects, SetOptOut{OptedOut: false})
		r.say(keyStarted, nil)
		r.flushWithMenuHint()
	default:
		return false
	}
	return true
}

// answer takes the person's answer to the step they are at.
func (r *run) answer(st *Step, in Input, folded string) {
	r.out.Confidential = st.Confidential || r.confidential()
	switch st.Input {
	case InputChoice, InputYesNo:
		c, value := r.matchChoice(st, in, folded)
		if c == nil {
			key := keyNotUnderstood
			if len(in.Media) > 0 && folded == "" {
				key = keyMediaNotExpected
			}
			r.invalid(st, key, true, isNumber(folded))
			return
		}
		r.choose(st, c, value)
	case InputText:
		if c := r.matchSkip(st, in, folded); c != nil {
			r.goTo(c.Goto)
			return
		}
		text := strings.TrimSpace(in.Text)
		if !hasWords(text) && len(in.Media) > 0 {
			// A voice note or a picture answers "what happened" as well as words: keep its
			// caption, or what it is; the message log holds the media itself.
			text = strings.TrimSpace(text + " [" + in.Media[0].Type + "]")
		} else if !hasWords(text) {
			r.invalid(st, keyNeedWords, false, false)
			return
		}
		if r.confidential() {
			seal := Seal{Field: st.Save, Value: text}
			for _, m := range in.Media {
				if m.ID != "" {
					seal.Media = append(seal.Media, m.ID)
				}
			}
			r.out.Effects = append(r.out.Effects, seal)
		} else {
			r.sess.Vars[st.Save] = text
			if len(in.Media) > 0 && in.Media[0].ID != "" {
				r.sess.Vars[st.Save+MediaSuffix] = in.Media[0].ID // a case links to the recording
			}
		}
		if n := utf8.RuneCountInString(text); st.Max > 0 && n > st.Max {
			if !r.confidential() {
				r.sess.Vars[st.Save+"_long"] = "yes"
			}
			r.sayCount(keyTextLong, nil, n)
		}
		r.goTo(st.Goto)
	default:
		validate := r.e.cfg.Validators[st.Input]
		if validate == nil {
			r.enterFlow(MenuFlow) // Check reports this; never strand the person
			return
		}
		value, problem := validate(in.Text)
		if problem != "" {
			key := st.Errors[problem]
			if len(in.Media) > 0 && strings.TrimSpace(in.Text) == "" {
				key = keyMediaNotExpected
			}
			if key == "" {
				key = keyNotUnderstood
			}
			r.invalid(st, key, false, false)
			return
		}
		r.keep(st.Save, value)
		r.goTo(st.Goto)
	}
}

// keep keeps an answer: in the session, or in a confidential flow sealed into the report.
func (r *run) keep(name, value string) {
	if r.confidential() {
		r.out.Effects = append(r.out.Effects, Seal{Field: name, Value: value})
		return
	}
	r.sess.Vars[name] = value
}

// matchSkip finds the skip option of a text step in what the person sent: its button, its
// number, or its label in any language.
func (r *run) matchSkip(st *Step, in Input, folded string) *Choice {
	choices := r.choices(st)
	if len(choices) == 0 {
		return nil
	}
	if in.Payload != "" {
		c, _ := r.matchChoice(st, in, folded)
		return c
	}
	if folded == "1" {
		return choices[0]
	}
	for _, label := range r.labels(choices[0]) {
		if label == folded {
			return choices[0]
		}
	}
	return nil
}

// invalid answers an answer that was not understood: explain, and ask again until the tries
// are used up, then back to the menu. wrongNumber says the person sent a number the step
// does not offer.
func (r *run) invalid(st *Step, key string, reask, wrongNumber bool) {
	if st.Repeat {
		// A patient step asks again: a wrong number with its retry text in place of the
		// question; words (a greeting to the main menu) or a step without a retry text (the
		// language menu, which no one language explains) with the question as before.
		if st.Retry == "" || !wrongNumber {
			r.advance()
			return
		}
		r.say(st.Retry, nil)
		r.wait(st)
		return
	}
	r.sess.Tries++
	if r.sess.Tries >= r.e.cfg.MaxTries {
		give := st.GiveUp
		if give == "" {
			give = keyTooManyTries
		}
		r.say(give, nil)
		r.enterFlow(MenuFlow)
		return
	}
	r.say(key, nil)
	if st.CountTries {
		r.sayCount(keyTriesLeft, nil, r.e.cfg.MaxTries-r.sess.Tries)
	}
	if reask {
		r.advance()
		return
	}
	r.wait(st)
}

// choose takes an option: its language, its variables (and saved, the value its validator
// accepted, kept in its Save), then where it leads. Into another flow the variables go along,
// except out of a confidential flow, where they were sealed.
func (r *run) choose(st *Step, c *Choice, saved string) {
	if c.Language != "" {
		r.env.Language = c.Language
		r.out.Effects = append(r.out.Effects, SetLanguage{Language: c.Language})
	}
	carry := map[string]string{}
	for _, k := range sortedKeys(c.Set) {
		r.keep(k, c.Set[k])
		carry[k] = c.Set[k]
	}
	if c.Save != "" && saved != "" {
		r.keep(c.Save, saved)
		carry[c.Save] = saved
	}
	if name, ok := strings.CutPrefix(c.Goto, flowPrefix); ok && !r.confidential() {
		r.enterFlowWith(name, carry)
		return
	}
	r.goTo(c.Goto)
}

// goTo moves to a target: a step of the current flow, "flow:<name>" or "end".
func (r *run) goTo(target string) {
	switch {
	case target == "" || target == gotoEnd:
		r.end()
	case strings.HasPrefix(target, flowPrefix):
		r.enterFlow(strings.TrimPrefix(target, flowPrefix))
	case target == gotoResume:
		r.resume()
	default:
		r.sess.Step, r.sess.Tries = target, 0
		r.advance()
	}
}

func (r *run) enterFlow(name string) { r.enterFlowWith(name, nil) }

// enterFlowWith starts a flow afresh (variables and options of the last one dropped), knowing
// vars from the start.
func (r *run) enterFlowWith(name string, vars map[string]string) {
	f := r.e.flows[name]
	if f == nil {
		f = r.e.flows[MenuFlow]
	}
	if name == MenuFlow && r.env.Language == "" {
		f = r.e.flows[LanguageFlow]
	}
	r.sess = Session{Flow: f.Name, Step: f.Start, Vars: make(map[string]string, len(vars))}
	for k, v := range vars {
		r.sess.Vars[k] = v
	}
	r.advance()
}

// end finishes a flow: the person rests at the main menu, which is not said again; the last
// message offers it. A flow that interrupted a conversation (Flow.Interrupts) goes back to it.
func (r *run) end() {
	if f := r.e.flows[r.sess.Flow]; f != nil && f.Interrupts && r.sess.Paused != nil {
		r.resume()
		return
	}
	menu := r.e.flows[MenuFlow]
	r.sess = Session{Flow: MenuFlow, Step: menu.Start, Vars: map[string]string{}}
	r.flushWithMenuHint()
}

// advance says the current step and runs on until a step waits for input or a call.
func (r *run) advance() {
	for {
		r.steps++
		st := r.current()
		if st == nil || r.steps > maxStepsPerTurn {
			r.end()
			return
		}
		if !onChannel(st.Only, r.env.Channel) || !r.when(st.When) {
			if st.Goto == "" || st.Goto == gotoEnd || st.Goto == gotoResume || strings.HasPrefix(st.Goto, flowPrefix) {
				r.goTo(st.Goto)
				return
			}
			r.sess.Step, r.sess.Tries = st.Goto, 0
			continue
		}
		if st.Options != "" && len(r.sess.Options) == 0 {
			r.enterFlow(MenuFlow) // the call found nothing to choose from
			return
		}
		if st.SayAll != "" {
			for _, lang := range locales.Languages {
				r.sayIn(lang, st.SayAll, nil, nil)
			}
		}
		for _, p := range st.Say {
			if !r.when(p.When) {
				continue
			}
			if p.Digits != "" {
				r.sayDigits(r.sess.Vars[p.Digits])
				continue
			}
			if p.Count != "" {
				n, _ := strconv.Atoi(r.sess.Vars[p.Count])
				r.sayCount(p.Text, r.sess.Vars, n)
				continue
			}
			r.say(p.Text, r.sess.Vars)
		}
		switch {
		case st.Input != "":
			r.wait(st)
			return
		case st.Action != "":
			r.flush()
			args := make(map[string]string, len(st.Args))
			for k, v := range st.Args {
				args[k] = r.expand(v)
			}
			r.out.Call = &Call{Action: st.Action, Args: args}
			r.sess.Calling = true
			return
		case st.Goto != "" && st.Goto != gotoEnd:
			if strings.HasPrefix(st.Goto, flowPrefix) || st.Goto == gotoResume {
				r.goTo(st.Goto)
				return
			}
			r.sess.Step, r.sess.Tries = st.Goto, 0
		default:
			r.end()
			return
		}
	}
}

// wait finishes the message with the step's options and waits for the answer.
func (r *run) wait(st *Step) {
	r.msg.Expect = st.Input
	r.msgConfidential = r.msgConfidential || r.confidential()
	for i, c := range r.choices(st) {
		n := strconv.Itoa(i + 1)
		label, lang, alt := r.choiceLabel(c)
		key := c.Label
		if c.Language != "" {
			key = keyLanguageSelf
		}
		r.msg.Choices = append(r.msg.Choices, MenuChoice{
			Number: n, Key: key, Language: lang, Label: label, Alt: alt,
			Payload: r.sess.Flow + "." + st.ID + ":" + n,
		})
	}
	r.flush()
}

func (r *run) flushWithMenuHint() {
	label, lang := r.text(keyMenuLabel, nil, nil)
	r.msg.Choices = append(r.msg.Choices, MenuChoice{Number: "0", Key: keyMenuLabel, Language: lang, Label: label,
		Payload: MenuPayload, Alt: r.alt(lang, keyMenuLabel, nil, nil)})
	r.flush()
}

func (r *run) flush() {
	if r.silent {
		r.msg = Message{}
		return
	}
	if len(r.msg.Parts) == 0 && len(r.msg.Choices) == 0 {
		return
	}
	r.msg.Language = r.lang()
	r.out.Effects = append(r.out.Effects, Reply{Message: r.msg, Confidential: r.msgConfidential})
	r.msg, r.msgConfidential = Message{}, false
}

func (r *run) lang() string {
	if r.env.Language != "" {
		return r.env.Language
	}
	if r.env.LanguageHint != "" {
		return r.env.LanguageHint
	}
	return locales.Arabic
}

func (r *run) say(key string, data map[string]string) { r.sayIn(r.lang(), key, data, nil) }

func (r *run) sayCount(key string, data map[string]string, n int) { r.sayIn(r.lang(), key, data, &n) }

func (r *run) sayIn(lang, key string, data map[string]string, count *int) {
	text, used, err := r.e.texts.TextWithLanguage(lang, key, data, count)
	if err != nil {
		text, used = key, lang // flows check fails on this; never fail a person's turn
	}
	r.msg.Parts = append(r.msg.Parts, Said{Key: key, Language: used, Text: text, Alt: r.alt(used, key, data, count)})
	r.msgConfidential = r.msgConfidential || r.confidential()
}

// alt is a Kurdish text in Arabic, on the voice channel only: Kurdish has no text-to-speech,
// and Arabic is what most Kurdish callers understand best after their own language.
func (r *run) alt(lang, key string, data map[string]string, count *int) string {
	if !r.needsAlt(lang) {
		return ""
	}
	text, err := r.e.texts.Text(locales.Arabic, key, data, count)
	if err != nil {
		return ""
	}
	return text
}

// needsAlt reports whether a text in lang is said in Arabic as well (see alt).
func (r *run) needsAlt(lang string) bool {
	return r.env.Channel == channels.Voice && (lang == locales.Sorani || lang == locales.Badini)
}

// sayDigits says a number: as written on text channels, digit by digit on the phone.
func (r *run) sayDigits(number string) {
	var digits strings.Builder
	for _, c := range number {
		if c >= '0' && c <= '9' {
			digits.WriteRune(c)
		}
	}
	if digits.Len() == 0 {
		return
	}
	r.msg.Parts = append(r.msg.Parts, Said{Language: r.lang(), Text: number, Digits: digits.String()})
	r.msgConfidential = r.msgConfidential || r.confidential()
}

func (r *run) text(key string, data map[string]string, count *int) (string, string) {
	text, used, err := r.e.texts.TextWithLanguage(r.lang(), key, data, count)
	if err != nil {
		return key, r.lang()
	}
	return text, used
}

// choices are a step's options in the order offered: yes/no for yesno steps; the hinted
// language first in a language menu.
func (r *run) choices(st *Step) []*Choice {
	if st.Input == InputYesNo {
		yes, no := st.Goto, st.Goto
		if t, ok := st.On["yes"]; ok {
			yes = t
		}
		if t, ok := st.On["no"]; ok {
			no = t
		}
		yesNo := []*Choice{{Label: keyYes, Goto: yes}, {Label: keyNo, Goto: no}}
		if st.Save != "" {
			yesNo[0].Set, yesNo[1].Set = map[string]string{st.Save: "yes"}, map[string]string{st.Save: "no"}
		}
		return yesNo
	}
	if st.Input == InputText {
		if st.Skip == "" || r.env.Channel == channels.Voice {
			return nil
		}
		return []*Choice{{Label: keySkip, Goto: st.Skip}}
	}
	if st.Options != "" {
		return r.options(st)
	}
	if r.env.LanguageHint == "" {
		return st.Choices
	}
	for i, c := range st.Choices {
		if c.Language == r.env.LanguageHint && i > 0 {
			ordered := append([]*Choice{c}, st.Choices[:i]...)
			return append(ordered, st.Choices[i+1:]...)
		}
	}
	return st.Choices
}

// options are the options of a step with Step.Options: those of the last call, each keeping
// its value and its label in the person's language.
func (r *run) options(st *Step) []*Choice {
	out := make([]*Choice, 0, len(r.sess.Options))
	for i := range r.sess.Options {
		o := &r.sess.Options[i]
		label, _ := r.optionLabel(o)
		out = append(out, &Choice{Goto: st.Goto, option: o,
			Set: map[string]string{st.Options: o.Value, st.Options + LabelSuffix: label}})
	}
	return out
}

// optionLabel is an option's label in the person's language, else the first of its fallbacks
// (locales.Fallbacks) it has, else any; with the language it is in.
func (r *run) optionLabel(o *Option) (label, lang string) {
	for _, l := range locales.Fallbacks(r.lang()) {
		if o.Labels[l] != "" {
			return o.Labels[l], l
		}
	}
	for _, l := range locales.Languages {
		if o.Labels[l] != "" {
			return o.Labels[l], l
		}
	}
	for _, l := range sortedKeys(o.Labels) {
		if o.Labels[l] != "" {
			return o.Labels[l], l
		}
	}
	return o.Value, r.lang()
}

func (r *run) choiceLabel(c *Choice) (label, lang, alt string) {
	if c.option != nil {
		label, lang = r.optionLabel(c.option)
		if r.needsAlt(lang) {
			alt = c.option.Labels[locales.Arabic]
		}
		return label, lang, alt
	}
	if c.Language != "" {
		text, _, err := r.e.texts.TextWithLanguage(c.Language, keyLanguageSelf, nil, nil)
		if err != nil {
			return c.Language, c.Language, ""
		}
		return text, c.Language, r.alt(c.Language, keyLanguageName+c.Language, nil, nil)
	}
	label, lang = r.text(c.Label, nil, nil)
	return label, lang, r.alt(lang, c.Label, nil, nil)
}

// matchChoice finds the option the person meant: a pressed button, the option's number in any
// digit script, an answer its validator accepts (Choice.Match, with the value to keep), its
// label in any of the four languages or one of its words, or a word that appears in exactly
// one option's label.
func (r *run) matchChoice(st *Step, in Input, folded string) (*Choice, string) {
	choices := r.choices(st)
	if in.Payload != "" {
		prefix := r.sess.Flow + "." + st.ID + ":"
		if n, ok := strings.CutPrefix(in.Payload, prefix); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 1 && i <= len(choices) {
				return choices[i-1], ""
			}
		}
		return nil, "" // a button from an older message
	}
	if folded == "" {
		return nil, ""
	}
	if c, value := r.matchValidated(choices, in, folded); c != nil {
		return c, value
	}
	if i, err := strconv.Atoi(folded); err == nil {
		if i >= 1 && i <= len(choices) {
			return choices[i-1], ""
		}
		return nil, ""
	}
	if st.Input == InputYesNo {
		switch {
		case r.e.yes[folded]:
			return choices[0], ""
		case r.e.no[folded]:
			return choices[1], ""
		}
	}
	var byWord *Choice
	ambiguous := false
	for _, c := range choices {
		for _, label := range r.labels(c) {
			if label == folded {
				return c, ""
			}
			if wordsMatch(label, folded) {
				if byWord != nil && byWord != c {
					ambiguous = true
				}
				byWord = c
			}
		}
	}
	if ambiguous {
		return nil, ""
	}
	return byWord, ""
}

// matchValidated finds the first option whose validator (Choice.Match) accepts what the person
// typed, with the value to keep. A pressed button or the number of an option is that option,
// never a validated answer.
func (r *run) matchValidated(choices []*Choice, in Input, folded string) (*Choice, string) {
	if in.Payload != "" || folded == "" {
		return nil, ""
	}
	if i, err := strconv.Atoi(folded); err == nil && i >= 1 && i <= len(choices) {
		return nil, ""
	}
	for _, c := range choices {
		validate := r.e.cfg.Validators[c.Match]
		if c.Match == "" || validate == nil {
			continue
		}
		if value, problem := validate(in.Text); problem == "" {
			return c, value
		}
	}
	return nil, ""
}

// wordsMatch reports whether every word typed (three letters or more) is a word of the label
// or the start of one: "info" for "Information", "fire" for "Fire safety in camps".
func wordsMatch(label, typed string) bool {
	words := strings.Fields(typed)
	if len(words) == 0 {
		return false
	}
	labelWords := strings.Fields(label)
	for _, w := range words {
		if utf8.RuneCountInString(w) < 3 {
			return false
		}
		found := false
		for _, l := range labelWords {
			if strings.HasPrefix(l, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// labels are the folded forms of an option (from the cache for the engine's own flows; yes/no
// options are made per step, with words of their own).
func (r *run) labels(c *Choice) []string {
	if l, ok := r.e.labels[c]; ok {
		return l
	}
	return r.e.foldedLabels(c)
}

// onChannel reports whether a step's only: lets it run on channel ch.
func onChannel(only string, ch channels.Kind) bool {
	if only == "" {
		return true
	}
	if not, ok := strings.CutPrefix(only, "!"); ok {
		return not != string(ch)
	}
	return only == string(ch)
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// hasWords reports whether text has at least one letter or digit: an answer of only emoji or
// punctuation is not an answer to "what happened".
func hasWords(text string) bool {
	for _, c := range text {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			return true
		}
	}
	return false
}

// when evaluates a condition: "var=value", "var!=value", several of them joined by commas
// (all must hold), or "" (always).
func (r *run) when(cond string) bool {
	if cond == "" {
		return true
	}
	if first, rest, ok := strings.Cut(cond, ","); ok {
		return r.when(first) && r.when(rest)
	}
	if name, want, ok := strings.Cut(cond, "!="); ok {
		return r.value(name) != strings.TrimSpace(want)
	}
	name, want, _ := strings.Cut(cond, "=")
	return r.value(name) == strings.TrimSpace(want)
}

// value is a variable of a condition: the session's, or "channel", the kind the person
// writes or calls on.
func (r *run) value(name string) string {
	name = strings.TrimSpace(name)
	if name == "channel" {
		return string(r.env.Channel)
	}
	return r.sess.Vars[name]
}

// expand fills {{var}} placeholders of an action argument from the session's variables.
func (r *run) expand(s string) string {
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return s
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return s
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		s = s[:i] + r.sess.Vars[name] + s[i+j+2:]
	}
}
