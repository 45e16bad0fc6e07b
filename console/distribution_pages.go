package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

// The distribution pages: the list, the form that makes one, and the page of one, with its
// alerts and their counts and the forms that import its households, change it and cancel
// it. Each form runs the outreach service's operation, as the API does.

// maxShownLines is how many bad lines of a household list the page names one by one: a
// whole file of bad lines would make a page too heavy for a slow connection; the rest are
// counted.
const maxShownLines = 300

// maxDetailChars is the longest place, list of items or of things to bring, in characters,
// that the outreach service accepts (it goes into an SMS): the form's fields say it too.
const maxDetailChars = 160

// distributionForm is the distribution form (or the change form) as posted, kept to be
// shown again.
type distributionForm struct {
	Site, Governorate, StartsAt, Place, Items, Bring, AnnounceAt, Reminders string
}

func distributionFormOf(f url.Values) distributionForm {
	return distributionForm{Site: f.Get("site"), Governorate: f.Get("governorate"), StartsAt: f.Get("starts_at"),
		Place: f.Get("place"), Items: f.Get("items"), Bring: f.Get("bring"), AnnounceAt: f.Get("announce_at"),
		Reminders: f.Get("reminders")}
}

// reminderHours reads the hours before the start that reminders go out, as typed: numbers
// separated by commas or spaces (an empty field is none).
func reminderHours(s string) ([]int, error) {
	hours := []int{}
	for _, v := range strings.FieldsFunc(westernDigits(s), func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, &formRefusal{"reminders_hours", "err_reminders"}
		}
		hours = append(hours, n)
	}
	return hours, nil
}

// westernDigits reads Arabic-Indic digits as ASCII digits and the Arabic comma as a comma,
// so that hours typed on an Arabic or Kurdish keyboard are read. (locales.Fold would keep
// "24,2" as one number.)
func westernDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r == '،' || r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(',')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// spec is the distribution the form asks for. A time or hours that cannot be read are
// refused (a *formRefusal).
func (w *Web) distributionSpecOf(df distributionForm) (outreach.DistributionSpec, error) {
	spec := outreach.DistributionSpec{Site: df.Site, Governorate: df.Governorate, Place: df.Place, Items: df.Items, Bring: df.Bring}
	if strings.TrimSpace(df.StartsAt) == "" {
		return spec, &formRefusal{"starts_at", "err_required"}
	}
	at, ok := w.parseLocal(df.StartsAt)
	if !ok {
		return spec, &formRefusal{"starts_at", "err_bad_time"}
	}
	spec.StartsAt = &at
	if strings.TrimSpace(df.AnnounceAt) != "" {
		at, ok := w.parseLocal(df.AnnounceAt)
		if !ok {
			return spec, &formRefusal{"announce_at", "err_bad_time"}
		}
		spec.AnnounceAt = &at
	}
	if strings.TrimSpace(df.Reminders) != "" {
		hours, err := reminderHours(df.Reminders)
		if err != nil {
			return spec, err
		}
		spec.Reminders = hours
	}
	return spec, nil
}

// distributionRow is a distribution as the list shows it.
type distributionRow struct {
	ID                                      int64
	Starts, Site, Governorate, Place, State string
	Households                              int
	Over                                    bool
}

// distributionList is the list of distributions, the latest first, with their households.
func (w *Web) distributionList(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	n, offset := listPage(r.URL.Query())
	list, more, err := store.Distributions(r.Context(), w.Pool, outreachPage, offset)
	if err != nil {
		w.serverError(rw, r, "list the distributions", err)
		return
	}
	d := struct {
		Rows               []distributionRow
		PrevHref, NextHref string
	}{}
	now := w.now()
	for _, x := range list {
		d.Rows = append(d.Rows, distributionRow{ID: x.ID, Starts: w.localTime(x.StartsAt), Site: x.Site,
			Governorate: valueText(lang, "governorate.", x.Governorate), Place: x.Place,
			State: valueText(lang, "dstate.", x.State), Households: x.Households,
			Over: x.State == store.DistributionPlanned && !x.StartsAt.After(now)})
	}
	d.PrevHref, d.NextHref = pageLinks("/distributions", n, more)
	w.render(rw, r, http.StatusOK, "distributions", &page{Lang: lang, User: &s.user, Title: text(lang, "distributions_title"), Data: d})
}

// distributionFormView is the new distribution page.
type distributionFormView struct {
	Form         distributionForm
	Governorates []option
	Errors       map[string]string
	Zone         string
	MaxDetail    int
}

// distributionNew is the empty distribution form.
func (w *Web) distributionNew(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	w.showDistributionForm(rw, r, s, http.StatusOK, distributionForm{Reminders: "24, 2"}, nil)
}

func (w *Web) showDistributionForm(rw http.ResponseWriter, r *http.Request, s session, status int, df distributionForm, refused error) {
	lang := s.user.Language
	v := &distributionFormView{Form: df, Errors: map[string]string{}, Zone: w.location().String(), MaxDetail: maxDetailChars}
	v.Governorates = []option{{Value: "", Text: text(lang, "not_given"), Selected: df.Governorate == ""}}
	for _, g := range queueGovernorates {
		v.Governorates = append(v.Governorates, option{Value: g, Text: valueText(lang, "governorate.", g), Selected: df.Governorate == g})
	}
	p := &page{Lang: lang, User: &s.user, Title: text(lang, "distribution_new_title"), Data: v}
	if refused != nil {
		field, msg := w.refusalText(lang, refused, nil)
		v.Errors[field] = msg
		p.Error = text(lang, "distribution_not_created")
	}
	w.render(rw, r, status, "distribution_new", p)
}

// distributionCreate makes the distribution and schedules its reminders: 303 to its page,
// where its households are imported. Refused, the form again with why, at the field.
func (w *Web) distributionCreate(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if !w.readForm(rw, r, s, "distribution_new_title") {
		return
	}
	df := distributionFormOf(r.PostForm)
	spec, err := w.distributionSpecOf(df)
	if err == nil {
		var id int64
		id, err = w.Outreach.CreateDistribution(r.Context(), spec, staffActor(s))
		if err == nil {
			w.log().Info("console: distribution created", "distribution", id, "user", s.user.ID)
			http.Redirect(rw, r, fmt.Sprintf("/distributions/%d?done=created", id), http.StatusSeeOther)
			return
		}
	}
	var (
		fe *outreach.FieldError
		fr *formRefusal
	)
	if !errors.As(err, &fe) && !errors.As(err, &fr) {
		w.serverError(rw, r, "create a distribution", err)
		return
	}
	w.showDistributionForm(rw, r, s, http.StatusBadRequest, df, err)
}

// distributionView is the page of one distribution.
type distributionView struct {
	ID                                           int64
	Site, Governorate, Starts, Place, Items      string
	Bring, State, Announce, Reminders, CreatedBy string
	Households                                   int
	Alerts                                       []runView
	Cancelled, Over, Live                        bool
	Change                                       distributionForm
	Errors                                       map[string]string
	ImportErrors                                 []lineView
	ImportMore                                   int
	MaxDetail                                    int
	Zone                                         string
	MaxMB                                        int
}

// lineView is a bad line of a household list.
type lineView struct {
	Line            int
	Column, Message string
}

// distributionShow is what a distribution's page shows besides the distribution: what a
// form refused (its status, the error at the top, the field's message or the household
// list's bad lines) and the change form as posted.
type distributionShow struct {
	status  int
	err     string
	refused error
	lines   []outreach.LineError
	change  *distributionForm
}

// distributionPage shows a distribution, and what was just done to it (?done=).
func (w *Web) distributionPage(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	id, ok := pathID(r)
	if !ok {
		w.outreachNotFound(rw, r, s, "distribution_not_found")
		return
	}
	w.showDistribution(rw, r, s, id, distributionShow{status: http.StatusOK})
}

func (w *Web) showDistribution(rw http.ResponseWriter, r *http.Request, s session, id int64, show distributionShow) {
	lang := s.user.Language
	st, err := w.Outreach.GetDistribution(r.Context(), id)
	if errors.Is(err, outreach.ErrNoDistribution) {
		w.outreachNotFound(rw, r, s, "distribution_not_found")
		return
	}
	if err != nil {
		w.serverError(rw, r, "read a distribution", err)
		return
	}
	v := &distributionView{ID: st.ID, Site: st.Site, Governorate: valueText(lang, "governorate.", st.Governorate),
		Starts: w.localTime(st.StartsAt), Place: st.Place, Items: st.Items, Bring: st.Bring,
		State: valueText(lang, "dstate.", st.State), CreatedBy: st.CreatedBy, Households: st.Households,
		Cancelled: st.State == store.DistributionCancelled, Over: !st.StartsAt.After(w.now()),
		Errors: map[string]string{}, MaxDetail: maxDetailChars, Zone: w.location().String(), MaxMB: maxHouseholdsBody >> 20}
	if st.AnnounceAt != nil {
		v.Announce = w.localTime(*st.AnnounceAt)
	}
	hours := make([]string, len(st.Reminders))
	for i, h := range st.Reminders {
		hours[i] = strconv.Itoa(int(h))
	}
	if len(hours) > 0 {
		v.Reminders = text(lang, "reminders_before", strings.Join(hours, text(lang, "list_sep")))
	} else {
		v.Reminders = text(lang, "no_reminders")
	}
	v.Change = distributionForm{StartsAt: w.localInput(st.StartsAt), Place: st.Place, Items: st.Items, Bring: st.Bring,
		Reminders: strings.Join(hours, ", ")}
	if show.change != nil {
		v.Change = *show.change
	}
	for _, a := range st.Alerts {
		rv := w.runViewOf(lang, a.RunStatus)
		rv.Alert, rv.Code = valueText(lang, "alert.", a.Alert), a.Code
		v.Alerts = append(v.Alerts, rv)
		v.Live = v.Live || a.State == store.RunSending
	}
	for i, l := range show.lines {
		if i == maxShownLines {
			v.ImportMore = len(show.lines) - maxShownLines
			break
		}
		lv := lineView{Line: l.Line, Message: l.Message}
		if l.Column != "" {
			lv.Column = valueText(lang, "col.", l.Column)
		}
		v.ImportErrors = append(v.ImportErrors, lv)
	}
	if v.Live {
		rw.Header().Set("Refresh", fmt.Sprintf("%s; url=/distributions/%d", liveRefresh, id))
	}
	p := &page{Lang: lang, User: &s.user, Title: text(lang, "distribution_heading") + " " + st.Site, Data: v, Error: show.err}
	if show.refused != nil {
		field, msg := w.refusalText(lang, show.refused, nil)
		v.Errors[field] = msg
	}
	if show.status == http.StatusOK {
		q := r.URL.Query()
		switch d := q.Get("done"); d {
		case "created", "changed", "cancelled":
			p.Message = text(lang, "distribution_done_"+d)
		case "imported":
			added, _ := strconv.Atoi(q.Get("added"))
			p.Message = text(lang, "distribution_done_imported", added)
		}
	}
	w.render(rw, r, show.status, "distribution", p)
}

// distributionError answers an error of the outreach service about distribution id, if
// there is one: 404, 409 with the page and why, 400 with the page and the field's message.
func (w *Web) distributionError(rw http.ResponseWriter, r *http.Request, s session, id int64, what string, err error, change *distributionForm) bool {
	lang := s.user.Language
	var (
		fe *outreach.FieldError
		fr *formRefusal
		se *outreach.ErrState
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, outreach.ErrNoDistribution):
		w.outreachNotFound(rw, r, s, "distribution_not_found")
	case errors.As(err, &se):
		key := "conflict_distribution_cancelled"
		if se.From == "over" {
			key = "conflict_distribution_over"
		}
		w.showDistribution(rw, r, s, id, distributionShow{status: http.StatusConflict, err: text(lang, key)})
	case errors.As(err, &fe), errors.As(err, &fr):
		w.showDistribution(rw, r, s, id, distributionShow{status: http.StatusBadRequest, err: text(lang, "distribution_not_changed"),
			refused: err, change: change})
	default:
		w.serverError(rw, r, what, err)
	}
	return true
}

// distributionImport adds the households of an uploaded CSV file to a distribution: nothing
// is imported unless every line is good, and the page names every bad line (the first
// maxShownLines). The file is read as it arrives, never stored.
func (w *Web) distributionImport(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	lang := s.user.Language
	id, ok := pathID(r)
	if !ok {
		w.outreachNotFound(rw, r, s, "distribution_not_found")
		return
	}
	// A list for a distribution that is not there, or takes no households, is not read.
	d, err := store.DistributionByID(ctx, w.Pool, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.outreachNotFound(rw, r, s, "distribution_not_found")
		return
	case err != nil:
		w.serverError(rw, r, "read a distribution", err)
		return
	case d.State == store.DistributionCancelled:
		w.distributionError(rw, r, s, id, "", &outreach.ErrState{From: "cancelled"}, nil)
		return
	case !d.StartsAt.After(w.now()):
		w.distributionError(rw, r, s, id, "", &outreach.ErrState{From: "over"}, nil)
		return
	}
	refuse := func(status int, key string, args ...any) {
		w.showDistribution(rw, r, s, id, distributionShow{status: status, err: text(lang, key, args...)})
	}
	r.Body = http.MaxBytesReader(rw, r.Body, maxHouseholdsBody+maxForm)
	mr, err := r.MultipartReader()
	if err != nil {
		refuse(http.StatusBadRequest, "err_no_file")
		return
	}
	var (
		households []outreach.Household
		found      bool
	)
	for !found {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(http.StatusRequestEntityTooLarge, "err_file_too_large", maxHouseholdsBody>>20)
			return
		}
		if err != nil {
			refuse(http.StatusBadRequest, "bad_form")
			return
		}
		if part.FormName() != "households" {
			continue
		}
		if part.FileName() == "" {
			break // the form sent without a file chosen
		}
		found = true
		households, err = outreach.ParseHouseholds(part, 0)
		var ie *outreach.ImportError
		switch {
		case errors.As(err, &tooLarge):
			refuse(http.StatusRequestEntityTooLarge, "err_file_too_large", maxHouseholdsBody>>20)
			return
		case errors.As(err, &ie):
			w.showDistribution(rw, r, s, id, distributionShow{status: http.StatusBadRequest,
				err: text(lang, "import_refused", len(ie.Lines)), lines: ie.Lines})
			return
		case err != nil:
			refuse(http.StatusBadRequest, "err_file_unreadable")
			return
		}
	}
	if !found {
		refuse(http.StatusBadRequest, "err_no_file")
		return
	}
	res, err := w.Outreach.ImportHouseholds(ctx, id, households)
	if w.distributionError(rw, r, s, id, "import households", err, nil) {
		return
	}
	w.log().Info("console: households imported", "distribution", id, "rows", res.Rows, "added", res.Added, "user", s.user.ID)
	http.Redirect(rw, r, fmt.Sprintf("/distributions/%d?done=imported&added=%d", id, res.Added), http.StatusSeeOther)
}

// distributionChange changes a distribution's time, place, items, what to bring or
// reminders: its households are told what changed.
func (w *Web) distributionChange(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	id, ok := pathID(r)
	if !ok {
		w.outreachNotFound(rw, r, s, "distribution_not_found")
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		w.showDistribution(rw, r, s, id, distributionShow{status: http.StatusBadRequest, err: text(lang, "bad_form")})
		return
	}
	df := distributionFormOf(r.PostForm)
	d, err := store.DistributionByID(r.Context(), w.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		err = outreach.ErrNoDistribution
	}
	if w.distributionError(rw, r, s, id, "read a distribution", err, nil) {
		return
	}
	ch := outreach.DistributionChange{Place: &df.Place, Items: &df.Items, Bring: &df.Bring}
	switch at, ok := w.parseLocal(df.StartsAt); {
	case strings.TrimSpace(df.StartsAt) == "":
		err = &formRefusal{"starts_at", "err_required"}
	case !ok:
		err = &formRefusal{"starts_at", "err_bad_time"}
	default:
		// The field shows the time to the minute: the same minute is no change to tell of.
		if df.StartsAt != w.localInput(d.StartsAt) {
			ch.StartsAt = &at
		}
		ch.Reminders, err = reminderHours(df.Reminders)
	}
	if err == nil {
		err = w.Outreach.ChangeDistribution(r.Context(), id, ch)
	}
	if w.distributionError(rw, r, s, id, "change a distribution", err, &df) {
		return
	}
	w.log().Info("console: distribution changed", "distribution", id, "user", s.user.ID)
	http.Redirect(rw, r, fmt.Sprintf("/distributions/%d?done=changed", id), http.StatusSeeOther)
}

// distributionCancel cancels a distribution: alerts not yet sent are stopped, and its
// households are told.
func (w *Web) distributionCancel(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	id, ok := pathID(r)
	if !ok {
		w.outreachNotFound(rw, r, s, "distribution_not_found")
		return
	}
	if w.distributionError(rw, r, s, id, "cancel a distribution", w.Outreach.CancelDistribution(r.Context(), id), nil) {
		return
	}
	w.log().Info("console: distribution cancelled", "distribution", id, "user", s.user.ID)
	http.Redirect(rw, r, fmt.Sprintf("/distributions/%d?done=cancelled", id), http.StatusSeeOther)
}
