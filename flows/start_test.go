package flows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/flows"
)

// shippedEngine is the engine over the shipped flows and texts.
func shippedEngine(t *testing.T) *flows.Engine {
	t.Helper()
	defs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flows.New(defs, texts(t), flows.Config{Actions: map[string][]string{"record_satisfaction": {"ok"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var answered = map[string]string{"case": "7", "reference": "1234 5678", "resolution": "The tap at block C was repaired."}

// replies are the messages a sprint says.
func replies(sp flows.Sprint) []flows.Message {
	var out []flows.Message
	for _, eff := range sp.Effects {
		if r, ok := eff.(flows.Reply); ok {
			out = append(out, r.Message)
		}
	}
	return out
}

// TestStartAsksWhetherSatisfied: staff start the satisfaction flow for a person resting at the
// menu; their answer is handed to the gateway to keep, and they are thanked.
func TestStartAsksWhetherSatisfied(t *testing.T) {
	e := shippedEngine(t)
	for _, c := range []struct{ answer, satisfied, thanks string }{
		{"1", "yes", "satisfaction.thanks_yes"},
		{"yes", "yes", "satisfaction.thanks_yes"},
		{"2", "no", "satisfaction.thanks_no"},
		{"not satisfied", "no", "satisfaction.thanks_no"},
	} {
		t.Run(c.answer, func(t *testing.T) {
			env := englishSMS()
			sp := e.Start(atMenu(), env, "satisfaction", answered)
			msgs := replies(sp)
			if len(msgs) != 1 || !slices.Equal(keys(msgs[0]), []string{"satisfaction.answered", "satisfaction.ask"}) ||
				msgs[0].Expect != flows.InputYesNo || len(msgs[0].Choices) != 2 {
				t.Fatalf("started with %+v", msgs)
			}
			if text := msgs[0].Parts[0].Text; text != "Your complaint 1234 5678 has been answered: The tap at block C was repaired." {
				t.Errorf("answer said as %q", text)
			}
			at(t, sp.Session, "satisfaction", "ask")
			if sp.Session.Paused != nil || sp.Call != nil {
				t.Errorf("nothing to interrupt at the menu, nothing to call yet: paused %+v, call %+v", sp.Session.Paused, sp.Call)
			}

			env.Now = env.Now.Add(5 * time.Minute)
			sp = e.Step(sp.Session, env, flows.Input{Text: c.answer})
			if sp.Call == nil || sp.Call.Action != "record_satisfaction" || sp.Call.Args["case"] != "7" || sp.Call.Args["satisfied"] != c.satisfied {
				t.Fatalf("call = %+v, want record_satisfaction of case 7: %s", sp.Call, c.satisfied)
			}
			sp = e.Resume(sp.Session, env, flows.CallResult{Outcome: "ok"})
			msgs = replies(sp)
			if len(msgs) != 1 || !slices.Equal(keys(msgs[0]), []string{c.thanks}) || len(msgs[0].Choices) != 1 || msgs[0].Choices[0].Number != "0" {
				t.Errorf("thanked with %+v", msgs)
			}
			at(t, sp.Session, flows.MenuFlow, "main")
		})
	}
}

// TestStartInterruptsAConversation: a person in the middle of a complaint is asked, answers,
// and is taken back to the question they were at, with what they had said kept.
func TestStartInterruptsAConversation(t *testing.T) {
	e := shippedEngine(t)
	env := englishSMS()
	sess := flows.Session{Flow: "complaint", Step: "describe", Vars: map[string]string{"category": "other"},
		UpdatedAt: env.Now.Add(-2 * time.Minute)}
	sp := e.Start(sess, env, "satisfaction", answered)
	at(t, sp.Session, "satisfaction", "ask")
	if p := sp.Session.Paused; p == nil || p.Flow != "complaint" || p.Step != "describe" {
		t.Fatalf("paused = %+v, want the complaint at describe", p)
	}
	sp = e.Step(sp.Session, env, flows.Input{Text: "1"})
	sp = e.Resume(sp.Session, env, flows.CallResult{Outcome: "ok"})
	msgs := replies(sp)
	if len(msgs) != 1 || !slices.Equal(keys(msgs[0]), []string{"satisfaction.thanks_yes", "complaint.describe"}) {
		t.Fatalf("after the answer: %+v", msgs)
	}
	at(t, sp.Session, "complaint", "describe")
	if sp.Session.Vars["category"] != "other" || sp.Session.Paused != nil {
		t.Errorf("resumed session: vars %v, paused %+v", sp.Session.Vars, sp.Session.Paused)
	}
	sp = e.Step(sp.Session, env, flows.Input{Text: "The road is flooded."})
	at(t, sp.Session, "complaint", "governorate")
}

// TestStartReplacesAnIdleConversation: a conversation left longer than the idle timeout is
// not kept.
func TestStartReplacesAnIdleConversation(t *testing.T) {
	e := shippedEngine(t)
	env := englishSMS()
	sess := flows.Session{Flow: "complaint", Step: "describe", UpdatedAt: env.Now.Add(-2 * time.Hour)}
	sp := e.Start(sess, env, "satisfaction", answered)
	if sp.Session.Paused != nil {
		t.Errorf("an idle conversation was kept: %+v", sp.Session.Paused)
	}
}

// TestNoAnswerEndsAsAnyConversation: without an answer, the next message after the idle
// timeout is a new conversation; nothing is recorded.
func TestNoAnswerEndsAsAnyConversation(t *testing.T) {
	e := shippedEngine(t)
	env := englishSMS()
	sp := e.Start(atMenu(), env, "satisfaction", answered)
	env.Now = env.Now.Add(flows.DefaultIdleTimeout + time.Minute)
	sp = e.Step(sp.Session, env, flows.Input{Text: "hello"})
	if sp.Call != nil {
		t.Fatalf("a late message was taken as the answer: %+v", sp.Call)
	}
	msgs := replies(sp)
	if len(msgs) == 0 || keys(msgs[0])[0] != "common.expired" {
		t.Errorf("late message answered with %+v", msgs)
	}
	at(t, sp.Session, flows.MenuFlow, "main")
}

func TestStartCaseReply(t *testing.T) {
	e := shippedEngine(t)
	env := englishSMS()
	vars := map[string]string{"reference": "1234 5678", "message": "We will visit on Sunday."}
	sp := e.Start(atMenu(), env, "case_reply", vars)
	msgs := replies(sp)
	if len(msgs) != 1 || msgs[0].Parts[0].Text != "About your complaint 1234 5678: We will visit on Sunday." || msgs[0].Choices[0].Number != "0" {
		t.Fatalf("reply = %+v", msgs)
	}
	at(t, sp.Session, flows.MenuFlow, "main")

	// In the middle of a question, the message comes first, then the question again.
	sess := flows.Session{Flow: "status", Step: "ask", Vars: map[string]string{}, UpdatedAt: env.Now.Add(-time.Minute)}
	sp = e.Start(sess, env, "case_reply", vars)
	msgs = replies(sp)
	if len(msgs) != 1 || !slices.Equal(keys(msgs[0]), []string{"case_reply.message", "status.ask"}) {
		t.Fatalf("reply in a conversation = %+v", msgs)
	}
	at(t, sp.Session, "status", "ask")
}

func TestStartUnknownFlowDoesNothing(t *testing.T) {
	e := shippedEngine(t)
	sess := atMenu()
	sp := e.Start(sess, englishSMS(), "no_such_flow", nil)
	if len(sp.Effects) != 0 || sp.Call != nil || sp.Session.Flow != sess.Flow || !sp.Session.UpdatedAt.Equal(sess.UpdatedAt) {
		t.Errorf("unknown flow gave %+v", sp)
	}
	if e.HasFlow("no_such_flow") || !e.HasFlow("satisfaction") {
		t.Error("HasFlow is wrong")
	}
}

// TestArabicAnswerWords: "نعم" and "راضي" are yes, "غير راضي" is no.
func TestArabicAnswerWords(t *testing.T) {
	e := shippedEngine(t)
	env := englishSMS()
	env.Language = "ar"
	for answer, want := range map[string]string{"نعم": "yes", "راضي": "yes", "١": "yes", "غير راضي": "no", "لا": "no"} {
		sp := e.Start(atMenu(), env, "satisfaction", answered)
		if !strings.Contains(replies(sp)[0].Parts[0].Text, "تم الرد على شكواك") {
			t.Fatalf("Arabic text = %q", replies(sp)[0].Parts[0].Text)
		}
		sp = e.Step(sp.Session, env, flows.Input{Text: answer})
		if sp.Call == nil || sp.Call.Args["satisfied"] != want {
			t.Errorf("%q: call %+v, want satisfied=%s", answer, sp.Call, want)
		}
	}
}

// TestVoicemailOpensACallBack: a message a caller left while the line could not answer them
// ends whatever they were doing and opens a call-back case with its recordings; once the case
// is open they are thanked.
func TestVoicemailOpensACallBack(t *testing.T) {
	defs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	e, err := flows.New(defs, texts(t), flows.Config{Actions: map[string][]string{"open_case": {"ok"}}})
	if err != nil {
		t.Fatal(err)
	}
	env := englishSMS()
	env.Channel = channels.Voice
	mid := flows.Session{Flow: "complaint", Step: "description", Vars: map[string]string{"category": "feedback"}}
	sp := e.Step(mid, env, flows.Input{Payload: "voicemail", Media: []channels.Media{{Type: "recording", ID: "RE1"}, {Type: "recording", ID: "RE2"}}})
	if sp.Call == nil || sp.Call.Action != "open_case" {
		t.Fatalf("call %+v, want open_case", sp.Call)
	}
	for k, want := range map[string]string{"call_back": "yes", "consent_contact": "yes", "recordings": "RE1 RE2", "category": "assistance_request"} {
		if got := sp.Call.Args[k]; got != want {
			t.Errorf("open_case %s = %q, want %q", k, got, want)
		}
	}
	done := e.Resume(sp.Session, env, flows.CallResult{Outcome: "ok"})
	msgs := replies(done)
	if len(msgs) != 1 || !slices.Equal(keys(msgs[0]), []string{"voice.voicemail_thanks"}) {
		t.Fatalf("after the case: %+v", msgs)
	}
}
