package gateway

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

// Calls of the distribution and updates flows.
const (
	actionNextDistribution   = "next_distribution"
	actionVerifyCode         = "verify_code"
	actionSubscriptions      = "subscriptions"
	actionToggleSubscription = "toggle_subscription"
)

// OutreachConfig is what the conversations about distributions and updates need.
type OutreachConfig struct {
	// Texts and Location write a distribution's day and time as alerts do.
	Texts    *locales.Catalog
	Location *time.Location
	// ReplyWindow is how long after a campaign reached someone a case they open records it.
	// Defaults to DefaultReplyWindow.
	ReplyWindow time.Duration
}

// DefaultReplyWindow is how long a case counts as an answer to a campaign that reached the person.
const DefaultReplyWindow = 72 * time.Hour

// sinceStart is how long after its start a distribution is still "the next one": people
// asking on the day, while it goes on, get its details.
const sinceStart = 6 * time.Hour

func (c OutreachConfig) withDefaults() OutreachConfig {
	if c.ReplyWindow <= 0 {
		c.ReplyWindow = DefaultReplyWindow
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	return c
}

func outreachActions(actions map[string][]string, validators map[string]flows.Validator) {
	actions[actionNextDistribution] = []string{"found", "none"}
	actions[actionVerifyCode] = []string{"genuine", "not_genuine"}
	actions[actionSubscriptions] = []string{"some", "none"}
	actions[actionToggleSubscription] = []string{"subscribed", "unsubscribed"}
	validators["code"] = func(input string) (string, string) {
		if code := outreach.ValidCode(input); code != "" {
			return code, ""
		}
		return "", "format"
	}
}

// nextDistribution tells a person the next distribution of their household.
func (g *Gateway) nextDistribution(ctx context.Context, tx pgx.Tx, t *turn) (flows.CallResult, error) {
	d, err := store.NextDistribution(ctx, tx, t.contact.ID, t.env.Now, sinceStart)
	if errors.Is(err, store.ErrNotFound) {
		return flows.CallResult{Outcome: "none"}, nil
	}
	if err != nil {
		return flows.CallResult{}, err
	}
	vars, err := g.distributionVars(t, d)
	if err != nil {
		return flows.CallResult{}, err
	}
	return flows.CallResult{Outcome: "found", Vars: vars}, nil
}

func (g *Gateway) distributionVars(t *turn, d store.Distribution) (map[string]string, error) {
	o := g.outreach
	if o.Texts == nil {
		return nil, errors.New("gateway: no texts for distributions")
	}
	return outreach.DistributionVars(o.Texts, o.Location, t.env.Language, d)
}

// verifyCode tells whether an alert with a code came from us, and what it was about.
func (g *Gateway) verifyCode(ctx context.Context, tx pgx.Tx, t *turn, args map[string]string) (flows.CallResult, error) {
	code := outreach.ValidCode(args["code"])
	vars := map[string]string{"code": args["code"]}
	if code == "" {
		return flows.CallResult{Outcome: "not_genuine", Vars: vars}, nil
	}
	a, err := store.CheckAlertCode(ctx, tx, code, t.contact.ID)
	if errors.Is(err, store.ErrNotFound) {
		g.log.Info("verification code not ours", "contact", t.contact.ID)
		return flows.CallResult{Outcome: "not_genuine", Vars: vars}, nil
	}
	if err != nil {
		return flows.CallResult{}, err
	}
	dv, err := g.distributionVars(t, a.Distribution)
	if err != nil {
		return flows.CallResult{}, err
	}
	for k, v := range dv {
		vars[k] = v
	}
	vars["code"] = code
	vars["sent"] = a.SentAt.In(g.outreach.Location).Format("2/1/2006")
	vars["state"] = a.Distribution.State
	return flows.CallResult{Outcome: "genuine", Vars: vars}, nil
}

// subscriptions offers the topics of updates, saying which the person gets.
func (g *Gateway) subscriptions(ctx context.Context, tx pgx.Tx, t *turn) (flows.CallResult, error) {
	topics, err := store.TopicsOf(ctx, tx, t.contact.ID)
	if err != nil {
		return flows.CallResult{}, err
	}
	res := flows.CallResult{Outcome: "none", Vars: map[string]string{}}
	var subscribed []string
	for _, tp := range topics {
		res.Options = append(res.Options, flows.Option{Value: tp.Code, Labels: tp.Names})
		if tp.Subscribed {
			subscribed = append(subscribed, topicName(tp.Names, t.env.Language))
		}
	}
	if len(subscribed) > 0 {
		res.Outcome = "some"
		sep := ", "
		if locales.RTL(t.env.Language) {
			sep = "، "
		}
		res.Vars["subscribed"] = strings.Join(subscribed, sep)
	}
	return res, nil
}

func topicName(names map[string]string, lang string) string {
	for _, l := range append([]string{lang}, locales.Fallbacks(lang)...) {
		if n := names[l]; n != "" {
			return n
		}
	}
	return names[locales.English]
}

// toggleSubscription starts or stops a topic's updates for the person.
func (g *Gateway) toggleSubscription(ctx context.Context, tx pgx.Tx, t *turn, args map[string]string) (flows.CallResult, error) {
	on, err := store.ToggleSubscription(ctx, tx, t.contact.ID, args["topic"], t.env.Now)
	if errors.Is(err, store.ErrNotFound) {
		return flows.CallResult{Outcome: "unsubscribed"}, nil
	}
	if err != nil {
		return flows.CallResult{}, err
	}
	res := flows.CallResult{Outcome: "unsubscribed", Vars: map[string]string{"stopped": ""}}
	if on {
		res.Outcome = "subscribed"
		if t.contact.OptedOut {
			res.Vars["stopped"] = "yes"
		}
	}
	return res, nil
}

// answeredCampaign is the campaign a case opened now answers, if one reached the person
// within the reply window.
func (g *Gateway) answeredCampaign(ctx context.Context, tx pgx.Tx, t *turn) (*int64, error) {
	return store.LastCampaignSent(ctx, tx, t.contact.ID, t.env.Now.Add(-g.outreach.ReplyWindow))
}
