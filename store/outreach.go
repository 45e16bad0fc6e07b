package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/channels"
)

// Campaign is a campaign as stored.
type Campaign struct {
	ID           int64
	Name         string
	Topic        string
	Texts        map[string]string
	Audience     json.RawMessage
	SendAt       *time.Time
	Cron         string
	AllowLinks   bool
	AllowMissing bool
	State        string // scheduled, running, paused, cancelled, done
	NextRunAt    *time.Time
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Campaign states.
const (
	CampaignScheduled = "scheduled"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCancelled = "cancelled"
	CampaignDone      = "done"
)

// Run states.
const (
	RunSending   = "sending"
	RunPaused    = "paused"
	RunCancelled = "cancelled"
	RunDone      = "done"
)

const campaignColumns = `id, name, coalesce(topic, ''), texts, audience, send_at, coalesce(cron, ''), allow_links,
	allow_missing, state, next_run_at, created_by, created_at, updated_at`

// targets are where a row of campaignColumns is scanned to.
func (c *Campaign) targets() []any {
	return []any{&c.ID, &c.Name, &c.Topic, &c.Texts, &c.Audience, &c.SendAt, &c.Cron, &c.AllowLinks,
		&c.AllowMissing, &c.State, &c.NextRunAt, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt}
}

func scanCampaign(row pgx.Row) (Campaign, error) {
	var c Campaign
	err := row.Scan(c.targets()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// InsertCampaign stores a new campaign; CreatedAt is when, and UpdatedAt too.
func InsertCampaign(ctx context.Context, db DB, c Campaign) (int64, error) {
	if c.State == "" {
		c.State = CampaignScheduled
	}
	if c.Audience == nil {
		c.Audience = json.RawMessage(`{}`)
	}
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO campaigns (name, topic, texts, audience, send_at, cron, allow_links, allow_missing, state,
		                       next_run_at, created_by, created_at, updated_at)
		VALUES ($1, nullif($2, ''), $3, $4, $5, nullif($6, ''), $7, $8, $9, $10, $11, $12, $12) RETURNING id`,
		c.Name, c.Topic, c.Texts, c.Audience, c.SendAt, c.Cron, c.AllowLinks, c.AllowMissing, c.State,
		c.NextRunAt, c.CreatedBy, c.CreatedAt).Scan(&id)
	return id, err
}

// CampaignByID reads a campaign.
func CampaignByID(ctx context.Context, db DB, id int64) (Campaign, error) {
	return scanCampaign(db.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id))
}

// CampaignForUpdate reads a campaign and locks it until the transaction ends.
func CampaignForUpdate(ctx context.Context, tx pgx.Tx, id int64) (Campaign, error) {
	return scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1 FOR UPDATE`, id))
}

// SetCampaignState changes a campaign's state and when its next run is due.
func SetCampaignState(ctx context.Context, db DB, id int64, state string, nextRun *time.Time, at time.Time) error {
	_, err := db.Exec(ctx, `UPDATE campaigns SET state = $2, next_run_at = $3, updated_at = $4 WHERE id = $1`,
		id, state, nextRun, at)
	return err
}

// Topics lists the codes of the topics people can subscribe to.
func Topics(ctx context.Context, db DB) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT code FROM topics ORDER BY position, code`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Run is one sending of a campaign (or of a distribution alert).
type Run struct {
	ID             int64
	CampaignID     *int64
	DistributionID *int64
	Alert          string
	DueAt          time.Time
	State          string
	Texts          map[string]string
	Targeted       int
	StartedAt      time.Time
	FinishedAt     *time.Time
}

const runColumns = `id, campaign_id, distribution_id, coalesce(alert, ''), due_at, state, texts, targeted, started_at, finished_at`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.CampaignID, &r.DistributionID, &r.Alert, &r.DueAt, &r.State, &r.Texts, &r.Targeted,
		&r.StartedAt, &r.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// ErrRunExists says the run of that occurrence was already made (by another scheduler).
var ErrRunExists = errors.New("this occurrence already has a run")

// InsertRun makes a run in state sending; one that exists for the same occurrence gives
// ErrRunExists without aborting the transaction.
func InsertRun(ctx context.Context, db DB, r Run) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO campaign_runs (campaign_id, distribution_id, alert, due_at, state, texts, started_at, updated_at)
		VALUES ($1, $2, nullif($3, ''), $4, 'sending', $5, $6, $6)
		ON CONFLICT DO NOTHING RETURNING id`,
		r.CampaignID, r.DistributionID, r.Alert, r.DueAt, r.Texts, r.StartedAt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrRunExists
	}
	return id, err
}

// RunByID reads a run.
func RunByID(ctx context.Context, db DB, id int64) (Run, error) {
	return scanRun(db.QueryRow(ctx, `SELECT `+runColumns+` FROM campaign_runs WHERE id = $1`, id))
}

// RunState is a run's state alone, read at every few sends.
func RunState(ctx context.Context, db DB, id int64) (string, error) {
	var s string
	err := db.QueryRow(ctx, `SELECT state FROM campaign_runs WHERE id = $1`, id).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return s, err
}

// RunsOfCampaign lists a campaign's runs, newest first.
func RunsOfCampaign(ctx context.Context, db DB, campaignID int64, limit int) ([]Run, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM campaign_runs WHERE campaign_id = $1 ORDER BY id DESC LIMIT $2`,
		campaignID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
}

// SetRunsState moves a campaign's runs that are in one of the states from to state to, and
// says how many moved.
func SetRunsState(ctx context.Context, db DB, campaignID int64, from []string, to string, at time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `
		UPDATE campaign_runs SET state = $3::text, updated_at = $4::timestamptz,
		       finished_at = CASE WHEN $3::text IN ('cancelled', 'done') THEN $4::timestamptz END
		WHERE campaign_id = $1 AND state = ANY($2)`, campaignID, from, to, at)
	return tag.RowsAffected(), err
}

// Audience is the store's form of a campaign's audience: every non-empty list is a condition.
// Schemes are URN schemes (tel for SMS). Language maps a contact's language ("" when
// unknown) to the language of the text they get, "" for none (skipped).
type Audience struct {
	Languages, Governorates, Sites, Schemes, Topics, Households []string
	Language                                                    map[string]string
	// Distribution, when set, keeps the households of that distribution; NotAlerted then
	// leaves out those already sent an alert of that kind for it.
	Distribution int64
	NotAlerted   string
}

// audienceSQL is who an audience reaches, shared by the fan-out and the count a campaign's
// preview shows so that both choose the same people: each contact c it matches who has a URN
// on one of its channels, with u that URN (the newest, one not opted out first), l.lang the
// language of the text they get (null: none) and st.status what their delivery would be:
// opted_out, skipped (no text in a language they read) or queued. Its parameters are named
// (pgx.NamedArgs): those of audienceArgs.
const audienceSQL = `
		FROM contacts c
		CROSS JOIN LATERAL (
			SELECT u.id, u.scheme, u.opted_out_at FROM urns u
			WHERE u.contact_id = c.id AND u.scheme = ANY(@schemes)
			ORDER BY u.opted_out_at IS NOT NULL, u.id DESC LIMIT 1) u
		CROSS JOIN LATERAL (
			SELECT CASE coalesce(c.language, '') WHEN 'ar' THEN @lang_ar::text WHEN 'ckb' THEN @lang_ckb::text
			       WHEN 'badini' THEN @lang_badini::text WHEN 'en' THEN @lang_en::text ELSE @lang_unknown::text END AS lang) l
		CROSS JOIN LATERAL (
			SELECT CASE WHEN c.opted_out_at IS NOT NULL OR u.opted_out_at IS NOT NULL THEN 'opted_out'
			            WHEN l.lang IS NULL THEN 'skipped' ELSE 'queued' END AS status) st
		WHERE (cardinality(@languages::text[]) = 0 OR c.language = ANY(@languages))
		  AND (cardinality(@governorates::text[]) = 0 OR c.governorate = ANY(@governorates))
		  AND (cardinality(@sites::text[]) = 0 OR c.site = ANY(@sites))
		  AND (cardinality(@households::text[]) = 0 OR c.household_id = ANY(@households))
		  AND (cardinality(@topics::text[]) = 0 OR EXISTS (
		        SELECT 1 FROM subscriptions s WHERE s.contact_id = c.id AND s.topic = ANY(@topics)))
		  AND (@distribution::bigint = 0 OR EXISTS (
		        SELECT 1 FROM distribution_households h WHERE h.distribution_id = @distribution AND h.contact_id = c.id))
		  AND (@not_alerted::text = '' OR NOT EXISTS (
		        SELECT 1 FROM deliveries d JOIN campaign_runs r ON r.id = d.run_id
		        WHERE d.contact_id = c.id AND r.distribution_id = @distribution AND r.alert = @not_alerted))`

// audienceArgs are the parameters of audienceSQL for a.
func audienceArgs(a Audience) pgx.NamedArgs {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	lang := func(l string) any {
		if v := a.Language[l]; v != "" {
			return v
		}
		return nil
	}
	return pgx.NamedArgs{
		"schemes": nonNil(a.Schemes), "languages": nonNil(a.Languages), "governorates": nonNil(a.Governorates),
		"sites": nonNil(a.Sites), "households": nonNil(a.Households), "topics": nonNil(a.Topics),
		"lang_ar": lang("ar"), "lang_ckb": lang("ckb"), "lang_badini": lang("badini"), "lang_en": lang("en"),
		"lang_unknown": lang(""), "distribution": a.Distribution, "not_alerted": a.NotAlerted,
	}
}

// FanOut makes the deliveries of a run: one per person of the audience who can be reached
// on a broadcast channel, queued, or already counted as skipped (no text in a language they
// read) or opted out. Each person once, however often it runs. It returns how many people
// were targeted and the run's first and last delivery IDs.
func FanOut(ctx context.Context, tx pgx.Tx, runID int64, a Audience, at time.Time) (targeted int, first, last int64, err error) {
	args := audienceArgs(a)
	args["run"], args["at"] = runID, at
	_, err = tx.Exec(ctx, `
		INSERT INTO deliveries (run_id, contact_id, urn_id, channel, language, status, updated_at)
		SELECT @run, c.id, u.id, CASE u.scheme WHEN 'tel' THEN 'sms' ELSE u.scheme END, l.lang, st.status, @at`+
		audienceSQL+`
		ON CONFLICT (run_id, contact_id) DO NOTHING`, args)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("fan out run %d: %w", runID, err)
	}
	err = tx.QueryRow(ctx, `
		WITH n AS (SELECT count(*)::int AS n, coalesce(min(id), 0) AS first, coalesce(max(id), 0) AS last
		           FROM deliveries WHERE run_id = $1),
		     r AS (UPDATE campaign_runs SET targeted = (SELECT n FROM n) WHERE id = $1)
		SELECT n, first, last FROM n`, runID).Scan(&targeted, &first, &last)
	return targeted, first, last, err
}

// AudienceCount is how many people an audience reaches now, counted as a run's fan-out would
// make their deliveries.
type AudienceCount struct {
	// Reached would be sent the message: their deliveries would be queued.
	Reached int `json:"reached"`
	// Skipped read no language the message has a text in.
	Skipped int `json:"skipped"`
	// OptedOut asked not to get messages.
	OptedOut int `json:"opted_out"`
	// ByLanguage counts those reached by the language of the text they would get.
	ByLanguage map[string]int `json:"by_language"`
}

// CountAudience counts the people an audience reaches now, with the conditions of FanOut.
func CountAudience(ctx context.Context, db DB, a Audience) (AudienceCount, error) {
	rows, err := db.Query(ctx, `SELECT st.status, coalesce(l.lang, ''), count(*)::int`+audienceSQL+`
		GROUP BY 1, 2`, audienceArgs(a))
	if err != nil {
		return AudienceCount{}, err
	}
	n := AudienceCount{ByLanguage: map[string]int{}}
	var status, lang string
	var count int
	_, err = pgx.ForEachRow(rows, []any{&status, &lang, &count}, func() error {
		switch status {
		case "queued":
			n.Reached += count
			n.ByLanguage[lang] += count
		case "skipped":
			n.Skipped += count
		case "opted_out":
			n.OptedOut += count
		}
		return nil
	})
	return n, err
}

// RunCounts are how a run's deliveries stand.
type RunCounts struct {
	Targeted    int `json:"targeted"`
	Queued      int `json:"queued"`
	Sent        int `json:"sent"`
	Delivered   int `json:"delivered"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
	OptedOut    int `json:"opted_out"`
	Cancelled   int `json:"cancelled"`
	Undelivered int `json:"undelivered"`
}

// runCountsSQL counts the deliveries of a run by status, as the fields of RunCounts in the
// order of countTargets; the run's ID (a parameter, or a column of an outer query) follows it.
const runCountsSQL = `
	SELECT count(*)::int, count(*) FILTER (WHERE status = 'queued')::int, count(*) FILTER (WHERE status = 'sent')::int,
	       count(*) FILTER (WHERE status = 'delivered')::int, count(*) FILTER (WHERE status = 'undelivered')::int,
	       count(*) FILTER (WHERE status = 'failed')::int, count(*) FILTER (WHERE status = 'skipped')::int,
	       count(*) FILTER (WHERE status = 'opted_out')::int, count(*) FILTER (WHERE status = 'cancelled')::int
	FROM deliveries WHERE run_id = `

// countTargets are where a row of runCountsSQL is scanned to.
func (c *RunCounts) countTargets() []any {
	return []any{&c.Targeted, &c.Queued, &c.Sent, &c.Delivered, &c.Undelivered, &c.Failed, &c.Skipped, &c.OptedOut, &c.Cancelled}
}

// CountRun counts a run's deliveries by state.
func CountRun(ctx context.Context, db DB, runID int64) (RunCounts, error) {
	var c RunCounts
	err := db.QueryRow(ctx, runCountsSQL+`$1`, runID).Scan(c.countTargets()...)
	return c, err
}

// CampaignListing is a campaign as the list of campaigns shows it: with its newest run's
// counts, which a page reloaded shows as they go.
type CampaignListing struct {
	Campaign
	// Runs is how many runs it has had; Counts are those of the newest (zero without one).
	Runs   int
	Counts RunCounts
}

// Campaigns lists campaigns, the newest first: limit of them after offset, and whether
// there are more.
func Campaigns(ctx context.Context, db DB, limit, offset int) ([]CampaignListing, bool, error) {
	rows, err := db.Query(ctx, `
		SELECT `+campaignColumns+`, coalesce(r.runs, 0), n.*
		FROM (SELECT * FROM campaigns ORDER BY id DESC LIMIT $1 OFFSET $2) c
		LEFT JOIN LATERAL (
			SELECT max(id) AS newest, count(*)::int AS runs FROM campaign_runs WHERE campaign_id = c.id) r ON true
		CROSS JOIN LATERAL (`+runCountsSQL+`r.newest) n
		ORDER BY c.id DESC`, limit+1, offset)
	if err != nil {
		return nil, false, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CampaignListing, error) {
		var l CampaignListing
		err := row.Scan(append(append(l.Campaign.targets(), &l.Runs), l.Counts.countTargets()...)...)
		return l, err
	})
	if err != nil {
		return nil, false, err
	}
	list, more := trimPage(list, limit)
	return list, more, nil
}

// Delivery is one queued message of a run, as the sender needs it.
type Delivery struct {
	ID       int64
	URN      channels.URN
	Channel  channels.Kind
	Language string
	OptedOut bool // since the run began
	Attempts int
}

// QueuedDeliveries lists a run's still queued deliveries with IDs from first to last.
func QueuedDeliveries(ctx context.Context, db DB, runID, first, last int64) ([]Delivery, error) {
	rows, err := db.Query(ctx, `
		SELECT d.id, u.urn, d.channel, d.language, c.opted_out_at IS NOT NULL OR u.opted_out_at IS NOT NULL, d.attempts
		FROM deliveries d JOIN urns u ON u.id = d.urn_id JOIN contacts c ON c.id = d.contact_id
		WHERE d.run_id = $1 AND d.id BETWEEN $2 AND $3 AND d.status = 'queued'
		ORDER BY d.id`, runID, first, last)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		var urn, channel string
		err := row.Scan(&d.ID, &urn, &channel, &d.Language, &d.OptedOut, &d.Attempts)
		d.URN, d.Channel = channels.URN(urn), channels.Kind(channel)
		return d, err
	})
}

// MarkDeliverySent records that the provider took a delivery; its IDs lead delivery reports
// back to it.
func MarkDeliverySent(ctx context.Context, db DB, id int64, res channels.SendResult, at time.Time) error {
	status := res.Status
	if status == "" {
		status = channels.StatusSent
	}
	_, err := db.Exec(ctx, `
		WITH d AS (
			UPDATE deliveries SET status = $2, provider_id = nullif($3, ''), sent_at = $4, updated_at = $4,
			       attempts = attempts + 1, error = NULL
			WHERE id = $1 AND status = 'queued' RETURNING id)
		INSERT INTO provider_messages (provider_id, delivery_id, status, updated_at)
		SELECT p, d.id, $2, $4 FROM d, unnest($5::text[]) AS p
		ON CONFLICT (provider_id) DO NOTHING`, id, string(status), res.ProviderID, at, res.ProviderIDs)
	return err
}

// MarkDeliveryAttempt records a failed try of a delivery: status is the state it ends in
// (failed, opted_out) or "" when it stays queued for another try.
func MarkDeliveryAttempt(ctx context.Context, db DB, id int64, errText, status string, at time.Time) error {
	if len(errText) > maxErrorText {
		errText = strings.ToValidUTF8(errText[:maxErrorText], "") + "…"
	}
	_, err := db.Exec(ctx, `
		UPDATE deliveries SET attempts = attempts + 1, error = nullif($2, ''), updated_at = $4,
		       status = coalesce(nullif($3, ''), status)
		WHERE id = $1 AND status = 'queued'`, id, errText, status, at)
	return err
}

// CancelDeliveries cancels a run's queued deliveries with IDs from first to last.
func CancelDeliveries(ctx context.Context, db DB, runID, first, last int64, at time.Time) error {
	_, err := db.Exec(ctx, `
		UPDATE deliveries SET status = 'cancelled', updated_at = $4
		WHERE run_id = $1 AND id BETWEEN $2 AND $3 AND status = 'queued'`, runID, first, last, at)
	return err
}

// FinishRun marks a sending run done once nothing of it is queued, and says whether it did.
// Its campaign is done too, or scheduled again when it recurs.
func FinishRun(ctx context.Context, db DB, runID int64, at time.Time) (bool, error) {
	var done bool
	err := db.QueryRow(ctx, `
		WITH r AS (
			UPDATE campaign_runs SET state = 'done', finished_at = $2, updated_at = $2
			WHERE id = $1 AND state = 'sending'
			  AND NOT EXISTS (SELECT 1 FROM deliveries WHERE run_id = $1 AND status = 'queued')
			RETURNING campaign_id),
		c AS (
			UPDATE campaigns SET state = CASE WHEN cron IS NULL THEN 'done' ELSE 'scheduled' END, updated_at = $2
			WHERE id = (SELECT campaign_id FROM r) AND state = 'running')
		SELECT EXISTS (SELECT 1 FROM r)`, runID, at).Scan(&done)
	return done, err
}

// LastCampaignSent is the campaign whose message most recently reached a contact since a
// time, or nil: a case the contact opens now answers it.
func LastCampaignSent(ctx context.Context, db DB, contactID int64, since time.Time) (*int64, error) {
	var id *int64
	err := db.QueryRow(ctx, `
		SELECT r.campaign_id FROM deliveries d JOIN campaign_runs r ON r.id = d.run_id
		WHERE d.contact_id = $1 AND d.sent_at >= $2 AND r.campaign_id IS NOT NULL
		ORDER BY d.sent_at DESC LIMIT 1`, contactID, since).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return id, err
}

// TopicChoice is a topic of updates as offered to a contact.
type TopicChoice struct {
	Code       string
	Names      map[string]string // by language
	Subscribed bool
}

// TopicsOf lists the topics of updates, each saying whether the contact is subscribed.
func TopicsOf(ctx context.Context, db DB, contactID int64) ([]TopicChoice, error) {
	rows, err := db.Query(ctx, `
		SELECT t.code, t.names, EXISTS (SELECT 1 FROM subscriptions s WHERE s.contact_id = $1 AND s.topic = t.code)
		FROM topics t ORDER BY t.position, t.code`, contactID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (TopicChoice, error) {
		var t TopicChoice
		err := row.Scan(&t.Code, &t.Names, &t.Subscribed)
		return t, err
	})
}

// ToggleSubscription subscribes a contact to a topic, or unsubscribes one who was: it says
// whether the contact is subscribed now. ErrNotFound for an unknown topic.
func ToggleSubscription(ctx context.Context, tx pgx.Tx, contactID int64, topic string, at time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM subscriptions WHERE contact_id = $1 AND topic = $2`, contactID, topic)
	if err != nil || tag.RowsAffected() > 0 {
		return false, err
	}
	tag, err = tx.Exec(ctx, `
		INSERT INTO subscriptions (contact_id, topic, created_at) SELECT $1, code, $3 FROM topics WHERE code = $2`,
		contactID, topic, at)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, ErrNotFound
	}
	return true, nil
}
