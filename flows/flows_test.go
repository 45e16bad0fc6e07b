package flows_test

import (
	"flag"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
)

// The transcripts under flowtest are rewritten with `go test ./flows/... -update`; this package
// accepts the flag so that the command runs across the tree.
var _ = flag.Bool("update", false, "rewrite golden transcripts (used by flows/flowtest)")

func texts(t *testing.T) *locales.Catalog {
	t.Helper()
	c, err := locales.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testConfig = flows.Config{
	Actions:    map[string][]string{"open_case": {"ok"}, "case_status": {"not_found", "new"}},
	Validators: map[string]flows.Validator{"reference": func(s string) (string, string) { return s, "" }},
}

func TestShippedFlowsPassCheck(t *testing.T) {
	defs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig
	cfg.Actions = map[string][]string{"open_case": {"ok"}, "link_phone": {"ok"}, "case_status": {"not_found", "new", "acknowledged", "referred", "in_progress", "resolved", "closed"},
		"sea_hold": {"ok"}, "sea_open": {"ok"}, "sea_finish": {"ok"}, "sea_erase": {"ok"},
		"next_distribution": {"found", "none"}, "verify_code": {"genuine", "not_genuine"},
		"subscriptions": {"some", "none"}, "toggle_subscription": {"subscribed", "unsubscribed"},
		"record_satisfaction": {"ok"}}
	cfg.Validators = map[string]flows.Validator{"reference": testConfig.Validators["reference"], "phone": testConfig.Validators["reference"],
		"code": testConfig.Validators["reference"]}
	for _, p := range flows.Check(defs, texts(t), cfg) {
		t.Error(p)
	}
}

// TestCheckFindsBrokenFlows plants one of each defect and expects it reported at its line.
func TestCheckFindsBrokenFlows(t *testing.T) {
	defs, err := flows.Load("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	probs := flows.Check(defs, texts(t), testConfig)
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	report := strings.Join(got, "\n")
	for _, want := range []string{
		`complaint.yaml:9: step "category": choice complaint.category.service leads nowhere (no goto)`,
		`complaint.yaml:10: text "complaint.category.nonexistent" is missing in ar, ckb, badini, en`,
		`complaint.yaml:11: step "category": unknown step "nowhere"`,
		`complaint.yaml:12: step "describe": unknown flow "missing"`,
		`complaint.yaml:17: step "orphan" is unreachable`,
		`complaint.yaml:20: step "lookup": unknown action "teleport"`,
		`complaint.yaml:23: step "ask": unknown input "barcode"`,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("missing problem %q; Check reported:\n%s", want, report)
		}
	}
}

func TestParseErrorsNameTheFile(t *testing.T) {
	for name, src := range map[string]string{
		"noname.yaml":  "steps:\n  - {id: a, say: menu.ask}\n",
		"dup.yaml":     "name: x\nsteps:\n  - {id: a, say: menu.ask}\n  - {id: a, say: menu.ask}\n",
		"badyaml.yaml": "name: x\nsteps: [\n",
	} {
		_, err := flows.LoadFlows(fstest.MapFS{name: {Data: []byte(src)}})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
}

func engine(t *testing.T, dir string) *flows.Engine {
	t.Helper()
	defs, err := flows.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := flows.New(defs, texts(t), testConfig)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// play runs inputs from a new session and returns the texts said.
func play(e *flows.Engine, env flows.Env, inputs ...string) (flows.Session, []flows.Sprint) {
	var sess flows.Session
	var sprints []flows.Sprint
	for _, in := range inputs {
		sp := e.Step(sess, env, flows.Input{Text: in})
		for _, eff := range sp.Effects {
			if l, ok := eff.(flows.SetLanguage); ok {
				env.Language = l.Language
			}
		}
		sess = sp.Session
		sprints = append(sprints, sp)
		env.Now = env.Now.Add(time.Second)
	}
	return sess, sprints
}

func TestEngineIsDeterministic(t *testing.T) {
	e := engine(t, "")
	env := flows.Env{Now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Channel: channels.SMS}
	inputs := []string{"hello", "٢", "1", "1", "ما في ماء", "3", "x", "2", "1"}
	s1, a := play(e, env, inputs...)
	s2, b := play(e, env, inputs...)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(s1, s2) {
		t.Fatal("the same inputs gave different sprints")
	}
}

func TestAddingAMenuItemIsAYAMLChange(t *testing.T) {
	e := engine(t, "testdata/callback")
	env := flows.Env{Now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Channel: channels.SMS, Language: locales.English}
	_, sprints := play(e, env, "hi", "6")
	menu := reply(t, sprints[0])
	if len(menu.Choices) != 6 || menu.Choices[5].Key != "info.services.title" {
		t.Fatalf("menu choices = %+v, want six with the new item last", menu.Choices)
	}
	if got := reply(t, sprints[1]).Parts[0].Key; got != "menu.welcome" {
		t.Errorf("item 6 said %q, want the callback flow's menu.welcome", got)
	}
}

func reply(t *testing.T, sp flows.Sprint) flows.Message {
	t.Helper()
	for _, eff := range sp.Effects {
		if r, ok := eff.(flows.Reply); ok {
			return r.Message
		}
	}
	t.Fatalf("no reply in %+v", sp)
	return flows.Message{}
}

// TestLoopingFlowStops: a flow whose steps lead to each other without waiting must not hang
// the turn; the person lands at the menu.
func TestLoopingFlowStops(t *testing.T) {
	defs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	loop, err := flows.ParseFlow("loop.yaml", []byte("name: complaint\nsteps:\n  - {id: a, say: menu.ask, goto: b}\n  - {id: b, goto: a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	defs["complaint"] = loop
	e, err := flows.New(defs, texts(t), testConfig)
	if err != nil {
		t.Fatal(err)
	}
	env := flows.Env{Now: time.Now(), Channel: channels.SMS, Language: locales.English}
	done := make(chan flows.Session)
	go func() {
		sess, _ := play(e, env, "hi", "1")
		done <- sess
	}()
	select {
	case sess := <-done:
		if sess.Flow != flows.MenuFlow {
			t.Errorf("after a loop the session is at %s/%s, want the menu", sess.Flow, sess.Step)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a looping flow hung the engine")
	}
}

func TestRenderPerChannel(t *testing.T) {
	m := flows.Message{Language: "ar",
		Parts:   []flows.Said{{Key: "menu.ask", Text: "كيف يمكننا مساعدتك؟"}},
		Choices: []flows.MenuChoice{{Number: "1", Key: "menu.complaint", Label: "تقديم شكوى", Payload: "menu.main:1"}},
	}
	sms := flows.Render(m, channels.SMS)
	if sms.Text != "كيف يمكننا مساعدتك؟\n1 - تقديم شكوى" {
		t.Errorf("SMS text = %q", sms.Text)
	}
	tg := flows.Render(m, channels.Telegram)
	if tg.Text != "كيف يمكننا مساعدتك؟" || len(tg.Choices) != 1 || tg.Choices[0].Payload != "menu.main:1" {
		t.Errorf("Telegram: text %q choices %+v; want the question only, the option as a button", tg.Text, tg.Choices)
	}
	if got := flows.Render(flows.Message{Language: "ar", Choices: m.Choices}, channels.Telegram).Text; got != "1 - تقديم شكوى" {
		t.Errorf("Telegram message of options only: text %q, want the options (Telegram refuses empty text)", got)
	}
	m.Language = "en"
	if got := flows.Render(m, channels.Terminal).Text; !strings.HasSuffix(got, "\n1. تقديم شكوى") {
		t.Errorf("left-to-right numbering: %q", got)
	}
	var keys []string
	for _, p := range sms.Parts {
		keys = append(keys, p.Key)
	}
	for _, c := range sms.Choices {
		keys = append(keys, c.Key)
	}
	if !reflect.DeepEqual(keys, []string{"menu.ask", "menu.complaint"}) {
		t.Errorf("keys for voice = %v", keys)
	}
}

// TestExpiryBeforeALanguageIsChosen: someone who left the language menu unanswered is simply
// offered it again (or has their language taken from what they now type), not told about a
// closed conversation in a language they never chose.
func TestExpiryBeforeALanguageIsChosen(t *testing.T) {
	e := engine(t, "")
	env := flows.Env{Now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Channel: channels.SMS}
	sess, _ := play(e, env, "hello")
	env.Now = env.Now.Add(2 * time.Hour)
	sp := e.Step(sess, env, flows.Input{Text: "English"})
	msg := reply(t, sp)
	if msg.Parts[0].Key != "menu.welcome" || msg.Language != locales.English {
		t.Errorf("after the wait, %q in %s; want the English welcome", msg.Parts[0].Key, msg.Language)
	}
	sp = e.Step(sess, env, flows.Input{Text: "hello"})
	if msg := reply(t, sp); msg.Parts[0].Key != "language.choose" {
		t.Errorf("after the wait, %q; want the language menu again", msg.Parts[0].Key)
	}
}
