package outreach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// BroadcastQueue is the River queue campaigns are started and sent on: apart from the
// outbox, so that a campaign to a million people never delays a reply to one.
const BroadcastQueue = "broadcast"

// BatchSize is how many deliveries one send job covers.
const BatchSize = 500

// Service makes and steers campaigns.
type Service struct {
	Pool     *pgxpool.Pool
	River    *river.Client[pgx.Tx]
	Location *time.Location // SAWT_TIMEZONE: cron expressions are read in it
	Now      func() time.Time
	Logger   *slog.Logger
	// Texts write distribution alerts in each language.
	Texts *locales.Catalog
	// Metrics, when set, counts runs and sends.
	Metrics *Metrics
	// Rand, when set, draws verification codes (tests); else the operating system does.
	Rand   *rand.Rand
	randMu sync.Mutex
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// ErrNotFound says there is no such campaign.
var ErrNotFound = errors.New("no such campaign")

// ErrState says a campaign cannot be moved that way from where it is (resume a cancelled one).
type ErrState struct{ From, Want, What string }

func (e *ErrState) Error() string {
	what := e.What
	if what == "" {
		what = "campaign"
	}
	return fmt.Sprintf("the %s is %s: it cannot be %s", what, e.From, e.Want)
}

// Create validates a spec, stores the campaign and schedules its first run: at once for
// "now", at its time, or at the first occurrence of its cron expression.
func (s *Service) Create(ctx context.Context, spec Spec, by string) (int64, error) {
	now := s.now()
	topics := map[string]bool{}
	codes, err := store.Topics(ctx, s.Pool)
	if err != nil {
		return 0, err
	}
	for _, c := range codes {
		topics[c] = true
	}
	if err := spec.Validate(now, func(t string) bool { return topics[t] }); err != nil {
		return 0, err
	}
	audience, err := json.Marshal(spec.Audience)
	if err != nil {
		return 0, err
	}
	c := store.Campaign{
		Name: spec.Name, Topic: spec.Topic, Texts: spec.Texts, Audience: audience,
		AllowLinks: spec.AllowLinks, AllowMissing: spec.AllowMissing, CreatedBy: by, CreatedAt: now,
	}
	var first time.Time
	switch {
	case spec.Schedule.Now:
		first = now
		c.SendAt = &first
	case spec.Schedule.At != nil:
		first = *spec.Schedule.At
		c.SendAt = &first
	default:
		c.Cron = spec.Schedule.Cron
		if first, err = NextAfter(c.Cron, now, s.loc()); err != nil {
			return 0, fieldErrorf("schedule.cron", "%v", err)
		}
	}
	c.NextRunAt = &first
	var id int64
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if id, err = store.InsertCampaign(ctx, tx, c); err != nil {
			return err
		}
		return s.scheduleStart(ctx, tx, id, first)
	})
	return id, err
}

// scheduleStart queues the job that starts a campaign's run due at due: at once when it is
// due already (a job scheduled for now would wait for River's next scheduling round).
func (s *Service) scheduleStart(ctx context.Context, tx pgx.Tx, id int64, due time.Time) error {
	opts := &river.InsertOpts{}
	if due.After(s.now()) {
		opts.ScheduledAt = due
	}
	_, err := s.River.InsertTx(ctx, tx, StartRunArgs{CampaignID: id, DueAt: due.UTC()}, opts)
	return err
}

// Pause holds a campaign: its running run stops between two sends, and a scheduled one-off
// waits. A recurring campaign skips the occurrences that fall while it is paused.
func (s *Service) Pause(ctx context.Context, id int64) error {
	return s.move(ctx, id, func(tx pgx.Tx, c store.Campaign, now time.Time) error {
		switch c.State {
		case store.CampaignPaused:
			return nil
		case store.CampaignCancelled, store.CampaignDone:
			return &ErrState{From: c.State, Want: "paused"}
		}
		if _, err := store.SetRunsState(ctx, tx, id, []string{store.RunSending}, store.RunPaused, now); err != nil {
			return err
		}
		return store.SetCampaignState(ctx, tx, id, store.CampaignPaused, c.NextRunAt, now)
	})
}

// Resume lets a paused campaign go on where it stopped.
func (s *Service) Resume(ctx context.Context, id int64) error {
	return s.move(ctx, id, func(tx pgx.Tx, c store.Campaign, now time.Time) error {
		switch c.State {
		case store.CampaignScheduled, store.CampaignRunning:
			return nil
		case store.CampaignCancelled, store.CampaignDone:
			return &ErrState{From: c.State, Want: "resumed"}
		}
		n, err := store.SetRunsState(ctx, tx, id, []string{store.RunPaused}, store.RunSending, now)
		if err != nil {
			return err
		}
		state := store.CampaignScheduled
		if n > 0 {
			state = store.CampaignRunning
			// Send jobs of the run wait snoozed: bring them forward rather than let people wait.
			if _, err := tx.Exec(ctx, `
				UPDATE river_job SET scheduled_at = now()
				WHERE state = 'scheduled' AND kind = $1 AND (args->>'run_id')::bigint IN (
					SELECT id FROM campaign_runs WHERE campaign_id = $2 AND state = 'sending')`,
				SendBatchArgs{}.Kind(), id); err != nil {
				return err
			}
		}
		return store.SetCampaignState(ctx, tx, id, state, c.NextRunAt, now)
	})
}

// Cancel stops a campaign for good: nothing more of it is sent, no run starts again.
func (s *Service) Cancel(ctx context.Context, id int64) error {
	return s.move(ctx, id, func(tx pgx.Tx, c store.Campaign, now time.Time) error {
		switch c.State {
		case store.CampaignCancelled:
			return nil
		case store.CampaignDone:
			return &ErrState{From: c.State, Want: "cancelled"}
		}
		if _, err := store.SetRunsState(ctx, tx, id, []string{store.RunSending, store.RunPaused}, store.RunCancelled, now); err != nil {
			return err
		}
		return store.SetCampaignState(ctx, tx, id, store.CampaignCancelled, nil, now)
	})
}

// move changes a campaign under its row lock.
func (s *Service) move(ctx context.Context, id int64, fn func(pgx.Tx, store.Campaign, time.Time) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := store.CampaignForUpdate(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return fn(tx, c, s.now())
	})
}

// RunStatus is one run and its counts.
type RunStatus struct {
	ID         int64           `json:"id"`
	DueAt      time.Time       `json:"due_at"`
	State      string          `json:"state"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Counts     store.RunCounts `json:"counts"`
}

// Status is a campaign as the API shows it.
type Status struct {
	ID        int64             `json:"id"`
	Name      string            `json:"name"`
	Topic     string            `json:"topic,omitempty"`
	State     string            `json:"state"`
	Texts     map[string]string `json:"texts"`
	Audience  json.RawMessage   `json:"audience"`
	Schedule  Schedule          `json:"schedule"`
	NextRunAt *time.Time        `json:"next_run_at,omitempty"`
	CreatedBy string            `json:"created_by,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	Runs      []RunStatus       `json:"runs"`
}

// Get reads a campaign with its newest runs and their counts.
func (s *Service) Get(ctx context.Context, id int64) (Status, error) {
	c, err := store.CampaignByID(ctx, s.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		return Status{}, ErrNotFound
	}
	if err != nil {
		return Status{}, err
	}
	st := Status{ID: c.ID, Name: c.Name, Topic: c.Topic, State: c.State, Texts: c.Texts, Audience: c.Audience,
		NextRunAt: c.NextRunAt, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, Runs: []RunStatus{}}
	if c.Cron != "" {
		st.Schedule.Cron = c.Cron
	} else {
		st.Schedule.At = c.SendAt
	}
	runs, err := store.RunsOfCampaign(ctx, s.Pool, id, 20)
	if err != nil {
		return Status{}, err
	}
	for _, r := range runs {
		counts, err := store.CountRun(ctx, s.Pool, r.ID)
		if err != nil {
			return Status{}, err
		}
		st.Runs = append(st.Runs, RunStatus{ID: r.ID, DueAt: r.DueAt, State: r.State, StartedAt: r.StartedAt,
			FinishedAt: r.FinishedAt, Counts: counts})
	}
	return st, nil
}

// storeAudience turns an audience into the store's query: channels into URN schemes, and
// each language a person may read into the text they get.
func storeAudience(a Audience, texts map[string]string) store.Audience {
	out := store.Audience{
		Languages: a.Languages, Governorates: a.Governorates, Sites: a.Sites, Topics: a.Topics,
		Households: a.Households, Language: map[string]string{},
	}
	chans := a.Channels
	if len(chans) == 0 {
		chans = BroadcastChannels
	}
	for _, c := range chans {
		switch channels.Kind(c) {
		case channels.SMS:
			out.Schemes = append(out.Schemes, channels.SchemeTel)
		case channels.Telegram:
			out.Schemes = append(out.Schemes, channels.SchemeTelegram)
		}
	}
	for _, l := range append([]string{""}, locales.Languages...) {
		out.Language[l] = ChooseLanguage(l, texts)
	}
	return out
}
