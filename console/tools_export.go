package console

import (
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sawt/sawt/store"
)

// The case list export: the cases the queue lists for its filters, all of them, as CSV for
// reporting. It has what kind of case each is, where and when, and how it was handled, never
// who the person is or what they said (store.ExportRow). The queue's viewers and the
// dashboard's (who cannot open the queue) download it from their page, and tokens from the
// API, with the same filters.

// exportColumns are the export's header row, in the order of its cells.
var exportColumns = []string{"reference", "category", "priority", "status", "channel", "language", "governorate", "site",
	"opened_at", "acknowledged_at", "resolved_at", "due_at", "overdue", "referred_to", "satisfaction"}

// exportFlushRows is how many rows are written between flushes: a long list reaches the
// browser as it is read.
const exportFlushRows = 500

// exportParams are the query parameters of GET /api/v1/cases/export.csv: the queue's
// filters, without a page (the export is the whole list).
var exportParams = slices.DeleteFunc(slices.Clone(queueParams), func(p string) bool { return p == "page" })

// exportHref is the export of the list a query of the queue page shows, all its pages.
func exportHref(q url.Values) string {
	if v := queueFilters(q); len(v) > 0 {
		return "/cases/export.csv?" + v.Encode()
	}
	return "/cases/export.csv"
}

// exportCases answers the case list export of the page's filters, read as the queue reads
// them: a filter value it does not take is a 400 page.
func (w *Web) exportCases(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	f, _, err := queueFilterOf(r.URL.Query())
	var bad *refusal
	if errors.As(err, &bad) {
		w.render(rw, r, bad.status, "message", &page{Lang: lang, User: &s.user, Title: text(lang, "export_title"),
			Error: text(lang, bad.key, bad.args...)})
		return
	}
	err = writeCasesCSV(r.Context(), rw, w.Pool, f, w.now(), w.location(), true)
	if errors.Is(err, errNothingWritten) {
		w.serverError(rw, r, "export cases", err)
		return
	}
	if err != nil {
		abortExport(w.log(), err)
	}
	w.log().Info("console: cases exported", "user", s.user.ID, "filter", r.URL.RawQuery)
}

// exportCases is GET /api/v1/cases/export.csv: the export of the queue's filters, refused as
// the queue refuses them. Its times are in UTC, as the API's are.
func (a *API) exportCases(w http.ResponseWriter, r *http.Request) {
	f, ok := apiQueueFilter(w, r.URL.Query(), exportParams)
	if !ok {
		return
	}
	err := writeCasesCSV(r.Context(), w, a.Auth.Pool, f, a.Auth.now(), time.UTC, false)
	if errors.Is(err, errNothingWritten) {
		a.serverError(w, "export cases", err)
		return
	}
	if err != nil {
		abortExport(a.log(), err)
	}
	caller, _ := CallerFrom(r.Context())
	a.log().Info("API: cases exported", "token", caller.Name, "filter", r.URL.RawQuery)
}

// errNothingWritten wraps an export's failure before it answered anything: it can still
// answer with an error.
var errNothingWritten = errors.New("nothing written")

// abortExport ends an export that failed half-way (the database, or the client went away):
// the connection is cut rather than the file ended, so that a browser reports the download as
// failed instead of keeping a list that looks whole.
func abortExport(log *slog.Logger, err error) {
	log.Error("console: export cases", "error", err)
	panic(http.ErrAbortHandler)
}

// writeCasesCSV answers with the cases of f as a CSV file named for the day: a header row,
// then a row per case, times in RFC 3339 in loc, each row written as it is read. With bom,
// the file starts with a byte order mark, by which spreadsheets (Excel) know it is UTF-8 and
// show Arabic and Kurdish as written. An error before anything was written wraps
// errNothingWritten.
func writeCasesCSV(ctx context.Context, rw http.ResponseWriter, pool store.DB, f store.QueueFilter, now time.Time, loc *time.Location, bom bool) error {
	cw := csv.NewWriter(rw)
	started := false
	start := func() error {
		started = true
		h := rw.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="sawt-cases-`+now.In(loc).Format("2006-01-02")+`.csv"`)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		rw.WriteHeader(http.StatusOK)
		if bom {
			if _, err := rw.Write([]byte("\uFEFF")); err != nil {
				return err
			}
		}
		return cw.Write(exportColumns)
	}
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	n := 0
	err := store.ExportCases(ctx, pool, f, now, func(c store.ExportRow) error {
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		satisfaction := ""
		if c.Satisfied != nil {
			satisfaction = yesNo(*c.Satisfied)
		}
		row := []string{c.Reference, c.Category, c.Priority, c.Status, c.Channel, c.Language, c.Governorate, c.Site,
			at(&c.OpenedAt), at(c.AcknowledgedAt), at(c.ResolvedAt), at(&c.DueAt), yesNo(c.Overdue), c.ReferredTo, satisfaction}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
		if n++; n%exportFlushRows == 0 {
			cw.Flush()
			if fl, ok := rw.(http.Flusher); ok {
				fl.Flush()
			}
			return cw.Error()
		}
		return nil
	})
	if err == nil && !started {
		err = start() // no case: the header row alone
	}
	if err != nil && !started {
		return errors.Join(errNothingWritten, err)
	}
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvCell is a value as a cell of the export. One that a spreadsheet would take for a formula
// (starting with = + - or @, or with a tab or carriage return, which some skip before one) is
// prefixed with ' so that it is shown as written rather than run: a site or a partner's name
// comes from outside.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
