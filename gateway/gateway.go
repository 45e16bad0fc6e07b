// Package gateway is the receive pipeline and the outbox. Receive stores and handles one
// inbound message in one transaction: inbox (dedupe), contact, locked session, engine step,
// effects, replies queued as durable jobs; it returns only once all of that is committed, or
// an error with nothing written. StartFlow writes to a person without a message of theirs
// (their case was resolved) the same way, in the caller's transaction. The outbox worker sends
// queued replies through each channel's Sender and records what happened.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// ErrBadInbound wraps every refusal of an inbound message that no retry can fix.
var ErrBadInbound = channels.ErrBadInbound

// Config assembles a Gateway. Pool, Engine and River are required.
type Config struct {
	Pool   *pgxpool.Pool
	Engine *flows.Engine
	// River inserts the outbox jobs in the message's transaction.
	River *river.Client[pgx.Tx]
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Rand draws case references. Defaults to a source seeded from the operating system.
	Rand *rand.Rand
	// Metrics, when set, counts what the pipeline does.
	Metrics *Metrics
	Logger  *slog.Logger
	// SEA is how confidential reports are taken.
	SEA SEAConfig
	// Outreach is what conversations about distributions and updates need.
	Outreach OutreachConfig
}

// Gateway implements channels.Receiver.
type Gateway struct {
	pool     *pgxpool.Pool
	engine   *flows.Engine
	river    *river.Client[pgx.Tx]
	now      func() time.Time
	randMu   sync.Mutex
	rand     *rand.Rand
	metrics  *Metrics
	log      *slog.Logger
	sea      SEAConfig
	outreach OutreachConfig
}

// New checks the configuration and makes a Gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Pool == nil || cfg.Engine == nil || cfg.River == nil {
		return nil, errors.New("gateway: Pool, Engine and River are required")
	}
	g := &Gateway{pool: cfg.Pool, engine: cfg.Engine, river: cfg.River, now: cfg.Now, rand: cfg.Rand,
		metrics: cfg.Metrics, log: cfg.Logger, sea: cfg.SEA.withDefaults(),
		outreach: cfg.Outreach.withDefaults()}
	if g.now == nil {
		g.now = time.Now
	}
	if g.rand == nil {
		g.rand = rand.New(rand.NewChaCha8(seed()))
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	return g, nil
}

// Receive stores and handles one inbound message. See the package comment.
func (g *Gateway) Receive(ctx context.Context, in channels.Inbound) (channels.Result, error) {
	start := time.Now()
	in, err := clean(in)
	if err != nil {
		g.metrics.inbound(in.Channel, "invalid", time.Since(start))
		return channels.Result{}, err
	}
	var res channels.Result
	err = pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		var err error
		res, err = g.receive(ctx, tx, in)
		return err
	})
	switch {
	case err != nil:
		g.metrics.inbound(in.Channel, "error", time.Since(start))
		g.log.Error("inbound message not stored", "channel", in.Channel, "urn", in.URN.Masked(), "err", err)
		return channels.Result{}, fmt.Errorf("store inbound message: %w", err)
	case res.Duplicate:
		g.metrics.inbound(in.Channel, "duplicate", time.Since(start))
	default:
		g.metrics.inbound(in.Channel, "handled", time.Since(start))
	}
	return res, nil
}

// clean checks what no retry can fix and makes the text storable (Postgres text holds neither
// NUL nor invalid UTF-8).
func clean(in channels.Inbound) (channels.Inbound, error) {
	if !in.Channel.Valid() {
		return in, fmt.Errorf("%w: unknown channel %q", ErrBadInbound, in.Channel)
	}
	if in.ExternalID == "" || len(in.ExternalID) > 256 {
		return in, fmt.Errorf("%w: external ID must have 1 to 256 characters", ErrBadInbound)
	}
	urn, err := channels.ParseURN(string(in.URN))
	if err != nil {
		return in, fmt.Errorf("%w: %w", ErrBadInbound, err)
	}
	in.URN = urn
	in.Text = storable(in.Text)
	in.Payload = storable(in.Payload)
	in.Source = storable(in.Source)
	if len(in.Source) > 64 {
		in.Source = in.Source[:64] // a deep-link payload is at most 64 characters
	}
	return in, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func storable(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// turn is what one inbound message's handling knows, for the calls and effects. A turn that
// no message began (StartFlow) has an in with only the channel and the address replies go to.
type turn struct {
	in        channels.Inbound
	contact   store.Contact
	env       flows.Env
	messageID int64 // the logged inbound message, once a call needed it
	replies   []channels.Outbound
	language  *string
	optedOut  *bool
}

func (g *Gateway) receive(ctx context.Context, tx pgx.Tx, in channels.Inbound) (channels.Result, error) {
	now := g.now()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	start, err := store.StartTurn(ctx, tx, in.Channel, in.ExternalID, in.ReceivedAt, in.URN)
	if err != nil {
		return channels.Result{}, err
	}
	if !start.Fresh {
		replies, err := store.RepliesToInbox(ctx, tx, start.InboxID)
		return channels.Result{Duplicate: true, Replies: replies}, err
	}
	hint := locales.FromHint(in.LanguageHint)
	contact, hintChanged := start.Contact, (*string)(nil)
	if !start.Found {
		if contact, err = store.CreateContact(ctx, tx, in.URN, hint); err != nil {
			return channels.Result{}, err
		}
	} else if hint != "" && hint != contact.LanguageHint {
		contact.LanguageHint, hintChanged = hint, &hint
	}
	sess := g.session(start.State, contact.ID)
	t := &turn{in: in, contact: contact, env: flows.Env{
		Now: now, Channel: in.Channel, Language: contact.Language, LanguageHint: contact.LanguageHint,
	}}

	stepStart := time.Now()
	sprint := g.engine.Step(sess, t.env, flows.Input{Text: in.Text, Payload: in.Payload, Media: in.Media, SharedPhone: in.SharedPhone})
	g.metrics.step(time.Since(stepStart))
	inbound := store.Inbound{
		ContactID: contact.ID, URNID: contact.URNID, InboxID: start.InboxID, Channel: in.Channel,
		Text: in.Text, Payload: in.Payload, Media: in.Media, Redacted: sprint.Confidential, ReceivedAt: in.ReceivedAt,
		ProviderID: in.MessageID,
	}
	sess, err = g.converse(ctx, tx, t, sprint, func() error {
		if t.messageID != 0 {
			return nil
		}
		// A case records the message that completed it: log it now.
		id, err := store.InsertInbound(ctx, tx, inbound)
		t.messageID = id
		return err
	})
	if err != nil {
		return channels.Result{}, err
	}
	replies, err := g.finish(ctx, tx, t, sess, store.TurnEnd{
		Inbound: &inbound, InboundID: t.messageID, Inline: in.Inline, Hint: hintChanged, Source: nonEmpty(in.Source),
	})
	if err != nil {
		return channels.Result{}, err
	}
	return channels.Result{Replies: replies}, nil
}

// maxCallsPerTurn bounds the calls one turn's flow may make.
const maxCallsPerTurn = 10

// converse takes a sprint's effects and makes the calls it asks for, resuming the engine with
// each result, until the conversation waits for the person; it returns the session then.
// beforeCall, when not nil, runs before each call.
func (g *Gateway) converse(ctx context.Context, tx pgx.Tx, t *turn, sprint flows.Sprint, beforeCall func() error) (flows.Session, error) {
	for calls := 0; ; calls++ {
		if err := g.apply(ctx, tx, t, sprint); err != nil {
			return flows.Session{}, err
		}
		if sprint.Call == nil {
			return sprint.Session, nil
		}
		if calls >= maxCallsPerTurn {
			return flows.Session{}, fmt.Errorf("flow made more than %d calls in one turn", maxCallsPerTurn)
		}
		if beforeCall != nil {
			if err := beforeCall(); err != nil {
				return flows.Session{}, err
			}
		}
		res, err := g.call(ctx, tx, t, sprint.Session, *sprint.Call)
		if err != nil {
			return flows.Session{}, fmt.Errorf("%s: %w", sprint.Call.Action, err)
		}
		sprint = g.engine.Resume(sprint.Session, t.env, res)
	}
}

// finish writes what a turn leaves, with what end already says (the inbound message, if a
// message began the turn): the replies, the session, changes to the contact. Unless they are
// answered inline, the replies are queued for the outbox in the same transaction, as one job:
// they are sent in order, and only if all of it is committed. It returns the replies with
// their IDs.
func (g *Gateway) finish(ctx context.Context, tx pgx.Tx, t *turn, sess flows.Session, end store.TurnEnd) ([]channels.Outbound, error) {
	state, err := json.Marshal(sess)
	if err != nil {
		return nil, err
	}
	end.Contact, end.Channel, end.Replies, end.Redacted = t.contact, t.in.Channel, t.replies, redactions(t.replies)
	end.State, end.At, end.Language, end.OptedOut = state, t.env.Now, t.language, t.optedOut
	ids, err := store.FinishTurn(ctx, tx, end)
	if err != nil {
		return nil, err
	}
	if len(ids) != len(t.replies) {
		return nil, fmt.Errorf("logged %d replies of %d", len(ids), len(t.replies))
	}
	for i := range t.replies {
		t.replies[i].ID = ids[i]
	}
	if len(ids) > 0 && !end.Inline {
		if _, err := g.river.InsertTx(ctx, tx, SendArgs{MessageIDs: ids}, nil); err != nil {
			return nil, fmt.Errorf("queue replies: %w", err)
		}
	}
	return t.replies, nil
}

// apply takes a sprint's effects in order: replies are rendered for the channel, answers of a
// confidential flow sealed into their report at once, changes to the contact kept for the end
// of the turn (and the language for the rest of it).
func (g *Gateway) apply(ctx context.Context, tx pgx.Tx, t *turn, sprint flows.Sprint) error {
	for _, eff := range sprint.Effects {
		switch e := eff.(type) {
		case flows.Reply:
			out := flows.Render(e.Message, t.in.Channel)
			out.URN, out.Confidential = t.in.URN, e.Confidential
			t.replies = append(t.replies, out)
		case flows.Seal:
			if err := g.applySeal(ctx, tx, t, sprint.Session, e); err != nil {
				return fmt.Errorf("seal answer: %w", err)
			}
		case flows.SetLanguage:
			lang := e.Language
			t.language, t.env.Language = &lang, lang
		case flows.SetOptOut:
			opted := e.OptedOut
			t.optedOut = &opted
		}
	}
	return nil
}

// redactions says which replies the message log keeps only as a placeholder.
func redactions(replies []channels.Outbound) []bool {
	r := make([]bool, len(replies))
	for i, o := range replies {
		r[i] = o.Confidential
	}
	return r
}

func (g *Gateway) draw(f func(*rand.Rand) string) string {
	g.randMu.Lock()
	defer g.randMu.Unlock()
	return f(g.rand)
}

// SetLanguage records a contact's language before their first message (`sawt chat --lang`),
// creating the contact if needed.
func (g *Gateway) SetLanguage(ctx context.Context, urn channels.URN, lang string) error {
	if !locales.Valid(lang) {
		return fmt.Errorf("unknown language %q (ar, ckb, badini or en)", lang)
	}
	return pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		if err := store.LockURN(ctx, tx, urn); err != nil {
			return err
		}
		c, err := store.ContactForURN(ctx, tx, urn)
		if err != nil {
			return err
		}
		return store.SetContactLanguage(ctx, tx, c.ID, lang)
	})
}
