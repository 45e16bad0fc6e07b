package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// The SEA inbox: reports of sexual exploitation and abuse, for the PSEA focal points (the
// psea role) and no one else; administrators cannot open it (ARCHITECTURE §8). The list shows
// no content. To read a report, a focal point links their identity file once (it is kept as
// sawt psea keygen wrote it, passphrase-protected) and unlocks it for their session with the
// passphrase (sea_keys.go): the key then opens reports in memory, for that session only. The
// reports are opened, moved and annotated by package safeguarding, as sawt psea does, and
// every look and change is written to the audit log — the list, each report, each recording
// played, each status change and note (never its text), each unlock and failed passphrase.
//
// The audit page shows administrators that log, newest first, and whether its hash chain is
// intact: events, never content (no entry holds any).

func init() {
	for _, name := range []string{"sea", "sea_report", "audit"} {
		pages[name] = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
}

// seaPages are the SEA inbox (psea only) and the audit log (admin).
func (w *Web) seaPages() []Route {
	psea := []string{RolePSEA}
	return []Route{
		{Method: http.MethodGet, Pattern: "/sea", Roles: psea, Nav: "nav_sea", Handler: w.seaInbox},
		{Method: http.MethodPost, Pattern: "/sea/identity", Roles: psea, Handler: w.seaLink},
		{Method: http.MethodPost, Pattern: "/sea/unlock", Roles: psea, Handler: w.seaUnlock},
		{Method: http.MethodPost, Pattern: "/sea/lock", Roles: psea, Handler: w.seaLock},
		{Method: http.MethodGet, Pattern: "/sea/{ref}", Roles: psea, Handler: w.seaReport},
		{Method: http.MethodPost, Pattern: "/sea/{ref}/status", Roles: psea, Handler: w.seaStatus},
		{Method: http.MethodPost, Pattern: "/sea/{ref}/note", Roles: psea, Handler: w.seaNote},
		{Method: http.MethodGet, Pattern: "/sea/{ref}/recordings/{n}", Roles: psea, Handler: w.seaRecording},
		{Method: http.MethodGet, Pattern: "/audit", Roles: []string{RoleAdmin}, Nav: "nav_audit", Handler: w.auditPage},
	}
}

// seaListPage is how many reports the inbox shows at a time.
const seaListPage = 100

// maxIdentityForm bounds the identity form's body; maxIdentityFile the file in it (an
// identity from sawt psea keygen is under 1 KB).
const (
	maxIdentityForm = 64 << 10
	maxIdentityFile = 16 << 10
)

// seaInboxView is the inbox page.
type seaInboxView struct {
	Linked, Unlocked bool
	// Recipient is the focal point whose key the user linked; KeyRemoved says reports are no
	// longer encrypted to it.
	Recipient          string
	KeyRemoved         bool
	Next               string
	Rows               []seaRow
	PrevHref, NextHref string
}

// seaRow is a report as the inbox lists it: no content.
type seaRow struct {
	Ref, Display, Status, Channel, Received, AckBy, ResolveBy string
	AckLate, ResolveLate, Complete                            bool
	Recordings                                                int
}

// seaLate says which deadlines of a report are past and not met: acknowledging it, and
// resolving it (met once resolved or closed).
func seaLate(r store.SEAReport, now time.Time) (ack, resolve bool) {
	ack = r.AcknowledgedAt == nil && now.After(r.AckDueAt)
	resolve = r.ResolvedAt == nil && r.Status != string(cases.StatusClosed) && now.After(r.ResolveDueAt)
	return ack, resolve
}

// seaActor is who the signed-in user is in the audit log and on their notes.
func seaActor(s session) string { return s.user.Email }

// seaAudit writes an entry of the SEA inbox to the audit log.
func (w *Web) seaAudit(ctx context.Context, db store.DB, s session, action, subject, detail string) error {
	return store.AppendAudit(ctx, db, store.AuditEntry{At: w.now(), Actor: seaActor(s), Action: action, Subject: subject, Detail: detail})
}

// unlockThrottleKey is the throttling key (login_failures) of a user's wrong passphrases.
func unlockThrottleKey(userID int64) string { return "sea-unlock:" + strconv.FormatInt(userID, 10) }

// seaKey is the key the request's session unlocked, if any.
func (w *Web) seaKey(s session) (unlockedKey, bool) {
	return w.sea.get(s.hash, s.user.ID, w.now(), w.idle(), w.maxAge())
}

// seaNext is where to go after unlocking: a report's page asked for, or "" for the inbox.
func seaNext(next string) string {
	if !strings.HasPrefix(next, "/sea/") || safeNext(next) != next {
		return ""
	}
	return next
}

// seaInboxPage is the inbox: the identity form when the user has linked none; else the
// reports (page n of them) and the form to unlock or lock the key. Listing the reports is
// written to the audit log.
func (w *Web) seaInboxPage(ctx context.Context, s session, n int, next string) (*page, error) {
	lang := s.user.Language
	v := &seaInboxView{Next: seaNext(next)}
	p := &page{Lang: lang, User: &s.user, Title: text(lang, "sea_title"), Data: v}
	ident, err := store.PSEAIdentityOf(ctx, w.Pool, s.user.ID)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	v.Linked, v.Recipient, v.KeyRemoved = true, ident.RecipientName, ident.RemovedAt != nil
	_, v.Unlocked = w.seaKey(s)

	reports, err := store.ListSEAReports(ctx, w.Pool)
	if err != nil {
		return nil, err
	}
	counts, err := store.SEARecordingCounts(ctx, w.Pool)
	if err != nil {
		return nil, err
	}
	if err := w.seaAudit(ctx, w.Pool, s, "psea.list", "", fmt.Sprintf("%d reports", len(reports))); err != nil {
		return nil, err
	}
	n = min(max(n, 1), max(1, (len(reports)+seaListPage-1)/seaListPage))
	now := w.now()
	for _, r := range reports[min((n-1)*seaListPage, len(reports)):min(n*seaListPage, len(reports))] {
		ack, resolve := seaLate(r, now)
		v.Rows = append(v.Rows, seaRow{Ref: r.Reference, Display: cases.Reference(r.Reference).Display(),
			Status: valueText(lang, "sea_status.", r.Status), Channel: valueText(lang, "channel.", r.Channel),
			Received: w.localTime(r.CreatedAt), AckBy: w.localTime(r.AckDueAt), ResolveBy: w.localTime(r.ResolveDueAt),
			AckLate: ack, ResolveLate: resolve, Complete: r.Complete, Recordings: counts[r.ID]})
	}
	if n > 1 {
		v.PrevHref = "/sea?page=" + strconv.Itoa(n-1)
	}
	if n*seaListPage < len(reports) {
		v.NextHref = "/sea?page=" + strconv.Itoa(n+1)
	}
	return p, nil
}

// seaInbox shows the inbox, and what was just done (?done=).
func (w *Web) seaInbox(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("page"))
	p, err := w.seaInboxPage(r.Context(), s, n, q.Get("next"))
	if err != nil {
		w.serverError(rw, r, "read the SEA reports", err)
		return
	}
	switch d := q.Get("done"); d {
	case "linked", "unlocked", "locked":
		p.Message = text(p.Lang, "sea_done_"+d)
	}
	if v := p.Data.(*seaInboxView); v.Linked && !v.Unlocked && v.Next != "" {
		p.Notice = text(p.Lang, "sea_locked_notice")
	}
	w.render(rw, r, http.StatusOK, "sea", p)
}

// seaInboxError answers with the inbox and why the form posted to it was refused. Retry-After
// is set by the caller when it applies.
func (w *Web) seaInboxError(rw http.ResponseWriter, r *http.Request, s session, status int, next, key string, args ...any) {
	p, err := w.seaInboxPage(r.Context(), s, 1, next)
	if err != nil {
		w.serverError(rw, r, "read the SEA reports", err)
		return
	}
	p.Error = text(p.Lang, key, args...)
	w.render(rw, r, status, "sea", p)
}

// openIdentityFile opens a user's identity file with the passphrase they typed, for the link
// and unlock forms: refused (429) while the user has MaxUnlockFailures wrong passphrases in
// ThrottleWindow, and opened only in one of maxUnlocks turns (503 when none comes). A wrong
// passphrase counts against the user and is written to the audit log as failAction. On a
// refusal it has answered (the inbox with why) and returns nil. The passphrase is never
// logged, stored or audited.
func (w *Web) openIdentityFile(rw http.ResponseWriter, r *http.Request, s session, file []byte, passphrase, next, failAction string) *age.X25519Identity {
	ctx := r.Context()
	now := w.now()
	key := unlockThrottleKey(s.user.ID)
	retryAt, throttled, err := w.throttled(ctx, now, limit{key, MaxUnlockFailures})
	if err != nil {
		w.serverError(rw, r, "unlock: count failures", err)
		return nil
	}
	if throttled {
		w.log().Warn("console: SEA unlock throttled", "user", s.user.ID, "until", retryAt)
		wait := retryAt.Sub(now)
		rw.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		w.seaInboxError(rw, r, s, http.StatusTooManyRequests, next, "sea_throttled", minutes(s.user.Language, max(1, int(math.Ceil(wait.Minutes())))))
		return nil
	}
	release, ok := w.sea.turn(ctx)
	if !ok {
		w.log().Warn("console: SEA unlock: no turn free", "user", s.user.ID)
		rw.Header().Set("Retry-After", "5")
		w.seaInboxError(rw, r, s, http.StatusServiceUnavailable, next, "sea_err_busy")
		return nil
	}
	id, err := safeguarding.OpenIdentityWithin(file, consoleWorkFactor, func() (string, error) { return passphrase, nil })
	release()
	switch {
	case err == nil:
		return id
	case errors.Is(err, safeguarding.ErrWrongPassphrase):
		err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
			if err := store.RecordLoginFailure(ctx, tx, key, now); err != nil {
				return err
			}
			return w.seaAudit(ctx, tx, s, failAction, "", "wrong passphrase")
		})
		if err != nil {
			w.serverError(rw, r, "unlock: note a failure", err)
			return nil
		}
		w.log().Info("console: SEA unlock: wrong passphrase", "user", s.user.ID)
		w.seaInboxError(rw, r, s, http.StatusBadRequest, next, "sea_err_wrong_passphrase")
	case errors.Is(err, safeguarding.ErrWorkFactor):
		w.seaInboxError(rw, r, s, http.StatusBadRequest, next, "sea_err_work_factor")
	default:
		w.seaInboxError(rw, r, s, http.StatusBadRequest, next, "sea_err_not_identity")
	}
	return nil
}

// seaLink links the user's identity file (a multipart form: the file and its passphrase),
// replacing the one they had, and unlocks it for the session. The file must be
// passphrase-protected (the console never keeps a key it could use alone), open with the
// passphrase, and be the secret key of an active focal point — never the escrow's.
func (w *Web) seaLink(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	r.Body = http.MaxBytesReader(rw, r.Body, maxIdentityForm)
	if err := r.ParseMultipartForm(maxIdentityForm); err != nil {
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "bad_form")
		return
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("identity")
	if err != nil {
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "sea_err_no_file")
		return
	}
	file, err := io.ReadAll(io.LimitReader(f, maxIdentityFile+1))
	f.Close()
	switch {
	case err != nil:
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "bad_form")
		return
	case len(file) == 0:
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "sea_err_no_file")
		return
	case len(file) > maxIdentityFile:
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "sea_err_not_identity")
		return
	case !safeguarding.PassphraseProtected(file):
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "sea_err_not_protected")
		return
	}
	// The file is kept in the database, where whoever reads a copy of it can guess the
	// passphrase at leisure: only a long one makes that hopeless.
	passphrase := r.PostForm.Get("passphrase")
	if utf8.RuneCountInString(passphrase) < MinPasswordLen {
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "sea_err_short_passphrase", MinPasswordLen)
		return
	}
	id := w.openIdentityFile(rw, r, s, file, passphrase, "", "psea.identity_refused")
	if id == nil {
		return
	}
	recipients, err := store.ListPSEARecipients(ctx, w.Pool)
	if err != nil {
		w.serverError(rw, r, "link an identity: read the recipients", err)
		return
	}
	pub := id.Recipient().String()
	var focal *store.PSEARecipient
	for i, rc := range recipients {
		if rc.PublicKey == pub {
			focal = &recipients[i]
		}
	}
	refused := func(detail, key string) {
		if err := w.seaAudit(ctx, w.Pool, s, "psea.identity_refused", "", detail); err != nil {
			w.serverError(rw, r, "link an identity", err)
			return
		}
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", key)
	}
	switch {
	case focal == nil:
		refused("not a registered focal point's key", "sea_err_unknown_key")
		return
	case focal.Escrow:
		refused("the escrow key", "sea_err_escrow")
		return
	}
	linked := func(tx pgx.Tx) error {
		if err := store.LinkPSEAIdentity(ctx, tx, s.user.ID, focal.ID, file, w.now()); err != nil {
			return err
		}
		return w.seaAudit(ctx, tx, s, "psea.identity_linked", focal.Name, "")
	}
	if !w.keepUnlocked(rw, r, s, focal.Name, id, linked) {
		return
	}
	w.log().Info("console: SEA identity linked and unlocked", "user", s.user.ID, "recipient", focal.ID)
	http.Redirect(rw, r, "/sea?done=linked", http.StatusSeeOther)
}

// keepUnlocked records an unlock (with first, when given, in the same transaction): audited,
// the user's wrong passphrases forgotten; then keeps the key for the session. A database
// failure answers 500 and keeps nothing.
func (w *Web) keepUnlocked(rw http.ResponseWriter, r *http.Request, s session, recipient string, id *age.X25519Identity, first func(pgx.Tx) error) bool {
	ctx := r.Context()
	err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		if err := w.seaAudit(ctx, tx, s, "psea.unlock", recipient, ""); err != nil {
			return err
		}
		return store.ClearLoginFailures(ctx, tx, unlockThrottleKey(s.user.ID))
	})
	if err != nil {
		w.serverError(rw, r, "unlock an identity", err)
		return false
	}
	now := w.now()
	w.sea.put(s.hash, unlockedKey{userID: s.user.ID, recipient: recipient, id: id, since: now, lastUsed: now}, w.now, w.idle(), w.maxAge())
	return true
}

// seaUnlock opens the user's linked identity with the passphrase typed, for this session, and
// goes on to the report asked for (next) or the inbox.
func (w *Web) seaUnlock(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		w.seaInboxError(rw, r, s, http.StatusBadRequest, "", "bad_form")
		return
	}
	next := seaNext(r.PostForm.Get("next"))
	ident, err := store.PSEAIdentityOf(ctx, w.Pool, s.user.ID)
	if errors.Is(err, store.ErrNotFound) {
		http.Redirect(rw, r, "/sea", http.StatusSeeOther)
		return
	}
	if err != nil {
		w.serverError(rw, r, "unlock: read the identity", err)
		return
	}
	id := w.openIdentityFile(rw, r, s, ident.File, r.PostForm.Get("passphrase"), next, "psea.unlock_failed")
	if id == nil {
		return
	}
	if id.Recipient().String() != ident.PublicKey {
		// the file kept is not the recipient's key: it was changed in the database
		w.log().Error("console: SEA unlock: the identity file does not match its recipient", "user", s.user.ID)
		w.seaInboxError(rw, r, s, http.StatusBadRequest, next, "sea_err_unknown_key")
		return
	}
	if !w.keepUnlocked(rw, r, s, ident.RecipientName, id, nil) {
		return
	}
	w.log().Info("console: SEA key unlocked", "user", s.user.ID)
	if next == "" {
		next = "/sea?done=unlocked"
	}
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

// seaLock forgets the session's key.
func (w *Web) seaLock(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if _, ok := w.seaKey(s); ok {
		w.sea.drop(s.hash)
		if err := w.seaAudit(r.Context(), w.Pool, s, "psea.lock", "", ""); err != nil {
			w.serverError(rw, r, "lock", err)
			return
		}
	}
	http.Redirect(rw, r, "/sea?done=locked", http.StatusSeeOther)
}

// seaReportOf is the report of the request's path; when there is none it has answered 404.
func (w *Web) seaReportOf(rw http.ResponseWriter, r *http.Request, s session) (store.SEAReport, bool) {
	// a path that is not a reference is no report either
	ref, perr := cases.ParseReference(r.PathValue("ref"))
	report, err := store.SEAReport{}, error(store.ErrNotFound)
	if perr == nil {
		report, err = store.SEAReportByReference(r.Context(), w.Pool, string(ref))
	}
	switch {
	case err == nil:
		return report, true
	case errors.Is(err, store.ErrNotFound):
		lang := s.user.Language
		w.render(rw, r, http.StatusNotFound, "message", &page{Lang: lang, User: &s.user,
			Title: text(lang, "sea_not_found_title"), Error: text(lang, "sea_not_found")})
	default:
		w.serverError(rw, r, "read an SEA report", err)
	}
	return report, false
}

// seaLocked sends a user whose session has no key unlocked to the inbox, to unlock it and come
// back to the page.
func seaLocked(rw http.ResponseWriter, r *http.Request, back string) {
	http.Redirect(rw, r, "/sea?"+url.Values{"next": {back}}.Encode(), http.StatusSeeOther)
}

// seaReportView is a report's page: what it says, decrypted, and the forms.
type seaReportView struct {
	Ref, Display, Status, Channel         string
	Complete                              bool
	Received, Updated, AckBy, ResolveBy   string
	AckLate, ResolveLate                  bool
	Acknowledged, Resolved                string
	Answers                               []seaAnswerView
	Notes                                 []seaNoteView
	Recordings                            []seaRecordingView
	Moves                                 []option
	Recipient, NoteDraft, StatusNoteDraft string
	MaxNote                               int
}

type seaAnswerView struct {
	Label, Value string
	Unreadable   bool
	Media        int
}

type seaNoteView struct{ By, At, Text string }

type seaRecordingView struct {
	Href, At, Duration string
	Missing            bool
}

// seaFieldValue is an answer's value as the page shows it: a code named in lang (a
// governorate, when it happened, safe now…), else as the person gave it.
func seaFieldValue(lang, field, value string) string {
	switch field {
	case "governorate":
		return valueText(lang, "governorate.", value)
	case "when", "safe_now", "contact":
		return valueText(lang, "sea_value."+field+".", value)
	}
	return value
}

// seaReport shows a report, decrypted with the session's key: that look is written to the
// audit log before anything is shown, and nothing is shown if it cannot be.
func (w *Web) seaReport(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	key, ok := w.seaKey(s)
	if !ok {
		seaLocked(rw, r, r.URL.Path)
		return
	}
	report, ok := w.seaReportOf(rw, r, s)
	if !ok {
		return
	}
	w.showSEAReport(rw, r, s, key, report, http.StatusOK, "", nil)
}

// showSEAReport answers with a report's page, status the answer's, with a message (done) or,
// for a refused form, its error and the text typed (drafts).
func (w *Web) showSEAReport(rw http.ResponseWriter, r *http.Request, s session, key unlockedKey, report store.SEAReport, status int, errText string, drafts url.Values) {
	ctx := r.Context()
	lang := s.user.Language
	parts, recs, err := safeguarding.OpenReport(ctx, w.Pool, report, key.id, false)
	if err != nil {
		detail := "failed"
		if errors.Is(err, safeguarding.ErrNotRecipient) {
			detail = "failed: not encrypted to this key"
		}
		if aerr := w.seaAudit(ctx, w.Pool, s, "psea.show", report.Reference, detail); aerr != nil {
			w.serverError(rw, r, "show an SEA report", aerr)
			return
		}
		if errors.Is(err, safeguarding.ErrNotRecipient) {
			w.render(rw, r, http.StatusForbidden, "message", &page{Lang: lang, User: &s.user,
				Title: text(lang, "sea_report_heading"), Error: text(lang, "sea_cannot_open")})
			return
		}
		w.serverError(rw, r, "open an SEA report", err)
		return
	}
	if err := w.seaAudit(ctx, w.Pool, s, "psea.show", report.Reference, ""); err != nil {
		w.serverError(rw, r, "show an SEA report", err)
		return
	}

	now := w.now()
	ackLate, resolveLate := seaLate(report, now)
	v := &seaReportView{Ref: report.Reference, Display: cases.Reference(report.Reference).Display(),
		Status: valueText(lang, "sea_status.", report.Status), Channel: valueText(lang, "channel.", report.Channel),
		Complete: report.Complete, Received: w.localTime(report.CreatedAt), Updated: w.localTime(report.UpdatedAt),
		AckBy: w.localTime(report.AckDueAt), ResolveBy: w.localTime(report.ResolveDueAt), AckLate: ackLate,
		ResolveLate: resolveLate, Recipient: key.recipient, MaxNote: safeguarding.MaxNoteLength,
		NoteDraft: drafts.Get("note"), StatusNoteDraft: drafts.Get("status_note")}
	if report.AcknowledgedAt != nil {
		v.Acknowledged = w.localTime(*report.AcknowledgedAt)
	}
	if report.ResolvedAt != nil {
		v.Resolved = w.localTime(*report.ResolvedAt)
	}
	for _, p := range parts {
		switch {
		case p.Kind == store.SEAPartNote && p.Raw == "":
			at := p.Note.At
			if at.IsZero() {
				at = p.At
			}
			v.Notes = append(v.Notes, seaNoteView{By: p.Note.By, At: w.localTime(at), Text: p.Note.Note})
		case p.Kind == store.SEAPartNote:
			v.Notes = append(v.Notes, seaNoteView{At: w.localTime(p.At), Text: p.Raw})
		case p.Raw != "":
			v.Answers = append(v.Answers, seaAnswerView{Label: text(lang, "sea_unreadable"), Value: p.Raw, Unreadable: true})
		default:
			v.Answers = append(v.Answers, seaAnswerView{Label: valueText(lang, "sea_field.", p.Answer.Field),
				Value: seaFieldValue(lang, p.Answer.Field, p.Answer.Value), Media: len(p.Answer.Media)})
		}
	}
	for i, rec := range recs {
		v.Recordings = append(v.Recordings, seaRecordingView{Href: fmt.Sprintf("/sea/%s/recordings/%d", report.Reference, i+1),
			At: w.localTime(rec.CreatedAt), Duration: fmt.Sprintf("%d:%02d", rec.DurationSeconds/60, rec.DurationSeconds%60),
			Missing: rec.Missing})
	}
	for _, to := range cases.Statuses() {
		if cases.CanTransition(cases.Status(report.Status), to) {
			v.Moves = append(v.Moves, option{Value: string(to), Text: text(lang, "sea_status."+string(to))})
		}
	}
	p := &page{Lang: lang, User: &s.user, Title: text(lang, "sea_report_heading") + " " + v.Display, Data: v, Error: errText}
	switch r.URL.Query().Get("done") {
	case "status":
		p.Message = text(lang, "sea_done_status")
	case "note":
		p.Message = text(lang, "sea_done_note")
	}
	w.render(rw, r, status, "sea_report", p) // the policy lets <audio> play the console's own recordings
}

// seaForm serves a form posted to a report: the report must exist (404), the form be
// readable (400); act runs in a transaction of its own as the user. Done: 303 to the report
// with ?done=what. Refused: the report again with why, and the text typed (or, when the
// session has no key unlocked, the refusal alone).
func (w *Web) seaForm(rw http.ResponseWriter, r *http.Request, what string, act func(ctx context.Context, tx pgx.Tx, s session, report store.SEAReport, form url.Values) error) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	lang := s.user.Language
	report, ok := w.seaReportOf(rw, r, s)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	err := r.ParseForm()
	if err == nil {
		err = pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error { return act(ctx, tx, s, report, r.PostForm) })
	} else {
		err = refuse(http.StatusBadRequest, "bad_form")
	}
	if err == nil {
		w.log().Info("console: SEA report "+what, "report", report.ID, "user", s.user.ID)
		http.Redirect(rw, r, fmt.Sprintf("/sea/%s?done=%s", report.Reference, what), http.StatusSeeOther)
		return
	}
	var ref *refusal
	switch {
	case errors.As(err, &ref):
	case errors.Is(err, cases.ErrTransition):
		ref = &refusal{status: http.StatusConflict, key: "sea_err_transition", args: []any{valueText(lang, "sea_status.", report.Status)}}
	case errors.Is(err, safeguarding.ErrNoteTooLong):
		ref = &refusal{status: http.StatusBadRequest, key: "err_note_too_long", args: []any{safeguarding.MaxNoteLength}}
	case errors.Is(err, safeguarding.ErrEmptyNote):
		ref = &refusal{status: http.StatusBadRequest, key: "err_note_empty"}
	default:
		w.serverError(rw, r, "SEA report "+what, err)
		return
	}
	if report, err = store.SEAReportByID(ctx, w.Pool, report.ID); err != nil {
		w.serverError(rw, r, "read an SEA report", err)
		return
	}
	key, unlocked := w.seaKey(s)
	if !unlocked {
		w.render(rw, r, ref.status, "message", &page{Lang: lang, User: &s.user, Title: text(lang, "sea_report_heading"),
			Error: text(lang, ref.key, ref.args...)})
		return
	}
	w.showSEAReport(rw, r, s, key, report, ref.status, text(lang, ref.key, ref.args...), r.PostForm)
}

// seaStatus moves a report to a status, with a note if one is typed (sealed like the report).
func (w *Web) seaStatus(rw http.ResponseWriter, r *http.Request) {
	w.seaForm(rw, r, "status", func(ctx context.Context, tx pgx.Tx, s session, report store.SEAReport, form url.Values) error {
		to := cases.Status(form.Get("status"))
		if !to.Valid() {
			return refuse(http.StatusBadRequest, "sea_err_status")
		}
		_, err := safeguarding.ChangeStatus(ctx, tx, report.ID, to, form.Get("status_note"), seaActor(s), w.now())
		return err
	})
}

// seaNote adds a note to a report, sealed like the report; the audit log says a note was
// added, never what it says.
func (w *Web) seaNote(rw http.ResponseWriter, r *http.Request) {
	w.seaForm(rw, r, "note", func(ctx context.Context, tx pgx.Tx, s session, report store.SEAReport, form url.Values) error {
		return safeguarding.AddNote(ctx, tx, report.ID, form.Get("note"), seaActor(s), w.now())
	})
}

// seaRecording plays a recording of a report: its audio decrypted with the session's key,
// whole (no ranges: each answer is one play in the audit log), never cached.
func (w *Web) seaRecording(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	lang := s.user.Language
	key, ok := w.seaKey(s)
	if !ok {
		seaLocked(rw, r, "/sea/"+r.PathValue("ref"))
		return
	}
	report, ok := w.seaReportOf(rw, r, s)
	if !ok {
		return
	}
	notFound := func() {
		w.render(rw, r, http.StatusNotFound, "message", &page{Lang: lang, User: &s.user,
			Title: text(lang, "sea_report_heading"), Error: text(lang, "sea_rec_not_found")})
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		notFound()
		return
	}
	rec, err := safeguarding.OpenRecording(ctx, w.Pool, report, n, key.id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		notFound()
		return
	case errors.Is(err, safeguarding.ErrNotRecipient):
		if aerr := w.seaAudit(ctx, w.Pool, s, "psea.recording", report.Reference, fmt.Sprintf("recording %d: failed: not encrypted to this key", n)); aerr != nil {
			w.serverError(rw, r, "play an SEA recording", aerr)
			return
		}
		w.render(rw, r, http.StatusForbidden, "message", &page{Lang: lang, User: &s.user,
			Title: text(lang, "sea_report_heading"), Error: text(lang, "sea_cannot_open")})
		return
	case err != nil:
		w.serverError(rw, r, "open an SEA recording", err)
		return
	case rec.Missing:
		notFound()
		return
	}
	if err := w.seaAudit(ctx, w.Pool, s, "psea.recording", report.Reference, fmt.Sprintf("recording %d", n)); err != nil {
		w.serverError(rw, r, "play an SEA recording", err)
		return
	}
	ct := "application/octet-stream"
	if mt, _, err := mime.ParseMediaType(rec.ContentType); err == nil && strings.HasPrefix(mt, "audio/") {
		ct = mt
	}
	h := rw.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(rec.Audio)))
	h.Set("Accept-Ranges", "none")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%d"`, report.Reference, n))
	rw.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = rw.Write(rec.Audio)
	}
}
