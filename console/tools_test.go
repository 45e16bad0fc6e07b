package console_test

import "net/http"

// What the tool pages' routes answer those they let in (TestRouteRoleMatrix): the export of
// the queue, on an empty database; the simulator, of a console without a gateway; a recording
// of a case 1 that does not exist.
func init() {
	for k, v := range map[string]int{
		"GET /cases/export.csv":          http.StatusOK,
		"GET /simulator":                 http.StatusServiceUnavailable,
		"POST /simulator":                http.StatusServiceUnavailable,
		"GET /cases/{id}/recordings/{n}": http.StatusNotFound,
	} {
		roleMatrixExpect[k] = v
	}
}
