package twilio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	"golang.org/x/time/rate"
)

// Twilio's own opt-out and opt-in keywords: Twilio acts on them itself (it stops delivering
// our messages after STOP), so they stop or resume our broadcasts too, whatever the
// conversation was doing. Newer accounts also say so in OptOutType.
var (
	optOutWords = map[string]bool{"stop": true, "stopall": true, "unsubscribe": true, "cancel": true, "end": true, "quit": true}
	optInWords  = map[string]bool{"start": true, "unstop": true}
)

// ServeSMS stores an incoming SMS through the pipeline before Twilio hears 200 (an empty
// TwiML answer: replies go through the outbox). A storage failure answers 503.
func (c *Channel) ServeSMS(w http.ResponseWriter, r *http.Request) {
	form, err := c.form(w, r)
	if err != nil {
		c.fail(w, err)
		return
	}
	sid, from := form.Get("MessageSid"), form.Get("From")
	if sid == "" || from == "" {
		http.Error(w, "missing MessageSid or From", http.StatusBadRequest)
		return
	}
	urn, err := channels.NewTelURN(from)
	if err != nil { // an alphanumeric sender (a network's own messages): nothing to answer
		c.log.Info("SMS from a sender that is not a phone number; not kept", "sid", sid)
		writeTwiML(w, []byte(emptyTwiML))
		return
	}
	in := channels.Inbound{Channel: channels.SMS, ExternalID: sid, URN: urn, Text: form.Get("Body")}
	in.Payload = optPayload(form.Get("OptOutType"), in.Text)
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	for i := range min(n, 10) {
		typ := form.Get(fmt.Sprintf("MediaContentType%d", i))
		kind, _, _ := strings.Cut(typ, "/")
		in.Media = append(in.Media, channels.Media{Type: mediaType(kind), URL: form.Get(fmt.Sprintf("MediaUrl%d", i))})
	}
	_, err = c.cfg.Receiver.Receive(r.Context(), in)
	switch {
	case errors.Is(err, channels.ErrBadInbound):
		c.log.Warn("SMS refused", "urn", urn.Masked(), "err", err)
		http.Error(w, "message refused: "+err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		c.log.Error("SMS not stored", "urn", urn.Masked(), "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	writeTwiML(w, []byte(emptyTwiML))
}

// optPayload turns Twilio's opt-out keywords into our stop and start. "YES" opts in at Twilio
// too, but here it is also an answer: it stays one.
func optPayload(optOutType, body string) string {
	word := strings.ToLower(strings.TrimSpace(body))
	switch {
	case strings.EqualFold(optOutType, "STOP") || optOutWords[word]:
		return channels.StopPayload
	case optInWords[word] || strings.EqualFold(optOutType, "START") && word != "yes":
		return channels.StartPayload
	}
	return ""
}

func mediaType(kind string) string {
	switch kind {
	case "image", "audio", "video":
		return kind
	}
	return "document"
}

// Send sends a reply as one SMS, or several when it is longer than MaxSegments segments.
func (c *Channel) Send(ctx context.Context, msg channels.Outbound) (channels.SendResult, error) {
	if c.cfg.From == "" {
		return channels.SendResult{}, channels.Permanent("config", errors.New("TWILIO_FROM is not set: no number to send SMS from"))
	}
	if msg.URN.Scheme() != channels.SchemeTel {
		return channels.SendResult{}, channels.Permanent("urn", fmt.Errorf("cannot send an SMS to %s", msg.URN.Masked()))
	}
	var res channels.SendResult
	parts := Split(msg.Text, c.cfg.MaxSegments)
	// The slots of every part are taken at once: a message held back by the rate is held back
	// whole, since a retry sends it again from its first part.
	slots, err := c.reserve(len(parts))
	if err != nil {
		return res, err
	}
	for i, body := range parts {
		if err := c.wait(ctx, slots[i]); err != nil {
			for j := len(slots) - 1; j >= i; j-- { // the latest first, so that each gives its slot back
				slots[j].Cancel()
			}
			if len(res.ProviderIDs) > 0 {
				c.log.Warn("long SMS cut short; it will be sent again whole", "urn", msg.URN.Masked())
			}
			return res, err
		}
		params := &api.CreateMessageParams{}
		params.SetTo(msg.URN.Path()).SetBody(body).SetStatusCallback(c.public + StatusPath)
		if strings.HasPrefix(c.cfg.From, "MG") {
			params.SetMessagingServiceSid(c.cfg.From)
		} else {
			params.SetFrom(c.cfg.From)
		}
		m, err := c.rest.Api.CreateMessage(params)
		if err != nil {
			return channels.SendResult{}, classify(err)
		}
		if m.Sid == nil {
			return channels.SendResult{}, channels.Retryable(errors.New("Twilio accepted the message without an ID"))
		}
		if res.ProviderID == "" {
			res.ProviderID = *m.Sid
		}
		res.ProviderIDs = append(res.ProviderIDs, *m.Sid)
	}
	res.Status = channels.StatusSent
	return res, nil
}

// reserve takes a slot of the sender's rate for each of n parts, or none and gives the message
// back for later when its first part would wait long (a broadcast queued behind). The wait
// between a message's own parts does not count.
func (c *Channel) reserve(n int) ([]*rate.Reservation, error) {
	now := time.Now()
	slots := make([]*rate.Reservation, n)
	for i := range slots {
		slots[i] = c.limiter.ReserveN(now, 1)
	}
	if n == 0 {
		return slots, nil
	}
	if delay := slots[0].DelayFrom(now); delay > c.cfg.MaxWait {
		for i := n - 1; i >= 0; i-- {
			slots[i].CancelAt(now)
		}
		return nil, &channels.SendError{Retryable: true, RetryAfter: delay, Code: "rate", Err: errors.New("held back to keep within the SMS rate")}
	}
	return slots, nil
}

// wait waits for a reserved slot.
func (c *Channel) wait(ctx context.Context, rsv *rate.Reservation) error {
	delay := rsv.Delay()
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return channels.Retryable(ctx.Err())
	}
}

// Twilio error codes with a meaning for the outbox.
const (
	codeUnsubscribed   = 21610 // the recipient replied STOP
	codeInvalidTo      = 21211
	codeNotMobile      = 21614
	codeTooManyRequest = 20429
)

// classify tells the outbox what a failed call means: opted out, permanent, or worth another try.
func classify(err error) error {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		code := strconv.Itoa(te.Code)
		e := fmt.Errorf("twilio %d (HTTP %d): %s", te.Code, te.Status, te.Message)
		switch {
		case te.Code == codeUnsubscribed:
			return &channels.SendError{OptedOut: true, Code: code, Err: e}
		case te.Code == codeInvalidTo || te.Code == codeNotMobile:
			return channels.Permanent(code, e)
		case te.Code == codeTooManyRequest || te.Status == http.StatusTooManyRequests:
			return &channels.SendError{Retryable: true, RetryAfter: 5 * time.Second, Code: code, Err: e}
		case te.Status >= 500 || te.Status == 0:
			return &channels.SendError{Retryable: true, Code: code, Err: e}
		}
		return channels.Permanent(code, e)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return channels.Retryable(fmt.Errorf("twilio unreachable: %w", err))
	}
	// A 5xx page or anything else unexpected: another try may pass.
	return channels.Retryable(err)
}
