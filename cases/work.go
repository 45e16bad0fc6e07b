package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/sawt/sawt/store"
)

// What a caseworker does to a case: assign it, put it in another category, change its
// priority, refer it to a partner, reply to the person, resolve it. Each operation runs in the
// caller's transaction, holds the case's row while it decides, refuses what the rules do not
// allow with an error that says why, and writes one case event (two when a new category also
// moves the priority) naming the actor. An operation that would change nothing (assigning a
// case to whom it is assigned already) writes nothing and is not an error.
//
// Telling the person is not done here: the gateway does it in the same transaction
// (gateway.ResolveCase, gateway.ReplyToCase), on the channel the case came by.

// PersonActor is who the events written for the person's own answers are attributed to.
const PersonActor = "person"

// MaxNoteLength bounds a resolution or a reply, in characters: it is sent to the person, by
// SMS too, where every 67 Arabic-script characters are another part to pay for.
const MaxNoteLength = 1000

// Errors of case work; each refusal wraps one of them (or store.ErrNotFound for an unknown
// case, category or partner, or ErrTransition for a move the lifecycle forbids).
var (
	// ErrClosed: a closed case is final; it can no longer be changed.
	ErrClosed = errors.New("case is closed")
	// ErrNoShareConsent: the person did not agree to share their case with a partner.
	ErrNoShareConsent = errors.New("the person did not agree to share this case with a partner organisation")
	// ErrNoContactConsent: the person did not agree to be contacted about their case.
	ErrNoContactConsent = errors.New("the person did not agree to be contacted about this case")
	// ErrPartnerInactive: the partner no longer takes referrals.
	ErrPartnerInactive = errors.New("partner no longer takes referrals")
	// ErrPriority: not one of the priorities.
	ErrPriority = errors.New("unknown priority")
	// ErrNote: a resolution or reply that is empty or too long.
	ErrNote = errors.New("invalid text")
	// ErrActor: who did it is not said.
	ErrActor = errors.New("no actor")
	// ErrOwnOperation: a status that only its own operation may set (referred: Refer;
	// resolved: Resolve), asked of ChangeStatus.
	ErrOwnOperation = errors.New("status is set by its own operation")
)

// lockCase reads a case for a caseworker's operation and holds its row.
func lockCase(ctx context.Context, tx pgx.Tx, id int64, actor string) (store.CaseRow, error) {
	if strings.TrimSpace(actor) == "" {
		return store.CaseRow{}, fmt.Errorf("case %d: %w: say who does it", id, ErrActor)
	}
	c, err := store.CaseForUpdate(ctx, tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("case %d: %w", id, store.ErrNotFound)
	}
	return c, err
}

// openCase is lockCase for operations a closed case refuses.
func openCase(ctx context.Context, tx pgx.Tx, id int64, actor, doing string) (store.CaseRow, error) {
	c, err := lockCase(ctx, tx, id, actor)
	if err == nil && Status(c.Status) == StatusClosed {
		return c, fmt.Errorf("case %s: %w: it cannot be %s", c.Reference, ErrClosed, doing)
	}
	return c, err
}

// Assign gives a case to a caseworker, or to no one with assignee "". A closed case is
// refused. The caller checks that the assignee is a member of staff who may work on the case
// (the console knows the accounts and their roles; this package does not).
func Assign(ctx context.Context, tx pgx.Tx, caseID int64, assignee, actor string, now time.Time) error {
	assignee = strings.TrimSpace(assignee)
	c, err := openCase(ctx, tx, caseID, actor, "assigned")
	if err != nil {
		return err
	}
	if c.Assignee == assignee {
		return nil
	}
	return store.AssignCase(ctx, tx, c, assignee, actor, "", now)
}

// ChangeCategory puts a case in another category. Its priority follows the new category,
// unless a caseworker set the priority by hand (ChangePriority): then it stays as they set it.
// The deadlines stay as they were when the case was opened: a new category does not give the
// team more time, nor take time away they were counting on; a caseworker who needs the case
// handled sooner raises its priority. An unknown category wraps store.ErrNotFound; a closed
// case is refused.
func ChangeCategory(ctx context.Context, tx pgx.Tx, caseID int64, category, actor string, now time.Time) error {
	c, err := openCase(ctx, tx, caseID, actor, "put in another category")
	if err != nil {
		return err
	}
	row, err := store.Category(ctx, tx, category)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("case %s: unknown category %q: %w", c.Reference, category, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if row.Code == c.Category {
		return nil
	}
	priority := row.Priority
	if c.PriorityManual {
		priority = c.Priority
	}
	return store.ChangeCaseCategory(ctx, tx, c, row.Code, priority, actor, "", now)
}

// ChangePriority sets a case's priority by hand; from then on a new category leaves it as set.
// A closed case is refused.
func ChangePriority(ctx context.Context, tx pgx.Tx, caseID int64, priority Priority, actor string, now time.Time) error {
	if !priority.Valid() {
		return fmt.Errorf("case %d: %w %q (low, normal, high or critical)", caseID, ErrPriority, priority)
	}
	c, err := openCase(ctx, tx, caseID, actor, "given another priority")
	if err != nil {
		return err
	}
	if Priority(c.Priority) == priority {
		return nil
	}
	return store.ChangeCasePriority(ctx, tx, c, string(priority), actor, "", now)
}

// Refer passes a case to a partner organisation: its status becomes referred, with the partner
// and the time recorded, and the note (what was asked of the partner) in the event. Refused when
// the person did not agree to share their case (ErrNoShareConsent), when the partner is unknown
// (store.ErrNotFound) or retired (ErrPartnerInactive), and where the lifecycle does not allow it
// (ErrTransition: only an acknowledged or in-progress case may be referred). A referred case
// may be referred again to another partner, its status staying referred.
func Refer(ctx context.Context, tx pgx.Tx, caseID, partnerID int64, note, actor string, now time.Time) error {
	c, err := lockCase(ctx, tx, caseID, actor)
	if err != nil {
		return err
	}
	if !c.ConsentShare {
		return fmt.Errorf("case %s: %w: it cannot be referred", c.Reference, ErrNoShareConsent)
	}
	p, err := store.PartnerByID(ctx, tx, partnerID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("case %s: unknown partner %d: %w", c.Reference, partnerID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if !p.Active {
		return fmt.Errorf("case %s: %q: %w", c.Reference, p.Name, ErrPartnerInactive)
	}
	from := Status(c.Status)
	switch {
	case from == StatusReferred && c.PartnerID != nil && *c.PartnerID == p.ID:
		return fmt.Errorf("case %s: %w: it is already referred to %q", c.Reference, ErrTransition, p.Name)
	case from != StatusReferred:
		if err := CheckTransition(from, StatusReferred); err != nil {
			return fmt.Errorf("case %s: %w", c.Reference, err)
		}
	}
	return store.ReferCase(ctx, tx, c, p, actor, strings.TrimSpace(note), now)
}

// Resolve records the answer to a case: its status becomes resolved, with the resolution and
// the time. An answer the person gave to an earlier resolution no longer stands (the case was
// reopened since); it stays in the history. Refused where the lifecycle does not allow it
// (ErrTransition: a case resolved already, or closed, or not yet worked on) and for an empty
// or too long resolution (ErrNote). It returns the case as resolved, for telling the person:
// gateway.ResolveCase does both in one transaction.
func Resolve(ctx context.Context, tx pgx.Tx, caseID int64, resolution, actor string, now time.Time) (store.CaseRow, error) {
	resolution, err := checkNote(resolution, "resolution")
	if err != nil {
		return store.CaseRow{}, fmt.Errorf("case %d: %w", caseID, err)
	}
	c, err := lockCase(ctx, tx, caseID, actor)
	if err != nil {
		return c, err
	}
	if err := CheckTransition(Status(c.Status), StatusResolved); err != nil {
		return c, fmt.Errorf("case %s: %w", c.Reference, err)
	}
	if err := store.ResolveCase(ctx, tx, c, resolution, actor, now); err != nil {
		return c, err
	}
	c.Status, c.Resolution, c.ResolvedAt, c.UpdatedAt, c.Satisfied, c.SatisfactionAt = string(StatusResolved), resolution, &now, now, nil, nil
	return c, nil
}

// Reply records a caseworker's message to the person about their case (a "replied" event with
// the text). Refused when the person did not agree to be contacted (ErrNoContactConsent) and
// for an empty or too long text (ErrNote). It returns the case, for sending the message:
// gateway.ReplyToCase does both in one transaction. A closed case may still be replied to: the
// person may write about it again.
func Reply(ctx context.Context, tx pgx.Tx, caseID int64, text, actor string, now time.Time) (store.CaseRow, error) {
	text, err := checkNote(text, "reply")
	if err != nil {
		return store.CaseRow{}, fmt.Errorf("case %d: %w", caseID, err)
	}
	c, err := lockCase(ctx, tx, caseID, actor)
	if err != nil {
		return c, err
	}
	if !c.ConsentContact {
		return c, fmt.Errorf("case %s: %w: no message can be sent", c.Reference, ErrNoContactConsent)
	}
	err = store.InsertCaseEvent(ctx, tx, c.ID, store.CaseEvent{Kind: "replied", Actor: actor, Note: text, CreatedAt: now})
	return c, err
}

// RecordSatisfaction keeps the person's answer to "are you satisfied?" on their case and writes
// the event, attributed to PersonActor. The case must be the contact's (store.ErrNotFound
// otherwise): the answer comes from their conversation.
func RecordSatisfaction(ctx context.Context, tx pgx.Tx, caseID, contactID int64, satisfied bool, now time.Time) error {
	err := store.RecordSatisfaction(ctx, tx, caseID, contactID, satisfied, PersonActor, now)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("case %d of contact %d: %w", caseID, contactID, store.ErrNotFound)
	}
	return err
}

// checkNote trims a text for the person and checks it is neither empty nor too long.
func checkNote(text, what string) (string, error) {
	text = strings.TrimSpace(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return "", fmt.Errorf("%w: the %s is empty", ErrNote, what)
	case n > MaxNoteLength:
		return "", fmt.Errorf("%w: the %s has %d characters, at most %d are sent", ErrNote, what, n, MaxNoteLength)
	}
	return text, nil
}
