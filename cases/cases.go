package cases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/store"
)

// New is what opening a case takes.
type New struct {
	ContactID                    int64
	Category                     string
	Channel, Language            string
	Description                  string
	Governorate, Site            string
	ConsentContact, ConsentShare bool
	// CallBack asks an operator to call the person; Incomplete marks a case whose
	// conversation ended before it was finished (a caller who hung up).
	CallBack, Incomplete bool
	// Recordings are the provider's IDs of recordings the person made for it.
	Recordings    []string
	SourceMessage *int64 // the inbound message that completed the case
	// Campaign is the campaign the person was answering (a case opened soon after it reached them).
	Campaign *int64
}

// Case is an opened case, as the conversation needs it.
type Case struct {
	ID        int64
	Reference Reference
	Category  string
	Priority  Priority
	Status    Status
	// AckDays is the acknowledgement deadline in whole days, for telling the person.
	AckDays int
}

// SystemActor is who the events written by the gateway itself are attributed to.
const SystemActor = "system"

// maxDraws bounds the references drawn for one case; with nine million references a second
// draw is already rare.
const maxDraws = 10

// Open stores a new case with the category's priority and deadlines and a fresh reference
// from draw, and writes its "created" event.
func Open(ctx context.Context, tx pgx.Tx, n New, draw func() Reference, now time.Time) (Case, error) {
	row, err := store.Category(ctx, tx, n.Category)
	if err != nil {
		return Case{}, err
	}
	cat := Category{Code: row.Code, Priority: Priority(row.Priority), AckHours: row.AckHours,
		ReferHours: row.ReferHours, ResolveHours: row.ResolveHours, Sensitive: row.Sensitive}
	if err := cat.Validate(); err != nil {
		return Case{}, err
	}
	ack, refer, resolve := cat.Deadlines(now)
	c := store.CaseRow{
		ContactID: n.ContactID, Category: cat.Code, Priority: string(cat.Priority), Status: string(StatusNew),
		Channel: n.Channel, Language: n.Language, Description: n.Description,
		Governorate: n.Governorate, Site: n.Site, ConsentContact: n.ConsentContact, ConsentShare: n.ConsentShare,
		CallBack: n.CallBack, Incomplete: n.Incomplete, SourceMessageID: n.SourceMessage, CampaignID: n.Campaign, AckDueAt: ack, ReferDueAt: refer, ResolveDueAt: resolve, CreatedAt: now,
	}
	for range maxDraws {
		c.Reference = string(draw())
		id, err := store.InsertCase(ctx, tx, c, SystemActor)
		if errors.Is(err, store.ErrReferenceTaken) {
			continue
		}
		if err != nil {
			return Case{}, fmt.Errorf("open case: %w", err)
		}
		if err := store.LinkRecordings(ctx, tx, id, n.ContactID, n.Recordings, now); err != nil {
			return Case{}, fmt.Errorf("open case: %w", err)
		}
		return Case{ID: id, Reference: Reference(c.Reference), Category: cat.Code, Priority: cat.Priority,
			Status: StatusNew, AckDays: cat.AckDays()}, nil
	}
	return Case{}, fmt.Errorf("open case: no free reference after %d draws", maxDraws)
}

// StatusOf is the status of the case with a reference: all that someone who only knows the
// number may learn. store.ErrNotFound when there is none.
func StatusOf(ctx context.Context, db store.DB, ref Reference) (Status, error) {
	c, err := store.CaseByReference(ctx, db, string(ref))
	if err != nil {
		return "", err
	}
	return Status(c.Status), nil
}

// ChangeStatus moves a case along its lifecycle and records who did it, refusing moves the
// lifecycle does not allow (acknowledging, starting work, reopening, closing). Referring and
// resolving have rules of their own: use Refer and Resolve (ErrOwnOperation here).
func ChangeStatus(ctx context.Context, tx pgx.Tx, id int64, to Status, actor, note string, now time.Time) error {
	switch to {
	case StatusReferred:
		return fmt.Errorf("case %d: %w: refer a case with Refer, which records the partner and checks the person's consent", id, ErrOwnOperation)
	case StatusResolved:
		return fmt.Errorf("case %d: %w: resolve a case with Resolve, which records the answer (gateway.ResolveCase also tells the person)", id, ErrOwnOperation)
	}
	c, err := lockCase(ctx, tx, id, actor)
	if err != nil {
		return err
	}
	if err := CheckTransition(Status(c.Status), to); err != nil {
		return err
	}
	return store.UpdateCaseStatus(ctx, tx, id, c.Status, string(to), actor, note, now)
}
