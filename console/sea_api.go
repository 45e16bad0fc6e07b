package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

// The SEA API: what the SEA inbox does without a focal point's key, for psea tokens — the
// reports listed without content, and a report moved to another status (with a note, sealed
// like the report) — and the audit log for admin tokens. Each is written to the audit log as
// the inbox writes it, with the token as who ("token:NAME").
//
// Reading a report's content takes a focal point's identity and its passphrase, which a token
// does not carry and the server must not hold: that is left to sawt psea show, on the
// focal point's own machine, and to the inbox, where the focal point unlocks their key.

// seaRoutes adds the SEA API to mux: the reports for the psea role, the audit log for admin.
func (a *API) seaRoutes(mux *http.ServeMux) {
	psea := a.Auth.Require(RolePSEA)
	mux.Handle("GET /api/v1/sea/reports", psea(http.HandlerFunc(a.listSEAReports)))
	mux.Handle("POST /api/v1/sea/reports/{ref}/status", psea(http.HandlerFunc(a.seaReportStatus)))
	mux.Handle("GET /api/v1/audit", a.Auth.Require(RoleAdmin)(http.HandlerFunc(a.auditLog)))
}

// seaReportJSON is a report as the API lists it: no content.
type seaReportJSON struct {
	Reference      string     `json:"reference"`
	Channel        string     `json:"channel"`
	Status         string     `json:"status"`
	Complete       bool       `json:"complete"`
	Recordings     int        `json:"recordings"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	AckDueAt       time.Time  `json:"ack_due_at"`
	ResolveDueAt   time.Time  `json:"resolve_due_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	// AckOverdue and ResolveOverdue say the deadline is past and not met.
	AckOverdue     bool `json:"ack_overdue"`
	ResolveOverdue bool `json:"resolve_overdue"`
}

func seaReportOf(r store.SEAReport, recordings int, now time.Time) seaReportJSON {
	ack, resolve := seaLate(r, now)
	return seaReportJSON{Reference: r.Reference, Channel: r.Channel, Status: r.Status, Complete: r.Complete,
		Recordings: recordings, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), AckDueAt: r.AckDueAt.UTC(),
		ResolveDueAt: r.ResolveDueAt.UTC(), AcknowledgedAt: utcOrNil(r.AcknowledgedAt), ResolvedAt: utcOrNil(r.ResolvedAt),
		AckOverdue: ack, ResolveOverdue: resolve}
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// tokenActor is who a token is in the audit log.
func tokenActor(c Caller) string { return "token:" + c.Name }

// listSEAReports lists every report, newest first, without content; the listing is audited.
func (a *API) listSEAReports(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	caller, _ := CallerFrom(ctx)
	reports, err := store.ListSEAReports(ctx, a.Auth.Pool)
	if err != nil {
		a.serverError(w, "list the SEA reports", err)
		return
	}
	counts, err := store.SEARecordingCounts(ctx, a.Auth.Pool)
	if err != nil {
		a.serverError(w, "list the SEA reports", err)
		return
	}
	now := a.Auth.now()
	if err := store.AppendAudit(ctx, a.Auth.Pool, store.AuditEntry{At: now, Actor: tokenActor(caller), Action: "psea.list",
		Detail: fmt.Sprintf("%d reports", len(reports))}); err != nil {
		a.serverError(w, "list the SEA reports", err)
		return
	}
	out := make([]seaReportJSON, 0, len(reports))
	for _, rep := range reports {
		out = append(out, seaReportOf(rep, counts[rep.ID], now))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"reports": out})
}

// seaReportStatus moves a report to a status, {"status": …, "note": …}: the move checked,
// the note sealed and the move audited by safeguarding.ChangeStatus, as the inbox does. It
// answers the report as it is now.
func (a *API) seaReportStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	caller, _ := CallerFrom(ctx)
	ref, err := cases.ParseReference(r.PathValue("ref"))
	if err != nil {
		WriteError(w, http.StatusNotFound, "no SEA report %q", r.PathValue("ref"))
		return
	}
	report, err := store.SEAReportByReference(ctx, a.Auth.Pool, string(ref))
	if errors.Is(err, store.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "no SEA report %s", ref)
		return
	}
	if err != nil {
		a.serverError(w, "read an SEA report", err)
		return
	}
	var in struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	to := cases.Status(in.Status)
	if !to.Valid() {
		var all []string
		for _, s := range cases.Statuses() {
			all = append(all, string(s))
		}
		WriteJSON(w, http.StatusBadRequest, struct {
			fieldError
			Values []string `json:"values"`
		}{fieldError{Field: "status", Error: fmt.Sprintf("status %q: use one of the values", in.Status)}, all})
		return
	}
	now := a.Auth.now()
	var from cases.Status
	err = pgx.BeginFunc(ctx, a.Auth.Pool, func(tx pgx.Tx) error {
		var err error
		from, err = safeguarding.ChangeStatus(ctx, tx, report.ID, to, in.Note, tokenActor(caller), now)
		return err
	})
	switch {
	case errors.Is(err, cases.ErrTransition):
		WriteError(w, http.StatusConflict, "report %s cannot move from %s to %s", report.Reference, from, to)
		return
	case errors.Is(err, safeguarding.ErrNoteTooLong):
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: "note", Error: err.Error()})
		return
	case errors.Is(err, store.ErrNotFound):
		WriteError(w, http.StatusNotFound, "no SEA report %s", report.Reference)
		return
	case err != nil:
		a.serverError(w, "change an SEA report's status", err)
		return
	}
	a.log().Info("API: SEA report status", "report", report.ID, "token", caller.Name)
	if report, err = store.SEAReportByID(ctx, a.Auth.Pool, report.ID); err != nil {
		a.serverError(w, "read an SEA report", err)
		return
	}
	recs, err := store.SEARecordings(ctx, a.Auth.Pool, report.ID)
	if err != nil {
		a.serverError(w, "read an SEA report", err)
		return
	}
	WriteJSON(w, http.StatusOK, seaReportOf(report, len(recs), now))
}

// auditEntryJSON is an entry of the audit log as the API answers it: events, never content.
type auditEntryJSON struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Subject string    `json:"subject"`
	Detail  string    `json:"detail"`
}

// maxAuditLimit bounds the entries one answer of the audit API holds.
const maxAuditLimit = 1000

// auditLog answers the audit log newest first, a page at a time (?limit=, 100 by default;
// ?before= the last id of the page before), and whether the whole chain verifies.
func (a *API) auditLog(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	limit, before := auditPageSize, int64(0)
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAuditLimit {
			WriteJSON(w, http.StatusBadRequest, fieldError{Field: "limit", Error: fmt.Sprintf("limit %q: a number from 1 to %d", s, maxAuditLimit)})
			return
		}
		limit = n
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			WriteJSON(w, http.StatusBadRequest, fieldError{Field: "before", Error: fmt.Sprintf("before %q: an entry's id", s)})
			return
		}
		before = n
	}
	entries, err := store.AuditPage(ctx, a.Auth.Pool, before, limit+1)
	if err != nil {
		a.serverError(w, "read the audit log", err)
		return
	}
	chain := map[string]any{}
	checked, err := store.VerifyAudit(ctx, a.Auth.Pool)
	var b *store.AuditBreak
	switch {
	case err == nil:
		chain["intact"], chain["checked"] = true, checked
	case errors.As(err, &b):
		chain["intact"], chain["checked"], chain["broken_at"], chain["problem"] = false, checked, b.ID, b.Error()
	default:
		a.serverError(w, "verify the audit log", err)
		return
	}
	out := map[string]any{"chain": chain}
	if len(entries) > limit {
		entries = entries[:limit]
		out["older"] = fmt.Sprintf("/api/v1/audit?before=%d&limit=%d", entries[len(entries)-1].ID, limit)
	}
	list := make([]auditEntryJSON, 0, len(entries))
	for _, e := range entries {
		list = append(list, auditEntryJSON{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Subject: e.Subject, Detail: e.Detail})
	}
	out["entries"] = list
	WriteJSON(w, http.StatusOK, out)
}
