package twilio_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/twilio"
	"github.com/sawt/sawt/test/load"
)

// webhookClient posts signed webhooks over loopback HTTP to a Sawt served by srv, as Twilio
// does through a proxy: signed for the public URL, received at another address.
type webhookClient struct {
	srv    *httptest.Server
	client *http.Client
}

func newWebhookClient(b *testing.B, e *env, conns int) *webhookClient {
	srv := httptest.NewServer(e.web)
	b.Cleanup(srv.Close)
	return &webhookClient{srv: srv, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}}
}

// post sends the webhook and returns the answer's body; anything but 200 is an error.
func (c *webhookClient) post(pathAndQuery string, params url.Values) (string, error) {
	req := channeltest.SignedForm(authToken, publicURL+pathAndQuery, params)
	u, err := url.Parse(c.srv.URL + pathAndQuery)
	if err != nil {
		return "", err
	}
	req.URL, req.Host = u, u.Host
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // drained, so the connection is kept alive as Twilio keeps it
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST %s: status %d %s", pathAndQuery, resp.StatusCode, body)
	}
	return string(body), nil
}

// voiceCycle is one call of a benchmark caller: the call starts (a new number: the language
// menu), Arabic, then Information from the main menu.
var voiceCycle = []string{"", "1", "4"}

// BenchmarkVoiceStep answers call steps over loopback HTTP, 16 callers at once: signature,
// pipeline, database and TwiML, each step as Twilio waits for it. p50-ms and p99-ms are the
// latency of one step, what a caller hears as silence after pressing a key.
//
//	go test ./channels/twilio/ -run '^$' -bench VoiceStep -benchtime 2000x
func BenchmarkVoiceStep(b *testing.B) {
	const callers = 16
	e := newEnv(b, nil)
	c := newWebhookClient(b, e, callers)
	type line struct {
		sid, from string
		calls     int
	}
	lines := make([]line, callers)
	load.Run(b, callers, "steps/s", func(w, i int) error {
		l := &lines[w]
		step := i % len(voiceCycle)
		if step == 0 {
			l.calls++
			l.sid, l.from = newSid("CA"), fmt.Sprintf("+96477%02d%06d", w, l.calls)
		}
		p := callParams(l.sid, l.from)
		path := twilio.VoicePath
		if step > 0 {
			p.Set("Digits", voiceCycle[step])
			path += fmt.Sprintf("?n=%d", step)
		}
		body, err := c.post(path, p)
		if err != nil {
			return err
		}
		if !strings.Contains(body, "<Gather") {
			return fmt.Errorf("step %d of caller %d: no menu in %s", step, w, body)
		}
		return nil
	})
}

// smsCycle is what each benchmark number sends, over and over, from the main menu.
var smsCycle = []string{"4", "5", "3", "12345678", "0", "2", "Thank you for the winter kits", "0"}

// BenchmarkSMSWebhook posts signed SMS webhooks over loopback HTTP from 64 numbers at once.
// Replies are queued, not sent (the outbox does not run).
//
//	go test ./channels/twilio/ -run '^$' -bench SMSWebhook -benchtime 5000x
func BenchmarkSMSWebhook(b *testing.B) {
	const numbers = 64
	e := newEnv(b, nil)
	c := newWebhookClient(b, e, numbers)
	from := make([]string, numbers)
	for i := range from {
		from[i] = fmt.Sprintf("+96475%08d", 100+i)
		for _, text := range []string{"hi", "4"} { // English, then resting at the main menu
			if _, err := c.post(twilio.SMSPath, smsParams(from[i], text)); err != nil {
				b.Fatal(err)
			}
		}
	}
	load.Run(b, numbers, "msgs/s", func(w, i int) error {
		_, err := c.post(twilio.SMSPath, smsParams(from[w], smsCycle[i%len(smsCycle)]))
		return err
	})
}
