package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sawt/sawt/channels/twilio"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

// The campaign and distribution pages (cwc and admin, the roles of the API's campaign and
// distribution routes). A campaign is written on a form that can be previewed before it is
// made: how many people it would reach now, each text's SMS segments, and what the readers
// of a language without a text get. Its page shows its texts, audience, schedule and the
// counts of its runs, reloaded by the browser while it sends, with the buttons that pause,
// resume or cancel it. The distribution pages are in distribution_pages.go. Every operation
// is the outreach service's, as the API's and the CLI's are, recorded as done by
// "staff:<email>".

// outreachPages are the campaign and distribution pages (cwc and admin, as the API).
func (w *Web) outreachPages() []Route {
	cwc := []string{RoleCWC, RoleAdmin}
	return []Route{
		{Method: http.MethodGet, Pattern: "/campaigns", Roles: cwc, Nav: "nav_campaigns", Handler: w.needsOutreach(w.campaignList)},
		{Method: http.MethodGet, Pattern: "/campaigns/new", Roles: cwc, Handler: w.needsOutreach(w.campaignNew)},
		{Method: http.MethodPost, Pattern: "/campaigns", Roles: cwc, Handler: w.needsOutreach(w.campaignCreate)},
		{Method: http.MethodPost, Pattern: "/campaigns/preview", Roles: cwc, Handler: w.needsOutreach(w.campaignPreview)},
		{Method: http.MethodGet, Pattern: "/campaigns/{id}", Roles: cwc, Handler: w.needsOutreach(w.campaignPage)},
		{Method: http.MethodPost, Pattern: "/campaigns/{id}/pause", Roles: cwc, Handler: w.needsOutreach(w.campaignMove("pause"))},
		{Method: http.MethodPost, Pattern: "/campaigns/{id}/resume", Roles: cwc, Handler: w.needsOutreach(w.campaignMove("resume"))},
		{Method: http.MethodPost, Pattern: "/campaigns/{id}/cancel", Roles: cwc, Handler: w.needsOutreach(w.campaignMove("cancel"))},
		{Method: http.MethodGet, Pattern: "/distributions", Roles: cwc, Nav: "nav_distributions", Handler: w.needsOutreach(w.distributionList)},
		{Method: http.MethodGet, Pattern: "/distributions/new", Roles: cwc, Handler: w.needsOutreach(w.distributionNew)},
		{Method: http.MethodPost, Pattern: "/distributions", Roles: cwc, Handler: w.needsOutreach(w.distributionCreate)},
		{Method: http.MethodGet, Pattern: "/distributions/{id}", Roles: cwc, Handler: w.needsOutreach(w.distributionPage)},
		{Method: http.MethodPost, Pattern: "/distributions/{id}/households", Roles: cwc, Handler: w.needsOutreach(w.distributionImport)},
		{Method: http.MethodPost, Pattern: "/distributions/{id}/change", Roles: cwc, Handler: w.needsOutreach(w.distributionChange)},
		{Method: http.MethodPost, Pattern: "/distributions/{id}/cancel", Roles: cwc, Handler: w.needsOutreach(w.distributionCancel)},
	}
}

func init() {
	for _, name := range []string{"campaigns", "campaign", "campaign_new", "distributions", "distribution", "distribution_new"} {
		pages[name] = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	moreCSS = append(moreCSS, outreachCSS)
}

// outreachCSS lays out the campaign and distribution pages: groups of boxes to tick, the
// preview, the counts.
const outreachCSS = `fieldset{border:1px solid #ccc;margin:1em 0;padding:.3em 1em .8em;max-width:40em;background:#fff}legend{font-weight:600;padding:0 .3em}
fieldset .check{display:inline-block;margin:.3em 0;margin-inline-end:1.2em}.field-error{color:#8a1111;font-weight:600;margin:.2em 0}
.preview{background:#fff;border:1px solid #ddd;border-inline-start:4px solid #17456b;padding:.3em 1em;max-width:40em}
.counts td{font-variant-numeric:tabular-nums}.row-actions form{display:inline-block;margin-inline-end:.8em}
input[type=file]{border:none;padding:0}.linelist{max-width:46em}.linelist li{margin:.2em 0}
`

// outreachPage is how many campaigns or distributions a list shows at a time.
const outreachPage = 50

// liveRefresh is how often, in seconds, a page showing a campaign that is sending asks the
// browser to load it again (the Refresh header, as a <meta http-equiv="refresh"> would):
// its counts are live without a script.
const liveRefresh = "15"

// needsOutreach answers 503 with a page saying so when the console has no outreach service
// to make and steer campaigns with; else it serves h.
func (w *Web) needsOutreach(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if w.Outreach == nil {
			w.log().Error("console: no outreach service (Web.Outreach) for the campaign and distribution pages")
			s, _ := sessionFrom(r.Context())
			lang := s.user.Language
			w.render(rw, r, http.StatusServiceUnavailable, "message", &page{Lang: lang, User: &s.user,
				Title: text(lang, "error_title"), Error: text(lang, "outreach_unavailable")})
			return
		}
		h(rw, r)
	}
}

// staffActor is who the outreach service records as having made a campaign or distribution
// from the console.
func staffActor(s session) string { return "staff:" + s.user.Email }

// listPage is the page of a list a query asks for, from 1 to queueMaxPage, and the offset
// of its first row.
func listPage(q url.Values) (int, int) {
	n := queuePageOf(q)
	return n, (n - 1) * outreachPage
}

// pageLinks are the links to the previous and next pages of a list at path.
func pageLinks(path string, n int, more bool) (prev, next string) {
	if n > 2 {
		prev = fmt.Sprintf("%s?page=%d", path, n-1)
	} else if n == 2 {
		prev = path
	}
	if more {
		next = fmt.Sprintf("%s?page=%d", path, n+1)
	}
	return prev, next
}

// smsText is a text as an SMS: how many segments it takes and in which encoding (GSM-7, or
// UCS-2 for Arabic script and anything else outside the GSM alphabet).
type smsText struct {
	Characters int    `json:"characters"`
	Segments   int    `json:"segments"`
	Encoding   string `json:"encoding"`
}

func smsOf(text string) smsText {
	n, ucs2 := twilio.Segments(text)
	enc := "GSM-7"
	if ucs2 {
		enc = "UCS-2"
	}
	return smsText{Characters: utf8.RuneCountInString(text), Segments: n, Encoding: enc}
}

// campaignForm is the campaign form as posted, kept to be shown again.
type campaignForm struct {
	Name, Topic              string
	Texts                    map[string]string
	Languages, Governorates  []string
	Channels, Topics         []string
	Sites, Households        string
	When, At, Cron           string
	AllowMissing, AllowLinks bool
}

// splitList reads a list typed in a box: values separated by commas or lines, trimmed.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == '،' }) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// localInputLayouts are how a browser's datetime-local field sends a time.
var localInputLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"}

// parseLocal reads a time from a datetime-local field, in the console's time zone.
func (w *Web) parseLocal(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range localInputLayouts {
		if t, err := time.ParseInLocation(layout, v, w.location()); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// localInput is a time as a datetime-local field shows it, in the console's time zone.
func (w *Web) localInput(t time.Time) string { return t.In(w.location()).Format("2006-01-02T15:04") }

// formRefusal is a value of a form refused before the outreach service sees it: the field,
// by its name in the API, and the key of the text saying why.
type formRefusal struct{ field, key string }

func (e *formRefusal) Error() string { return e.field + ": " + e.key }

// campaignFormOf reads the campaign form into the spec it asks for. A time that cannot be
// read is refused (a *formRefusal).
func (w *Web) campaignFormOf(f url.Values) (campaignForm, outreach.Spec, error) {
	cf := campaignForm{Name: f.Get("name"), Topic: f.Get("topic"), Texts: map[string]string{},
		Languages: f["language"], Governorates: f["governorate"], Channels: f["channel"], Topics: f["audience_topic"],
		Sites: f.Get("sites"), Households: f.Get("households"), When: f.Get("when"), At: f.Get("at"), Cron: f.Get("cron"),
		AllowMissing: f.Get("allow_missing") != "", AllowLinks: f.Get("allow_links") != ""}
	spec := outreach.Spec{Name: cf.Name, Topic: cf.Topic, Texts: map[string]string{}, AllowMissing: cf.AllowMissing,
		AllowLinks: cf.AllowLinks, Audience: outreach.Audience{Languages: cf.Languages, Governorates: cf.Governorates,
			Channels: cf.Channels, Topics: cf.Topics, Sites: splitList(cf.Sites), Households: splitList(cf.Households)}}
	for _, lang := range locales.Languages {
		t := strings.ReplaceAll(f.Get("text_"+lang), "\r\n", "\n")
		cf.Texts[lang] = t
		if strings.TrimSpace(t) != "" {
			spec.Texts[lang] = t
		}
	}
	switch cf.When {
	case "now":
		spec.Schedule.Now = true
	case "at":
		if strings.TrimSpace(cf.At) == "" {
			return cf, spec, &formRefusal{"schedule.at", "err_required"}
		}
		at, ok := w.parseLocal(cf.At)
		if !ok {
			return cf, spec, &formRefusal{"schedule.at", "err_bad_time"}
		}
		spec.Schedule.At = &at
	case "cron":
		if strings.TrimSpace(cf.Cron) == "" {
			return cf, spec, &formRefusal{"schedule.cron", "err_required"}
		}
		spec.Schedule.Cron = cf.Cron
	}
	return cf, spec, nil
}

// textField is the text of one language on the campaign form, with its SMS segments once
// previewed.
type textField struct {
	Lang, Tag, Name, Label, Dir, Value, Error string
	SMS                                       *smsText
}

// previewView is what the campaign form shows when previewed.
type previewView struct {
	Reached, Skipped, OptedOut int
	ByLanguage                 []langCount
	Missing                    []string
}

type langCount struct {
	Name string
	N    int
}

// campaignFormView is the new campaign page.
type campaignFormView struct {
	Form                               campaignForm
	Texts                              []textField
	Languages, Governorates, Channels  []option
	AudienceTopics, Topics             []option
	Errors                             map[string]string
	Preview                            *previewView
	Zone                               string
	WhenNow, WhenAt, WhenCron, Missing bool
}

// campaignNew is the empty campaign form.
func (w *Web) campaignNew(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	w.showCampaignForm(rw, r, s, http.StatusOK, campaignForm{Texts: map[string]string{}}, nil, nil, "")
}

// showCampaignForm answers with the campaign form as posted: a refusal of one of its fields,
// said at the field, or a preview.
func (w *Web) showCampaignForm(rw http.ResponseWriter, r *http.Request, s session, status int, cf campaignForm,
	refused error, pv *outreach.Preview, notice string) {
	lang := s.user.Language
	topics, err := store.TopicsOf(r.Context(), w.Pool, 0)
	if err != nil {
		w.serverError(rw, r, "read the topics", err)
		return
	}
	v := &campaignFormView{Form: cf, Errors: map[string]string{}, Zone: w.location().String(),
		WhenNow: cf.When == "now", WhenAt: cf.When == "at", WhenCron: cf.When == "cron"}
	for _, l := range locales.Languages {
		f := textField{Lang: l, Tag: locales.Tag(l).String(), Name: "text_" + l, Label: valueText(lang, "lang.", l), Dir: "rtl",
			Value: cf.Texts[l]}
		if !locales.RTL(l) {
			f.Dir = "ltr"
		}
		if pv != nil && pv.Texts[l] != "" {
			sms := smsOf(pv.Texts[l])
			f.SMS = &sms
		}
		v.Texts = append(v.Texts, f)
		v.Languages = append(v.Languages, option{Value: l, Text: valueText(lang, "lang.", l), Selected: slices.Contains(cf.Languages, l)})
	}
	for _, g := range queueGovernorates {
		v.Governorates = append(v.Governorates, option{Value: g, Text: valueText(lang, "governorate.", g), Selected: slices.Contains(cf.Governorates, g)})
	}
	for _, c := range outreach.BroadcastChannels {
		v.Channels = append(v.Channels, option{Value: c, Text: valueText(lang, "channel.", c), Selected: slices.Contains(cf.Channels, c)})
	}
	v.Topics = []option{{Value: "", Text: text(lang, "no_topic"), Selected: cf.Topic == ""}}
	for _, t := range topics {
		name := t.Names[lang]
		if name == "" {
			name = t.Code
		}
		v.Topics = append(v.Topics, option{Value: t.Code, Text: name, Selected: cf.Topic == t.Code})
		v.AudienceTopics = append(v.AudienceTopics, option{Value: t.Code, Text: name, Selected: slices.Contains(cf.Topics, t.Code)})
	}
	p := &page{Lang: lang, User: &s.user, Title: text(lang, "campaign_new_title"), Data: v, Notice: notice}
	if refused != nil {
		field, msg := w.refusalText(lang, refused, cf.Texts)
		v.Errors[field] = msg
		for i := range v.Texts {
			if field == "texts."+v.Texts[i].Lang {
				v.Texts[i].Error = msg
			}
		}
		if status >= 400 {
			p.Error = text(lang, "campaign_not_created")
		}
	}
	if pv != nil {
		pr := &previewView{Reached: pv.Audience.Reached, Skipped: pv.Audience.Skipped, OptedOut: pv.Audience.OptedOut}
		for _, l := range locales.Languages {
			if n := pv.Audience.ByLanguage[l]; n > 0 {
				pr.ByLanguage = append(pr.ByLanguage, langCount{Name: valueText(lang, "lang.", l), N: n})
			}
		}
		for _, m := range pv.Missing {
			if m.Fallback == "" {
				pr.Missing = append(pr.Missing, text(lang, "missing_none", valueText(lang, "lang.", m.Language)))
			} else {
				pr.Missing = append(pr.Missing, text(lang, "missing_fallback", valueText(lang, "lang.", m.Language),
					valueText(lang, "lang.", m.Fallback)))
			}
		}
		v.Preview = pr
		v.Missing = len(pr.Missing) > 0
	}
	w.render(rw, r, status, "campaign_new", p)
}

// campaignPreview shows the form again with what the campaign would do if it started now:
// the people its audience reaches, each text's SMS segments, and what the readers of a
// language without a text get. Nothing is stored. What creating it would refuse is said at
// its field.
func (w *Web) campaignPreview(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if !w.readForm(rw, r, s, "campaign_new_title") {
		return
	}
	cf, spec, refused := w.campaignFormOf(r.PostForm)
	pv, err := w.Outreach.Preview(r.Context(), spec)
	var fe *outreach.FieldError
	switch {
	case errors.As(err, &fe):
		w.showCampaignForm(rw, r, s, http.StatusBadRequest, cf, fe, nil, "")
		return
	case err != nil:
		w.serverError(rw, r, "preview a campaign", err)
		return
	}
	if refused == nil && pv.Refusal != nil {
		refused = pv.Refusal
	}
	w.showCampaignForm(rw, r, s, http.StatusOK, cf, refused, &pv, text(s.user.Language, "preview_notice"))
}

// campaignCreate makes the campaign and schedules its first run: 303 to its page. Refused,
// the form again with why, at the field.
func (w *Web) campaignCreate(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if !w.readForm(rw, r, s, "campaign_new_title") {
		return
	}
	cf, spec, refused := w.campaignFormOf(r.PostForm)
	if refused != nil {
		w.showCampaignForm(rw, r, s, http.StatusBadRequest, cf, refused, nil, "")
		return
	}
	id, err := w.Outreach.Create(r.Context(), spec, staffActor(s))
	var fe *outreach.FieldError
	switch {
	case errors.As(err, &fe):
		w.showCampaignForm(rw, r, s, http.StatusBadRequest, cf, fe, nil, "")
		return
	case err != nil:
		w.serverError(rw, r, "create a campaign", err)
		return
	}
	w.log().Info("console: campaign created", "campaign", id, "user", s.user.ID)
	http.Redirect(rw, r, fmt.Sprintf("/campaigns/%d?done=created", id), http.StatusSeeOther)
}

// linkInText finds the link a refusal of a text quotes; tooLongDetail the length of a
// detail of a distribution too long for a message, and the most that fits.
var (
	linkInText    = regexp.MustCompile(`contains a link \("(.*?)"\)`)
	tooLongDetail = regexp.MustCompile(`^has (\d+) characters; at most (\d+) fit`)
)

// refusalText says in lang why a field of a campaign or distribution form was refused, and
// which field (by its name in the API). The outreach service says it in English: the
// refusals a form meets most are said in lang, and any other is shown as the service says it.
// texts are the campaign's texts as typed, to name the languages without one.
func (w *Web) refusalText(lang string, err error, texts map[string]string) (field, msg string) {
	var fr *formRefusal
	if errors.As(err, &fr) {
		return fr.field, text(lang, fr.key)
	}
	var fe *outreach.FieldError
	if !errors.As(err, &fe) {
		return "", text(lang, "bad_form")
	}
	m := fe.Message
	switch {
	case m == "is required":
		return fe.Field, text(lang, "err_required")
	case strings.HasSuffix(m, "is in the past") || strings.Contains(m, "is in the past;"):
		return fe.Field, text(lang, "err_past")
	case strings.HasPrefix(m, "contains a link"):
		if sm := linkInText.FindStringSubmatch(m); sm != nil {
			return fe.Field, text(lang, "err_link", sm[1])
		}
		return fe.Field, text(lang, "err_link_alert")
	case fe.Field == "texts" && strings.HasPrefix(m, "no text in "):
		var names []string
		for _, l := range locales.Languages {
			if strings.TrimSpace(texts[l]) == "" {
				names = append(names, valueText(lang, "lang.", l))
			}
		}
		if len(names) == 0 {
			break
		}
		return fe.Field, text(lang, "err_missing_texts", strings.Join(names, text(lang, "list_sep")))
	case fe.Field == "texts" && (strings.HasPrefix(m, "every text is empty") || strings.HasPrefix(m, "at least one language")):
		return fe.Field, text(lang, "err_no_text")
	case fe.Field == "schedule":
		return fe.Field, text(lang, "err_schedule")
	case fe.Field == "announce_at" && m == "must be before starts_at":
		return fe.Field, text(lang, "err_announce_order")
	}
	if sm := tooLongDetail.FindStringSubmatch(m); sm != nil {
		return fe.Field, text(lang, "err_too_long_detail", sm[1], sm[2])
	}
	return fe.Field, text(lang, "err_as_said", m)
}

// campaignRow is a campaign as the list shows it.
type campaignRow struct {
	ID                                       int64
	Name, State, StateCode, Schedule, Next   string
	Targeted, Sent, Delivered, Failed, Queue int
	Runs                                     int
}

// sentCounts are a run's counts as the pages show them: sent is what the provider took
// (delivered or not since), failed what did not reach the person (refused, or reported
// undelivered), pending what waits to be sent.
func sentCounts(c store.RunCounts) (sent, failed, pending int) {
	return c.Sent + c.Delivered + c.Undelivered, c.Failed + c.Undelivered, c.Queued
}

// scheduleText says when a campaign runs, in lang.
func (w *Web) scheduleText(lang string, sendAt *time.Time, cron string) string {
	if cron != "" {
		return text(lang, "schedule_cron", cron)
	}
	if sendAt != nil {
		return text(lang, "schedule_once", w.localTime(*sendAt))
	}
	return ""
}

// campaignList is the list of campaigns, newest first, with the counts of each one's newest
// run; the browser reloads it while one sends.
func (w *Web) campaignList(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	n, offset := listPage(r.URL.Query())
	list, more, err := store.Campaigns(r.Context(), w.Pool, outreachPage, offset)
	if err != nil {
		w.serverError(rw, r, "list the campaigns", err)
		return
	}
	d := struct {
		Rows               []campaignRow
		PrevHref, NextHref string
	}{}
	live := false
	for _, c := range list {
		sent, failed, pending := sentCounts(c.Counts)
		row := campaignRow{ID: c.ID, Name: c.Name, StateCode: c.State, State: valueText(lang, "cstate.", c.State),
			Schedule: w.scheduleText(lang, c.SendAt, c.Cron), Runs: c.Runs,
			Targeted: c.Counts.Targeted, Sent: sent, Delivered: c.Counts.Delivered, Failed: failed, Queue: pending}
		if c.NextRunAt != nil && (c.State == store.CampaignScheduled || c.State == store.CampaignPaused) {
			row.Next = w.localTime(*c.NextRunAt)
		}
		live = live || c.State == store.CampaignRunning
		d.Rows = append(d.Rows, row)
	}
	d.PrevHref, d.NextHref = pageLinks("/campaigns", n, more)
	if live {
		rw.Header().Set("Refresh", liveRefresh)
	}
	w.render(rw, r, http.StatusOK, "campaigns", &page{Lang: lang, User: &s.user, Title: text(lang, "campaigns_title"), Data: d})
}

// campaignView is the page of one campaign.
type campaignView struct {
	ID                                int64
	Name, State, StateCode, Topic     string
	Schedule, Next, CreatedBy, Opened string
	Audience                          []detailView
	Texts                             []campaignText
	Runs                              []runView
	CanPause, CanResume, CanCancel    bool
	Live                              bool
}

type detailView struct{ Label, Value string }

// campaignText is one language's text on the campaign page: the text and its SMS segments,
// or, when it has none, what its readers get.
type campaignText struct {
	Label, Dir, Text, Missing string
	SMS                       smsText
}

// runView is one run and its counts.
type runView struct {
	Due, Started, Finished, State, Alert, Code                    string
	Targeted, Sent, Delivered, Failed, Pending, Skipped, OptedOut int
	Cancelled                                                     int
}

func (w *Web) runViewOf(lang string, r outreach.RunStatus) runView {
	sent, failed, pending := sentCounts(r.Counts)
	v := runView{Due: w.localTime(r.DueAt), Started: w.localTime(r.StartedAt), State: valueText(lang, "rstate.", r.State),
		Targeted: r.Counts.Targeted, Sent: sent, Delivered: r.Counts.Delivered, Failed: failed, Pending: pending,
		Skipped: r.Counts.Skipped, OptedOut: r.Counts.OptedOut, Cancelled: r.Counts.Cancelled}
	if r.FinishedAt != nil {
		v.Finished = w.localTime(*r.FinishedAt)
	}
	return v
}

// pathID is the campaign or distribution of the request's path, when it is a number.
func pathID(r *http.Request) (int64, bool) { return caseIDOf(r) }

// outreachNotFound answers 404 with the page saying there is no such campaign (key
// "campaign_not_found") or distribution.
func (w *Web) outreachNotFound(rw http.ResponseWriter, r *http.Request, s session, key string) {
	lang := s.user.Language
	w.render(rw, r, http.StatusNotFound, "message", &page{Lang: lang, User: &s.user,
		Title: text(lang, key+"_title"), Error: text(lang, key)})
}

// campaignPage shows a campaign, and what was just done to it (?done=).
func (w *Web) campaignPage(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	id, ok := pathID(r)
	if !ok {
		w.outreachNotFound(rw, r, s, "campaign_not_found")
		return
	}
	w.showCampaign(rw, r, s, id, http.StatusOK, "")
}

// showCampaign answers with a campaign's page, and an error said at its top.
func (w *Web) showCampaign(rw http.ResponseWriter, r *http.Request, s session, id int64, status int, errText string) {
	lang := s.user.Language
	st, err := w.Outreach.Get(r.Context(), id)
	if errors.Is(err, outreach.ErrNotFound) {
		w.outreachNotFound(rw, r, s, "campaign_not_found")
		return
	}
	if err != nil {
		w.serverError(rw, r, "read a campaign", err)
		return
	}
	v := &campaignView{ID: st.ID, Name: st.Name, StateCode: st.State, State: valueText(lang, "cstate.", st.State),
		Schedule: w.scheduleText(lang, st.Schedule.At, st.Schedule.Cron), CreatedBy: st.CreatedBy,
		Opened:    w.localTime(st.CreatedAt),
		CanPause:  st.State == store.CampaignScheduled || st.State == store.CampaignRunning,
		CanResume: st.State == store.CampaignPaused,
		CanCancel: st.State != store.CampaignCancelled && st.State != store.CampaignDone}
	if st.NextRunAt != nil && st.State != store.CampaignCancelled && st.State != store.CampaignDone {
		v.Next = w.localTime(*st.NextRunAt)
	}
	if st.Topic != "" {
		v.Topic = w.topicName(r.Context(), lang, st.Topic)
	}
	var a outreach.Audience
	if err := json.Unmarshal(st.Audience, &a); err != nil {
		w.serverError(rw, r, "read a campaign's audience", err)
		return
	}
	v.Audience = w.audienceDetails(r.Context(), lang, a)
	for _, l := range locales.Languages {
		t := campaignText{Label: valueText(lang, "lang.", l), Dir: "rtl", Text: st.Texts[l]}
		if !locales.RTL(l) {
			t.Dir = "ltr"
		}
		if t.Text != "" {
			t.SMS = smsOf(t.Text)
		} else if fb := outreach.ChooseLanguage(l, st.Texts); fb != "" {
			t.Missing = text(lang, "missing_fallback", t.Label, valueText(lang, "lang.", fb))
		} else {
			t.Missing = text(lang, "missing_none", t.Label)
		}
		v.Texts = append(v.Texts, t)
	}
	for _, run := range st.Runs {
		v.Runs = append(v.Runs, w.runViewOf(lang, run))
		v.Live = v.Live || run.State == store.RunSending
	}
	v.Live = v.Live || st.State == store.CampaignRunning
	if v.Live {
		// to the page itself, without what was just done (?done=) said again at each reload
		rw.Header().Set("Refresh", fmt.Sprintf("%s; url=/campaigns/%d", liveRefresh, id))
	}
	p := &page{Lang: lang, User: &s.user, Title: st.Name, Data: v, Error: errText}
	if status == http.StatusOK {
		switch d := r.URL.Query().Get("done"); d {
		case "created", "paused", "resumed", "cancelled":
			p.Message = text(lang, "campaign_done_"+d)
		}
	}
	w.render(rw, r, status, "campaign", p)
}

// topicName is a topic's name in lang, or its code.
func (w *Web) topicName(ctx context.Context, lang, code string) string {
	topics, err := store.TopicsOf(ctx, w.Pool, 0)
	if err == nil {
		for _, t := range topics {
			if t.Code == code && t.Names[lang] != "" {
				return t.Names[lang]
			}
		}
	}
	return code
}

// audienceDetails says who a campaign is for, condition by condition, in lang.
func (w *Web) audienceDetails(ctx context.Context, lang string, a outreach.Audience) []detailView {
	names := func(prefix string, codes []string) string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = valueText(lang, prefix, c)
		}
		return strings.Join(out, text(lang, "list_sep"))
	}
	var d []detailView
	add := func(key, value string) {
		if value != "" {
			d = append(d, detailView{Label: text(lang, key), Value: value})
		}
	}
	add("aud_languages", names("lang.", a.Languages))
	add("aud_governorates", names("governorate.", a.Governorates))
	add("aud_sites", strings.Join(a.Sites, text(lang, "list_sep")))
	add("aud_channels", names("channel.", a.Channels))
	if len(a.Topics) > 0 {
		topics := make([]string, len(a.Topics))
		for i, t := range a.Topics {
			topics[i] = w.topicName(ctx, lang, t)
		}
		add("aud_topics", strings.Join(topics, text(lang, "list_sep")))
	}
	add("aud_households", strings.Join(a.Households, text(lang, "list_sep")))
	if len(d) == 0 {
		d = append(d, detailView{Label: text(lang, "aud_who"), Value: text(lang, "aud_everyone")})
	}
	return d
}

// campaignMove pauses, resumes or cancels a campaign: 303 back to its page. A move its
// state does not allow (resuming a cancelled campaign) is refused with 409 and the page.
func (w *Web) campaignMove(verb string) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		s, _ := sessionFrom(r.Context())
		lang := s.user.Language
		id, ok := pathID(r)
		if !ok {
			w.outreachNotFound(rw, r, s, "campaign_not_found")
			return
		}
		move := map[string]func(context.Context, int64) error{
			"pause": w.Outreach.Pause, "resume": w.Outreach.Resume, "cancel": w.Outreach.Cancel}[verb]
		err := move(r.Context(), id)
		var se *outreach.ErrState
		switch {
		case errors.Is(err, outreach.ErrNotFound):
			w.outreachNotFound(rw, r, s, "campaign_not_found")
		case errors.As(err, &se):
			w.showCampaign(rw, r, s, id, http.StatusConflict, text(lang, "conflict_"+verb, valueText(lang, "cstate.", se.From)))
		case err != nil:
			w.serverError(rw, r, verb+" a campaign", err)
		default:
			w.log().Info("console: campaign "+verb, "campaign", id, "user", s.user.ID)
			done := map[string]string{"pause": "paused", "resume": "resumed", "cancel": "cancelled"}[verb]
			http.Redirect(rw, r, fmt.Sprintf("/campaigns/%d?done=%s", id, done), http.StatusSeeOther)
		}
	}
}

// readForm reads a posted form (at most maxForm), or answers 400 with a page titled by
// titleKey saying the form could not be read.
func (w *Web) readForm(rw http.ResponseWriter, r *http.Request, s session, titleKey string) bool {
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		lang := s.user.Language
		w.render(rw, r, http.StatusBadRequest, "message", &page{Lang: lang, User: &s.user, Title: text(lang, titleKey),
			Error: text(lang, "bad_form")})
		return false
	}
	return true
}
