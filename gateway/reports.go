package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// Delivered applies a provider's delivery report to the reply it is about.
func (g *Gateway) Delivered(ctx context.Context, r channels.DeliveryReport) error {
	err := store.UpdateDelivery(ctx, g.pool, r.ProviderID, r.Status, r.ErrorCode, g.now())
	if errors.Is(err, store.ErrUnknownProviderID) {
		return fmt.Errorf("%w: %s", channels.ErrUnknownMessage, r.ProviderID)
	}
	return err
}

// RecordingReady notes a finished recording and queues its fetch, in one transaction.
func (g *Gateway) RecordingReady(ctx context.Context, r channels.RecordingReady) error {
	if r.ProviderID == "" {
		return fmt.Errorf("%w: recording without an ID", ErrBadInbound)
	}
	return pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		if err := store.RecordingReady(ctx, tx, r.ProviderID, r.CallID, r.URL, r.DurationSeconds, r.Confidential, g.now()); err != nil {
			return err
		}
		_, err := g.river.InsertTx(ctx, tx, FetchRecordingArgs{ProviderID: r.ProviderID}, nil)
		return err
	})
}

// FetchRecordingArgs is the job that brings a recording home and deletes it at the provider.
type FetchRecordingArgs struct {
	ProviderID string `json:"provider_id"`
}

// Kind names the job for River.
func (FetchRecordingArgs) Kind() string { return "fetch_recording" }

// InsertOpts makes one job per recording, however often the provider reports it.
func (FetchRecordingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RecordingFetcher is the provider side of keeping recordings.
type RecordingFetcher interface {
	FetchRecording(ctx context.Context, providerID string) (audio []byte, contentType string, err error)
	DeleteRecording(ctx context.Context, providerID string) error
}

// FetchRecordingWorker keeps a recording's audio in the database, then deletes it at the
// provider. Each half is recorded as it is done, so a retry repeats only what is missing. A
// confidential recording is encrypted to the PSEA focal points before it is written.
type FetchRecordingWorker struct {
	river.WorkerDefaults[FetchRecordingArgs]
	Pool    *pgxpool.Pool
	Fetcher RecordingFetcher
	Sealer  *safeguarding.Sealer
	Now     func() time.Time
	Logger  *slog.Logger
}

// Work fetches, stores, deletes.
func (w *FetchRecordingWorker) Work(ctx context.Context, job *river.Job[FetchRecordingArgs]) error {
	now, log := defaults(w.Now, w.Logger)
	if w.Fetcher == nil {
		return river.JobSnooze(channelOffSnooze)
	}
	id := job.Args.ProviderID
	fetched, deleted, confidential, err := store.RecordingProgress(ctx, w.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fetched {
		audio, contentType, err := w.Fetcher.FetchRecording(ctx, id)
		if errors.Is(err, channels.ErrMediaGone) {
			log.Error("recording gone at the provider before we kept it", "recording", id)
			return nil
		}
		if err != nil {
			return err
		}
		if confidential {
			if w.Sealer == nil {
				return errors.New("confidential recording: no sealer to encrypt it with")
			}
			if audio, err = w.Sealer.Seal(ctx, w.Pool, audio); err != nil {
				return fmt.Errorf("seal recording: %w", err)
			}
		}
		if err := store.StoreRecordingAudio(ctx, w.Pool, id, contentType, audio, now()); err != nil {
			return err
		}
	}
	if !deleted {
		if err := w.Fetcher.DeleteRecording(ctx, id); err != nil {
			return err
		}
		if err := store.RecordingDeletedAtProvider(ctx, w.Pool, id, now()); err != nil {
			return err
		}
	}
	return nil
}

// orphanGrace is how long a recording may wait for the case it was made for: a call lasts
// minutes, and its case opens when it ends.
const orphanGrace = 6 * time.Hour

// PurgeRecordingsArgs is the periodic job that deletes recordings no case was made from (a
// caller who hung up before agreeing to anything): what they said is not kept.
type PurgeRecordingsArgs struct{}

// Kind names the job for River.
func (PurgeRecordingsArgs) Kind() string { return "purge_recordings" }

// PurgeRecordingsWorker deletes orphaned recordings once they are gone from the provider too.
type PurgeRecordingsWorker struct {
	river.WorkerDefaults[PurgeRecordingsArgs]
	Pool   *pgxpool.Pool
	Now    func() time.Time
	Logger *slog.Logger
}

// Work deletes them.
func (w *PurgeRecordingsWorker) Work(ctx context.Context, _ *river.Job[PurgeRecordingsArgs]) error {
	now, log := defaults(w.Now, w.Logger)
	n, err := store.PurgeOrphanRecordings(ctx, w.Pool, now().Add(-orphanGrace))
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("recordings without a case deleted", "count", n)
	}
	return nil
}

// PurgeRecordingsPeriodic runs the purge every hour, and once at start.
func PurgeRecordingsPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeRecordingsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
