package outreach

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// DistributionSpec is a distribution as a team gives it (API JSON, or the YAML file of
// sawt distributions import).
type DistributionSpec struct {
	Site        string     `json:"site" yaml:"site"`
	Governorate string     `json:"governorate,omitempty" yaml:"governorate"`
	StartsAt    *time.Time `json:"starts_at" yaml:"starts_at"`
	Place       string     `json:"place" yaml:"place"`
	Items       string     `json:"items" yaml:"items"`
	Bring       string     `json:"bring,omitempty" yaml:"bring"`
	// AnnounceAt holds the announcement until then; without it, households are told as soon
	// as they are imported.
	AnnounceAt *time.Time `json:"announce_at,omitempty" yaml:"announce_at"`
	// Reminders are the hours before the start that reminders go out (default 24 and 2).
	Reminders []int `json:"reminders_hours,omitempty" yaml:"reminders_hours"`
}

// DefaultReminders are the hours before a distribution that its households are reminded.
var DefaultReminders = []int{24, 2}

// maxDetail is the longest place, list of items or list of things to bring, in characters:
// each goes into an SMS.
const maxDetail = 160

// DistributionChange is an edit of a distribution: the fields given replace the old ones.
type DistributionChange struct {
	StartsAt  *time.Time `json:"starts_at,omitempty"`
	Place     *string    `json:"place,omitempty"`
	Items     *string    `json:"items,omitempty"`
	Bring     *string    `json:"bring,omitempty"`
	Reminders []int      `json:"reminders_hours,omitempty"`
}

// Validate refuses a distribution that cannot be announced: the first problem, naming its field.
func (d DistributionSpec) Validate(now time.Time) error {
	if strings.TrimSpace(d.Site) == "" {
		return fieldErrorf("site", "is required")
	}
	if d.StartsAt == nil || d.StartsAt.IsZero() {
		return fieldErrorf("starts_at", "is required (e.g. 2026-12-10T09:00:00+03:00)")
	}
	if !d.StartsAt.After(now) {
		return fieldErrorf("starts_at", "%s is in the past", d.StartsAt.Format(time.RFC3339))
	}
	for _, f := range []struct{ name, value string }{{"place", d.Place}, {"items", d.Items}, {"bring", d.Bring}} {
		if err := checkDetail(f.name, f.value, f.name != "bring"); err != nil {
			return err
		}
	}
	if d.AnnounceAt != nil {
		if !d.AnnounceAt.After(now) {
			return fieldErrorf("announce_at", "%s is in the past; leave it out to announce at import", d.AnnounceAt.Format(time.RFC3339))
		}
		if !d.AnnounceAt.Before(*d.StartsAt) {
			return fieldErrorf("announce_at", "must be before starts_at")
		}
	}
	return checkReminders(d.Reminders)
}

func checkDetail(field, v string, required bool) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return fieldErrorf(field, "is required")
	case utf8.RuneCountInString(v) > maxDetail:
		return fieldErrorf(field, "has %d characters; at most %d fit in a message", utf8.RuneCountInString(v), maxDetail)
	case link.MatchString(v):
		return fieldErrorf(field, "contains a link: alerts never carry links, people are told so")
	}
	return nil
}

func checkReminders(hours []int) error {
	if len(hours) > 5 {
		return fieldErrorf("reminders_hours", "at most 5 reminders")
	}
	for i, h := range hours {
		if h < 1 || h > 14*24 {
			return fieldErrorf("reminders_hours", "%d: hours before the start must be from 1 to 336", h)
		}
		if slices.Contains(hours[:i], h) {
			return fieldErrorf("reminders_hours", "%d is given twice", h)
		}
	}
	return nil
}

// ErrNoDistribution says there is no such distribution.
var ErrNoDistribution = errors.New("no such distribution")

// CreateDistribution stores a distribution and schedules its announcement (when it has a time
// of its own) and its reminders.
func (s *Service) CreateDistribution(ctx context.Context, spec DistributionSpec, by string) (int64, error) {
	now := s.now()
	if err := spec.Validate(now); err != nil {
		return 0, err
	}
	reminders := spec.Reminders
	if reminders == nil {
		reminders = DefaultReminders
	}
	d := store.Distribution{
		Site: strings.TrimSpace(spec.Site), Governorate: strings.TrimSpace(spec.Governorate), StartsAt: *spec.StartsAt,
		Place: strings.TrimSpace(spec.Place), Items: strings.TrimSpace(spec.Items), Bring: strings.TrimSpace(spec.Bring),
		AnnounceAt: spec.AnnounceAt, Reminders: hours32(reminders), CreatedBy: by, CreatedAt: now,
	}
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		if d.ID, err = store.InsertDistribution(ctx, tx, d); err != nil {
			return err
		}
		if d.AnnounceAt != nil {
			if err := s.queueAlert(ctx, tx, d.ID, store.AlertAnnouncement, *d.AnnounceAt, 0); err != nil {
				return err
			}
		}
		return s.queueReminders(ctx, tx, d, now)
	})
	return d.ID, err
}

func hours32(h []int) []int32 {
	out := make([]int32, len(h))
	for i, v := range h {
		out[i] = int32(v)
	}
	return out
}

// ImportResult says what an import did.
type ImportResult struct {
	Rows  int `json:"rows"`
	Added int `json:"added"`
	// Households is how many the distribution has now.
	Households int `json:"households"`
}

// ImportHouseholds adds households to a distribution; when its announcement is due (it has
// no time of its own, or the time has come) the new households are told at once.
func (s *Service) ImportHouseholds(ctx context.Context, id int64, households []Household) (ImportResult, error) {
	res := ImportResult{Rows: len(households)}
	rows := make([]store.HouseholdRow, len(households))
	for i, h := range households {
		rows[i] = store.HouseholdRow{Phone: h.Phone, HouseholdID: h.HouseholdID, Language: h.Language, Name: h.Name}
	}
	err := s.changeDistribution(ctx, id, func(tx pgx.Tx, d store.Distribution, now time.Time) error {
		if d.State == store.DistributionCancelled {
			return &ErrState{From: "cancelled", Want: "given households", What: "distribution"}
		}
		if !d.StartsAt.After(now) {
			return &ErrState{From: "over", Want: "given households", What: "distribution"}
		}
		var err error
		if res.Added, err = store.ImportHouseholds(ctx, tx, d, rows, now); err != nil {
			return err
		}
		if res.Households, err = store.CountHouseholds(ctx, tx, d.ID); err != nil {
			return err
		}
		if d.AnnounceAt == nil || !d.AnnounceAt.After(now) {
			return s.queueAlert(ctx, tx, d.ID, store.AlertAnnouncement, now, 0)
		}
		return nil
	})
	return res, err
}

// ChangeDistribution edits a distribution; its households are told what changed, and the
// reminders follow the new time.
func (s *Service) ChangeDistribution(ctx context.Context, id int64, ch DistributionChange) error {
	return s.changeDistribution(ctx, id, func(tx pgx.Tx, d store.Distribution, now time.Time) error {
		if d.State == store.DistributionCancelled {
			return &ErrState{From: "cancelled", Want: "changed", What: "distribution"}
		}
		told := false
		if ch.StartsAt != nil && !ch.StartsAt.Equal(d.StartsAt) {
			if !ch.StartsAt.After(now) {
				return fieldErrorf("starts_at", "%s is in the past", ch.StartsAt.Format(time.RFC3339))
			}
			d.StartsAt, told = *ch.StartsAt, true
		}
		for _, f := range []struct {
			name string
			v    *string
			to   *string
		}{{"place", ch.Place, &d.Place}, {"items", ch.Items, &d.Items}, {"bring", ch.Bring, &d.Bring}} {
			if f.v == nil || strings.TrimSpace(*f.v) == *f.to {
				continue
			}
			if err := checkDetail(f.name, *f.v, f.name != "bring"); err != nil {
				return err
			}
			*f.to, told = strings.TrimSpace(*f.v), true
		}
		if ch.Reminders != nil {
			if err := checkReminders(ch.Reminders); err != nil {
				return err
			}
			d.Reminders = hours32(ch.Reminders)
		}
		d.UpdatedAt = now
		if err := store.UpdateDistribution(ctx, tx, d); err != nil {
			return err
		}
		if told {
			if err := s.queueAlert(ctx, tx, d.ID, store.AlertChange, now, 0); err != nil {
				return err
			}
		}
		return s.queueReminders(ctx, tx, d, now)
	})
}

// CancelDistribution cancels a distribution: alerts not yet sent are stopped, and its
// households are told.
func (s *Service) CancelDistribution(ctx context.Context, id int64) error {
	return s.changeDistribution(ctx, id, func(tx pgx.Tx, d store.Distribution, now time.Time) error {
		if d.State == store.DistributionCancelled {
			return nil
		}
		d.State, d.UpdatedAt = store.DistributionCancelled, now
		if err := store.UpdateDistribution(ctx, tx, d); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE campaign_runs SET state = 'cancelled', finished_at = $2, updated_at = $2
			WHERE distribution_id = $1 AND state IN ('sending', 'paused')`, d.ID, now); err != nil {
			return err
		}
		return s.queueAlert(ctx, tx, d.ID, store.AlertCancellation, now, 0)
	})
}

func (s *Service) changeDistribution(ctx context.Context, id int64, fn func(pgx.Tx, store.Distribution, time.Time) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		d, err := store.DistributionForUpdate(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoDistribution
		}
		if err != nil {
			return err
		}
		return fn(tx, d, s.now())
	})
}

// queueReminders queues a job for each reminder still ahead. Jobs of an earlier time find
// their reminder gone and do nothing.
func (s *Service) queueReminders(ctx context.Context, tx pgx.Tx, d store.Distribution, now time.Time) error {
	for _, h := range d.Reminders {
		due := d.StartsAt.Add(-time.Duration(h) * time.Hour)
		if due.After(now) {
			if err := s.queueAlert(ctx, tx, d.ID, store.AlertReminder, due, int(h)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) queueAlert(ctx context.Context, tx pgx.Tx, id int64, alert string, due time.Time, hours int) error {
	opts := &river.InsertOpts{}
	if due.After(s.now()) {
		opts.ScheduledAt = due
	}
	_, err := s.River.InsertTx(ctx, tx, AlertArgs{DistributionID: id, Alert: alert, DueAt: due.UTC(), Hours: hours}, opts)
	return err
}

// AlertArgs is the job that sends one alert of a distribution, due at DueAt.
type AlertArgs struct {
	DistributionID int64     `json:"distribution_id"`
	Alert          string    `json:"alert"`
	DueAt          time.Time `json:"due_at"`
	Hours          int       `json:"hours,omitempty"` // a reminder's hours before the start
}

// Kind names the job for River.
func (AlertArgs) Kind() string { return "distribution_alert" }

// InsertOpts: one job per alert and time, however often it is queued.
func (AlertArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: BroadcastQueue, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// AlertWorker starts an alert's run: in one transaction it renders the texts with a new
// verification code, fans the run out to the distribution's households and queues the sends.
type AlertWorker struct {
	river.WorkerDefaults[AlertArgs]
	Service *Service
}

// Work starts the run, or does nothing if the alert no longer applies (a reminder for a time
// that changed, anything but the cancellation of a cancelled distribution).
func (w *AlertWorker) Work(ctx context.Context, job *river.Job[AlertArgs]) error {
	s, a := w.Service, job.Args
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		d, err := store.DistributionForUpdate(ctx, tx, a.DistributionID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		if !alertApplies(d, a, now) {
			return nil
		}
		code, err := s.newCode(ctx, tx)
		if err != nil {
			return err
		}
		texts := make(map[string]string, len(locales.Languages))
		for _, lang := range locales.Languages {
			if texts[lang], err = s.AlertText(lang, d, a.Alert, code); err != nil {
				return err
			}
		}
		runID, err := store.InsertRun(ctx, tx, store.Run{DistributionID: &d.ID, Alert: a.Alert, DueAt: a.DueAt, Texts: texts, StartedAt: now})
		if errors.Is(err, store.ErrRunExists) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := store.InsertAlertCode(ctx, tx, code, runID, now); err != nil {
			return err
		}
		audience := storeAudience(Audience{}, texts)
		audience.Distribution = d.ID
		if a.Alert == store.AlertAnnouncement {
			audience.NotAlerted = store.AlertAnnouncement
		}
		started := time.Now()
		targeted, first, last, err := store.FanOut(ctx, tx, runID, audience, now)
		if err != nil {
			return err
		}
		if err := queueBatches(ctx, tx, s.River, runID, first, last); err != nil {
			return err
		}
		s.Metrics.runStarted(a.Alert, targeted, time.Since(started))
		if s.Logger != nil {
			s.Logger.Info("distribution alert started", "distribution", d.ID, "alert", a.Alert, "run", runID, "targeted", targeted)
		}
		return nil
	})
}

func alertApplies(d store.Distribution, a AlertArgs, now time.Time) bool {
	if a.Alert == store.AlertCancellation {
		return true
	}
	if d.State == store.DistributionCancelled || !d.StartsAt.After(now) {
		return false
	}
	switch a.Alert {
	case store.AlertReminder:
		return slices.Contains(d.Reminders, int32(a.Hours)) && d.StartsAt.Add(-time.Duration(a.Hours)*time.Hour).Equal(a.DueAt)
	case store.AlertAnnouncement:
		// One scheduled for a time of its own goes only if that is still the time.
		return d.AnnounceAt == nil || !d.AnnounceAt.After(now)
	}
	return true
}

// codeDigits is the length of a verification code: short to type back on a keypad, longer
// than any menu number and shorter than a case reference.
const codeDigits = 6

// newCode picks a verification code no alert has had.
func (s *Service) newCode(ctx context.Context, tx pgx.Tx) (string, error) {
	for range 20 {
		code, err := s.drawCode()
		if err != nil {
			return "", err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alert_codes WHERE code = $1)`, code).Scan(&taken); err != nil {
			return "", err
		}
		if !taken {
			return code, nil
		}
	}
	return "", errors.New("no free verification code found")
}

// drawCode draws a code at random: from the service's source when it has one (tests), else
// from the operating system.
func (s *Service) drawCode() (string, error) {
	const lo, span = 100000, 900000
	if s.Rand != nil {
		s.randMu.Lock()
		defer s.randMu.Unlock()
		return strconv.Itoa(lo + s.Rand.IntN(span)), nil
	}
	n, err := crand.Int(crand.Reader, big.NewInt(span))
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(lo+n.Int64(), 10), nil
}

// ValidCode reads a verification code as typed (any digit script, spaces): the code, or "".
func ValidCode(input string) string {
	var b strings.Builder
	for _, r := range locales.Fold(input) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return ""
		}
	}
	if b.Len() != codeDigits {
		return ""
	}
	return b.String()
}

// DistributionVars are the details of a distribution as texts say them in lang: site, when
// (day, date and time in the service's time zone), place, items and bring.
func (s *Service) DistributionVars(lang string, d store.Distribution) (map[string]string, error) {
	return DistributionVars(s.Texts, s.loc(), lang, d)
}

// DistributionVars are the details of a distribution as texts say them in lang.
func DistributionVars(texts *locales.Catalog, loc *time.Location, lang string, d store.Distribution) (map[string]string, error) {
	t := d.StartsAt.In(loc)
	weekday, err := texts.Text(lang, "weekday."+strconv.Itoa(int(t.Weekday())), nil, nil)
	if err != nil {
		return nil, err
	}
	when, err := texts.Text(lang, "alert.when", map[string]string{
		"weekday": weekday, "date": t.Format("2/1/2006"), "time": t.Format("15:04"),
	}, nil)
	if err != nil {
		return nil, err
	}
	return map[string]string{"site": d.Site, "when": when, "place": d.Place, "items": d.Items, "bring": d.Bring}, nil
}

// AlertText is an alert as sent in lang: what it is about, what to bring, that assistance
// is free and the code that proves it came from Sawt.
func (s *Service) AlertText(lang string, d store.Distribution, alert, code string) (string, error) {
	if s.Texts == nil {
		return "", errors.New("outreach: no texts to write alerts with")
	}
	vars, err := s.DistributionVars(lang, d)
	if err != nil {
		return "", err
	}
	vars["code"] = code
	keys := []string{"alert." + alert}
	if d.Bring != "" && alert != store.AlertCancellation {
		keys = append(keys, "alert.bring")
	}
	keys = append(keys, "distribution.free", "alert.code")
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		text, err := s.Texts.Text(lang, k, vars, nil)
		if err != nil {
			return "", fmt.Errorf("alert text %s/%s: %w", lang, k, err)
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, "\n"), nil
}

// DistributionSummary is a distribution as the API lists it: its details and how many
// households it has.
type DistributionSummary struct {
	ID          int64      `json:"id"`
	Site        string     `json:"site"`
	Governorate string     `json:"governorate,omitempty"`
	StartsAt    time.Time  `json:"starts_at"`
	Place       string     `json:"place"`
	Items       string     `json:"items"`
	Bring       string     `json:"bring,omitempty"`
	State       string     `json:"state"`
	AnnounceAt  *time.Time `json:"announce_at,omitempty"`
	Reminders   []int32    `json:"reminders_hours"`
	Households  int        `json:"households"`
	CreatedBy   string     `json:"created_by,omitempty"`
}

// SummaryOf is d as the API lists it, with its households counted.
func SummaryOf(d store.Distribution, households int) DistributionSummary {
	return DistributionSummary{ID: d.ID, Site: d.Site, Governorate: d.Governorate, StartsAt: d.StartsAt, Place: d.Place,
		Items: d.Items, Bring: d.Bring, State: d.State, AnnounceAt: d.AnnounceAt, Reminders: d.Reminders,
		Households: households, CreatedBy: d.CreatedBy}
}

// DistributionStatus is a distribution as the API shows it: its summary and its alerts.
type DistributionStatus struct {
	DistributionSummary
	Alerts []AlertRuns `json:"alerts"`
}

// AlertRuns is one alert sent, with its code and counts.
type AlertRuns struct {
	RunStatus
	Alert string `json:"alert"`
	Code  string `json:"code"`
}

// GetDistribution reads a distribution with its households count and alerts.
func (s *Service) GetDistribution(ctx context.Context, id int64) (DistributionStatus, error) {
	d, err := store.DistributionByID(ctx, s.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		return DistributionStatus{}, ErrNoDistribution
	}
	if err != nil {
		return DistributionStatus{}, err
	}
	households, err := store.CountHouseholds(ctx, s.Pool, id)
	if err != nil {
		return DistributionStatus{}, err
	}
	st := DistributionStatus{DistributionSummary: SummaryOf(d, households), Alerts: []AlertRuns{}}
	runs, err := store.RunsOfDistribution(ctx, s.Pool, id)
	if err != nil {
		return st, err
	}
	for _, r := range runs {
		counts, err := store.CountRun(ctx, s.Pool, r.ID)
		if err != nil {
			return st, err
		}
		var code string
		if err := s.Pool.QueryRow(ctx, `SELECT coalesce(min(code), '') FROM alert_codes WHERE run_id = $1`, r.ID).Scan(&code); err != nil {
			return st, err
		}
		st.Alerts = append(st.Alerts, AlertRuns{Alert: r.Alert, Code: code, RunStatus: RunStatus{ID: r.ID, DueAt: r.DueAt,
			State: r.State, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Counts: counts}})
	}
	return st, nil
}
