package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Poll receives updates by long polling until ctx ends, for installations Telegram cannot
// reach. The offset lives in the database: an update is confirmed to Telegram only after it is
// stored, so a restart neither loses one nor handles one twice (a repeat is a no-op anyway).
// One process polls at a time; others wait. Failures (the database or Telegram away) are
// logged and retried: only the end of ctx ends Poll.
func (c *Channel) Poll(ctx context.Context) error {
	pause := backoff{}
	for ctx.Err() == nil {
		if err := c.poll(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("telegram polling stopped, starting again", "err", c.redact(err))
			pause.wait(ctx)
		}
	}
	return nil
}

func (c *Channel) poll(ctx context.Context) error {
	release, err := c.cfg.State.Lead(ctx)
	if err != nil {
		return err
	}
	defer release()
	c.log.Info("telegram: polling for updates")
	if err := c.retry(ctx, "deleteWebhook", func(ctx context.Context) error {
		_, err := c.api.DeleteWebhook(ctx, &bot.DeleteWebhookParams{})
		return err
	}); err != nil {
		return err
	}
	offset, err := c.cfg.State.Offset(ctx)
	if err != nil {
		return fmt.Errorf("read the polling offset: %w", err)
	}
	pause := backoff{}
	for ctx.Err() == nil {
		updates, err := c.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("telegram getUpdates failed", "err", c.redact(err))
			pause.wait(ctx)
			continue
		}
		next := offset
		for _, u := range updates {
			if err := c.handle(ctx, u); err != nil {
				c.log.Error("telegram update not stored; will fetch it again", "update", u.ID, "err", err)
				pause.wait(ctx)
				break
			}
			next = u.ID + 1
		}
		if next != offset {
			offset = next
			if err := c.cfg.State.SetOffset(ctx, offset); err != nil && ctx.Err() == nil {
				// Not fatal: what was handled is stored; a repeat after a restart is a no-op.
				c.log.Warn("telegram offset not saved", "err", err)
			}
			pause.reset()
		}
	}
	return nil
}

// apiResponse is the Bot API's envelope.
type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
}

// getUpdates is called directly: the client library polls only with an offset it keeps in
// memory.
func (c *Channel) getUpdates(ctx context.Context, offset int64) ([]*models.Update, error) {
	body, err := json.Marshal(map[string]any{
		"offset": offset, "timeout": int(pollTimeout / time.Second), "allowed_updates": AllowedUpdates,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.APIURL+"/bot"+c.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, c.redacted(err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: pollTimeout + c.cfg.Timeout}
	resp, err := client.Do(req)
	if err != nil {
		return nil, c.redacted(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, c.redacted(err)
	}
	var r apiResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d with a body that is not JSON", resp.StatusCode)
	}
	if !r.OK {
		return nil, fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	var updates []*models.Update
	if err := json.Unmarshal(r.Result, &updates); err != nil {
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	return updates, nil
}

// EnsureWebhook registers the webhook (with the secret and the update types we handle),
// retrying until it succeeds or ctx ends.
func (c *Channel) EnsureWebhook(ctx context.Context, url string) error {
	err := c.retry(ctx, "setWebhook", func(ctx context.Context) error {
		_, err := c.api.SetWebhook(ctx, &bot.SetWebhookParams{URL: url, SecretToken: c.cfg.Secret, AllowedUpdates: AllowedUpdates})
		return err
	})
	if err == nil {
		c.log.Info("telegram: webhook registered", "url", url)
	}
	return err
}

// retry calls f until it succeeds, waiting longer after each failure.
func (c *Channel) retry(ctx context.Context, what string, f func(ctx context.Context) error) error {
	pause := backoff{}
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.log.Warn("telegram call failed, will retry", "call", what, "err", c.redact(err))
		pause.wait(ctx)
	}
}

// backoff waits 1 s, 2 s, 4 s … up to a minute between failures.
type backoff struct{ d time.Duration }

func (b *backoff) wait(ctx context.Context) {
	b.d = min(max(2*b.d, time.Second), time.Minute)
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (b *backoff) reset() { b.d = 0 }
