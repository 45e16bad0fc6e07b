package flows_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
)

// featureMenu is a main menu with an item that opens the complaint flow knowing its category,
// and one chosen by a verification code sent back.
const featureMenu = `name: menu
steps:
  - id: main
    say: menu.ask
    input: choice
    repeat: true
    retry: menu.retry
    choices:
      - {label: menu.complaint, goto: "flow:complaint"}
      - {label: menu.feedback, set: {category: misconduct_fraud}, goto: "flow:complaint"}
      - {label: menu.status, match: code, save: code, goto: "flow:verify"}
      - {label: menu.info, goto: "flow:topics"}
      - {label: menu.language, goto: "flow:language"}
`

// featureComplaint asks the category only when it is not known yet.
const featureComplaint = `name: complaint
steps:
  - id: category
    when: "category="
    goto: describe
    say: complaint.category
    input: choice
    choices:
      - {label: complaint.category.assistance, set: {category: assistance_request}, goto: describe}
      - {label: complaint.category.staff, set: {category: misconduct_fraud}, goto: describe}
  - id: describe
    say: complaint.describe
    input: text
    save: description
    goto: end
`

// featureVerify is where a verification code leads; it waits, so that the session shows what
// it knows.
const featureVerify = `name: verify
steps:
  - id: genuine
    say: info.ask
    input: text
    save: answer
    goto: end
`

// featureTopics offers the topics a call finds.
const featureTopics = `name: topics
steps:
  - id: list
    action: list_topics
    goto: pick
  - id: pick
    say: info.ask
    input: choice
    options: topic
    goto: chosen
  - id: chosen
    say: info.services.ask
    input: text
    save: answer
    goto: end
`

// featureSecret is a confidential flow whose option leads to another flow.
const featureSecret = `name: secret
confidential: true
steps:
  - id: pick
    say: complaint.category
    input: choice
    choices:
      - {label: complaint.category.staff, set: {category: misconduct_fraud}, goto: "flow:complaint"}
`

// digitsOnly accepts any number typed in ASCII digits: it would take an option's number too,
// which must stay that option.
func digitsOnly(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "format"
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", "format"
		}
	}
	return s, ""
}

var featureConfig = flows.Config{
	Actions:    map[string][]string{"open_case": {"ok"}, "case_status": {"not_found", "new"}, "list_topics": {"ok"}},
	Validators: map[string]flows.Validator{"reference": testConfig.Validators["reference"], "code": digitsOnly},
}

// withFlows is the shipped flows with the given ones added or put in their place.
func withFlows(t *testing.T, srcs ...string) map[string]*flows.Flow {
	t.Helper()
	defs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for i, src := range srcs {
		f, err := flows.ParseFlow("inline"+string(rune('a'+i))+".yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		defs[f.Name] = f
	}
	return defs
}

func featureEngine(t *testing.T) *flows.Engine {
	t.Helper()
	e, err := flows.New(withFlows(t, featureMenu, featureComplaint, featureVerify, featureTopics, featureSecret),
		texts(t), featureConfig)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var featureStart = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func englishSMS() flows.Env {
	return flows.Env{Now: featureStart, Channel: channels.SMS, Language: locales.English}
}

// atMenu is a session resting at the main menu.
func atMenu() flows.Session {
	return flows.Session{Flow: flows.MenuFlow, Step: "main", UpdatedAt: featureStart}
}

func keys(m flows.Message) []string {
	var out []string
	for _, p := range m.Parts {
		out = append(out, p.Key)
	}
	return out
}

func at(t *testing.T, sess flows.Session, flow, step string) {
	t.Helper()
	if sess.Flow != flow || sess.Step != step {
		t.Fatalf("session at %s/%s, want %s/%s", sess.Flow, sess.Step, flow, step)
	}
}

// TestStepWhenSkipsAQuestionAnswered: the complaint flow asks the category only when it is not
// known; a menu item that knows it opens the flow at "what happened".
func TestStepWhenSkipsAQuestionAnswered(t *testing.T) {
	e := featureEngine(t)
	env := englishSMS()

	sp := e.Step(atMenu(), env, flows.Input{Text: "1"})
	at(t, sp.Session, "complaint", "category")
	if got := keys(reply(t, sp)); !reflect.DeepEqual(got, []string{"complaint.category"}) {
		t.Errorf("without a category, said %v; want the category question", got)
	}

	sp = e.Step(atMenu(), env, flows.Input{Text: "2"})
	at(t, sp.Session, "complaint", "describe")
	if got := keys(reply(t, sp)); !reflect.DeepEqual(got, []string{"complaint.describe"}) {
		t.Errorf("with a category, said %v; want the question after the category", got)
	}
	if got := sp.Session.Vars["category"]; got != "misconduct_fraud" {
		t.Errorf("category = %q, want the menu item's misconduct_fraud", got)
	}
}

// TestChoiceCarriesItsVariablesIntoAFlow: what an option sets goes along into the flow it
// opens, and only that; out of a confidential flow nothing goes along (it was sealed).
func TestChoiceCarriesItsVariablesIntoAFlow(t *testing.T) {
	e := featureEngine(t)
	env := englishSMS()
	sess := atMenu()
	sess.Vars = map[string]string{"stale": "x"}
	sp := e.Step(sess, env, flows.Input{Text: "2"})
	if want := map[string]string{"category": "misconduct_fraud"}; !reflect.DeepEqual(sp.Session.Vars, want) {
		t.Errorf("vars in the new flow = %v, want %v", sp.Session.Vars, want)
	}

	secret := flows.Session{Flow: "secret", Step: "pick", UpdatedAt: featureStart}
	sp = e.Step(secret, env, flows.Input{Text: "1"})
	at(t, sp.Session, "complaint", "category")
	if len(sp.Session.Vars) != 0 {
		t.Errorf("out of a confidential flow the new flow knows %v, want nothing", sp.Session.Vars)
	}
	sealed := false
	for _, eff := range sp.Effects {
		if s, ok := eff.(flows.Seal); ok && s.Field == "category" && s.Value == "misconduct_fraud" {
			sealed = true
		}
	}
	if !sealed {
		t.Errorf("the confidential choice was not sealed: %+v", sp.Effects)
	}
}

// TestChoiceMatchedByAValidator: an answer the option's validator accepts chooses it, its value
// kept and carried into the flow; an option's number stays that option.
func TestChoiceMatchedByAValidator(t *testing.T) {
	e := featureEngine(t)
	env := englishSMS()
	label, err := texts(t).Text(locales.English, "menu.status", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in         flows.Input
		flow, step string
		code       string
	}{
		{flows.Input{Text: "482913"}, "verify", "genuine", "482913"},
		{flows.Input{Text: "12"}, "verify", "genuine", "12"}, // no option 12: a code
		{flows.Input{Text: "3"}, "verify", "genuine", ""},    // option 3 by its number
		{flows.Input{Text: "٣"}, "verify", "genuine", ""},    // in Arabic digits
		{flows.Input{Text: "2"}, "complaint", "describe", ""},
		{flows.Input{Text: label}, "verify", "genuine", ""},
		{flows.Input{Text: "482913", Payload: "menu.main:3"}, "verify", "genuine", ""},
		{flows.Input{Text: "482913", Payload: "menu.main:1"}, "complaint", "category", ""},
		{flows.Input{Text: "hello"}, "menu", "main", ""},
	} {
		sp := e.Step(atMenu(), env, tc.in)
		if sp.Session.Flow != tc.flow || sp.Session.Step != tc.step || sp.Session.Vars["code"] != tc.code {
			t.Errorf("%+v: at %s/%s with code %q; want %s/%s with %q", tc.in, sp.Session.Flow, sp.Session.Step,
				sp.Session.Vars["code"], tc.flow, tc.step, tc.code)
		}
	}
}

// TestCodeStartsTheMenuAfresh: a code sent as the first message, or after a conversation
// expired, goes straight to its flow, with no welcome and no word of the expiry; other
// messages are greeted as before, and a contact without a language still chooses one first.
func TestCodeStartsTheMenuAfresh(t *testing.T) {
	e := featureEngine(t)
	env := englishSMS()

	sp := e.Step(flows.Session{}, env, flows.Input{Text: "482913"})
	at(t, sp.Session, "verify", "genuine")
	if got := keys(reply(t, sp)); !reflect.DeepEqual(got, []string{"info.ask"}) || sp.Session.Vars["code"] != "482913" {
		t.Errorf("first message a code: said %v, code %q; want only the verify question, code kept", got, sp.Session.Vars["code"])
	}
	sp = e.Step(flows.Session{}, env, flows.Input{Text: "hello"})
	if got := keys(reply(t, sp)); len(got) == 0 || got[0] != "menu.welcome" {
		t.Errorf("first message a greeting: said %v, want the welcome", got)
	}

	mid := flows.Session{Flow: "complaint", Step: "describe", Vars: map[string]string{"category": "other"}, UpdatedAt: featureStart}
	later := env
	later.Now = featureStart.Add(2 * time.Hour)
	sp = e.Step(mid, later, flows.Input{Text: "482913"})
	at(t, sp.Session, "verify", "genuine")
	if got := keys(reply(t, sp)); !reflect.DeepEqual(got, []string{"info.ask"}) {
		t.Errorf("code after expiry: said %v, want only the verify question", got)
	}
	sp = e.Step(mid, later, flows.Input{Text: "3"})
	if got := keys(reply(t, sp)); len(got) == 0 || got[0] != "common.expired" {
		t.Errorf("an option's number after expiry: said %v, want the expiry told as before", got)
	}
	// Before the conversation expired, a number is an answer to the step it is at.
	sp = e.Step(mid, env, flows.Input{Text: "482913"})
	if sp.Session.Flow != flows.MenuFlow { // the complaint flow ended with the description
		t.Errorf("mid-conversation the code was not taken as the answer: %+v", sp)
	}

	noLang := env
	noLang.Language = ""
	sp = e.Step(flows.Session{}, noLang, flows.Input{Text: "482913"})
	at(t, sp.Session, flows.LanguageFlow, "choose")
}

var topics = []flows.Option{
	{Value: "water", Labels: map[string]string{"ar": "ماء", "ckb": "ئاو", "en": "Water supply"}},
	{Value: "health", Labels: map[string]string{"ar": "صحة"}},
	{Value: "shelter", Labels: map[string]string{"ar": "مأوى", "en": "Shelter kits"}},
}

// toTopics opens the topics flow and gives its call the options.
func toTopics(t *testing.T, e *flows.Engine, env flows.Env, options []flows.Option) flows.Sprint {
	t.Helper()
	sp := e.Step(atMenu(), env, flows.Input{Text: "4"})
	if sp.Call == nil || sp.Call.Action != "list_topics" {
		t.Fatalf("no call of list_topics: %+v", sp)
	}
	return e.Resume(sp.Session, env, flows.CallResult{Outcome: "ok", Options: options})
}

// TestOptionsFromACall: a step offers the options the call gave, labelled in the person's
// language or the nearest they have, numbered and pressed like any, and keeps the value and
// label of the one chosen.
func TestOptionsFromACall(t *testing.T) {
	e := featureEngine(t)
	env := englishSMS()
	sp := toTopics(t, e, env, topics)
	at(t, sp.Session, "topics", "pick")
	if !reflect.DeepEqual(sp.Session.Options, topics) {
		t.Errorf("session options = %+v", sp.Session.Options)
	}
	msg := reply(t, sp)
	want := []flows.MenuChoice{
		{Number: "1", Language: "en", Label: "Water supply", Payload: "topics.pick:1"},
		{Number: "2", Language: "ar", Label: "صحة", Payload: "topics.pick:2"},
		{Number: "3", Language: "en", Label: "Shelter kits", Payload: "topics.pick:3"},
	}
	if !reflect.DeepEqual(msg.Choices, want) || msg.Expect != flows.InputChoice {
		t.Errorf("offered %+v (expect %q), want %+v", msg.Choices, msg.Expect, want)
	}
	if !strings.Contains(flows.Render(msg, channels.SMS).Text, "\n1. Water supply\n2. صحة\n3. Shelter kits") {
		t.Errorf("SMS text: %q", flows.Render(msg, channels.SMS).Text)
	}

	for _, tc := range []struct {
		in           flows.Input
		value, label string
	}{
		{flows.Input{Text: "1"}, "water", "Water supply"},
		{flows.Input{Text: "٢"}, "health", "صحة"},
		{flows.Input{Payload: "topics.pick:3"}, "shelter", "Shelter kits"},
		{flows.Input{Text: "Water Supply"}, "water", "Water supply"},
		{flows.Input{Text: "ئاو"}, "water", "Water supply"}, // the Sorani label, typed
		{flows.Input{Text: "مأوى"}, "shelter", "Shelter kits"},
		{flows.Input{Text: "shelt"}, "shelter", "Shelter kits"}, // the start of a word
	} {
		got := e.Step(sp.Session, env, tc.in)
		if got.Session.Step != "chosen" || got.Session.Vars["topic"] != tc.value || got.Session.Vars["topic_label"] != tc.label {
			t.Errorf("%+v: at %s with topic %q label %q; want chosen, %q, %q", tc.in, got.Session.Step,
				got.Session.Vars["topic"], got.Session.Vars["topic_label"], tc.value, tc.label)
		}
	}
	got := e.Step(sp.Session, env, flows.Input{Text: "4"})
	if got.Session.Step != "pick" || got.Session.Vars["topic"] != "" {
		t.Errorf("a number not offered was taken: %+v", got.Session)
	}

	// The options stay with the session (as JSON too) until another flow starts.
	data, err := json.Marshal(sp.Session)
	if err != nil {
		t.Fatal(err)
	}
	var back flows.Session
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Options, topics) {
		t.Errorf("options after JSON: %+v (%s)", back.Options, data)
	}
	if got := e.Step(sp.Session, env, flows.Input{Text: "menu"}); got.Session.Options != nil {
		t.Errorf("options kept into the menu: %+v", got.Session.Options)
	}
}

// TestOptionLabelsFollowTheLanguage: a Badini speaker reads the Sorani label where there is no
// Badini one; on the phone a Kurdish label comes with its Arabic one to speak.
func TestOptionLabelsFollowTheLanguage(t *testing.T) {
	e := featureEngine(t)
	env := flows.Env{Now: featureStart, Channel: channels.Voice, Language: locales.Badini}
	sp := toTopics(t, e, env, topics)
	msg := reply(t, sp)
	want := []flows.MenuChoice{
		{Number: "1", Language: "ckb", Label: "ئاو", Alt: "ماء", Payload: "topics.pick:1"},
		{Number: "2", Language: "ar", Label: "صحة", Payload: "topics.pick:2"},
		{Number: "3", Language: "ar", Label: "مأوى", Payload: "topics.pick:3"},
	}
	if !reflect.DeepEqual(msg.Choices, want) {
		t.Errorf("offered %+v, want %+v", msg.Choices, want)
	}
	got := e.Step(sp.Session, env, flows.Input{Text: "1"})
	if got.Session.Vars["topic_label"] != "ئاو" {
		t.Errorf("label kept %q, want the one offered", got.Session.Vars["topic_label"])
	}
}

// TestNoOptionsGoesBackToTheMenu: when the call finds nothing there is nothing to choose, and
// the person is at the main menu; a later call's options replace the earlier ones.
func TestNoOptionsGoesBackToTheMenu(t *testing.T) {
	e := featureEngine(t)
	env := englishSMS()
	sp := toTopics(t, e, env, nil)
	at(t, sp.Session, flows.MenuFlow, "main")
	if got := keys(reply(t, sp)); !reflect.DeepEqual(got, []string{"menu.ask"}) {
		t.Errorf("with no options said %v, want the menu", got)
	}

	sess := flows.Session{Flow: "topics", Step: "list", Calling: true, Options: topics, UpdatedAt: featureStart}
	sp = e.Resume(sess, env, flows.CallResult{Outcome: "ok", Options: topics[1:2]})
	if !reflect.DeepEqual(sp.Session.Options, topics[1:2]) || len(reply(t, sp).Choices) != 1 {
		t.Errorf("options after a second call: %+v", sp.Session.Options)
	}
}

// TestCheckNewFields: Check accepts the flows above and reports each misuse of when:, match:,
// save: and options: at its line.
func TestCheckNewFields(t *testing.T) {
	// The flows above and the language menu, which they lead to, alone.
	all := withFlows(t, featureMenu, featureComplaint, featureVerify, featureTopics, featureSecret)
	defs := map[string]*flows.Flow{}
	for _, name := range []string{"menu", "language", "complaint", "verify", "topics", "secret"} {
		defs[name] = all[name]
	}
	for _, p := range flows.Check(defs, texts(t), featureConfig) {
		t.Error(p)
	}

	broken := `name: broken
steps:
  - id: a
    when: "category"
    goto: b
    say: menu.ask
    input: choice
    choices:
      - {label: menu.status, match: barcode, save: code, goto: b}
      - {label: menu.info, match: code, goto: b}
      - {label: menu.feedback, save: code, goto: b}
  - id: b
    when: "category=x,"
    say: menu.ask
    input: text
    save: x
  - id: c
    say: menu.ask
    input: choice
    options: topic
    choices:
      - {label: menu.info, goto: b}
  - id: d
    input: text
    options: topic
    save: x
    goto: b
  - id: e
    when: "channel=sms"
    goto: nowhere
    say: menu.ask
    input: choice
    choices:
      - {label: menu.info, goto: b}
  - id: f
    when: "channel=sms"
    say: menu.ask
    input: text
    save: x
    goto: nowhere_either
`
	defs = withFlows(t, featureMenu, broken)
	var got []string
	for _, p := range flows.Check(defs, texts(t), featureConfig) {
		got = append(got, p.String())
	}
	report := strings.Join(got, "\n")
	for _, want := range []string{
		`inlineb.yaml:3: step "a": condition "category" must be var=value or var!=value`,
		`inlineb.yaml:9: step "a": choice menu.status: match: "barcode" is not a validator of the engine`,
		`inlineb.yaml:10: step "a": choice menu.info: match: needs save: to keep the answer`,
		`inlineb.yaml:11: step "a": choice menu.feedback: save: is for an option chosen by match:`,
		`inlineb.yaml:12: step "b": condition "category=x," must be var=value or var!=value`,
		`inlineb.yaml:12: step "b": when: needs a goto: to pass the step over to`,
		`inlineb.yaml:17: step "c": a step with options: offers those of the call, not choices:`,
		`inlineb.yaml:17: step "c": a step with options: needs a goto: for the option chosen`,
		`inlineb.yaml:23: step "d": options: is for choice steps (input: choice)`,
		`inlineb.yaml:28: step "e": unknown step "nowhere"`,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("missing problem %q", want)
		}
	}
	if n := strings.Count(report, `unknown step "nowhere_either"`); n != 1 {
		t.Errorf("the goto of a text step with when: reported %d times, want once", n)
	}
	if t.Failed() {
		t.Logf("Check reported:\n%s", report)
	}
}
