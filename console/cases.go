package console

import (
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

// queuePage is how many cases the queue shows at a time.
const queuePage = 50

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
}

// caseQueue is the caseworkers' queue: open cases, the most urgent first, with filters and a
// search by number. The filters are the page's query, so a filtered queue can be bookmarked.
func (w *Web) caseQueue(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	q := r.URL.Query()
	f := store.QueueFilter{
		Category: q.Get("category"), Status: q.Get("status"), Channel: q.Get("channel"), Language: q.Get("language"),
		Governorate: q.Get("governorate"), Site: strings.TrimSpace(q.Get("site")), Overdue: q.Get("overdue") == "1",
		Reference: referenceDigits(q.Get("reference")),
	}
	var statuses []string
	for _, st := range cases.Statuses() {
		statuses = append(statuses, string(st))
	}
	fields := []struct {
		name, kind, value string
		values            []string
	}{
		{"category", "category", f.Category, queueCategories}, {"status", "status", f.Status, statuses},
		{"channel", "channel", f.Channel, queueChannels}, {"language", "lang", f.Language, queueLanguages},
		{"governorate", "governorate", f.Governorate, queueGovernorates},
	}
	d := &queueData{Site: f.Site, Reference: q.Get("reference"), Overdue: f.Overdue, AnyText: text(lang, "any"),
		OverdueText: text(lang, "overdue")}
	for _, fd := range fields {
		if fd.value != "" && !slices.Contains(fd.values, fd.value) {
			w.render(rw, r, http.StatusBadRequest, "message", &page{Lang: lang, User: &s.user, Title: text(lang, "cases_title"),
				Error: text(lang, "bad_filter", fd.name+"="+fd.value)})
			return
		}
		ff := filterField{Name: fd.name, Label: text(lang, "col_"+fd.name)}
		for _, v := range fd.values {
			ff.Options = append(ff.Options, option{Value: v, Text: text(lang, fd.kind+"."+v), Selected: v == fd.value})
		}
		d.Filters = append(d.Filters, ff)
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = min(max(d.Page, 1), 10000)
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
		v := url.Values{}
		for k, vals := range q {
			if k != "page" && len(vals) > 0 && vals[0] != "" {
				v.Set(k, vals[0])
			}
		}
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
