package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Distribution is an aid distribution households are told of.
type Distribution struct {
	ID          int64
	Site        string
	Governorate string
	StartsAt    time.Time
	Place       string
	Items       string
	Bring       string
	State       string // planned, cancelled
	AnnounceAt  *time.Time
	Reminders   []int32 // hours before StartsAt
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Distribution states.
const (
	DistributionPlanned   = "planned"
	DistributionCancelled = "cancelled"
)

// Kinds of distribution alert.
const (
	AlertAnnouncement = "announcement"
	AlertReminder     = "reminder"
	AlertChange       = "change"
	AlertCancellation = "cancellation"
)

const distributionColumns = `id, site, coalesce(governorate, ''), starts_at, place, items, bring, state, announce_at,
	reminders, created_by, created_at, updated_at`

// targets are where a row of distributionColumns is scanned to.
func (d *Distribution) targets() []any {
	return []any{&d.ID, &d.Site, &d.Governorate, &d.StartsAt, &d.Place, &d.Items, &d.Bring, &d.State,
		&d.AnnounceAt, &d.Reminders, &d.CreatedBy, &d.CreatedAt, &d.UpdatedAt}
}

func scanDistribution(row pgx.Row) (Distribution, error) {
	var d Distribution
	err := row.Scan(d.targets()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

// InsertDistribution stores a new distribution, planned.
func InsertDistribution(ctx context.Context, db DB, d Distribution) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO distributions (site, governorate, starts_at, place, items, bring, announce_at, reminders,
		                           created_by, created_at, updated_at)
		VALUES ($1, nullif($2, ''), $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		d.Site, d.Governorate, d.StartsAt, d.Place, d.Items, d.Bring, d.AnnounceAt, d.Reminders, d.CreatedBy,
		d.CreatedAt).Scan(&id)
	return id, err
}

// DistributionByID reads a distribution.
func DistributionByID(ctx context.Context, db DB, id int64) (Distribution, error) {
	return scanDistribution(db.QueryRow(ctx, `SELECT `+distributionColumns+` FROM distributions WHERE id = $1`, id))
}

// DistributionForUpdate reads a distribution and locks it until the transaction ends.
func DistributionForUpdate(ctx context.Context, tx pgx.Tx, id int64) (Distribution, error) {
	return scanDistribution(tx.QueryRow(ctx, `SELECT `+distributionColumns+` FROM distributions WHERE id = $1 FOR UPDATE`, id))
}

// UpdateDistribution writes a distribution's details and state.
func UpdateDistribution(ctx context.Context, db DB, d Distribution) error {
	_, err := db.Exec(ctx, `
		UPDATE distributions SET starts_at = $2, place = $3, items = $4, bring = $5, state = $6, reminders = $7,
		       updated_at = $8
		WHERE id = $1`, d.ID, d.StartsAt, d.Place, d.Items, d.Bring, d.State, d.Reminders, d.UpdatedAt)
	return err
}

// DistributionListing is a distribution as a list shows it: with how many households it has.
type DistributionListing struct {
	Distribution
	Households int
}

// Distributions lists distributions, the latest first: limit of them after offset, and
// whether there are more.
func Distributions(ctx context.Context, db DB, limit, offset int) ([]DistributionListing, bool, error) {
	rows, err := db.Query(ctx, `
		SELECT `+distributionColumns+`, (SELECT count(*)::int FROM distribution_households h WHERE h.distribution_id = d.id)
		FROM distributions d ORDER BY starts_at DESC, id DESC LIMIT $1 OFFSET $2`, limit+1, offset)
	if err != nil {
		return nil, false, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DistributionListing, error) {
		var l DistributionListing
		err := row.Scan(append(l.Distribution.targets(), &l.Households)...)
		return l, err
	})
	if err != nil {
		return nil, false, err
	}
	list, more := trimPage(list, limit)
	return list, more, nil
}

// HouseholdRow is one household of an import: a phone number (E.164) and what is known of it.
type HouseholdRow struct {
	Phone, HouseholdID, Language, Name string
}

// ImportHouseholds adds households to a distribution: each phone number becomes (or stays)
// a contact, which learns its household, its site and governorate where unknown, and its
// language where it never chose one. A household imported again is updated. It returns how
// many households were new to the distribution.
func ImportHouseholds(ctx context.Context, tx pgx.Tx, d Distribution, rows []HouseholdRow, at time.Time) (added int, err error) {
	urns := make([]string, len(rows))
	households := make([]string, len(rows))
	langs := make([]string, len(rows))
	names := make([]string, len(rows))
	for i, r := range rows {
		urns[i], households[i], langs[i], names[i] = "tel:"+r.Phone, r.HouseholdID, r.Language, r.Name
	}
	// The same locks as a message from these numbers takes, in one order, so that an import
	// and a first message from one of its people never make two contacts.
	if _, err := tx.Exec(ctx, `
		SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(u) AS h FROM unnest($2::text[]) AS u) l ORDER BY h`,
		urnLockSpace, urns); err != nil {
		return 0, fmt.Errorf("lock numbers: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		WITH input AS (
			SELECT DISTINCT ON (urn) urn, household, nullif(lang, '') AS lang
			FROM unnest($1::text[], $2::text[], $3::text[]) AS t(urn, household, lang)),
		missing AS (
			SELECT nextval(pg_get_serial_sequence('contacts', 'id')) AS id, i.*
			FROM input i WHERE NOT EXISTS (SELECT 1 FROM urns u WHERE u.urn = i.urn)),
		c AS (
			INSERT INTO contacts (id, language, household_id, site, governorate, created_at, updated_at)
			SELECT id, lang, household, $4, nullif($5, ''), $6, $6 FROM missing)
		INSERT INTO urns (urn, scheme, contact_id, created_at) SELECT urn, 'tel', id, $6 FROM missing`,
		urns, households, langs, d.Site, d.Governorate, at); err != nil {
		return 0, fmt.Errorf("add contacts: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE contacts c SET household_id = i.household, language = coalesce(c.language, i.lang),
		       site = coalesce(c.site, $4), governorate = coalesce(c.governorate, nullif($5, '')), updated_at = $6
		FROM (SELECT DISTINCT ON (urn) urn, household, nullif(lang, '') AS lang
		      FROM unnest($1::text[], $2::text[], $3::text[]) AS t(urn, household, lang)) i
		JOIN urns u ON u.urn = i.urn
		WHERE c.id = u.contact_id`, urns, households, langs, d.Site, d.Governorate, at); err != nil {
		return 0, fmt.Errorf("update contacts: %w", err)
	}
	err = tx.QueryRow(ctx, `
		WITH up AS (
			INSERT INTO distribution_households (distribution_id, household_id, contact_id, name, created_at)
			SELECT DISTINCT ON (t.household) $1::bigint, t.household, u.contact_id, nullif(t.name, ''), $5
			FROM unnest($2::text[], $3::text[], $4::text[]) AS t(urn, household, name)
			JOIN urns u ON u.urn = t.urn
			ON CONFLICT (distribution_id, household_id) DO UPDATE
			SET contact_id = excluded.contact_id, name = excluded.name
			RETURNING (xmax = 0) AS inserted)
		SELECT count(*) FILTER (WHERE inserted) FROM up`, d.ID, urns, households, names, at).Scan(&added)
	if err != nil {
		return 0, fmt.Errorf("add households: %w", err)
	}
	return added, nil
}

// CountHouseholds says how many households a distribution has.
func CountHouseholds(ctx context.Context, db DB, distributionID int64) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM distribution_households WHERE distribution_id = $1`, distributionID).Scan(&n)
	return n, err
}

// RunsOfDistribution lists a distribution's alert runs, the newest first.
func RunsOfDistribution(ctx context.Context, db DB, distributionID int64) ([]Run, error) {
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM campaign_runs WHERE distribution_id = $1 ORDER BY id DESC`, distributionID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
}

// ErrCodeTaken says a verification code is already in use.
var ErrCodeTaken = errors.New("this code is taken")

// InsertAlertCode gives a run its verification code; ErrCodeTaken (without aborting the
// transaction) when the code belongs to another run.
func InsertAlertCode(ctx context.Context, db DB, code string, runID int64, at time.Time) error {
	tag, err := db.Exec(ctx, `INSERT INTO alert_codes (code, run_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		code, runID, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrCodeTaken
	}
	return nil
}

// AlertCheck is what a verification code tells: the alert it was sent with.
type AlertCheck struct {
	Code         string
	RunID        int64
	Alert        string
	SentAt       time.Time
	Distribution Distribution
	// ToContact says whether the alert was sent to the contact who asks.
	ToContact bool
}

// CheckAlertCode finds the alert a code was sent with; ErrNotFound when none was.
func CheckAlertCode(ctx context.Context, db DB, code string, contactID int64) (AlertCheck, error) {
	a := AlertCheck{Code: code}
	var distID int64
	err := db.QueryRow(ctx, `
		SELECT r.id, coalesce(r.alert, ''), r.started_at, r.distribution_id,
		       EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = r.id AND d.contact_id = $2)
		FROM alert_codes a JOIN campaign_runs r ON r.id = a.run_id
		WHERE a.code = $1 AND r.distribution_id IS NOT NULL`, code, contactID).
		Scan(&a.RunID, &a.Alert, &a.SentAt, &distID, &a.ToContact)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, err
	}
	a.Distribution, err = DistributionByID(ctx, db, distID)
	return a, err
}

// NextDistribution finds the next planned distribution of a contact's household: the first
// that has not begun more than since ago. ErrNotFound when there is none.
func NextDistribution(ctx context.Context, db DB, contactID int64, now time.Time, since time.Duration) (Distribution, error) {
	return scanDistribution(db.QueryRow(ctx, `
		SELECT `+distributionColumns+` FROM distributions d
		WHERE d.state = 'planned' AND d.starts_at > $2
		  AND EXISTS (SELECT 1 FROM distribution_households h WHERE h.distribution_id = d.id AND h.contact_id = $1)
		ORDER BY d.starts_at LIMIT 1`, contactID, now.Add(-since)))
}
