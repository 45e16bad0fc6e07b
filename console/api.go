package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/sawt/sawt/outreach"
)

// API is the JSON API under /api/v1, on the admin listener.
type API struct {
	// Auth checks each request's token. The case routes read and write cases on its pool, at
	// its clock.
	Auth     *Auth
	Outreach *outreach.Service
	// Cases writes to people about their cases (the gateway): the case routes' reply and
	// resolve need it, and answer 503 without it.
	Cases CaseActions
	// Simulator receives the simulator's messages as the live flows do (the gateway):
	// POST /api/v1/simulator answers 503 without it.
	Simulator Simulator
	Logger    *slog.Logger
}

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// Routes adds the API's routes to mux.
func (a *API) Routes(mux *http.ServeMux) {
	cwc := a.Auth.Require(RoleCWC, RoleAdmin)
	mux.Handle("POST /api/v1/campaigns", cwc(http.HandlerFunc(a.createCampaign)))
	mux.Handle("GET /api/v1/campaigns/{id}", cwc(http.HandlerFunc(a.getCampaign)))
	mux.Handle("POST /api/v1/campaigns/{id}/{action}", cwc(http.HandlerFunc(a.moveCampaign)))
	a.distributionRoutes(mux, cwc)
	a.outreachListRoutes(mux, cwc)
	a.caseRoutes(mux, a.Auth.Require(RoleCaseworker))
	mux.Handle("GET /api/v1/dashboard", a.Auth.Require(RoleViewer, RoleAdmin, RoleCaseworker, RoleCWC)(http.HandlerFunc(a.getDashboard)))
	a.toolRoutes(mux)
	a.seaRoutes(mux)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "no such API route: %s %s", r.Method, r.URL.Path)
	})
}

func (a *API) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// fieldError is a 400 that names the field at fault.
type fieldError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// decodeJSON reads a request body of one JSON object into v, refusing unknown fields, and
// answers 400/413/415 itself when it cannot.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		WriteError(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json), not %s", ct)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value in the body")
	} else if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("something after the JSON object")
		}
	}
	if err == nil {
		return true
	}
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		WriteError(w, http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", maxBody)
	case errors.As(err, &syntax):
		WriteError(w, http.StatusBadRequest, "bad JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typeErr):
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: typeErr.Field,
			Error: fmt.Sprintf("%s: expected %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)})
	case errors.Is(err, io.EOF):
		WriteError(w, http.StatusBadRequest, "the body is empty: send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: name, Error: fmt.Sprintf("unknown field %q", name)})
	default:
		WriteError(w, http.StatusBadRequest, "bad JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	return false
}

func (a *API) createCampaign(w http.ResponseWriter, r *http.Request) {
	var spec outreach.Spec
	if !decodeJSON(w, r, &spec) {
		return
	}
	caller, _ := CallerFrom(r.Context())
	id, err := a.Outreach.Create(r.Context(), spec, "token:"+caller.Name)
	var fe *outreach.FieldError
	if errors.As(err, &fe) {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: fe.Field, Error: fe.Error()})
		return
	}
	if err != nil {
		a.serverError(w, "create a campaign", err)
		return
	}
	st, err := a.Outreach.Get(r.Context(), id)
	if err != nil {
		a.serverError(w, "read a campaign", err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/campaigns/%d", id))
	WriteJSON(w, http.StatusCreated, st)
}

func (a *API) campaignID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, http.StatusNotFound, "no campaign %q", r.PathValue("id"))
		return 0, false
	}
	return id, true
}

func (a *API) getCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := a.campaignID(w, r)
	if !ok {
		return
	}
	st, err := a.Outreach.Get(r.Context(), id)
	if errors.Is(err, outreach.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "no campaign %d", id)
		return
	}
	if err != nil {
		a.serverError(w, "read a campaign", err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (a *API) moveCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := a.campaignID(w, r)
	if !ok {
		return
	}
	moves := map[string]func(*http.Request, int64) error{
		"pause":  func(r *http.Request, id int64) error { return a.Outreach.Pause(r.Context(), id) },
		"resume": func(r *http.Request, id int64) error { return a.Outreach.Resume(r.Context(), id) },
		"cancel": func(r *http.Request, id int64) error { return a.Outreach.Cancel(r.Context(), id) },
	}
	move := moves[r.PathValue("action")]
	if move == nil {
		WriteError(w, http.StatusNotFound, "no action %q: use pause, resume or cancel", r.PathValue("action"))
		return
	}
	err := move(r, id)
	var se *outreach.ErrState
	switch {
	case errors.Is(err, outreach.ErrNotFound):
		WriteError(w, http.StatusNotFound, "no campaign %d", id)
		return
	case errors.As(err, &se):
		WriteError(w, http.StatusConflict, "%v", se)
		return
	case err != nil:
		a.serverError(w, r.PathValue("action")+" a campaign", err)
		return
	}
	a.getCampaign(w, r)
}

func (a *API) serverError(w http.ResponseWriter, what string, err error) {
	a.log().Error("API: "+what, "err", err)
	WriteError(w, http.StatusServiceUnavailable, "could not %s now; try again", what)
}
