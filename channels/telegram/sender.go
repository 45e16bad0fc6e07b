package telegram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/sawt/sawt/channels"
)

// maxText is the longest message text Telegram takes, in UTF-16 code units.
const maxText = 4096

// keyboard is an inline keyboard as the Bot API wants it. The client library's own button type
// always sends an empty copy_text object, which Telegram may refuse; ours sends only what is set.
type keyboard struct {
	InlineKeyboard [][]button `json:"inline_keyboard"`
}

type button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// Send implements channels.Sender: the text (split at a line or word boundary when longer than
// Telegram allows) with the options as buttons under its last part, one per row. No parse
// mode: nothing a person or a campaign writes is read as markup.
func (c *Channel) Send(ctx context.Context, msg channels.Outbound) (channels.SendResult, error) {
	if msg.URN.Scheme() != channels.SchemeTelegram {
		return channels.SendResult{}, channels.Permanent("", fmt.Errorf("not a Telegram address: %s", msg.URN.Scheme()))
	}
	chatID, err := strconv.ParseInt(msg.URN.Path(), 10, 64)
	if err != nil {
		return channels.SendResult{}, channels.Permanent("", fmt.Errorf("bad Telegram chat ID: %w", err))
	}
	var markup *keyboard
	if len(msg.Choices) > 0 {
		markup = &keyboard{}
		for _, ch := range msg.Choices {
			markup.InlineKeyboard = append(markup.InlineKeyboard, []button{{Text: ch.Label, CallbackData: ch.Payload}})
		}
	}
	parts := Split(msg.Text, maxText)
	var ids []string
	for i, part := range parts {
		var m *keyboard
		if i == len(parts)-1 {
			m = markup
		}
		id, err := c.sendText(ctx, chatID, part, m)
		if err != nil {
			return channels.SendResult{ProviderID: strings.Join(ids, ",")}, err
		}
		ids = append(ids, strconv.Itoa(id))
	}
	return channels.SendResult{ProviderID: strings.Join(ids, ","), Status: channels.StatusSent}, nil
}

// sendText sends one message under the rate limits.
func (c *Channel) sendText(ctx context.Context, chatID int64, text string, markup *keyboard) (int, error) {
	if err := c.limits.wait(ctx, chatID, c.cfg.MaxWait); err != nil {
		return 0, err
	}
	params := &bot.SendMessageParams{ChatID: chatID, Text: text}
	if markup != nil {
		params.ReplyMarkup = markup
	}
	m, err := c.api.SendMessage(ctx, params)
	if err != nil {
		return 0, c.classify(err)
	}
	return m.ID, nil
}

// classify turns a Bot API failure into a channels.SendError: 429 waits as long as Telegram
// says; 403 (blocked, deactivated, kicked) means the person opted out; other 4xx will not pass
// on another try; the rest (5xx, timeouts, connection errors, a wrong token) may.
func (c *Channel) classify(err error) error {
	var tooMany *bot.TooManyRequestsError
	var netErr net.Error
	red := c.redacted(err)
	switch {
	case errors.As(err, &tooMany):
		wait := time.Duration(tooMany.RetryAfter) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		return &channels.SendError{Retryable: true, RetryAfter: wait, Code: "429", Err: red}
	case errors.Is(err, bot.ErrorForbidden):
		return &channels.SendError{OptedOut: true, Code: "403", Err: red}
	case errors.Is(err, bot.ErrorBadRequest):
		return &channels.SendError{Code: "400", Err: red}
	case errors.Is(err, bot.ErrorUnauthorized), errors.Is(err, bot.ErrorNotFound):
		// A wrong or revoked token: the operator must fix it; until then messages wait.
		return &channels.SendError{Retryable: true, Code: "401", Err: red}
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		return &channels.SendError{Retryable: true, Err: red}
	}
	return &channels.SendError{Retryable: true, Err: red}
}

// Split cuts text into parts of at most max UTF-16 code units, at a line break where one is
// near the end of a part, else at a space, else anywhere (a single word longer than a part).
func Split(text string, max int) []string {
	var parts []string
	for utf16Len(text) > max {
		cut := cutPoint(text, max)
		parts = append(parts, strings.TrimRightFunc(text[:cut], unicode.IsSpace))
		text = strings.TrimLeftFunc(text[cut:], unicode.IsSpace)
	}
	if text != "" || len(parts) == 0 {
		parts = append(parts, text)
	}
	return parts
}

// cutPoint is the byte index where a part of at most max units should end.
func cutPoint(text string, max int) int {
	units, end, lastSpace, lastLine := 0, 0, -1, -1
	for i, r := range text {
		n := len(utf16.AppendRune(nil, r))
		if units+n > max {
			break
		}
		units += n
		end = i + len(string(r))
		switch {
		case r == '\n':
			lastLine = end
		case unicode.IsSpace(r):
			lastSpace = end
		}
	}
	switch {
	case lastLine > end/2: // a line break in the second half of the part
		return lastLine
	case lastSpace > 0:
		return lastSpace
	}
	return end
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
