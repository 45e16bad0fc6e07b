package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

const caseworker = "amal@example.org"

// clock is a test clock that moves a millisecond at each reading, and on when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// complaint is a whole complaint by SMS: the language (its number in the language menu), the
// answers, and the two consents.
func complaint(lang string, contact, share bool) []string {
	yesNo := func(b bool) string {
		if b {
			return "1"
		}
		return "2"
	}
	return []string{"hi", lang, "1", "1", "The tap is broken", "1", "Jeddah 5", yesNo(contact), yesNo(share)}
}

const (
	arabic  = "1"
	english = "4"
)

func lastCase(t *testing.T, pool *pgxpool.Pool) store.CaseRow {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT max(id) FROM cases`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	c, err := store.CaseByID(context.Background(), pool, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inProgress takes a case to where it may be resolved.
func inProgress(t *testing.T, pool *pgxpool.Pool, id int64) {
	t.Helper()
	ctx := context.Background()
	for _, to := range []cases.Status{cases.StatusAcknowledged, cases.StatusInProgress} {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return cases.ChangeStatus(ctx, tx, id, to, caseworker, "", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func resolveCase(t *testing.T, g *gateway.Gateway, pool *pgxpool.Pool, id int64, note string) (bool, error) {
	t.Helper()
	var told bool
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		told, err = g.ResolveCase(context.Background(), tx, id, note, caseworker)
		return err
	})
	return told, err
}

// outbound is a message we sent or queued, as the log has it.
type outbound struct {
	ID                     int64
	Channel, URN, Language string
	Text, Status           string
	ReplyTo                *int64
}

// lastOut is the newest outbound message.
func lastOut(t *testing.T, pool *pgxpool.Pool) outbound {
	t.Helper()
	var o outbound
	err := pool.QueryRow(context.Background(), `
		SELECT m.id, m.channel, u.urn, coalesce(m.language, ''), m.text, m.status, m.reply_to
		FROM messages m JOIN urns u ON u.id = m.urn_id WHERE m.direction = 'out' ORDER BY m.id DESC LIMIT 1`).
		Scan(&o.ID, &o.Channel, &o.URN, &o.Language, &o.Text, &o.Status, &o.ReplyTo)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// queuedJob reports whether a send job carries the message.
func queuedJob(t *testing.T, pool *pgxpool.Pool, messageID int64) bool {
	t.Helper()
	return count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'
		AND args @> jsonb_build_object('message_ids', jsonb_build_array($1::bigint))`, messageID) == 1
}

func sessionAt(t *testing.T, pool *pgxpool.Pool, contactID int64) string {
	t.Helper()
	var flow, step string
	if err := pool.QueryRow(context.Background(), `SELECT state->>'flow', state->>'step' FROM sessions WHERE contact_id = $1`,
		contactID).Scan(&flow, &step); err != nil {
		t.Fatal(err)
	}
	return flow + "/" + step
}

func satisfaction(t *testing.T, pool *pgxpool.Pool, id int64) (answer string, events []string) {
	t.Helper()
	c, err := store.CaseByID(context.Background(), pool, id)
	if err != nil {
		t.Fatal(err)
	}
	answer = "none"
	if c.Satisfied != nil {
		answer = fmt.Sprint(*c.Satisfied)
	}
	evs, err := store.CaseEvents(context.Background(), pool, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Kind == "satisfaction" {
			events = append(events, e.Actor+":"+e.ToValue)
		}
	}
	return answer, events
}

// TestResolvedCaseIsToldAndAnswered: the person is told the answer in their language on the
// channel they used, asked whether they are satisfied, and their answer — by number or by
// word, right after — is kept on the case with an event.
func TestResolvedCaseIsToldAndAnswered(t *testing.T) {
	for _, c := range []struct {
		name, lang, answer, want, thanks string
	}{
		{"arabic yes by number", arabic, "1", "true", "يسعدنا"},
		{"arabic yes by word", arabic, "نعم", "true", "يسعدنا"},
		{"arabic no by number", arabic, "2", "false", "شكوى جديدة"},
		{"english no by word", english, "no", "false", "make a new complaint"},
		{"english yes by word", english, "yes", "true", "glad we could help"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool := pgtest.New(t)
			g := newGateway(t, pool)
			urn := "tel:+9647701234567"
			send(t, g, urn, complaint(c.lang, true, true)...)
			k := lastCase(t, pool)
			inProgress(t, pool, k.ID)

			note := "The tap at block C was repaired on Sunday."
			told, err := resolveCase(t, g, pool, k.ID, note)
			if err != nil || !told {
				t.Fatalf("resolve: told %t, %v", told, err)
			}
			o := lastOut(t, pool)
			ref := cases.Reference(k.Reference).Display()
			intro, question := "Your complaint "+ref+" has been answered: "+note, "Are you satisfied with how we handled it?"
			lang := "en"
			if c.lang == arabic {
				ref = strings.ReplaceAll(ref, " ", "\u00a0") // kept one number in right-to-left text
				intro, question, lang = "تم الرد على شكواك رقم "+ref+": "+note, "هل تعاملنا مع شكواك بطريقة ترضيك؟", "ar"
			}
			if o.Channel != "sms" || o.URN != urn || o.Language != lang || o.Status != "queued" || o.ReplyTo != nil {
				t.Errorf("answer logged as %+v, want a queued SMS in %s to %s answering no message", o, lang, urn)
			}
			if !strings.HasPrefix(o.Text, intro+"\n"+question+"\n1") {
				t.Errorf("answer text:\n%s\nwant it to start with:\n%s\n%s", o.Text, intro, question)
			}
			if !queuedJob(t, pool, o.ID) {
				t.Error("no send job carries the answer")
			}
			if at := sessionAt(t, pool, k.ContactID); at != "satisfaction/ask" {
				t.Errorf("session at %s, want satisfaction/ask", at)
			}

			res := send(t, g, urn, c.answer)
			if got := res[0].Replies[0].Text; !strings.Contains(got, c.thanks) {
				t.Errorf("thanks = %q, want it to contain %q", got, c.thanks)
			}
			answer, events := satisfaction(t, pool, k.ID)
			yesNo := map[string]string{"true": "yes", "false": "no"}[c.want]
			if answer != c.want || strings.Join(events, " ") != cases.PersonActor+":"+yesNo {
				t.Errorf("kept satisfied=%s, events %v; want %s and one event", answer, events, c.want)
			}
			if at := sessionAt(t, pool, k.ContactID); at != "menu/main" {
				t.Errorf("session at %s after the answer, want menu/main", at)
			}
		})
	}
}

// TestVoiceCaseIsAnsweredBySMS: a case opened on a call is answered by SMS to the number that
// called, and the answer by SMS is kept.
func TestVoiceCaseIsAnsweredBySMS(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	ctx := context.Background()
	urn := channels.URN("tel:+9647509876543")
	for i, in := range []channels.Inbound{{Payload: channels.CallPayload}, {Text: "4"}, {Payload: channels.HangupPayload}} {
		in.Channel, in.URN, in.ExternalID, in.Inline = channels.Voice, urn, fmt.Sprintf("CA1-%d", i), true
		if _, err := g.Receive(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	contact, err := store.ContactOfURN(ctx, pool, urn)
	if err != nil || contact.Language != "en" {
		t.Fatalf("caller: %+v, %v", contact, err)
	}
	var id int64
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		c, err := cases.Open(ctx, tx, cases.New{ContactID: contact.ID, Category: cases.CategoryAssistanceRequest,
			Channel: string(channels.Voice), Language: "en", ConsentContact: true, CallBack: true},
			func() cases.Reference { return "12345674" }, time.Now())
		id = c.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	inProgress(t, pool, id)
	if told, err := resolveCase(t, g, pool, id, "We called you back and registered your family."); err != nil || !told {
		t.Fatalf("resolve: told %t, %v", told, err)
	}
	o := lastOut(t, pool)
	if o.Channel != "sms" || o.URN != string(urn) || !strings.Contains(o.Text, "1234 5674 has been answered") ||
		!strings.HasSuffix(o.Text, "1. Yes\n2. No") {
		t.Errorf("answer to a caller: %+v", o)
	}
	send(t, g, string(urn), "1")
	if answer, _ := satisfaction(t, pool, id); answer != "true" {
		t.Errorf("satisfied = %s, want true", answer)
	}
}

// TestTelegramCaseIsAnsweredWithButtons: a Telegram case is answered on Telegram, and a press
// of the button is the answer.
func TestTelegramCaseIsAnsweredWithButtons(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	ctx := context.Background()
	urn := channels.URN("telegram:424242")
	for i, text := range complaint(english, true, false) {
		in := channels.Inbound{Channel: channels.Telegram, URN: urn, ExternalID: fmt.Sprint("tg-", i), Text: text}
		if _, err := g.Receive(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	k := lastCase(t, pool)
	inProgress(t, pool, k.ID)
	if _, err := resolveCase(t, g, pool, k.ID, "Fixed."); err != nil {
		t.Fatal(err)
	}
	o := lastOut(t, pool)
	if o.Channel != "telegram" || o.URN != string(urn) || strings.Contains(o.Text, "1. Yes") {
		t.Errorf("answer on Telegram: %+v (buttons, not a numbered list)", o)
	}
	if _, err := g.Receive(ctx, channels.Inbound{Channel: channels.Telegram, URN: urn, ExternalID: "tg-press", Payload: "satisfaction.ask:2"}); err != nil {
		t.Fatal(err)
	}
	if answer, _ := satisfaction(t, pool, k.ID); answer != "false" {
		t.Errorf("satisfied = %s, want false", answer)
	}
}

// TestNoConsentToContactMeansNoMessage: the case is resolved, and the person, who did not
// agree to be contacted, is not written to.
func TestNoConsentToContactMeansNoMessage(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	send(t, g, "tel:+9647701234567", complaint(english, false, false)...)
	k := lastCase(t, pool)
	inProgress(t, pool, k.ID)
	before := count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out'`)
	told, err := resolveCase(t, g, pool, k.ID, "Fixed.")
	if err != nil || told {
		t.Fatalf("resolve: told %t, %v; want resolved without telling", told, err)
	}
	if after := count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out'`); after != before {
		t.Errorf("%d messages written to a person who did not agree to be contacted", after-before)
	}
	if got := lastCase(t, pool); got.Status != "resolved" {
		t.Errorf("status = %s, want resolved", got.Status)
	}
	if at := sessionAt(t, pool, k.ContactID); at != "menu/main" {
		t.Errorf("session at %s, want it untouched at menu/main", at)
	}
}

// TestOptedOutPersonIsStillTold: STOP ends broadcasts, not the answer to one's own case.
func TestOptedOutPersonIsStillTold(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	urn := "tel:+9647701234567"
	send(t, g, urn, complaint(english, true, true)...)
	send(t, g, urn, "STOP")
	k := lastCase(t, pool)
	inProgress(t, pool, k.ID)
	if told, err := resolveCase(t, g, pool, k.ID, "Fixed."); err != nil || !told {
		t.Fatalf("resolve: told %t, %v", told, err)
	}
	if o := lastOut(t, pool); !strings.Contains(o.Text, "has been answered: Fixed.") || o.Status != "queued" || !queuedJob(t, pool, o.ID) {
		t.Errorf("answer to an opted-out person: %+v", o)
	}
}

// TestResolveRefusalsSendNothing: a case resolved twice, or unknown, is refused and nobody
// is written to.
func TestResolveRefusalsSendNothing(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	send(t, g, "tel:+9647701234567", complaint(english, true, true)...)
	k := lastCase(t, pool)
	if _, err := resolveCase(t, g, pool, k.ID, "Fixed."); !errors.Is(err, cases.ErrTransition) {
		t.Errorf("resolving a new case: err = %v, want ErrTransition", err)
	}
	inProgress(t, pool, k.ID)
	if _, err := resolveCase(t, g, pool, k.ID, "Fixed."); err != nil {
		t.Fatal(err)
	}
	before := count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out'`)
	if _, err := resolveCase(t, g, pool, k.ID, "Fixed again."); !errors.Is(err, cases.ErrTransition) {
		t.Errorf("resolving twice: err = %v, want ErrTransition", err)
	}
	if _, err := resolveCase(t, g, pool, k.ID+100, "Fixed."); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown case: err = %v, want ErrNotFound", err)
	}
	if after := count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out'`); after != before {
		t.Errorf("%d messages sent by refused resolutions", after-before)
	}
}

// TestAnswerComesInTheMiddleOfAConversation: someone filing another complaint is asked about
// the first one, answers, and goes on with the second where they were.
func TestAnswerComesInTheMiddleOfAConversation(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	urn := "tel:+9647701234567"
	send(t, g, urn, complaint(english, true, true)...)
	first := lastCase(t, pool)
	inProgress(t, pool, first.ID)
	send(t, g, urn, "1", "1") // a second complaint, at "what happened"
	if _, err := resolveCase(t, g, pool, first.ID, "Fixed."); err != nil {
		t.Fatal(err)
	}
	res := send(t, g, urn, "1")
	if got := res[0].Replies[0].Text; got != "Thank you for telling us. We are glad we could help.\nPlease tell us what happened, in one message." {
		t.Errorf("after the answer: %q", got)
	}
	if answer, _ := satisfaction(t, pool, first.ID); answer != "true" {
		t.Errorf("satisfied = %s, want true", answer)
	}
	send(t, g, urn, "The roof leaks", "1", "Jeddah 5", "1", "1")
	if n := count(t, pool, `SELECT count(*) FROM cases`); n != 2 {
		t.Errorf("cases = %d, want the second complaint filed too", n)
	}
}

// TestLateMessageIsANewConversation: no answer within the idle timeout, then a message about
// something else: the conversation starts afresh and no answer is kept.
func TestLateMessageIsANewConversation(t *testing.T) {
	pool := pgtest.New(t)
	clk := newClock()
	g := newGatewayAt(t, pool, clk.Now)
	urn := "tel:+9647701234567"
	send(t, g, urn, complaint(english, true, true)...)
	k := lastCase(t, pool)
	inProgress(t, pool, k.ID)
	if _, err := resolveCase(t, g, pool, k.ID, "Fixed."); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Hour)
	res := send(t, g, urn, "1")
	if got := res[0].Replies[0].Text; !strings.HasPrefix(got, "We closed our last conversation") {
		t.Errorf("late message answered with %q", got)
	}
	if answer, events := satisfaction(t, pool, k.ID); answer != "none" || len(events) != 0 {
		t.Errorf("a late message was kept as the answer: %s %v", answer, events)
	}
}

func TestReplyToCase(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	ctx := context.Background()
	reply := func(id int64, text string) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return g.ReplyToCase(ctx, tx, id, text, caseworker) })
	}
	send(t, g, "tel:+9647701234567", complaint(arabic, true, true)...)
	k := lastCase(t, pool)
	if err := reply(k.ID, "We will visit your tent on Sunday."); err != nil {
		t.Fatal(err)
	}
	o := lastOut(t, pool)
	ref := strings.ReplaceAll(cases.Reference(k.Reference).Display(), " ", "\u00a0")
	if o.Channel != "sms" || o.Language != "ar" || !strings.HasPrefix(o.Text, "بخصوص شكواك رقم "+ref+": We will visit your tent on Sunday.") ||
		!queuedJob(t, pool, o.ID) {
		t.Errorf("reply: %+v", o)
	}
	if n := count(t, pool, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'replied' AND actor = $2`, k.ID, caseworker); n != 1 {
		t.Errorf("replied events = %d, want 1", n)
	}

	send(t, g, "tel:+9647700000001", complaint(english, false, true)...)
	silent := lastCase(t, pool)
	before := count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out'`)
	if err := reply(silent.ID, "Hello"); !errors.Is(err, cases.ErrNoContactConsent) {
		t.Errorf("reply without consent: err = %v, want ErrNoContactConsent", err)
	}
	if after := count(t, pool, `SELECT count(*) FROM messages WHERE direction = 'out'`); after != before {
		t.Errorf("%d messages sent without consent", after-before)
	}
}

func TestStartFlow(t *testing.T) {
	pool := pgtest.New(t)
	g := newGateway(t, pool)
	ctx := context.Background()
	send(t, g, "tel:+9647701234567", "hi", english)
	contact, err := store.ContactOfURN(ctx, pool, "tel:+9647701234567")
	if err != nil {
		t.Fatal(err)
	}
	start := func(id int64, ch channels.Kind, flow string) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return g.StartFlow(ctx, tx, id, ch, flow, map[string]string{"reference": "1234 5674", "message": "Hello."})
		})
	}
	if err := start(contact.ID, channels.Telegram, gateway.CaseReplyFlow); !errors.Is(err, gateway.ErrNoAddress) {
		t.Errorf("no Telegram address: err = %v, want ErrNoAddress", err)
	}
	if err := start(contact.ID, channels.SMS, "no_such_flow"); err == nil || !strings.Contains(err.Error(), "unknown flow") {
		t.Errorf("unknown flow: err = %v", err)
	}
	if err := start(contact.ID, channels.Voice, gateway.CaseReplyFlow); err != nil {
		t.Fatal(err)
	}
	if o := lastOut(t, pool); o.Channel != "sms" || o.Text != "About your complaint 1234 5674: Hello.\n0. Main menu" {
		t.Errorf("started flow said %+v", o)
	}
}
