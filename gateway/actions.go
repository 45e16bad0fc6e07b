package gateway

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// Calls the flows may make, with the outcomes each may return.
const (
	actionOpenCase   = "open_case"
	actionCaseStatus = "case_status"
	actionLinkPhone  = "link_phone"
	// actionRecordSatisfaction keeps the person's answer to "are you satisfied?" on their case.
	actionRecordSatisfaction = "record_satisfaction"
)

// EngineConfig is the flows.Config the gateway can serve: its calls and validated inputs.
func EngineConfig(base flows.Config) flows.Config {
	statuses := []string{"not_found"}
	for _, s := range cases.Statuses() {
		statuses = append(statuses, string(s))
	}
	base.Actions = map[string][]string{
		actionOpenCase:   {"ok"},
		actionCaseStatus: statuses,
		actionLinkPhone:  {"ok"},
	}
	base.Actions[actionRecordSatisfaction] = []string{"ok"}
	base.Actions[actionSEAHold] = []string{"ok"}
	base.Actions[actionSEAOpen] = []string{"ok"}
	base.Actions[actionSEAFinish] = []string{"ok"}
	base.Actions[actionSEAErase] = []string{"ok"}
	base.Validators = map[string]flows.Validator{"reference": validateReference, "phone": validatePhone}
	outreachActions(base.Actions, base.Validators)
	return base
}

// validateReference reads a case reference as typed, telling a wrong length from a typing
// mistake the check digit caught.
func validateReference(input string) (string, string) {
	ref, err := cases.ParseReference(input)
	switch {
	case err == nil:
		return string(ref), ""
	case errors.Is(err, cases.ErrReferenceLength):
		return "", "length"
	case errors.Is(err, cases.ErrReferenceChecksum):
		return "", "checksum"
	}
	return "", "format"
}

func (g *Gateway) call(ctx context.Context, tx pgx.Tx, t *turn, sess flows.Session, c flows.Call) (flows.CallResult, error) {
	switch c.Action {
	case actionSEAHold:
		return g.seaHold(ctx, tx, t)
	case actionSEAOpen:
		return g.seaOpen(ctx, tx, t, c.Args)
	case actionSEAFinish:
		return g.seaFinish(ctx, tx, t, sess)
	case actionSEAErase:
		return g.seaErase(ctx, tx, t)
	case actionOpenCase:
		return g.openCase(ctx, tx, t, c.Args)
	case actionCaseStatus:
		return g.caseStatus(ctx, tx, t, c.Args)
	case actionLinkPhone:
		return g.linkPhone(ctx, tx, t, c.Args)
	case actionRecordSatisfaction:
		return g.recordSatisfaction(ctx, tx, t, c.Args)
	case actionNextDistribution:
		return g.nextDistribution(ctx, tx, t)
	case actionVerifyCode:
		return g.verifyCode(ctx, tx, t, c.Args)
	case actionSubscriptions:
		return g.subscriptions(ctx, tx, t)
	case actionToggleSubscription:
		return g.toggleSubscription(ctx, tx, t, c.Args)
	}
	return flows.CallResult{}, fmt.Errorf("unknown action %q", c.Action)
}

func (g *Gateway) openCase(ctx context.Context, tx pgx.Tx, t *turn, args map[string]string) (flows.CallResult, error) {
	var source *int64
	if msgID := t.messageID; msgID != 0 {
		source = &msgID // a flow staff started has no message
	}
	campaign, err := g.answeredCampaign(ctx, tx, t)
	if err != nil {
		return flows.CallResult{}, err
	}
	c, err := cases.Open(ctx, tx, cases.New{
		Campaign:       campaign,
		ContactID:      t.contact.ID,
		Category:       args["category"],
		Channel:        string(t.in.Channel),
		Language:       t.env.Language,
		Description:    args["description"],
		Governorate:    args["governorate"],
		Site:           args["site"],
		ConsentContact: args["consent_contact"] == "yes",
		ConsentShare:   args["consent_share"] == "yes",
		CallBack:       args["call_back"] == "yes",
		Incomplete:     args["incomplete"] == "yes",
		Recordings:     strings.Fields(args["recordings"]),
		SourceMessage:  source,
	}, func() cases.Reference {
		return cases.Reference(g.draw(func(r *rand.Rand) string { return string(cases.NewReference(r)) }))
	}, t.env.Now)
	if err != nil {
		return flows.CallResult{}, err
	}
	g.metrics.caseOpened(c.Category)
	return flows.CallResult{Outcome: "ok", Vars: map[string]string{
		"reference": displayReference(c.Reference, t.env.Language, t.env.Channel),
		"ack_days":  fmt.Sprint(c.AckDays),
	}}, nil
}

func (g *Gateway) caseStatus(ctx context.Context, tx pgx.Tx, t *turn, args map[string]string) (flows.CallResult, error) {
	ref := cases.Reference(args["reference"])
	status, err := cases.StatusOf(ctx, tx, ref)
	if errors.Is(err, store.ErrNotFound) {
		// A confidential report's reference answers the same way, and says no more.
		r, serr := store.SEAReportByReference(ctx, tx, string(ref))
		if errors.Is(serr, store.ErrNotFound) {
			return flows.CallResult{Outcome: "not_found"}, nil
		}
		status, err = cases.Status(r.Status), serr
	}
	if err != nil {
		return flows.CallResult{}, err
	}
	return flows.CallResult{Outcome: string(status), Vars: map[string]string{
		"reference": displayReference(ref, t.env.Language, t.env.Channel),
	}}, nil
}

// linkPhone gives the contact the tel: URN of a number they shared and agreed to let us keep.
// A number already known on another contact is left there: contacts are not merged here.
func (g *Gateway) linkPhone(ctx context.Context, tx pgx.Tx, t *turn, args map[string]string) (flows.CallResult, error) {
	number := args["phone"]
	if !strings.HasPrefix(number, "+") && !strings.HasPrefix(number, "0") {
		number = "+" + number // Telegram gives international numbers without the plus
	}
	urn, err := channels.NewTelURN(number)
	if err != nil {
		g.log.Warn("shared phone number not kept", "contact", t.contact.ID, "err", "not a valid number")
		return flows.CallResult{Outcome: "ok"}, nil
	}
	owner, err := store.LinkURN(ctx, tx, t.contact.ID, urn)
	if err != nil {
		return flows.CallResult{}, err
	}
	if owner != t.contact.ID {
		g.log.Info("shared phone number belongs to another contact; not merged", "contact", t.contact.ID, "other", owner)
	}
	return flows.CallResult{Outcome: "ok"}, nil
}

// displayReference groups a reference for reading. In right-to-left text the groups are
// joined by a no-break space: a plain space between two numbers lets the bidi algorithm show
// "0937 4821" for 4821 0937, while a single no-break space keeps them one number. On the
// phone it is spoken digit by digit ("4, 8, 2, 1, …"): speech would read 4821 as a number in
// the thousands, which nobody can key in again.
func displayReference(ref cases.Reference, lang string, channel channels.Kind) string {
	if channel == channels.Voice {
		return strings.Join(strings.Split(string(ref), ""), ", ")
	}
	d := ref.Display()
	if locales.RTL(lang) {
		return strings.ReplaceAll(d, " ", "\u00a0")
	}
	return d
}

func seed() [32]byte {
	var s [32]byte
	_, _ = crand.Read(s[:]) // never fails on supported platforms (Go 1.24+ crashes instead)
	return s
}
