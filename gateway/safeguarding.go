package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// A confidential report of abuse, as the gateway makes it: every answer sealed (encrypted to
// the focal points and the escrow key) in the transaction that received it, the report holding
// no trace of who made it outside its ciphertext, focal points alerted without content.

// Calls of the confidential flow.
const (
	actionSEAHold   = "sea_hold"
	actionSEAOpen   = "sea_open"
	actionSEAFinish = "sea_finish"
	actionSEAErase  = "sea_erase"
)

// Session variables the confidential flow keeps: the open report's ID while the conversation
// lasts (then cleared), and the sealed message that raised the question until it joins the
// report.
const (
	varSEAReport = "sea_report"
	varSEAFirst  = "sea_first"
)

// Default deadlines of a report.
const (
	DefaultSEAAckHours     = 24
	DefaultSEAResolveHours = 168
)

// SEAConfig is how reports are made and focal points told.
type SEAConfig struct {
	// Sealer encrypts to the registered recipients. Without it no report can be taken: the
	// flow's calls fail rather than keep anything in clear.
	Sealer *safeguarding.Sealer
	// Helpline is the support line told to the person (SAWT_GBV_HELPLINE); empty: not told.
	Helpline string
	// AckHours and ResolveHours are the deadlines of a new report.
	AckHours, ResolveHours int
	// Texts and Location render alerts to focal points, in their language and local time.
	Texts    *locales.Catalog
	Location *time.Location
}

func (c SEAConfig) withDefaults() SEAConfig {
	if c.AckHours <= 0 {
		c.AckHours = DefaultSEAAckHours
	}
	if c.ResolveHours <= 0 {
		c.ResolveHours = DefaultSEAResolveHours
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	return c
}

// validatePhone reads a phone number typed or keyed in, for a person who wants to be called
// on another number.
func validatePhone(input string) (string, string) {
	urn, err := channels.NewTelURN(input)
	if err != nil {
		return "", "format"
	}
	return urn.Path(), ""
}

func (g *Gateway) seal(ctx context.Context, tx pgx.Tx, a safeguarding.Answer) ([]byte, error) {
	if g.sea.Sealer == nil {
		return nil, errors.New("confidential report: no sealer configured")
	}
	plain, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	return g.sea.Sealer.Seal(ctx, tx, plain)
}

// seaHold seals the message that raised the question, kept in the session as ciphertext until
// the person says whether they want to make a report.
func (g *Gateway) seaHold(ctx context.Context, tx pgx.Tx, t *turn) (flows.CallResult, error) {
	if t.in.Text == "" {
		return flows.CallResult{Outcome: "ok"}, nil
	}
	ct, err := g.seal(ctx, tx, safeguarding.Answer{Field: "first_message", Value: t.in.Text, At: t.env.Now})
	if err != nil {
		return flows.CallResult{}, err
	}
	return flows.CallResult{Outcome: "ok", Vars: map[string]string{varSEAFirst: base64.StdEncoding.EncodeToString(ct)}}, nil
}

// seaOpen makes the report, with the held message if there is one.
func (g *Gateway) seaOpen(ctx context.Context, tx pgx.Tx, t *turn, args map[string]string) (flows.CallResult, error) {
	id, err := g.newReport(ctx, tx, t)
	if err != nil {
		return flows.CallResult{}, err
	}
	if first := args["first"]; first != "" {
		ct, err := base64.StdEncoding.DecodeString(first)
		if err != nil {
			return flows.CallResult{}, fmt.Errorf("held message: %w", err)
		}
		if err := store.AddSEAPart(ctx, tx, id, "answer", ct, t.env.Now); err != nil {
			return flows.CallResult{}, err
		}
	}
	return flows.CallResult{Outcome: "ok", Vars: map[string]string{
		varSEAReport: strconv.FormatInt(id, 10), varSEAFirst: "", "helpline": g.sea.Helpline,
	}}, nil
}

func (g *Gateway) newReport(ctx context.Context, tx pgx.Tx, t *turn) (int64, error) {
	now := t.env.Now
	r := store.SEAReport{
		Channel: string(t.in.Channel), Status: string(cases.StatusNew),
		AckDueAt:     now.Add(time.Duration(g.sea.AckHours) * time.Hour),
		ResolveDueAt: now.Add(time.Duration(g.sea.ResolveHours) * time.Hour),
		CreatedAt:    now, UpdatedAt: now,
	}
	for range 10 {
		r.Reference = g.draw(func(rng *rand.Rand) string { return string(cases.NewReference(rng)) })
		id, err := store.InsertSEAReport(ctx, tx, r)
		if errors.Is(err, store.ErrReferenceTaken) {
			continue
		}
		if err == nil {
			g.metrics.caseOpened("sea")
		}
		return id, err
	}
	return 0, errors.New("no free reference after 10 draws")
}

// reportOf is the report a confidential conversation is filling; one is made if the session
// lost it, so that no answer is dropped.
func (g *Gateway) reportOf(ctx context.Context, tx pgx.Tx, t *turn, sess flows.Session) (int64, error) {
	if id, err := strconv.ParseInt(sess.Vars[varSEAReport], 10, 64); err == nil && id > 0 {
		return id, nil
	}
	id, err := g.newReport(ctx, tx, t)
	if err != nil {
		return 0, err
	}
	if sess.Vars != nil {
		sess.Vars[varSEAReport] = strconv.FormatInt(id, 10)
	}
	return id, nil
}

// applySeal writes one answer into the report, encrypted. "Contact me here" is completed with
// the address the person wrote from: inside the ciphertext is the only place it is kept.
func (g *Gateway) applySeal(ctx context.Context, tx pgx.Tx, t *turn, sess flows.Session, s flows.Seal) error {
	id, err := g.reportOf(ctx, tx, t, sess)
	if err != nil {
		return err
	}
	a := safeguarding.Answer{Field: s.Field, Value: s.Value, Media: s.Media, At: t.env.Now}
	if s.Field == "contact" && s.Value == "here" {
		a.Value = "here: " + string(t.in.URN)
	}
	ct, err := g.seal(ctx, tx, a)
	if err != nil {
		return err
	}
	if err := store.AddSEAPart(ctx, tx, id, "answer", ct, t.env.Now); err != nil {
		return err
	}
	return store.LinkConfidentialRecordings(ctx, tx, id, s.Media, t.env.Now)
}

// seaFinish closes the questions: the report is complete, focal points are alerted, and the
// person gets the reference. The session forgets the report.
func (g *Gateway) seaFinish(ctx context.Context, tx pgx.Tx, t *turn, sess flows.Session) (flows.CallResult, error) {
	id, err := g.reportOf(ctx, tx, t, sess)
	if err != nil {
		return flows.CallResult{}, err
	}
	if err := store.CompleteSEAReport(ctx, tx, id, t.env.Now); err != nil {
		return flows.CallResult{}, err
	}
	r, err := store.SEAReportByID(ctx, tx, id)
	if err != nil {
		return flows.CallResult{}, err
	}
	if err := alertFocalPoints(ctx, tx, g.river, g.sea, g.log, r, alertNew, t.env.Now); err != nil {
		return flows.CallResult{}, err
	}
	return flows.CallResult{Outcome: "ok", Vars: map[string]string{
		"reference":  displayReference(cases.Reference(r.Reference), t.env.Language, t.env.Channel),
		"ack_hours":  strconv.Itoa(int(r.AckDueAt.Sub(r.CreatedAt).Hours())),
		varSEAReport: "",
	}}, nil
}

// seaErase queues the deletion of the confidential conversation from the person's phone:
// every message of it, theirs and ours, the provider knows by ID.
func (g *Gateway) seaErase(ctx context.Context, tx pgx.Tx, t *turn) (flows.CallResult, error) {
	ids, err := store.ConversationMessages(ctx, tx, t.contact.ID, t.in.Channel)
	if err != nil {
		return flows.CallResult{}, err
	}
	if len(ids) > 0 {
		if _, err := g.river.InsertTx(ctx, tx, EraseArgs{MessageIDs: ids}, nil); err != nil {
			return flows.CallResult{}, fmt.Errorf("queue erase: %w", err)
		}
	}
	return flows.CallResult{Outcome: "ok"}, nil
}
