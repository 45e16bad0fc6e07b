package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/store"
)

// The case API: what a caseworker does on the case pages, for caseworkers' tokens. The queue
// and a case whole are read as the pages read them, and each action runs the operation its
// form runs (caseWork), refused the same way, with the token's name as who did it
// ("token:NAME"). A refusal is said in English with the field at fault: 400 for a value that
// will not do, 409 for what the case's state or the person's consent does not allow.

// caseRoutes adds the case API to mux, for the caseworker role.
func (a *API) caseRoutes(mux *http.ServeMux, cw func(http.Handler) http.Handler) {
	mux.Handle("GET /api/v1/cases", cw(http.HandlerFunc(a.listCases)))
	mux.Handle("GET /api/v1/cases/{id}", cw(http.HandlerFunc(a.getCase)))
	mux.Handle("POST /api/v1/cases/{id}/assign", cw(caseAction(a, "assign a case",
		func(ctx context.Context, k *caseWork, in *struct {
			Assignee *string `json:"assignee"`
		}) (any, error) {
			if in.Assignee == nil {
				return nil, &missingField{field: "assignee", hint: `an email of a caseworker, or "" for no one`}
			}
			return nil, k.assign(ctx, *in.Assignee)
		})))
	mux.Handle("POST /api/v1/cases/{id}/status", cw(caseAction(a, "change a case's status",
		func(ctx context.Context, k *caseWork, in *struct {
			Status string `json:"status"`
			Note   string `json:"note"`
		}) (any, error) {
			return nil, k.setStatus(ctx, in.Status, in.Note)
		})))
	mux.Handle("POST /api/v1/cases/{id}/category", cw(caseAction(a, "change a case's category",
		func(ctx context.Context, k *caseWork, in *struct {
			Category string `json:"category"`
		}) (any, error) {
			return nil, k.setCategory(ctx, in.Category)
		})))
	mux.Handle("POST /api/v1/cases/{id}/priority", cw(caseAction(a, "change a case's priority",
		func(ctx context.Context, k *caseWork, in *struct {
			Priority string `json:"priority"`
		}) (any, error) {
			return nil, k.setPriority(ctx, in.Priority)
		})))
	mux.Handle("POST /api/v1/cases/{id}/refer", cw(caseAction(a, "refer a case",
		func(ctx context.Context, k *caseWork, in *struct {
			PartnerID int64  `json:"partner_id"`
			Note      string `json:"note"`
		}) (any, error) {
			return nil, k.refer(ctx, in.PartnerID, in.Note)
		})))
	mux.Handle("POST /api/v1/cases/{id}/reply", cw(caseAction(a, "reply to a case",
		func(ctx context.Context, k *caseWork, in *struct {
			Text string `json:"text"`
		}) (any, error) {
			parts, err := k.reply(ctx, in.Text)
			return replyAnswer{Parts: parts}, err
		})))
	mux.Handle("POST /api/v1/cases/{id}/resolve", cw(caseAction(a, "resolve a case",
		func(ctx context.Context, k *caseWork, in *struct {
			Resolution string `json:"resolution"`
		}) (any, error) {
			told, err := k.resolve(ctx, in.Resolution)
			return resolveAnswer{Told: told}, err
		})))
	mux.Handle("GET /api/v1/partners", cw(http.HandlerFunc(a.listPartners)))
}

// replyAnswer is what a reply answers: the SMS parts the message queued takes (0 when the
// person is not written to by SMS).
type replyAnswer struct {
	Parts int `json:"parts"`
}

// resolveAnswer is what resolving answers: whether the person is being told (they agreed to
// be contacted and we have their address), and asked whether they are satisfied.
type resolveAnswer struct {
	Told bool `json:"told"`
}

// missingField is a field an action needs that the body does not have, where its zero value
// would mean something (an assignee "" is no one).
type missingField struct{ field, hint string }

func (e *missingField) Error() string { return e.field + ": is required: " + e.hint }

// caseAction serves an action on a case: the case must be one caseworkers see (404, before
// anything else), the body a JSON object of In's fields (400), then act runs the operation as
// the token. Done: 200 with what act answers, or the case as it is now when that is nil.
func caseAction[In any](a *API, what string, act func(ctx context.Context, k *caseWork, in *In) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c, ok := a.caseOf(w, r)
		if !ok {
			return
		}
		in := new(In)
		if !decodeJSON(w, r, in) {
			return
		}
		caller, _ := CallerFrom(ctx)
		k := &caseWork{pool: a.Auth.Pool, gw: a.Cases, log: a.log(), c: c, actor: "token:" + caller.Name, now: a.Auth.now()}
		answer, err := act(ctx, k, in)
		if err != nil {
			a.caseError(w, what, c, err)
			return
		}
		a.log().Info("API: "+what, "case", c.ID, "token", caller.Name)
		if answer != nil {
			WriteJSON(w, http.StatusOK, answer)
			return
		}
		a.writeCase(w, r, c.ID)
	}
}

// caseOf reads the case of the request's path, or answers 404 (no such case, or not one for
// caseworkers) or 503.
func (a *API) caseOf(w http.ResponseWriter, r *http.Request) (store.CaseRow, bool) {
	id, ok := caseIDOf(r)
	if !ok {
		WriteError(w, http.StatusNotFound, "no case %q", r.PathValue("id"))
		return store.CaseRow{}, false
	}
	c, err := caseFor(r.Context(), a.Auth.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "no case %d", id)
		return c, false
	}
	if err != nil {
		a.serverError(w, "read a case", err)
		return c, false
	}
	return c, true
}

// caseError answers an action's error on case c: a refusal with its status, anything else
// (the database failed) with 503.
func (a *API) caseError(w http.ResponseWriter, what string, c store.CaseRow, err error) {
	var missing *missingField
	if errors.As(err, &missing) {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: missing.field, Error: missing.Error()})
		return
	}
	var ref *refusal
	if !errors.As(err, &ref) {
		ref = caseRefusal(err, "en", c)
	}
	switch {
	case ref == nil:
		a.serverError(w, what, err)
	case ref.status == http.StatusNotFound:
		WriteError(w, http.StatusNotFound, "no case %d", c.ID)
	case ref.status == http.StatusServiceUnavailable: // no gateway: logged by caseWork
		WriteError(w, http.StatusServiceUnavailable, "could not %s now: messages cannot be sent to people; try again later", what)
	default:
		writeRefusal(w, ref)
	}
}

// writeRefusal answers with a refusal, said in English, naming the field at fault.
func writeRefusal(w http.ResponseWriter, ref *refusal) {
	msg := text("en", ref.key, ref.args...)
	if len(ref.values) > 0 {
		msg += " Use one of: " + strings.Join(ref.values, ", ") + "."
	}
	if ref.field != "" {
		msg = ref.field + ": " + msg
	}
	WriteJSON(w, ref.status, fieldError{Field: ref.field, Error: msg})
}

// queueParams are the query parameters of GET /api/v1/cases.
var queueParams = []string{"category", "status", "channel", "language", "governorate", "site", "overdue", "reference", "page"}

// listCases is the case queue: open cases (or those of status), the most urgent first, a page
// at a time, filtered as the queue page filters them.
func (a *API) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := apiQueueFilter(w, q, queueParams)
	if !ok {
		return
	}
	page := queuePageOf(q)
	rows, more, err := store.CaseQueue(r.Context(), a.Auth.Pool, f, a.Auth.now(), queuePage, (page-1)*queuePage)
	if err != nil {
		a.serverError(w, "read the case queue", err)
		return
	}
	list := make([]queueCaseJSON, 0, len(rows))
	for _, c := range rows {
		list = append(list, queueCaseJSON{ID: c.ID, Reference: c.Reference, Category: c.Category, Priority: c.Priority,
			Status: c.Status, Channel: c.Channel, Language: c.Language, Governorate: c.Governorate, Site: c.Site,
			Assignee: c.Assignee, DueAt: c.DueAt.UTC(), Overdue: c.Overdue, CreatedAt: c.CreatedAt.UTC()})
	}
	WriteJSON(w, http.StatusOK, struct {
		Cases []queueCaseJSON `json:"cases"`
		Page  int             `json:"page"`
		More  bool            `json:"more"`
	}{list, page, more})
}

// apiQueueFilter reads the queue's filters from an API query whose parameters may be params,
// or answers 400 itself. A parameter it does not know, or a value it does not take, is refused
// naming it rather than ignored: a typo must not list every case as if it had matched.
func apiQueueFilter(w http.ResponseWriter, q url.Values, params []string) (store.QueueFilter, bool) {
	for name, vals := range q {
		if !slices.Contains(params, name) {
			WriteJSON(w, http.StatusBadRequest, fieldError{Field: name,
				Error: fmt.Sprintf("unknown parameter %q: use %s", name, strings.Join(params, ", "))})
			return store.QueueFilter{}, false
		}
		if len(vals) > 1 {
			WriteJSON(w, http.StatusBadRequest, fieldError{Field: name, Error: fmt.Sprintf("%s: give it once", name)})
			return store.QueueFilter{}, false
		}
	}
	if v := q.Get("overdue"); v != "" && v != "0" && v != "1" {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: "overdue", Error: "overdue: use 1 (only overdue cases) or 0"})
		return store.QueueFilter{}, false
	}
	if v := q.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > queueMaxPage {
			WriteJSON(w, http.StatusBadRequest, fieldError{Field: "page", Error: fmt.Sprintf("page: a number from 1 to %d", queueMaxPage)})
			return store.QueueFilter{}, false
		}
	}
	f, _, err := queueFilterOf(q)
	var bad *refusal
	if errors.As(err, &bad) {
		writeRefusal(w, bad)
		return f, false
	}
	if q.Get("reference") != "" && f.Reference == "" {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: "reference", Error: "reference: a case number has digits"})
		return f, false
	}
	return f, true
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request) {
	id, ok := caseIDOf(r)
	if !ok {
		WriteError(w, http.StatusNotFound, "no case %q", r.PathValue("id"))
		return
	}
	a.writeCase(w, r, id)
}

// writeCase answers 200 with the case whole, as its page shows it.
func (a *API) writeCase(w http.ResponseWriter, r *http.Request, id int64) {
	d, err := caseDetailFor(r.Context(), a.Auth.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "no case %d", id)
		return
	}
	if err != nil {
		a.serverError(w, "read a case", err)
		return
	}
	WriteJSON(w, http.StatusOK, caseJSONOf(d))
}

func (a *API) listPartners(w http.ResponseWriter, r *http.Request) {
	partners, err := store.Partners(r.Context(), a.Auth.Pool, true)
	if err != nil {
		a.serverError(w, "list the partners", err)
		return
	}
	list := make([]partnerJSON, 0, len(partners))
	for _, p := range partners {
		list = append(list, partnerJSONOf(p))
	}
	WriteJSON(w, http.StatusOK, struct {
		Partners []partnerJSON `json:"partners"`
	}{list})
}

// queueCaseJSON is a case as the queue lists it.
type queueCaseJSON struct {
	ID          int64     `json:"id"`
	Reference   string    `json:"reference"`
	Category    string    `json:"category"`
	Priority    string    `json:"priority"`
	Status      string    `json:"status"`
	Channel     string    `json:"channel"`
	Language    string    `json:"language"`
	Governorate string    `json:"governorate"`
	Site        string    `json:"site"`
	Assignee    string    `json:"assignee"`
	DueAt       time.Time `json:"due_at"` // the deadline it faces next
	Overdue     bool      `json:"overdue"`
	CreatedAt   time.Time `json:"created_at"`
}

// caseJSON is a case whole, as its page shows it.
type caseJSON struct {
	ID             int64  `json:"id"`
	Reference      string `json:"reference"`
	Category       string `json:"category"`
	Priority       string `json:"priority"`
	PriorityManual bool   `json:"priority_manual"`
	Status         string `json:"status"`
	// Moves are the statuses POST …/status may move it to now.
	Moves          []string        `json:"moves"`
	Channel        string          `json:"channel"`
	Language       string          `json:"language"`
	Governorate    string          `json:"governorate"`
	Site           string          `json:"site"`
	Description    string          `json:"description"`
	Assignee       string          `json:"assignee"`
	ConsentContact bool            `json:"consent_contact"`
	ConsentShare   bool            `json:"consent_share"`
	CallBack       bool            `json:"call_back"`
	Incomplete     bool            `json:"incomplete"`
	Addresses      []string        `json:"addresses"` // only when they agreed to be contacted
	AckDueAt       time.Time       `json:"ack_due_at"`
	ReferDueAt     time.Time       `json:"refer_due_at"`
	ResolveDueAt   time.Time       `json:"resolve_due_at"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	AcknowledgedAt *time.Time      `json:"acknowledged_at"`
	Partner        *partnerJSON    `json:"partner"`
	ReferredAt     *time.Time      `json:"referred_at"`
	Resolution     string          `json:"resolution"`
	ResolvedAt     *time.Time      `json:"resolved_at"`
	Satisfied      *bool           `json:"satisfied"`
	SatisfactionAt *time.Time      `json:"satisfaction_at"`
	ClosedAt       *time.Time      `json:"closed_at"`
	Conversation   []messageJSON   `json:"conversation"`
	Events         []eventJSON     `json:"events"`
	Recordings     []recordingJSON `json:"recordings"`
}

type partnerJSON struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Sector  string `json:"sector"`
	Contact string `json:"contact"`
}

// messageJSON is a message of the person's conversation around the case: a confidential one
// as its placeholder (redacted), without what was said or sent.
type messageJSON struct {
	ID        int64     `json:"id"`
	Channel   string    `json:"channel"`
	Direction string    `json:"direction"` // in: from the person
	Text      string    `json:"text"`
	Redacted  bool      `json:"redacted"`
	Media     []string  `json:"media"` // the kinds of what came with it: audio, image, document, recording
	Status    string    `json:"status"`
	At        time.Time `json:"at"`
}

type eventJSON struct {
	Kind       string    `json:"kind"`
	Actor      string    `json:"actor"`
	FromStatus string    `json:"from_status"`
	ToStatus   string    `json:"to_status"`
	FromValue  string    `json:"from_value"`
	ToValue    string    `json:"to_value"`
	Note       string    `json:"note"`
	At         time.Time `json:"at"`
}

// recordingJSON is a recording of the case, without its audio.
type recordingJSON struct {
	ID              int64      `json:"id"`
	DurationSeconds int        `json:"duration_seconds"`
	Pending         bool       `json:"pending"` // not yet downloaded from the phone provider
	CreatedAt       time.Time  `json:"created_at"`
	FetchedAt       *time.Time `json:"fetched_at"`
}

func partnerJSONOf(p store.Partner) partnerJSON {
	return partnerJSON{ID: p.ID, Name: p.Name, Sector: p.Sector, Contact: p.Contact}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func caseJSONOf(d store.CaseDetail) caseJSON {
	c := d.Case
	v := caseJSON{ID: c.ID, Reference: c.Reference, Category: c.Category, Priority: c.Priority,
		PriorityManual: c.PriorityManual, Status: c.Status, Moves: []string{}, Channel: c.Channel, Language: c.Language,
		Governorate: c.Governorate, Site: c.Site, Description: c.Description, Assignee: c.Assignee,
		ConsentContact: c.ConsentContact, ConsentShare: c.ConsentShare, CallBack: c.CallBack, Incomplete: c.Incomplete,
		Addresses: caseAddresses(d), AckDueAt: c.AckDueAt.UTC(), ReferDueAt: c.ReferDueAt.UTC(),
		ResolveDueAt: c.ResolveDueAt.UTC(), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
		AcknowledgedAt: utcPtr(c.AcknowledgedAt), Resolution: c.Resolution, ResolvedAt: utcPtr(c.ResolvedAt),
		Satisfied: c.Satisfied, SatisfactionAt: utcPtr(c.SatisfactionAt), ClosedAt: utcPtr(c.ClosedAt),
		Conversation: []messageJSON{}, Events: []eventJSON{}, Recordings: []recordingJSON{},
	}
	if v.Addresses == nil {
		v.Addresses = []string{}
	}
	for _, to := range caseMoves(cases.Status(c.Status)) {
		v.Moves = append(v.Moves, string(to))
	}
	if d.Partner != nil {
		p := partnerJSONOf(*d.Partner)
		v.Partner, v.ReferredAt = &p, utcPtr(c.ReferredAt)
	}
	for _, m := range d.Conversation {
		mj := messageJSON{ID: m.ID, Channel: string(m.Channel), Direction: m.Direction, Text: m.Text, Redacted: m.Redacted,
			Media: []string{}, Status: m.Status, At: m.At.UTC()}
		for _, media := range m.Media {
			mj.Media = append(mj.Media, media.Type)
		}
		v.Conversation = append(v.Conversation, mj)
	}
	for _, e := range d.Events {
		v.Events = append(v.Events, eventJSON{Kind: e.Kind, Actor: e.Actor, FromStatus: e.FromStatus, ToStatus: e.ToStatus,
			FromValue: e.FromValue, ToValue: e.ToValue, Note: e.Note, At: e.CreatedAt.UTC()})
	}
	for _, rec := range d.Recordings {
		v.Recordings = append(v.Recordings, recordingJSON{ID: rec.ID, DurationSeconds: rec.DurationSeconds,
			Pending: recordingPending(rec), CreatedAt: rec.CreatedAt.UTC(), FetchedAt: utcPtr(rec.FetchedAt)})
	}
	return v
}
