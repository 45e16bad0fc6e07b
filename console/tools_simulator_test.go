package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/sawt/sawt/console"
)

// simBrowser is a browser on the simulator: a user's session and the simulator's cookie,
// which it keeps as a browser would.
type simBrowser struct {
	t        *testing.T
	e        *consoleEnv
	h        http.Handler
	session  string
	simValue string
}

func (b *simBrowser) do(method, path string, form url.Values) answer {
	b.t.Helper()
	cookie := console.CookieName + "=" + b.session
	if b.simValue != "" {
		cookie += "; sawt_simulator=" + b.simValue
	}
	a := b.e.do(req{method: method, path: path, form: form, header: map[string]string{"Cookie": cookie}})
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "sawt_simulator" {
			if !c.HttpOnly || c.Path != "/simulator" || c.SameSite != http.SameSiteLaxMode {
				b.t.Errorf("the simulator's cookie %v: want HttpOnly, Path=/simulator, SameSite=Lax", c)
			}
			b.simValue = c.Value
		}
	}
	return a
}

// say posts a message in the conversation and reads the page it leads back to.
func (b *simBrowser) say(text string) answer {
	b.t.Helper()
	a := b.do("POST", "/simulator", url.Values{"text": {text}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/simulator" {
		b.t.Fatalf("saying %q: %d to %q\n%s", text, a.status, a.header.Get("Location"), a.body)
	}
	return b.do("GET", "/simulator", nil)
}

func bodyHas(t *testing.T, what string, a answer, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(a.body, want) {
			t.Errorf("%s: no %q in\n%s", what, want, a.body)
		}
	}
}

// A caseworker talks with the live flows in the simulator as an Arabic-speaking person on
// SMS: the main menu in Arabic, a choice that moves the flow on, as far as a real case, which
// comes from the simulator's address. The conversation is the message log's: a reload, by
// another console on the same database, shows it. Each user's conversations are their own; a
// new conversation is a new person, on Telegram its options shown as buttons.
func TestSimulator(t *testing.T) {
	e := newConsole(t)
	gw := newCaseGateway(t, e)
	e.web.Simulator = gw
	e.h = e.web.Handler()
	ctx := context.Background()
	u := e.addUser("amal@example.org", console.RoleCaseworker, "ar", "a long enough password", false)
	b := &simBrowser{t: t, e: e, session: e.sessionOf(u)}

	a := b.do("GET", "/simulator", nil)
	if a.status != http.StatusOK || strings.Contains(a.body, `name="text"`) {
		t.Fatalf("the simulator without a conversation: %d\n%s", a.status, a.body)
	}
	checkPage(t, "simulator", a)
	bodyHas(t, "the simulator", a, "<h1>محاكي المحادثة</h1>", "كل ما يحدث هنا حقيقي",
		`<option value="sms" selected>رسائل SMS</option>`, `<option value="ar" selected>العربية</option>`,
		`<option value="badini">البادينية</option>`, `<option value="terminal">الطرفية</option>`,
		`<button type="submit" name="start" value="1">بدء محادثة</button>`)
	if home := b.do("GET", "/", nil); !strings.Contains(home.body, `<a href="/simulator">محاكي المحادثة</a>`) {
		t.Errorf("the start page does not link to the simulator:\n%s", home.body)
	}

	a = b.do("POST", "/simulator", url.Values{"start": {"1"}, "channel": {"sms"}, "language": {"ar"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/simulator?started=1" || b.simValue == "" {
		t.Fatalf("start: %d to %q, cookie %q", a.status, a.header.Get("Location"), b.simValue)
	}
	a = b.do("GET", "/simulator?started=1", nil)
	address := "terminal:console-" + strconv.FormatInt(u.ID, 10) + "-" + strings.TrimPrefix(b.simValue, "sms.")
	bodyHas(t, "a new conversation", a, "بدأت محادثة جديدة", `<bdi dir="ltr">`+address+`</bdi>`,
		"<dd>رسائل SMS</dd>", "<dd>العربية</dd>", "لم يُكتب شيء بعد", `<textarea name="text"`, "بدء محادثة جديدة")

	a = b.say("مرحبا")
	checkPage(t, "the conversation", a)
	bodyHas(t, "after hello", a, "أنت (بصفتك الشخص)", "مرحبا", "كيف يمكننا مساعدتك؟ أرسل رقمًا.", "1 - تقديم شكوى")
	if strings.Contains(a.body, "Choose your language") {
		t.Error("the language chosen was not the person's: the language menu was shown")
	}
	a = b.say("1")
	bodyHas(t, "after choosing 1", a, "ما موضوع شكواك؟", "1 - طلب مساعدة")

	// a reload, by another console on the same database: the conversation as the log has it
	other := &console.Web{Pool: e.pool, Now: e.clock.Now, Simulator: gw}
	reload := &simBrowser{t: t, e: &consoleEnv{t: t, pool: e.pool, web: other, h: other.Handler(), clock: e.clock},
		session: b.session, simValue: b.simValue}
	if again := reload.do("GET", "/simulator", nil); again.body != a.body {
		t.Errorf("the conversation reloaded differs:\n%s\nwant\n%s", again.body, a.body)
	}

	// the rest of a complaint: a real case, from the simulator's address
	for _, say := range []string{"1", "خزان الماء في المخيم مكسور", "1", "Jeddah 5", "1", "1"} {
		a = b.say(say)
	}
	bodyHas(t, "the complaint", a, "شكرًا لك. رقم شكواك هو")
	var channel, urn, description string
	if err := e.pool.QueryRow(ctx, `SELECT c.channel, u.urn, c.description FROM cases c JOIN urns u ON u.contact_id = c.contact_id`).
		Scan(&channel, &urn, &description); err != nil {
		t.Fatal(err)
	}
	if channel != "sms" || urn != address || description != "خزان الماء في المخيم مكسور" {
		t.Errorf("the case: channel %s, address %s, description %q", channel, urn, description)
	}

	// another user, with the same cookie, is another person: no conversation
	v := e.addUser("karwan@example.org", console.RoleCWC, "en", "a long enough password", false)
	stranger := &simBrowser{t: t, e: e, session: e.sessionOf(v), simValue: b.simValue}
	if a := stranger.do("GET", "/simulator", nil); strings.Contains(a.body, "Jeddah") || strings.Contains(a.body, `name="text"`) {
		t.Errorf("another user sees the conversation:\n%s", a.body)
	}

	// a new conversation: a new person, on Telegram, in English
	before := b.simValue
	b.do("POST", "/simulator", url.Values{"start": {"1"}, "channel": {"telegram"}, "language": {"en"}})
	if b.simValue == before || !strings.HasPrefix(b.simValue, "telegram.") {
		t.Fatalf("the new conversation's cookie: %q (before %q)", b.simValue, before)
	}
	a = b.say("hi")
	bodyHas(t, "on Telegram", a, "<dd>تيليغرام</dd>", "<dd>الإنجليزية</dd>", "How can we help you?", "[1 Make a complaint] [2 ")
	if strings.Contains(a.body, "1. Make a complaint") || strings.Contains(a.body, "Jeddah") {
		t.Errorf("the new conversation lists the options in the text, or shows the old one:\n%s", a.body)
	}

	// a long conversation: its last messages only
	if _, err := e.pool.Exec(ctx, `
		INSERT INTO messages (contact_id, urn_id, channel, direction, text, status, created_at, updated_at)
		SELECT u.contact_id, u.id, 'telegram', 'in', 'message ' || i, 'received', $2, $2
		FROM urns u, generate_series(1, 70) AS i WHERE u.urn = $1`,
		"terminal:console-"+strconv.FormatInt(u.ID, 10)+"-"+strings.TrimPrefix(b.simValue, "telegram."), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	a = b.do("GET", "/simulator", nil)
	if n := strings.Count(a.body, "<li class="); n != 60 || !strings.Contains(a.body, "تظهر آخر رسائل هذه المحادثة فقط.") ||
		!strings.Contains(a.body, ">message 70<") || strings.Contains(a.body, ">hi<") {
		t.Errorf("a long conversation: %d messages shown\n%s", n, a.body)
	}

	// what is refused, said in the user's language, with the text typed kept
	for _, tc := range []struct {
		name   string
		form   url.Values
		cookie string
		says   string
	}{
		{"an empty message", url.Values{"text": {" \r\n "}}, b.simValue, "اكتب رسالة أولًا."},
		{"a long message", url.Values{"text": {strings.Repeat("ب", 4097)}}, b.simValue, "الرسالة طويلة جدًا: 4096 حرفًا على الأكثر."},
		{"no conversation", url.Values{"text": {"hello"}}, "", "ابدأ محادثة أولًا."},
		{"a made-up conversation", url.Values{"text": {"hello"}}, "sms.../etc", "ابدأ محادثة أولًا."},
		{"an unknown channel", url.Values{"start": {"1"}, "channel": {"pigeon"}, "language": {"ar"}}, "", "اختر إحدى القنوات واللغات المعروضة."},
		{"an unknown language", url.Values{"start": {"1"}, "channel": {"sms"}, "language": {"fr"}}, "", "اختر إحدى القنوات واللغات المعروضة."},
	} {
		c := &simBrowser{t: t, e: e, session: b.session, simValue: tc.cookie}
		a := c.do("POST", "/simulator", tc.form)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, tc.says) {
			t.Errorf("%s: %d\n%s", tc.name, a.status, a.body)
		}
		if tc.name == "a long message" && !strings.Contains(a.body, ">"+tc.form.Get("text")+"</textarea>") {
			t.Errorf("the long message typed is not kept in the form")
		}
		checkPage(t, tc.name, a)
	}
	var inbound int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE direction = 'in' AND text NOT LIKE 'message %'`).Scan(&inbound); err != nil || inbound != 9 {
		t.Errorf("%d messages received, want the 9 said (%v)", inbound, err)
	}
}

// A console without a gateway says the simulator is not available.
func TestSimulatorUnavailable(t *testing.T) {
	e := newConsole(t)
	b := &simBrowser{t: t, e: e, session: e.sessionOf(e.addUser("amal@example.org", console.RoleAdmin, "ckb", "a long enough password", false))}
	for _, method := range []string{"GET", "POST"} {
		a := b.do(method, "/simulator", url.Values{"text": {"hello"}})
		if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "لاساییکەرەوە لەم سێرڤەرەدا بەردەست نییە.") {
			t.Errorf("%s: %d\n%s", method, a.status, a.body)
		}
		checkPage(t, method+" unavailable", a)
	}
}

// The simulator's API: a message of a new simulated person of the token's own, and then as
// the same person by the address it answered, for the roles of the page; another's address,
// a real person's, or a message that will not do is refused naming the field.
func TestSimulatorAPI(t *testing.T) {
	e, api, _ := newCasesAPI(t)
	mux := http.NewServeMux()
	api.Routes(mux)
	call := apiCaller(t, mux)
	cwc := tokenFor(t, e.pool, "flows-team", console.RoleCWC)
	if status, out := call("POST", "/api/v1/simulator", cwc, "application/json", `{"channel": "sms", "text": "hi"}`); status != http.StatusServiceUnavailable {
		t.Errorf("without a gateway: %d %v", status, out)
	}
	api.Simulator = newCaseGateway(t, e)
	mux = http.NewServeMux()
	api.Routes(mux)
	call = apiCaller(t, mux)

	status, out := call("POST", "/api/v1/simulator", cwc, "application/json", `{"channel": "sms", "language": "ar", "text": "مرحبا"}`)
	urn, _ := out["urn"].(string)
	if status != http.StatusOK || !strings.HasPrefix(urn, "terminal:api-") || !strings.Contains(replyTexts(out), "1 - تقديم شكوى") {
		t.Fatalf("a new person: %d %v", status, out)
	}
	status, out = call("POST", "/api/v1/simulator", cwc, "", `{"channel": "telegram", "urn": "`+urn+`", "text": "1"}`)
	texts := replyTexts(out)
	if status != http.StatusOK || out["urn"] != urn || !strings.Contains(texts, "ما موضوع شكواك؟") || strings.Contains(texts, "1 - طلب مساعدة") {
		t.Fatalf("the same person, on Telegram: %d %v", status, out)
	}
	replies := out["replies"].([]any)
	choices := replies[len(replies)-1].(map[string]any)["choices"].([]any)
	if len(choices) == 0 || choices[0].(map[string]any)["number"] != "1" || choices[0].(map[string]any)["label"] != "طلب مساعدة" {
		t.Errorf("the options as Telegram's buttons: %v", replies)
	}

	other := tokenFor(t, e.pool, "other-team", console.RoleCWC)
	for _, tc := range []struct {
		name, token, body, field string
		status                   int
	}{
		{"another token's person", other, `{"channel": "sms", "urn": "` + urn + `", "text": "1"}`, "urn", 400},
		{"a real person", cwc, `{"channel": "sms", "urn": "tel:+9647701234567", "text": "1"}`, "urn", 400},
		{"a console user's person", cwc, `{"channel": "sms", "urn": "terminal:console-1-0123456789abcdef", "text": "1"}`, "urn", 400},
		{"an unknown channel", cwc, `{"channel": "pigeon", "text": "1"}`, "channel", 400},
		{"an unknown language", cwc, `{"channel": "sms", "language": "fr", "text": "1"}`, "language", 400},
		{"no text", cwc, `{"channel": "sms"}`, "text", 400},
		{"an unknown field", cwc, `{"channel": "sms", "text": "1", "from": "x"}`, "from", 400},
		{"a viewer", tokenFor(t, e.pool, "dash", console.RoleViewer), `{"channel": "sms", "text": "1"}`, "", 403},
		{"a PSEA focal point", tokenFor(t, e.pool, "psea", console.RolePSEA), `{"channel": "sms", "text": "1"}`, "", 403},
	} {
		status, out := call("POST", "/api/v1/simulator", tc.token, "application/json", tc.body)
		if status != tc.status || tc.field != "" && out["field"] != tc.field {
			t.Errorf("%s: %d %v, want %d naming %q", tc.name, status, out, tc.status, tc.field)
		}
	}
	for _, role := range []string{console.RoleAdmin, console.RoleCaseworker} {
		if status, out := call("POST", "/api/v1/simulator", tokenFor(t, e.pool, role+"-bot", role), "", `{"channel": "voice", "language": "en", "text": "hi"}`); status != http.StatusOK {
			t.Errorf("a %s token: %d %v", role, status, out)
		}
	}
}

// replyTexts are the texts of a simulator API answer's replies, one after the other.
func replyTexts(out map[string]any) string {
	var b strings.Builder
	replies, _ := out["replies"].([]any)
	for _, r := range replies {
		text, _ := r.(map[string]any)["text"].(string)
		b.WriteString(text + "\n")
	}
	return b.String()
}
