package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// queuePage is how many cases the queue shows at a time, and queueMaxPage the last page it
// goes to.
const (
	queuePage    = 50
	queueMaxPage = 10000
)

// The values the queue's filters offer.
var (
	queueCategories = []string{cases.CategoryFeedback, cases.CategoryInformationRequest, cases.CategoryAssistanceRequest,
		cases.CategoryMinorDissatisfaction, cases.CategoryMajorDissatisfaction, cases.CategoryMisconductFraud,
		cases.CategorySafetySecurity, cases.CategoryOutOfScope, cases.CategoryOther}
	queueChannels     = []string{"sms", "telegram", "voice"}
	queueLanguages    = locales.Languages
	queueGovernorates = []string{"ninewa", "duhok", "erbil", "sulaymaniyah", "kirkuk", "anbar", "baghdad", "basra", "other"}
)

// option is one choice of a filter.
type option struct {
	Value, Text string
	Selected    bool
}

// filterField is one filter of the queue: its parameter and its options.
type filterField struct {
	Name, Label string
	Options     []option
}

// queueRow is a case as the queue page shows it.
type queueRow struct {
	store.QueueRow
	Display                                  string // the reference in groups of four
	Category, Priority, Status               string
	Channel, Language, Governorate, DueLocal string
}

// queueData is the queue page.
type queueData struct {
	Filters              []filterField
	Site, Reference      string
	Overdue              bool
	Rows                 []queueRow
	Page                 int
	PrevHref, NextHref   string
	AnyText, OverdueText string
	// ExportHref downloads the list shown, all its pages, as CSV.
	ExportHref string
}

// queueChoice is a filter of the queue that takes a value from a list: its parameter, the
// prefix of its values' names in texts, the value asked for ("": any) and those it may take.
type queueChoice struct {
	name, kind, value string
	values            []string
}

// queueFilterOf reads the queue's filters from a query (the queue page's, the API's): the
// filter, and those of a value from a list, to offer them. A value not on its list is
// refused (a *refusal, 400, naming the parameter).
func queueFilterOf(q url.Values) (store.QueueFilter, []queueChoice, error) {
	f := store.QueueFilter{
		Category: q.Get("category"), Status: q.Get("status"), Channel: q.Get("channel"), Language: q.Get("language"),
		Governorate: q.Get("governorate"), Site: strings.TrimSpace(q.Get("site")), Overdue: q.Get("overdue") == "1",
		Reference: referenceDigits(q.Get("reference")),
	}
	var statuses []string
	for _, st := range cases.Statuses() {
		statuses = append(statuses, string(st))
	}
	choices := []queueChoice{
		{"category", "category", f.Category, queueCategories}, {"status", "status", f.Status, statuses},
		{"channel", "channel", f.Channel, queueChannels}, {"language", "lang", f.Language, queueLanguages},
		{"governorate", "governorate", f.Governorate, queueGovernorates},
	}
	for _, ch := range choices {
		if ch.value != "" && !slices.Contains(ch.values, ch.value) {
			return f, nil, badValue(ch.name, ch.values, "bad_filter", ch.name+"="+ch.value)
		}
	}
	return f, choices, nil
}

// queuePageOf is the page of the queue a query asks for, from 1 to queueMaxPage.
func queuePageOf(q url.Values) int {
	n, _ := strconv.Atoi(q.Get("page"))
	return min(max(n, 1), queueMaxPage)
}

// queueFilters are the filters a query of the queue page gives (each once, those not empty),
// without its page.
func queueFilters(q url.Values) url.Values {
	v := url.Values{}
	for k, vals := range q {
		if k != "page" && len(vals) > 0 && vals[0] != "" {
			v.Set(k, vals[0])
		}
	}
	return v
}

// caseQueue is the caseworkers' queue: open cases, the most urgent first, with filters and a
// search by number. The filters are the page's query, so a filtered queue can be bookmarked.
func (w *Web) caseQueue(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	q := r.URL.Query()
	f, choices, err := queueFilterOf(q)
	var bad *refusal
	if errors.As(err, &bad) {
		w.render(rw, r, bad.status, "message", &page{Lang: lang, User: &s.user, Title: text(lang, "cases_title"),
			Error: text(lang, bad.key, bad.args...)})
		return
	}
	d := &queueData{Site: f.Site, Reference: q.Get("reference"), Overdue: f.Overdue, AnyText: text(lang, "any"),
		OverdueText: text(lang, "overdue"), Page: queuePageOf(q), ExportHref: exportHref(q)}
	for _, ch := range choices {
		ff := filterField{Name: ch.name, Label: text(lang, "col_"+ch.name)}
		for _, v := range ch.values {
			ff.Options = append(ff.Options, option{Value: v, Text: text(lang, ch.kind+"."+v), Selected: v == ch.value})
		}
		d.Filters = append(d.Filters, ff)
	}
	rows, more, err := store.CaseQueue(r.Context(), w.Pool, f, w.now(), queuePage, (d.Page-1)*queuePage)
	if err != nil {
		w.serverError(rw, r, "read the case queue", err)
		return
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	for _, c := range rows {
		d.Rows = append(d.Rows, queueRow{QueueRow: c, Display: cases.Reference(c.Reference).Display(),
			Category: text(lang, "category."+c.Category), Priority: text(lang, "priority."+c.Priority),
			Status: text(lang, "status."+c.Status), Channel: text(lang, "channel."+c.Channel),
			Language: valueText(lang, "lang.", c.Language), Governorate: valueText(lang, "governorate.", c.Governorate),
			DueLocal: c.DueAt.In(loc).Format("2006-01-02 15:04")})
	}
	pageHref := func(n int) string {
		v := queueFilters(q)
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return "/cases"
		}
		return "/cases?" + v.Encode()
	}
	if d.Page > 1 {
		d.PrevHref = pageHref(d.Page - 1)
	}
	if more {
		d.NextHref = pageHref(d.Page + 1)
	}
	w.render(rw, r, http.StatusOK, "cases", &page{Lang: lang, User: &s.user, Title: text(lang, "cases_title"), Data: d})
}

// valueText names a value of a case in lang, or shows it as it is when it has no name.
func valueText(lang, prefix, code string) string {
	if code == "" {
		return ""
	}
	if t, ok := texts[lang][prefix+code]; ok {
		return t
	}
	return code
}

// referenceDigits reads a case number as typed (any digits, spaces): its digits.
func referenceDigits(s string) string {
	var b strings.Builder
	for _, r := range locales.Fold(s) {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
