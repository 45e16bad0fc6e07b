package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/store"
)

// Writing to a person without a message of theirs to answer: a caseworker resolved their case
// (they are told the answer and asked whether they are satisfied) or wrote to them about it.
// The engine starts a flow for them, and what it says goes out as a turn's replies do: logged,
// queued for the outbox in the caller's transaction, sent in order with the rest.

// Flows staff start (flows/defs).
const (
	// SatisfactionFlow tells the person their case's answer and asks whether they are satisfied.
	SatisfactionFlow = "satisfaction"
	// CaseReplyFlow gives the person a caseworker's message about their case.
	CaseReplyFlow = "case_reply"
)

// ErrNoAddress says a person has no address we can write to on a channel.
var ErrNoAddress = errors.New("no address to write to")

// recipient is whom a started flow talks to, and where.
type recipient struct {
	contact store.Contact // its URNID is urn's
	urn     channels.URN
	channel channels.Kind
}

// StartFlow starts a flow for a contact, in tx, without a message of theirs: the engine
// begins it in their conversation (flows.Engine.Start; vars are known to the flow from its
// start) and its replies are logged and queued for the outbox like any turn's. channel is the
// channel their case came by: they are written to at their address on it, and someone who
// called is written to by SMS at the number they called from. It takes the address's lock
// (store.LockURN), as a message from them does, so the two are handled one after the other.
//
// A person who opted out of broadcasts (STOP) is written to all the same: this is about their
// own case, not a broadcast. An address the provider refuses (a blocked bot, a number that
// opted out at the carrier) fails at sending, as any reply to it does.
func (g *Gateway) StartFlow(ctx context.Context, tx pgx.Tx, contactID int64, channel channels.Kind, flow string, vars map[string]string) error {
	to, err := g.lockRecipient(ctx, tx, contactID, channel)
	if err != nil {
		return err
	}
	return g.startFlow(ctx, tx, to, flow, vars)
}

// ResolveCase resolves a case (cases.Resolve) and, in the same transaction, tells the person
// the answer in their language on the channel the case came by (by SMS for a call) and asks
// whether they are satisfied (SatisfactionFlow); their answer is kept on the case when it
// comes. Someone who did not agree to be contacted about the case is not written to: the case
// is resolved all the same, and told is false (they can still check it by its reference). So is
// someone we have no address for, which is logged.
func (g *Gateway) ResolveCase(ctx context.Context, tx pgx.Tx, caseID int64, resolution, actor string) (told bool, err error) {
	c, err := caseByID(ctx, tx, caseID)
	if err != nil {
		return false, err
	}
	// The address's lock is taken before the case's row, in the order a message's turn takes
	// them (a turn that records a satisfaction answer holds the address, then the case).
	var to recipient
	tell := c.ConsentContact
	if tell {
		to, err = g.lockRecipient(ctx, tx, c.ContactID, channels.Kind(c.Channel))
		if errors.Is(err, ErrNoAddress) {
			g.log.Warn("resolved case not told: no address", "case", c.ID, "channel", c.Channel)
			tell = false
		} else if err != nil {
			return false, err
		}
	}
	c, err = cases.Resolve(ctx, tx, caseID, resolution, actor, g.now())
	if err != nil || !tell {
		return false, err
	}
	err = g.startFlow(ctx, tx, to, SatisfactionFlow, map[string]string{
		"case":       strconv.FormatInt(c.ID, 10),
		"reference":  displayReference(cases.Reference(c.Reference), to.contact.Language, to.channel),
		"resolution": c.Resolution,
	})
	return err == nil, err
}

// ReplyToCase writes a caseworker's message to the person about their case, in the same
// transaction as its "replied" event (cases.Reply), on the channel the case came by (by SMS
// for a call). Refused when they did not agree to be contacted (cases.ErrNoContactConsent) or
// when we have no address for them (ErrNoAddress).
func (g *Gateway) ReplyToCase(ctx context.Context, tx pgx.Tx, caseID int64, text, actor string) error {
	c, err := caseByID(ctx, tx, caseID)
	if err != nil {
		return err
	}
	var to recipient
	if c.ConsentContact { // otherwise cases.Reply refuses, and says why
		if to, err = g.lockRecipient(ctx, tx, c.ContactID, channels.Kind(c.Channel)); err != nil {
			return fmt.Errorf("case %s: %w", c.Reference, err)
		}
	}
	c, err = cases.Reply(ctx, tx, caseID, text, actor, g.now())
	if err != nil {
		return err
	}
	return g.startFlow(ctx, tx, to, CaseReplyFlow, map[string]string{
		"reference": displayReference(cases.Reference(c.Reference), to.contact.Language, to.channel),
		"message":   text,
	})
}

func caseByID(ctx context.Context, db store.DB, id int64) (store.CaseRow, error) {
	c, err := store.CaseByID(ctx, db, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("case %d: %w", id, store.ErrNotFound)
	}
	return c, err
}

// lockRecipient finds where to write to a contact whose case came by channel, takes that
// address's lock, and reads the contact under it.
func (g *Gateway) lockRecipient(ctx context.Context, tx pgx.Tx, contactID int64, channel channels.Kind) (recipient, error) {
	out := channel
	if out == channels.Voice {
		out = channels.SMS // the call is over: the caller is written to at their number
	}
	var scheme string
	switch out {
	case channels.SMS:
		scheme = channels.SchemeTel
	case channels.Telegram:
		scheme = channels.SchemeTelegram
	case channels.Terminal:
		scheme = channels.SchemeTerminal
	default:
		return recipient{}, fmt.Errorf("contact %d: %w: unknown channel %q", contactID, ErrNoAddress, channel)
	}
	urn, err := store.ContactURN(ctx, tx, contactID, scheme)
	if errors.Is(err, store.ErrNotFound) {
		return recipient{}, fmt.Errorf("contact %d: %w on %s", contactID, ErrNoAddress, out)
	}
	if err != nil {
		return recipient{}, err
	}
	if err := store.LockURN(ctx, tx, urn); err != nil {
		return recipient{}, err
	}
	contact, err := store.ContactOfURN(ctx, tx, urn)
	if err != nil {
		return recipient{}, fmt.Errorf("contact %d: %w", contactID, err)
	}
	return recipient{contact: contact, urn: urn, channel: out}, nil
}

// startFlow runs a started flow's turn for a recipient whose address's lock is held.
func (g *Gateway) startFlow(ctx context.Context, tx pgx.Tx, to recipient, flow string, vars map[string]string) error {
	if !g.engine.HasFlow(flow) {
		return fmt.Errorf("start flow: unknown flow %q", flow)
	}
	state, err := store.LockSession(ctx, tx, to.contact.ID)
	if err != nil {
		return err
	}
	t := &turn{in: channels.Inbound{Channel: to.channel, URN: to.urn}, contact: to.contact, env: flows.Env{
		Now: g.now(), Channel: to.channel, Language: to.contact.Language, LanguageHint: to.contact.LanguageHint,
	}}
	sprint := g.engine.Start(g.session(state, to.contact.ID), t.env, flow, vars)
	sess, err := g.converse(ctx, tx, t, sprint, nil)
	if err != nil {
		return fmt.Errorf("start flow %s: %w", flow, err)
	}
	replies, err := g.finish(ctx, tx, t, sess, store.TurnEnd{})
	if err != nil {
		return fmt.Errorf("start flow %s: %w", flow, err)
	}
	g.log.Info("flow started for a person", "flow", flow, "contact", to.contact.ID, "channel", to.channel, "replies", len(replies))
	return nil
}

// session reads a stored session; an unreadable one starts again.
func (g *Gateway) session(state []byte, contactID int64) flows.Session {
	var sess flows.Session
	if len(state) == 0 {
		return sess
	}
	if err := json.Unmarshal(state, &sess); err != nil {
		g.log.Warn("unreadable session, starting again", "contact", contactID, "err", err)
		return flows.Session{}
	}
	return sess
}

// recordSatisfaction keeps the person's answer to "are you satisfied?" on the case they were
// asked about. The answer is theirs whatever happened to the case since; a case that is not
// theirs (it cannot be: the flow was started for them) is logged and left alone.
func (g *Gateway) recordSatisfaction(ctx context.Context, tx pgx.Tx, t *turn, args map[string]string) (flows.CallResult, error) {
	ok := flows.CallResult{Outcome: "ok"}
	id, err := strconv.ParseInt(args["case"], 10, 64)
	answer := args["satisfied"]
	if err != nil || answer != "yes" && answer != "no" {
		g.log.Warn("satisfaction answer not kept: unreadable", "contact", t.contact.ID, "case", args["case"])
		return ok, nil
	}
	err = cases.RecordSatisfaction(ctx, tx, id, t.contact.ID, answer == "yes", t.env.Now)
	if errors.Is(err, store.ErrNotFound) {
		g.log.Warn("satisfaction answer not kept: not the contact's case", "contact", t.contact.ID, "case", id)
		return ok, nil
	}
	return ok, err
}
