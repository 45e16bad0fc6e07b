package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sawt/sawt/outreach"
)

// maxHouseholdsBody bounds a household list: 100,000 lines of a phone number, an ID, a
// language and a name fit well within it.
const maxHouseholdsBody = 16 << 20

// distributionRoutes adds the distribution API to mux, for the cwc and admin roles.
func (a *API) distributionRoutes(mux *http.ServeMux, cwc func(http.Handler) http.Handler) {
	mux.Handle("POST /api/v1/distributions", cwc(http.HandlerFunc(a.createDistribution)))
	mux.Handle("GET /api/v1/distributions/{id}", cwc(http.HandlerFunc(a.getDistribution)))
	mux.Handle("PATCH /api/v1/distributions/{id}", cwc(http.HandlerFunc(a.changeDistribution)))
	mux.Handle("POST /api/v1/distributions/{id}/cancel", cwc(http.HandlerFunc(a.cancelDistribution)))
	mux.Handle("POST /api/v1/distributions/{id}/households", cwc(http.HandlerFunc(a.importHouseholds)))
}

func (a *API) createDistribution(w http.ResponseWriter, r *http.Request) {
	var spec outreach.DistributionSpec
	if !decodeJSON(w, r, &spec) {
		return
	}
	caller, _ := CallerFrom(r.Context())
	id, err := a.Outreach.CreateDistribution(r.Context(), spec, "token:"+caller.Name)
	if a.distributionError(w, "create a distribution", id, err) {
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/distributions/%d", id))
	a.writeDistribution(w, r, id, http.StatusCreated)
}

func (a *API) distributionID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, http.StatusNotFound, "no distribution %q", r.PathValue("id"))
		return 0, false
	}
	return id, true
}

func (a *API) getDistribution(w http.ResponseWriter, r *http.Request) {
	if id, ok := a.distributionID(w, r); ok {
		a.writeDistribution(w, r, id, http.StatusOK)
	}
}

func (a *API) writeDistribution(w http.ResponseWriter, r *http.Request, id int64, code int) {
	st, err := a.Outreach.GetDistribution(r.Context(), id)
	if a.distributionError(w, "read a distribution", id, err) {
		return
	}
	WriteJSON(w, code, st)
}

func (a *API) changeDistribution(w http.ResponseWriter, r *http.Request) {
	id, ok := a.distributionID(w, r)
	if !ok {
		return
	}
	var ch outreach.DistributionChange
	if !decodeJSON(w, r, &ch) {
		return
	}
	if a.distributionError(w, "change a distribution", id, a.Outreach.ChangeDistribution(r.Context(), id, ch)) {
		return
	}
	a.writeDistribution(w, r, id, http.StatusOK)
}

func (a *API) cancelDistribution(w http.ResponseWriter, r *http.Request) {
	id, ok := a.distributionID(w, r)
	if !ok {
		return
	}
	if a.distributionError(w, "cancel a distribution", id, a.Outreach.CancelDistribution(r.Context(), id)) {
		return
	}
	a.writeDistribution(w, r, id, http.StatusOK)
}

// lineError is one bad line of a household list, as the API reports it.
type lineError struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (a *API) importHouseholds(w http.ResponseWriter, r *http.Request) {
	id, ok := a.distributionID(w, r)
	if !ok {
		return
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if ct != "" && !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "text/plain") &&
		!strings.HasPrefix(ct, "application/csv") && !strings.HasPrefix(ct, "application/octet-stream") {
		WriteError(w, http.StatusUnsupportedMediaType, "send the household list as CSV (Content-Type: text/csv), not %s", ct)
		return
	}
	households, err := outreach.ParseHouseholds(http.MaxBytesReader(w, r.Body, maxHouseholdsBody), 0)
	var (
		ie       *outreach.ImportError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		WriteError(w, http.StatusRequestEntityTooLarge, "the household list is larger than %d MB", maxHouseholdsBody>>20)
		return
	case errors.As(err, &ie):
		lines := make([]lineError, len(ie.Lines))
		for i, l := range ie.Lines {
			lines[i] = lineError{Line: l.Line, Column: l.Column, Message: l.Message}
		}
		WriteJSON(w, http.StatusBadRequest, struct {
			Error string      `json:"error"`
			Lines []lineError `json:"lines"`
		}{fmt.Sprintf("%d problems in the household list; nothing was imported", len(lines)), lines})
		return
	case err != nil:
		WriteError(w, http.StatusBadRequest, "could not read the household list: %v", err)
		return
	}
	res, err := a.Outreach.ImportHouseholds(r.Context(), id, households)
	if a.distributionError(w, "import households", id, err) {
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

// distributionError answers an error of the outreach service, if there is one.
func (a *API) distributionError(w http.ResponseWriter, what string, id int64, err error) bool {
	var (
		fe *outreach.FieldError
		se *outreach.ErrState
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &fe):
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: fe.Field, Error: fe.Error()})
	case errors.Is(err, outreach.ErrNoDistribution):
		WriteError(w, http.StatusNotFound, "no distribution %d", id)
	case errors.As(err, &se):
		WriteError(w, http.StatusConflict, "%v", se)
	default:
		a.serverError(w, what, err)
	}
	return true
}
