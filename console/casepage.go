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

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/twilio"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/store"
)

// The case page: a caseworker sees one case whole (its details and deadlines, the person's
// conversation around it, its history, its recordings) and works on it with the forms under
// it, each posted to a route of its own: assign, category, priority, refer, reply, resolve.
// Each form runs its operation of package cases (or of the gateway, for what also writes to
// the person) in one transaction, as the signed-in user, then answers 303 back to the page
// with what was done (?done=…), or shows the page again with why it was refused.

// CaseActions is what the case page asks of the gateway: the operations that change a case
// and write to the person about it, in the caller's transaction. *gateway.Gateway has them.
type CaseActions interface {
	ResolveCase(ctx context.Context, tx pgx.Tx, caseID int64, resolution, actor string) (told bool, err error)
	ReplyToCase(ctx context.Context, tx pgx.Tx, caseID int64, text, actor string) error
}

var _ CaseActions = (*gateway.Gateway)(nil)

// caseView is the case page.
type caseView struct {
	ID                                                 int64
	Display                                            string
	Category, Priority, Status, Channel, Language      string
	Governorate, Site, Description, Opened, Assignee   string
	ConsentContact, ConsentShare, CallBack, Incomplete bool
	// Addresses are where the person can be reached: shown only when they agreed to be.
	Addresses []string
	// Partner is the partner the case is referred to now, and since when.
	Partner            *store.Partner
	ReferredAt         string
	Resolution         string
	Resolved           bool
	Satisfaction       string
	Deadlines          []deadlineView
	Conversation       []messageView
	Events             []eventView
	Recordings         []recordingView
	Closed             bool
	CanRefer, CanReply bool
	CanResolve         bool
	// ReferNote says why there is no referral form, when there is none.
	ReferNote, ResolveNote string
	Assignees              []option
	Categories, Priorities []option
	// Moves are the statuses the case may be moved to by hand (referral and resolution have
	// forms of their own).
	Moves    []option
	Partners []option
	// Drafts keep what was typed in a form that was refused, or previewed.
	ReplyDraft, ResolutionDraft, NoteDraft string
	MaxNote                                int
}

type deadlineView struct {
	Label, At string
	Overdue   bool
}

type messageView struct {
	In                    bool
	Who, At, Text, Status string
	Redacted              bool
	Media                 string
}

type eventView struct{ At, Who, What, From, To, Note string }

type recordingView struct {
	ID           int64
	At, Duration string
	Pending      bool
	// Playable says its audio is here, for the page's player (caseRecordingAudio).
	Playable bool
}

// visibleCase says whether the case page shows a case: a case of the SEA category is left
// out, as it is of the queue (those reports are the PSEA focal points').
func visibleCase(c store.CaseRow) bool { return c.Category != cases.CategorySEA }

// caseIDOf is the case of the request's path, when it is a number.
func caseIDOf(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (w *Web) location() *time.Location {
	if w.Location != nil {
		return w.Location
	}
	return time.UTC
}

// localTime is how the console shows a moment.
func (w *Web) localTime(t time.Time) string { return t.In(w.location()).Format("2006-01-02 15:04") }

// caseNotFound answers 404 with the page saying there is no such case.
func (w *Web) caseNotFound(rw http.ResponseWriter, r *http.Request, s session) {
	lang := s.user.Language
	w.render(rw, r, http.StatusNotFound, "message", &page{Lang: lang, User: &s.user,
		Title: text(lang, "case_not_found_title"), Error: text(lang, "case_not_found")})
}

// casePage shows a case, and what was just done to it (?done=).
func (w *Web) casePage(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	id, ok := caseIDOf(r)
	if !ok {
		w.caseNotFound(rw, r, s)
		return
	}
	p, err := w.casePageOf(r.Context(), s, id, nil)
	if errors.Is(err, store.ErrNotFound) {
		w.caseNotFound(rw, r, s)
		return
	}
	if err != nil {
		w.serverError(rw, r, "read a case", err)
		return
	}
	p.Message = doneMessage(p.Lang, r.URL.Query())
	w.render(rw, r, http.StatusOK, "case", p)
}

// doneMessage says what the form just posted did, from the query it redirected with.
func doneMessage(lang string, q url.Values) string {
	switch d := q.Get("done"); d {
	case "assigned", "category", "priority", "referred", "status":
		return text(lang, "done_"+d)
	case "replied":
		if n, err := strconv.Atoi(q.Get("parts")); err == nil && n > 0 && n < 1000 {
			return text(lang, "done_replied_parts", n)
		}
		return text(lang, "done_replied")
	case "resolved":
		if q.Get("told") == "1" {
			return text(lang, "done_resolved_told")
		}
		return text(lang, "done_resolved_not_told")
	}
	return ""
}

// casePageOf reads a case and makes its page; drafts (a refused form) are typed back in.
// store.ErrNotFound when there is no such case, or it is not for caseworkers.
func (w *Web) casePageOf(ctx context.Context, s session, id int64, drafts url.Values) (*page, error) {
	lang := s.user.Language
	d, err := caseDetailFor(ctx, w.Pool, id)
	if err != nil {
		return nil, err
	}
	c := d.Case
	now := w.now()
	status := cases.Status(c.Status)
	display := cases.Reference(c.Reference).Display()
	var moves []option
	for _, to := range caseMoves(status) {
		moves = append(moves, option{Value: string(to), Text: valueText(lang, "status.", string(to))})
	}
	v := &caseView{Moves: moves, ID: c.ID, Display: display,
		Category: valueText(lang, "category.", c.Category), Priority: valueText(lang, "priority.", c.Priority),
		Status: valueText(lang, "status.", c.Status), Channel: valueText(lang, "channel.", c.Channel),
		Language: valueText(lang, "lang.", c.Language), Governorate: valueText(lang, "governorate.", c.Governorate),
		Site: c.Site, Description: c.Description, Opened: w.localTime(c.CreatedAt), Assignee: c.Assignee,
		ConsentContact: c.ConsentContact, ConsentShare: c.ConsentShare, CallBack: c.CallBack, Incomplete: c.Incomplete,
		Partner: d.Partner, Resolution: c.Resolution, Closed: status == cases.StatusClosed,
		MaxNote: cases.MaxNoteLength, Addresses: caseAddresses(d),
	}
	if d.Partner != nil && c.ReferredAt != nil {
		v.ReferredAt = w.localTime(*c.ReferredAt)
	}
	v.Resolved = status == cases.StatusResolved || (status == cases.StatusClosed && c.Resolution != "")
	if v.Resolved {
		switch {
		case c.Satisfied == nil:
			v.Satisfaction = text(lang, "satisfaction_none")
		case *c.Satisfied:
			v.Satisfaction = text(lang, "satisfied_yes")
		default:
			v.Satisfaction = text(lang, "satisfied_no")
		}
	}

	// A deadline is met once the case has gone past the step it bounds; one not met and past
	// is overdue.
	open := slices.Contains(store.OpenStatuses, c.Status)
	for _, dl := range []struct {
		key  string
		at   time.Time
		done bool
	}{
		{"deadline_ack", c.AckDueAt, status != cases.StatusNew},
		{"deadline_refer", c.ReferDueAt, status != cases.StatusNew && status != cases.StatusAcknowledged},
		{"deadline_resolve", c.ResolveDueAt, !open},
	} {
		v.Deadlines = append(v.Deadlines, deadlineView{Label: text(lang, dl.key), At: w.localTime(dl.at),
			Overdue: open && !dl.done && now.After(dl.at)})
	}

	for _, m := range d.Conversation {
		mv := messageView{In: m.Direction == "in", At: w.localTime(m.At), Text: m.Text, Redacted: m.Redacted}
		if mv.In {
			mv.Who = text(lang, "dir_in")
		} else {
			mv.Who = text(lang, "dir_out")
			mv.Status = valueText(lang, "msg.", m.Status)
		}
		if len(m.Media) > 0 {
			mv.Media = text(lang, "media_count", len(m.Media))
		}
		v.Conversation = append(v.Conversation, mv)
	}
	for _, e := range d.Events {
		v.Events = append(v.Events, w.eventOf(lang, e))
	}
	for _, rec := range d.Recordings {
		v.Recordings = append(v.Recordings, recordingView{ID: rec.ID, At: w.localTime(rec.CreatedAt),
			Duration: fmt.Sprintf("%d:%02d", rec.DurationSeconds/60, rec.DurationSeconds%60),
			Pending:  recordingPending(rec), Playable: rec.AudioBytes > 0})
	}

	// the forms, where the case allows them
	v.CanReply = c.ConsentContact
	v.CanResolve = cases.CanTransition(status, cases.StatusResolved)
	if !v.CanResolve && !v.Resolved && !v.Closed {
		v.ResolveNote = text(lang, "resolve_not_now")
	}
	switch {
	case v.Closed:
	case !c.ConsentShare:
		v.ReferNote = text(lang, "err_no_share")
	case status != cases.StatusReferred && !cases.CanTransition(status, cases.StatusReferred):
		v.ReferNote = text(lang, "refer_not_now")
	default:
		v.CanRefer = true
	}
	if !v.Closed {
		staff, err := store.ListStaffUsers(ctx, w.Pool)
		if err != nil {
			return nil, err
		}
		v.Assignees = []option{{Value: "", Text: text(lang, "no_one"), Selected: c.Assignee == ""}}
		for _, u := range staff {
			if u.Role == RoleCaseworker && u.DisabledAt == nil {
				v.Assignees = append(v.Assignees, option{Value: u.Email, Text: u.Email, Selected: u.Email == c.Assignee})
			}
		}
		for _, code := range queueCategories {
			v.Categories = append(v.Categories, option{Value: code, Text: text(lang, "category."+code), Selected: code == c.Category})
		}
		for _, pr := range cases.Priorities() {
			v.Priorities = append(v.Priorities, option{Value: string(pr), Text: text(lang, "priority."+string(pr)),
				Selected: string(pr) == c.Priority})
		}
	}
	if v.CanRefer {
		partners, err := store.Partners(ctx, w.Pool, true)
		if err != nil {
			return nil, err
		}
		for _, pt := range partners {
			name := pt.Name
			if pt.Sector != "" {
				name += " (" + pt.Sector + ")"
			}
			v.Partners = append(v.Partners, option{Value: strconv.FormatInt(pt.ID, 10), Text: name,
				Selected: drafts.Get("partner") == strconv.FormatInt(pt.ID, 10)})
		}
	}
	v.ReplyDraft, v.ResolutionDraft, v.NoteDraft = drafts.Get("text"), drafts.Get("resolution"), drafts.Get("note")

	return &page{Lang: lang, User: &s.user, Title: text(lang, "case_heading") + " " + display, Data: v}, nil
}

// eventOf is an entry of a case's history as the page shows it: values named in lang.
func (w *Web) eventOf(lang string, e store.CaseEvent) eventView {
	ev := eventView{At: w.localTime(e.CreatedAt), What: valueText(lang, "event.", e.Kind), Note: e.Note}
	switch e.Actor {
	case cases.SystemActor:
		ev.Who = text(lang, "actor_system")
	case cases.PersonActor:
		ev.Who = text(lang, "actor_person")
	default:
		ev.Who = e.Actor
	}
	name := func(v string) string {
		switch e.Kind {
		case "category_changed":
			return valueText(lang, "category.", v)
		case "priority_changed":
			return valueText(lang, "priority.", v)
		case "satisfaction":
			switch v {
			case "yes":
				return text(lang, "satisfied_yes")
			case "no":
				return text(lang, "satisfied_no")
			}
		case "assigned":
			if v == "" {
				return text(lang, "no_one")
			}
		}
		return v
	}
	switch {
	case e.Kind == "assigned" || e.FromValue != "" || e.ToValue != "":
		ev.From, ev.To = name(e.FromValue), name(e.ToValue)
	case e.FromStatus != "" || e.ToStatus != "":
		ev.From, ev.To = valueText(lang, "status.", e.FromStatus), valueText(lang, "status.", e.ToStatus)
	}
	if e.Kind == "priority_changed" && strings.HasPrefix(e.Note, "from the category ") {
		ev.Note = text(lang, "note_from_category") // written by store.ChangeCaseCategory, in English
	}
	return ev
}

// refusal is a form the page refuses, or answers without doing anything (a preview): the
// page again, with a text of texts, said as an error or, for a preview, as a notice. The case
// API refuses with it too (casework.go): its text in English, and with 400 the field at fault
// by its name in the API, and the values that would do, when there are few.
type refusal struct {
	status int
	key    string
	args   []any
	notice bool
	field  string
	values []string
}

func (e *refusal) Error() string { return "refused: " + e.key }

func refuse(status int, key string, args ...any) error {
	return &refusal{status: status, key: key, args: args}
}

// caseForm is a form posted to a case: the case as read before it, the form, who posts it,
// and the query to redirect to the page with when done.
type caseForm struct {
	c     store.CaseRow
	form  url.Values
	actor string
	done  url.Values
}

// actOnCase serves a form of the case page. The case must be one the page shows (404
// otherwise, before anything else) and the form readable (400); act checks the form and runs
// the operation (caseWork), in a transaction of its own. Done: 303 to the page with ?done=what
// and whatever act added. Refused: the page again with why, translated, and the text typed.
func (w *Web) actOnCase(rw http.ResponseWriter, r *http.Request, what string, act func(ctx context.Context, f *caseForm) error) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	lang := s.user.Language
	id, ok := caseIDOf(r)
	if !ok {
		w.caseNotFound(rw, r, s)
		return
	}
	c, err := caseFor(ctx, w.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		w.caseNotFound(rw, r, s)
		return
	}
	if err != nil {
		w.serverError(rw, r, "read a case", err)
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		w.showCase(rw, r, s, id, &refusal{status: http.StatusBadRequest, key: "bad_form"}, nil)
		return
	}
	f := &caseForm{c: c, form: r.PostForm, actor: s.user.Email, done: url.Values{"done": {what}}}
	err = act(ctx, f)
	if err == nil {
		w.log().Info("console: case "+what, "case", id, "user", s.user.ID)
		http.Redirect(rw, r, fmt.Sprintf("/cases/%d?%s", id, f.done.Encode()), http.StatusSeeOther)
		return
	}
	var ref *refusal
	if !errors.As(err, &ref) {
		ref = caseRefusal(err, lang, c)
	}
	if ref == nil {
		w.serverError(rw, r, "case "+what, err)
		return
	}
	if ref.status == http.StatusNotFound {
		w.caseNotFound(rw, r, s)
		return
	}
	w.showCase(rw, r, s, id, ref, r.PostForm)
}

// showCase answers with the case page and a refusal (or a preview) said at its top.
func (w *Web) showCase(rw http.ResponseWriter, r *http.Request, s session, id int64, ref *refusal, drafts url.Values) {
	p, err := w.casePageOf(r.Context(), s, id, drafts)
	if errors.Is(err, store.ErrNotFound) {
		w.caseNotFound(rw, r, s)
		return
	}
	if err != nil {
		w.serverError(rw, r, "read a case", err)
		return
	}
	if ref.notice {
		p.Notice = text(p.Lang, ref.key, ref.args...)
	} else {
		p.Error = text(p.Lang, ref.key, ref.args...)
	}
	w.render(rw, r, ref.status, "case", p)
}

// caseRefusal says why an operation of package cases or the gateway refused: nil for an
// error that is not a refusal (the database failed). The case page and the case API both
// answer with it.
func caseRefusal(err error, lang string, c store.CaseRow) *refusal {
	for _, k := range []struct {
		err    error
		status int
		key    string
	}{
		{cases.ErrClosed, http.StatusConflict, "err_closed"},
		{cases.ErrNoShareConsent, http.StatusConflict, "err_no_share"},
		{cases.ErrNoContactConsent, http.StatusConflict, "err_no_contact"},
		{gateway.ErrNoAddress, http.StatusConflict, "err_no_address"},
		{cases.ErrPartnerInactive, http.StatusConflict, "err_partner_inactive"},
		{cases.ErrNote, http.StatusBadRequest, "err_note_empty"},
		{cases.ErrPriority, http.StatusBadRequest, "err_unknown_priority"},
		{store.ErrNotFound, http.StatusNotFound, "case_not_found"},
	} {
		if errors.Is(err, k.err) {
			return &refusal{status: k.status, key: k.key}
		}
	}
	if errors.Is(err, cases.ErrTransition) {
		return &refusal{status: http.StatusConflict, key: "err_not_now", args: []any{valueText(lang, "status.", c.Status)}}
	}
	return nil
}

// work is the operation a form of the case page runs, as the signed-in user.
func (w *Web) work(f *caseForm) *caseWork {
	return &caseWork{pool: w.Pool, gw: w.Cases, log: w.log(), c: f.c, actor: f.actor, now: w.now()}
}

// caseAssign gives the case to a caseworker with an active account, or to no one.
func (w *Web) caseAssign(rw http.ResponseWriter, r *http.Request) {
	w.actOnCase(rw, r, "assigned", func(ctx context.Context, f *caseForm) error {
		return w.work(f).assign(ctx, f.form.Get("assignee"))
	})
}

// caseCategory puts the case in another category (one the queue shows: not SEA, whose
// reports are not cases).
func (w *Web) caseCategory(rw http.ResponseWriter, r *http.Request) {
	w.actOnCase(rw, r, "category", func(ctx context.Context, f *caseForm) error {
		return w.work(f).setCategory(ctx, f.form.Get("category"))
	})
}

// caseStatus moves the case along its lifecycle: acknowledged, in progress, closed.
func (w *Web) caseStatus(rw http.ResponseWriter, r *http.Request) {
	w.actOnCase(rw, r, "status", func(ctx context.Context, f *caseForm) error {
		return w.work(f).setStatus(ctx, f.form.Get("status"), f.form.Get("note"))
	})
}

// casePriority sets the case's priority by hand.
func (w *Web) casePriority(rw http.ResponseWriter, r *http.Request) {
	w.actOnCase(rw, r, "priority", func(ctx context.Context, f *caseForm) error {
		return w.work(f).setPriority(ctx, f.form.Get("priority"))
	})
}

// caseRefer refers the case to a partner, with a note of what is asked of them.
func (w *Web) caseRefer(rw http.ResponseWriter, r *http.Request) {
	w.actOnCase(rw, r, "referred", func(ctx context.Context, f *caseForm) error {
		return w.work(f).refer(ctx, partnerID(f.form.Get("partner")), f.form.Get("note"))
	})
}

// caseReply writes to the person about their case, on the channel it came by. With preview
// set it only counts the SMS parts of the text typed, and shows the page again with it.
// Sent, the page says how many SMS parts the message queued takes.
func (w *Web) caseReply(rw http.ResponseWriter, r *http.Request) {
	w.actOnCase(rw, r, "replied", func(ctx context.Context, f *caseForm) error {
		if f.form.Get("preview") != "" {
			msg, err := checkedNote(f.form.Get("text"), "text", true)
			if err != nil {
				return err
			}
			if !bySMS(f.c.Channel) {
				return &refusal{status: http.StatusOK, key: "preview_telegram", notice: true}
			}
			n, _ := twilio.Segments(msg)
			return &refusal{status: http.StatusOK, key: "preview_parts", args: []any{n}, notice: true}
		}
		parts, err := w.work(f).reply(ctx, f.form.Get("text"))
		if parts > 0 {
			f.done.Set("parts", strconv.Itoa(parts))
		}
		return err
	})
}

// bySMS says whether the person is written to by SMS about a case that came by channel: an
// SMS case, or a call (the call is over: its caller is written to at their number).
func bySMS(channel string) bool {
	return channel == string(channels.SMS) || channel == string(channels.Voice)
}

// queuedSMSParts counts the SMS segments of what a reply just queued in tx: the outbound SMS
// to the case's person since its "replied" event (the gateway holds the person's address
// while it writes both, so nothing else is queued for them in between).
func queuedSMSParts(ctx context.Context, tx pgx.Tx, c store.CaseRow) (int, error) {
	events, err := store.CaseEvents(ctx, tx, c.ID)
	if err != nil {
		return 0, err
	}
	var since time.Time
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == "replied" {
			since = events[i].CreatedAt
			break
		}
	}
	if since.IsZero() {
		return 0, nil
	}
	msgs, err := store.Conversation(ctx, tx, c.ContactID, since, time.Time{}, 20)
	if err != nil {
		return 0, err
	}
	parts := 0
	for _, m := range msgs {
		if m.Direction == "out" && m.Channel == channels.SMS {
			n, _ := twilio.Segments(m.Text)
			parts += n
		}
	}
	return parts, nil
}

// caseResolve records the answer to the case; the gateway tells the person, if they agreed
// to be contacted, and asks whether they are satisfied.
func (w *Web) caseResolve(rw http.ResponseWriter, r *http.Request) {
	w.actOnCase(rw, r, "resolved", func(ctx context.Context, f *caseForm) error {
		told, err := w.work(f).resolve(ctx, f.form.Get("resolution"))
		if told {
			f.done.Set("told", "1")
		}
		return err
	})
}
