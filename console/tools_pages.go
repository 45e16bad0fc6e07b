package console

import (
	"context"
	"net/http"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/gateway"
)

// Simulator is what the simulator page talks to: the gateway, which receives a message as
// from a channel and, for an Inline one, returns the replies instead of sending them; and
// records a person's language before their first message, as `sawt chat --lang` does.
type Simulator interface {
	Receive(ctx context.Context, in channels.Inbound) (channels.Result, error)
	SetLanguage(ctx context.Context, urn channels.URN, lang string) error
}

var _ Simulator = (*gateway.Gateway)(nil)

// toolPages are the case list export, the simulator and the recordings.
func (w *Web) toolPages() []Route {
	return []Route{
		{Method: http.MethodGet, Pattern: "/cases/export.csv", Roles: []string{RoleViewer, RoleAdmin, RoleCaseworker, RoleCWC},
			Handler: w.exportCases},
		{Method: http.MethodGet, Pattern: "/simulator", Roles: []string{RoleAdmin, RoleCaseworker, RoleCWC}, Nav: "nav_simulator",
			Handler: w.simulatorPage},
		{Method: http.MethodPost, Pattern: "/simulator", Roles: []string{RoleAdmin, RoleCaseworker, RoleCWC}, Handler: w.simulate},
		{Method: http.MethodGet, Pattern: "/cases/{id}/recordings/{n}", Roles: []string{RoleCaseworker}, Handler: w.caseRecordingAudio},
	}
}

// toolRoutes adds the API of the tool pages to mux, with the pages' roles.
func (a *API) toolRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/cases/export.csv", a.Auth.Require(RoleViewer, RoleAdmin, RoleCaseworker, RoleCWC)(http.HandlerFunc(a.exportCases)))
	mux.Handle("POST /api/v1/simulator", a.Auth.Require(RoleAdmin, RoleCaseworker, RoleCWC)(http.HandlerFunc(a.simulate)))
	mux.Handle("GET /api/v1/cases/{id}/recordings/{n}", a.Auth.Require(RoleCaseworker)(http.HandlerFunc(a.caseRecordingAudio)))
}
