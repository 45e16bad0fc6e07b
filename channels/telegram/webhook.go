package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-telegram/bot/models"
)

// maxBody caps an update's size; real updates are a few kilobytes.
const maxBody = 1 << 20

// ServeHTTP is the webhook: the secret checked in constant time (401), the body capped (413)
// and parsed (400), then the update stored through the pipeline before Telegram hears 200.
// A storage failure answers 503, and Telegram sends the update again; a repeated update_id
// is a no-op.
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if c.cfg.Secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.cfg.Secret)) != 1 {
		httpError(w, http.StatusUnauthorized, "wrong or missing secret token")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, "update larger than 1 MiB")
			return
		}
		httpError(w, http.StatusBadRequest, "could not read the body")
		return
	}
	var u models.Update
	if err := json.Unmarshal(body, &u); err != nil {
		httpError(w, http.StatusBadRequest, "malformed update JSON")
		return
	}
	if u.ID <= 0 {
		httpError(w, http.StatusBadRequest, "update has no update_id")
		return
	}
	if err := c.handle(r.Context(), &u); err != nil {
		c.log.Error("telegram update not stored; Telegram will send it again", "update", u.ID, "err", err)
		w.Header().Set("Retry-After", "5")
		httpError(w, http.StatusServiceUnavailable, "temporarily unavailable, try again")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
