package twilio

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sawt/sawt/channels"
)

// ServeStatus takes Twilio's reports: an SMS's delivery (MessageStatus), a finished recording
// (RecordingStatus) and the end of a call (CallStatus). A recording reported at
// StatusPath?confidential=1 (the callback of a confidential question) is confidential.
func (c *Channel) ServeStatus(w http.ResponseWriter, r *http.Request) {
	form, err := c.form(w, r)
	if err != nil {
		c.fail(w, err)
		return
	}
	switch {
	case form.Get("RecordingSid") != "" && form.Get("RecordingStatus") != "":
		err = c.recordingStatus(r, form)
	case form.Get("MessageSid") != "" && form.Get("MessageStatus") != "":
		err = c.messageStatus(r, form)
	case form.Get("CallSid") != "" && form.Get("CallStatus") != "":
		if callEnded(form.Get("CallStatus")) {
			err = c.hangup(r.Context(), form)
		}
	default:
		http.Error(w, "not a message, recording or call status report", http.StatusBadRequest)
		return
	}
	if err != nil {
		c.log.Error("twilio report not stored", "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Channel) messageStatus(r *http.Request, form url.Values) error {
	status, ok := deliveryStatus(form.Get("MessageStatus"))
	if !ok {
		return nil // receiving, received: not about our messages
	}
	err := c.cfg.Reports.Delivered(r.Context(), channels.DeliveryReport{
		ProviderID: form.Get("MessageSid"), Status: status, ErrorCode: form.Get("ErrorCode"),
	})
	if errors.Is(err, channels.ErrUnknownMessage) {
		c.log.Info("delivery report for a message we do not know", "sid", form.Get("MessageSid"))
		return nil
	}
	return err
}

// deliveryStatus maps Twilio's message states onto ours.
func deliveryStatus(s string) (channels.Status, bool) {
	switch s {
	case "accepted", "scheduled", "queued", "sending":
		return channels.StatusQueued, true
	case "sent":
		return channels.StatusSent, true
	case "delivered", "read":
		return channels.StatusDelivered, true
	case "undelivered":
		return channels.StatusUndelivered, true
	case "failed", "canceled":
		return channels.StatusFailed, true
	}
	return "", false
}

func (c *Channel) recordingStatus(r *http.Request, form url.Values) error {
	if form.Get("RecordingStatus") != "completed" {
		c.log.Warn("recording not completed at Twilio", "recording", form.Get("RecordingSid"), "status", form.Get("RecordingStatus"))
		return nil
	}
	duration, _ := strconv.Atoi(form.Get("RecordingDuration"))
	return c.cfg.Reports.RecordingReady(r.Context(), channels.RecordingReady{
		ProviderID: form.Get("RecordingSid"), CallID: form.Get("CallSid"), URL: form.Get("RecordingUrl"),
		DurationSeconds: duration,
		// Set by our own recordingStatusCallback URL, which the signature covers (form checked it).
		Confidential: r.URL.Query().Get(confidentialQuery) == "1",
	})
}

func callEnded(status string) bool {
	switch status {
	case "completed", "busy", "failed", "no-answer", "canceled":
		return true
	}
	return false
}
