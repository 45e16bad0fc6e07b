package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot"
	"github.com/sawt/sawt/channels"
)

var _ channels.Eraser = (*Channel)(nil)

// Erase implements channels.Eraser: deleteMessage for each message of the chat, ours and the
// person's (comma-joined IDs are split; empty, non-numeric and repeated ones are skipped), within
// the bot's overall rate.
//
// A message already deleted, or one Telegram no longer lets the bot delete (older than 48
// hours), is passed over. Throttling (429), a Telegram failure (5xx) or a network one stops at
// once with a retryable error: the job calls again, and what was deleted is then passed over. A
// 403 (the person blocked the bot) stops with an opted-out error, as nothing more can be
// deleted. Any other refusal of one message does not stop the others; the first is returned, as
// a permanent error.
func (c *Channel) Erase(ctx context.Context, urn channels.URN, ids []string) error {
	if urn.Scheme() != channels.SchemeTelegram {
		return channels.Permanent("", fmt.Errorf("not a Telegram address: %s", urn.Scheme()))
	}
	chatID, err := strconv.ParseInt(urn.Path(), 10, 64)
	if err != nil {
		return channels.Permanent("", fmt.Errorf("bad Telegram chat ID: %w", err))
	}
	var refused error
	for _, id := range messageIDs(ids) {
		if err := c.limits.all.Wait(ctx); err != nil {
			return channels.Retryable(fmt.Errorf("waiting for Telegram's rate: %w", err))
		}
		_, err := c.api.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: chatID, MessageID: id})
		if err == nil {
			continue
		}
		if reason := alreadyGone(err); reason != "" {
			c.log.Debug("telegram message not erased", "message", id, "reason", reason)
			continue
		}
		se := channels.AsSendError(c.classify(err))
		if se.Retryable || se.OptedOut {
			return se
		}
		if refused == nil {
			refused = se
		}
	}
	return refused
}

// messageIDs reads message IDs as Telegram's integers: comma-joined ones split, the rest skipped.
func messageIDs(ids []string) []int {
	var out []int
	seen := map[int]bool{}
	for _, joined := range ids {
		for _, s := range strings.Split(joined, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || id <= 0 || seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// alreadyGone tells a deleteMessage refusal that means there is nothing left to do: the message
// is already deleted (by the person, or by an earlier try), or too old for the bot to delete.
func alreadyGone(err error) string {
	if !errors.Is(err, bot.ErrorBadRequest) {
		return ""
	}
	desc := strings.ToLower(err.Error())
	switch {
	case strings.Contains(desc, "message to delete not found"):
		return "already deleted"
	case strings.Contains(desc, "message can't be deleted"):
		return "can no longer be deleted"
	}
	return ""
}
