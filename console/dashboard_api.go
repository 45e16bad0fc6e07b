package console

import (
	"net/http"
	"time"

	"github.com/sawt/sawt/store"
)

// dashboardJSON is the dashboard's figures as the API gives them: the same counts as the
// page, never a case.
type dashboardJSON struct {
	Open               int         `json:"open"`
	Overdue            int         `json:"overdue"`
	LastWeek           int         `json:"opened_last_7_days"`
	MedianAckHours     *float64    `json:"median_hours_to_acknowledge"`
	MedianResolveHours *float64    `json:"median_hours_to_resolve"`
	Satisfied          int         `json:"satisfied"`
	Unsatisfied        int         `json:"unsatisfied"`
	NotAnswered        int         `json:"satisfaction_not_answered"`
	ByCategory         []countJSON `json:"by_category"`
	ByChannel          []countJSON `json:"by_channel"`
	ByLanguage         []countJSON `json:"by_language"`
	ByGovernorate      []countJSON `json:"by_governorate"`
	ByWeek             []weekJSON  `json:"by_week"`
	Excludes           string      `json:"excludes"`
}

type countJSON struct {
	Code  string `json:"code"` // "" when not known
	Count int    `json:"count"`
}

type weekJSON struct {
	Start string `json:"week_start"` // a date, the Monday the week starts on
	Count int    `json:"count"`
}

func countsJSON(cs []store.CodeCount) []countJSON {
	out := make([]countJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, countJSON{Code: c.Code, Count: c.N})
	}
	return out
}

// getDashboard answers GET /api/v1/dashboard: what the dashboard page shows, for the same
// roles.
func (a *API) getDashboard(w http.ResponseWriter, r *http.Request) {
	loc := time.UTC
	if a.Outreach != nil && a.Outreach.Location != nil {
		loc = a.Outreach.Location
	}
	d, err := store.CaseDashboard(r.Context(), a.Auth.Pool, a.Auth.now(), loc)
	if err != nil {
		a.log().Error("api: read the dashboard", "error", err)
		WriteError(w, http.StatusInternalServerError, "the dashboard could not be read; try again")
		return
	}
	out := dashboardJSON{
		Open: d.Open, Overdue: d.Overdue, LastWeek: d.LastWeek,
		MedianAckHours: d.MedianAckHours, MedianResolveHours: d.MedianResolveHours,
		Satisfied: d.Satisfied, Unsatisfied: d.Unsatisfied, NotAnswered: d.NotAnswered,
		ByCategory: countsJSON(d.ByCategory), ByChannel: countsJSON(d.ByChannel),
		ByLanguage: countsJSON(d.ByLanguage), ByGovernorate: countsJSON(d.ByGovernorate),
		ByWeek:   make([]weekJSON, 0, len(d.ByWeek)),
		Excludes: "reports of sexual exploitation and abuse are not counted",
	}
	for _, wk := range d.ByWeek {
		out.ByWeek = append(out.ByWeek, weekJSON{Start: wk.Start.In(loc).Format(time.DateOnly), Count: wk.N})
	}
	WriteJSON(w, http.StatusOK, out)
}
