package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/sawt/sawt/store"
)

// auditPageSize is how many entries the audit page shows at a time.
const auditPageSize = 100

// auditView is the audit page: a page of entries, newest first, and what verifying the whole
// chain found.
type auditView struct {
	Rows []auditRow
	// Chain says whether the chain is intact, or where it breaks; ChainOK which of the two.
	Chain      string
	ChainOK    bool
	OlderHref  string
	NewestHref string
}

type auditRow struct {
	ID                                 int64
	At, Actor, Action, Subject, Detail string
}

// auditChain verifies the whole chain and says what it found in lang: intact (and how many
// entries), or the first entry that does not verify and how. An error is the database's.
func auditChain(ctx context.Context, db store.DB, lang string) (string, bool, error) {
	checked, err := store.VerifyAudit(ctx, db)
	var b *store.AuditBreak
	switch {
	case err == nil:
		return text(lang, "audit_intact", checked), true, nil
	case !errors.As(err, &b):
		return "", false, err
	case b.Kind == store.AuditAltered:
		return text(lang, "audit_altered", b.ID), false, nil
	case b.Kind == store.AuditRemoved:
		return text(lang, "audit_removed", b.PrevID, b.ID), false, nil
	default:
		return text(lang, "audit_not_genesis", b.ID), false, nil
	}
}

// auditPage shows administrators the audit log: who did what to sensitive data and when,
// newest first, a page at a time (?before= the last entry of the page before), and whether
// its hash chain is intact. Entries hold events, never content.
func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	lang := s.user.Language
	var before int64
	if b := r.URL.Query().Get("before"); b != "" {
		var err error
		if before, err = strconv.ParseInt(b, 10, 64); err != nil || before <= 0 {
			w.render(rw, r, http.StatusBadRequest, "message", &page{Lang: lang, User: &s.user, Title: text(lang, "audit_title"),
				Error: text(lang, "bad_filter", "before="+b)})
			return
		}
	}
	entries, err := store.AuditPage(ctx, w.Pool, before, auditPageSize+1)
	if err != nil {
		w.serverError(rw, r, "read the audit log", err)
		return
	}
	v := &auditView{}
	if v.Chain, v.ChainOK, err = auditChain(ctx, w.Pool, lang); err != nil {
		w.serverError(rw, r, "verify the audit log", err)
		return
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		v.OlderHref = "/audit?before=" + strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	if before > 0 {
		v.NewestHref = "/audit"
	}
	for _, e := range entries {
		v.Rows = append(v.Rows, auditRow{ID: e.ID, At: e.At.In(w.location()).Format("2006-01-02 15:04:05"), Actor: e.Actor, Action: e.Action,
			Subject: e.Subject, Detail: e.Detail})
	}
	w.render(rw, r, http.StatusOK, "audit", &page{Lang: lang, User: &s.user, Title: text(lang, "audit_title"), Data: v})
}
