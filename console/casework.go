package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/store"
)

// The work on a case that the case page (casepage.go) and the case API (cases_api.go) both
// do, so that both check the same values, run the same operations and refuse the same way:
// which cases caseworkers see (caseFor, caseDetailFor) and each operation (caseWork). A
// refusal is a *refusal: its status, the key of its text (said in the user's language on the
// page, in English by the API), and the field at fault, by its name in the API; an error of
// package cases or the gateway is said by caseRefusal.

// caseFor reads a case caseworkers see; store.ErrNotFound when there is no such case, or it
// is of the SEA category (visibleCase).
func caseFor(ctx context.Context, db store.DB, id int64) (store.CaseRow, error) {
	c, err := store.CaseByID(ctx, db, id)
	if err == nil && !visibleCase(c) {
		return store.CaseRow{}, store.ErrNotFound
	}
	return c, err
}

// caseDetailFor reads a case caseworkers see, whole (store.CaseDetailByID); store.ErrNotFound
// as caseFor.
func caseDetailFor(ctx context.Context, db store.DB, id int64) (store.CaseDetail, error) {
	d, err := store.CaseDetailByID(ctx, db, id)
	if err == nil && !visibleCase(d.Case) {
		return store.CaseDetail{}, store.ErrNotFound
	}
	return d, err
}

// caseAddresses are where the person of a case can be reached: none unless they agreed to be
// contacted.
func caseAddresses(d store.CaseDetail) []string {
	var out []string
	if d.Case.ConsentContact {
		for _, u := range d.URNs {
			out = append(out, string(u))
		}
	}
	return out
}

// recordingPending says whether a recording is still at the phone provider, not downloaded.
func recordingPending(r store.RecordingListing) bool { return r.FetchedAt == nil && r.AudioBytes == 0 }

// caseMoves are the statuses a case may be moved to by hand from its status: referral and
// resolution have operations of their own.
func caseMoves(from cases.Status) []cases.Status {
	var moves []cases.Status
	for _, to := range cases.Statuses() {
		if to != cases.StatusReferred && to != cases.StatusResolved && cases.CanTransition(from, to) {
			moves = append(moves, to)
		}
	}
	return moves
}

// badValue refuses a value given for a field with 400: key says why; values, when given, are
// the ones that would do.
func badValue(field string, values []string, key string, args ...any) error {
	return &refusal{status: http.StatusBadRequest, key: key, args: args, field: field, values: values}
}

// checkedNote is a text for the person (or a partner) as typed in field: trimmed, line breaks
// as browsers send them made plain, and refused when empty (if required) or too long.
func checkedNote(s, field string, required bool) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	switch {
	case s == "" && required:
		return "", badValue(field, nil, "err_note_empty")
	case utf8.RuneCountInString(s) > cases.MaxNoteLength:
		return "", badValue(field, nil, "err_note_too_long", cases.MaxNoteLength)
	}
	return s, nil
}

// caseWork is one operation on a case as a caseworker does it: on c (read before, one
// caseworkers see), by actor, in a transaction of its own on pool. Each method checks the
// values given, refusing with a *refusal, then runs the operation of package cases or of the
// gateway (gw: nil answers 503 to what writes to the person), whose refusals caseRefusal says.
type caseWork struct {
	pool  *pgxpool.Pool
	gw    CaseActions
	log   *slog.Logger
	c     store.CaseRow
	actor string
	now   time.Time
}

func (k *caseWork) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, k.pool, fn)
}

// assign gives the case to a caseworker with an active account (by email, in any case), or
// to no one ("").
func (k *caseWork) assign(ctx context.Context, assignee string) error {
	assignee = strings.ToLower(strings.TrimSpace(assignee))
	if assignee != "" {
		u, err := store.StaffUserByEmail(ctx, k.pool, assignee)
		if errors.Is(err, store.ErrNotFound) || err == nil && (u.Role != RoleCaseworker || u.DisabledAt != nil) {
			return badValue("assignee", nil, "err_unknown_assignee")
		}
		if err != nil {
			return err
		}
	}
	return k.inTx(ctx, func(tx pgx.Tx) error {
		return cases.Assign(ctx, tx, k.c.ID, assignee, k.actor, k.now)
	})
}

// setCategory puts the case in another category, one the queue shows (not SEA, whose reports
// are not cases).
func (k *caseWork) setCategory(ctx context.Context, category string) error {
	if !slices.Contains(queueCategories, category) {
		return badValue("category", queueCategories, "err_unknown_category")
	}
	err := k.inTx(ctx, func(tx pgx.Tx) error {
		return cases.ChangeCategory(ctx, tx, k.c.ID, category, k.actor, k.now)
	})
	if errors.Is(err, store.ErrNotFound) { // the category, the case having been read
		return badValue("category", queueCategories, "err_unknown_category")
	}
	return err
}

// setStatus moves the case along its lifecycle by hand (acknowledged, in progress, closed),
// with an optional note.
func (k *caseWork) setStatus(ctx context.Context, status, note string) error {
	to := cases.Status(status)
	if !to.Valid() || to == cases.StatusReferred || to == cases.StatusResolved {
		var values []string
		for _, s := range cases.Statuses() {
			if s != cases.StatusReferred && s != cases.StatusResolved {
				values = append(values, string(s))
			}
		}
		return badValue("status", values, "err_unknown_status")
	}
	note, err := checkedNote(note, "note", false)
	if err != nil {
		return err
	}
	return k.inTx(ctx, func(tx pgx.Tx) error {
		return cases.ChangeStatus(ctx, tx, k.c.ID, to, k.actor, note, k.now)
	})
}

// setPriority sets the case's priority by hand.
func (k *caseWork) setPriority(ctx context.Context, priority string) error {
	p := cases.Priority(priority)
	if !p.Valid() {
		var values []string
		for _, v := range cases.Priorities() {
			values = append(values, string(v))
		}
		return badValue("priority", values, "err_unknown_priority")
	}
	return k.inTx(ctx, func(tx pgx.Tx) error {
		return cases.ChangePriority(ctx, tx, k.c.ID, p, k.actor, k.now)
	})
}

// refer refers the case to a partner (0: none chosen), with a note of what is asked of them.
func (k *caseWork) refer(ctx context.Context, partner int64, note string) error {
	if partner <= 0 {
		return badValue("partner_id", nil, "err_choose_partner")
	}
	note, err := checkedNote(note, "note", false)
	if err != nil {
		return err
	}
	if k.c.Status == string(cases.StatusReferred) && k.c.PartnerID != nil && *k.c.PartnerID == partner {
		return refuse(http.StatusConflict, "err_already_referred")
	}
	err = k.inTx(ctx, func(tx pgx.Tx) error {
		return cases.Refer(ctx, tx, k.c.ID, partner, note, k.actor, k.now)
	})
	if errors.Is(err, store.ErrNotFound) { // the partner, the case having been read
		return badValue("partner_id", nil, "err_unknown_partner")
	}
	return err
}

// unavailable is the refusal of what writes to the person when there is no gateway.
func (k *caseWork) unavailable() error {
	k.log.Error("console: no gateway to write to people with (Web.Cases, API.Cases)")
	return refuse(http.StatusServiceUnavailable, "err_unavailable")
}

// reply writes to the person about their case, on the channel it came by, and says how many
// SMS parts the message queued takes (0 when not by SMS).
func (k *caseWork) reply(ctx context.Context, text string) (parts int, err error) {
	msg, err := checkedNote(text, "text", true)
	if err != nil {
		return 0, err
	}
	if k.gw == nil {
		return 0, k.unavailable()
	}
	err = k.inTx(ctx, func(tx pgx.Tx) error {
		if err := k.gw.ReplyToCase(ctx, tx, k.c.ID, msg, k.actor); err != nil {
			return err
		}
		parts, err = queuedSMSParts(ctx, tx, k.c)
		return err
	})
	if err != nil {
		return 0, err
	}
	return parts, nil
}

// resolve records the answer to the case; the gateway tells the person, if they agreed to be
// contacted, and asks whether they are satisfied: told says it did.
func (k *caseWork) resolve(ctx context.Context, resolution string) (told bool, err error) {
	resolution, err = checkedNote(resolution, "resolution", true)
	if err != nil {
		return false, err
	}
	if k.gw == nil {
		return false, k.unavailable()
	}
	err = k.inTx(ctx, func(tx pgx.Tx) error {
		told, err = k.gw.ResolveCase(ctx, tx, k.c.ID, resolution, k.actor)
		return err
	})
	return told && err == nil, err
}

// partnerID reads a partner's ID as a form gives it: 0 when it is not one.
func partnerID(s string) int64 {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}
