package console

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

// The API's side of what the campaign and distribution pages do besides making, reading
// and steering one (api.go, distributions.go): the lists, and the preview of a campaign.

// outreachListRoutes adds the lists of campaigns and distributions and the campaign preview
// to mux, for the cwc and admin roles.
func (a *API) outreachListRoutes(mux *http.ServeMux, cwc func(http.Handler) http.Handler) {
	mux.Handle("GET /api/v1/campaigns", cwc(http.HandlerFunc(a.listCampaigns)))
	mux.Handle("POST /api/v1/campaigns/preview", cwc(http.HandlerFunc(a.previewCampaign)))
	mux.Handle("GET /api/v1/distributions", cwc(http.HandlerFunc(a.listDistributions)))
}

// campaignItem is a campaign as the list shows it: the counts are those of its newest run.
type campaignItem struct {
	ID        int64             `json:"id"`
	Name      string            `json:"name"`
	Topic     string            `json:"topic,omitempty"`
	State     string            `json:"state"`
	Schedule  outreach.Schedule `json:"schedule"`
	NextRunAt *time.Time        `json:"next_run_at,omitempty"`
	CreatedBy string            `json:"created_by,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	Runs      int               `json:"runs"`
	Counts    store.RunCounts   `json:"counts"`
}

// listPageOf reads ?page= (from 1) for a list of the API, answering 400 itself when it is
// not a number of one.
func listPageOf(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > queueMaxPage {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: "page", Error: "page must be a number from 1 to 10000"})
		return 0, false
	}
	return n, true
}

// listCampaigns lists campaigns, the newest first, 50 a page (?page=), with the counts of
// each one's newest run; more says whether there is another page.
func (a *API) listCampaigns(w http.ResponseWriter, r *http.Request) {
	n, ok := listPageOf(w, r)
	if !ok {
		return
	}
	list, more, err := store.Campaigns(r.Context(), a.Outreach.Pool, outreachPage, (n-1)*outreachPage)
	if err != nil {
		a.serverError(w, "list the campaigns", err)
		return
	}
	items := []campaignItem{}
	for _, c := range list {
		it := campaignItem{ID: c.ID, Name: c.Name, Topic: c.Topic, State: c.State, NextRunAt: c.NextRunAt,
			CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, Runs: c.Runs, Counts: c.Counts}
		if c.Cron != "" {
			it.Schedule.Cron = c.Cron
		} else {
			it.Schedule.At = c.SendAt
		}
		items = append(items, it)
	}
	WriteJSON(w, http.StatusOK, struct {
		Campaigns []campaignItem `json:"campaigns"`
		Page      int            `json:"page"`
		More      bool           `json:"more"`
	}{items, n, more})
}

// campaignPreview is a campaign's preview as the API answers it.
type campaignPreview struct {
	outreach.Preview
	// Texts are each text's SMS segments, by language.
	Texts map[string]smsText `json:"texts"`
	// Refusal is what creating the campaign as it is would refuse.
	Refusal *fieldError `json:"refusal,omitempty"`
}

// previewOf adds the SMS segments of each text to a preview.
func previewOf(p outreach.Preview) campaignPreview {
	out := campaignPreview{Preview: p, Texts: map[string]smsText{}}
	if out.Missing == nil {
		out.Missing = []outreach.MissingText{}
	}
	for lang, t := range p.Texts {
		out.Texts[lang] = smsOf(t)
	}
	if p.Refusal != nil {
		out.Refusal = &fieldError{Field: p.Refusal.Field, Error: p.Refusal.Error()}
	}
	return out
}

// previewCampaign answers what a campaign (the body of POST /api/v1/campaigns) would do if
// it started now: how many people it reaches, each text's SMS segments, the languages
// without a text and what their readers get, and what creating it would refuse. Nothing is
// stored. An audience that cannot be counted is refused with 400.
func (a *API) previewCampaign(w http.ResponseWriter, r *http.Request) {
	var spec outreach.Spec
	if !decodeJSON(w, r, &spec) {
		return
	}
	p, err := a.Outreach.Preview(r.Context(), spec)
	var fe *outreach.FieldError
	if errors.As(err, &fe) {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: fe.Field, Error: fe.Error()})
		return
	}
	if err != nil {
		a.serverError(w, "preview a campaign", err)
		return
	}
	WriteJSON(w, http.StatusOK, previewOf(p))
}

// listDistributions lists distributions, the latest first, 50 a page (?page=), with their
// households.
func (a *API) listDistributions(w http.ResponseWriter, r *http.Request) {
	n, ok := listPageOf(w, r)
	if !ok {
		return
	}
	list, more, err := store.Distributions(r.Context(), a.Outreach.Pool, outreachPage, (n-1)*outreachPage)
	if err != nil {
		a.serverError(w, "list the distributions", err)
		return
	}
	items := []outreach.DistributionSummary{}
	for _, d := range list {
		items = append(items, outreach.SummaryOf(d.Distribution, d.Households))
	}
	WriteJSON(w, http.StatusOK, struct {
		Distributions []outreach.DistributionSummary `json:"distributions"`
		Page          int                            `json:"page"`
		More          bool                           `json:"more"`
	}{items, n, more})
}
