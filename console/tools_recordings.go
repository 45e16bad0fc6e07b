package console

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sawt/sawt/store"
)

// A case's recordings, played on its page: the audio as it was fetched from the phone
// provider and kept in the database. A confidential recording (made in a report of sexual
// exploitation and abuse) belongs to its report, never to a case, and is never served here.

// errNotFetched says a recording is still at the phone provider: nothing to play yet.
var errNotFetched = errors.New("recording not downloaded yet")

// caseRecording is recording recID of a case caseworkers see, with its audio: store.ErrNotFound
// when there is no such case (or it is not for caseworkers), or no such recording of it that
// is not confidential; errNotFetched when it has no audio yet.
func caseRecording(ctx context.Context, db store.DB, caseID, recID int64) (store.Recording, error) {
	if _, err := caseFor(ctx, db, caseID); err != nil {
		return store.Recording{}, err
	}
	recs, err := store.RecordingsOfCase(ctx, db, caseID)
	if err != nil {
		return store.Recording{}, err
	}
	for _, rec := range recs {
		if rec.ID == recID {
			if len(rec.Audio) == 0 {
				return rec, errNotFetched
			}
			return rec, nil
		}
	}
	return store.Recording{}, store.ErrNotFound
}

// recordingIDOf is the recording of the request's path, when it is a number.
func recordingIDOf(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	return id, err == nil && id > 0
}

// serveAudio answers with a recording's audio, not to be kept by the browser or anything
// between. Ranges are served, as a browser's player asks for them to seek; no modification
// time is given, so that nothing is answered from a cache.
func serveAudio(rw http.ResponseWriter, r *http.Request, rec store.Recording) {
	h := rw.Header()
	ct := rec.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(rec.Audio))
}

// caseRecordingAudio serves a recording of a case to the case page's player; 404 with a page
// saying why when there is no such case or recording, or its audio is not downloaded yet.
func (w *Web) caseRecordingAudio(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	caseID, ok := caseIDOf(r)
	recID, ok2 := recordingIDOf(r)
	if !ok || !ok2 {
		w.caseNotFound(rw, r, s)
		return
	}
	rec, err := caseRecording(r.Context(), w.Pool, caseID, recID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.render(rw, r, http.StatusNotFound, "message", &page{Lang: lang, User: &s.user,
			Title: text(lang, "recording_not_found_title"), Error: text(lang, "recording_not_found")})
	case errors.Is(err, errNotFetched):
		w.render(rw, r, http.StatusNotFound, "message", &page{Lang: lang, User: &s.user,
			Title: text(lang, "recording_not_found_title"), Error: text(lang, "rec_pending_full")})
	case err != nil:
		w.serverError(rw, r, "read a recording", err)
	default:
		serveAudio(rw, r, rec)
	}
}

// caseRecordingAudio is GET /api/v1/cases/{id}/recordings/{n}: the audio, or 404 saying why.
func (a *API) caseRecordingAudio(w http.ResponseWriter, r *http.Request) {
	caseID, ok := caseIDOf(r)
	if !ok {
		WriteError(w, http.StatusNotFound, "no case %q", r.PathValue("id"))
		return
	}
	recID, ok := recordingIDOf(r)
	if !ok {
		WriteError(w, http.StatusNotFound, "no recording %q of case %d", r.PathValue("n"), caseID)
		return
	}
	rec, err := caseRecording(r.Context(), a.Auth.Pool, caseID, recID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		WriteError(w, http.StatusNotFound, "no recording %d of case %d", recID, caseID)
	case errors.Is(err, errNotFetched):
		WriteError(w, http.StatusNotFound, "recording %d of case %d is not downloaded from the phone provider yet", recID, caseID)
	case err != nil:
		a.serverError(w, "read a recording", err)
	default:
		serveAudio(w, r, rec)
	}
}
