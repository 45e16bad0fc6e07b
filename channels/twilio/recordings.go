package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sawt/sawt/channels"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// maxRecording bounds a fetched recording: two minutes of MP3 is well under a megabyte.
const maxRecording = 32 << 20

// FetchRecording downloads a recording's audio as MP3, with the account's credentials.
func (c *Channel) FetchRecording(ctx context.Context, sid string) (audio []byte, contentType string, err error) {
	u := fmt.Sprintf("%s/2010-04-01/Accounts/%s/Recordings/%s.mp3", DefaultAPIURL, c.cfg.AccountSID, sid)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", channels.Retryable(fmt.Errorf("fetch recording %s: %w", sid, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, "", fmt.Errorf("recording %s: %w", sid, channels.ErrMediaGone)
	case resp.StatusCode != http.StatusOK:
		return nil, "", fmt.Errorf("fetch recording %s: HTTP %d", sid, resp.StatusCode)
	}
	audio, err = io.ReadAll(io.LimitReader(resp.Body, maxRecording+1))
	if err != nil {
		return nil, "", fmt.Errorf("fetch recording %s: %w", sid, err)
	}
	if len(audio) > maxRecording {
		return nil, "", fmt.Errorf("fetch recording %s: larger than %d MiB", sid, maxRecording>>20)
	}
	contentType = resp.Header.Get("Content-Type")
	if contentType == "" {
		contentType = "audio/mpeg"
	}
	return audio, contentType, nil
}

// DeleteRecording deletes a recording at Twilio once we keep it. One already gone is fine.
func (c *Channel) DeleteRecording(ctx context.Context, sid string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.rest.Api.DeleteRecording(sid, &api.DeleteRecordingParams{})
	var te *client.TwilioRestError
	if errors.As(err, &te) && te.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete recording %s at Twilio: %w", sid, err)
	}
	return nil
}
