package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/sawt/sawt/channels"
)

// noopData is the callback data of the "✓ chosen option" button left on an answered menu:
// pressing it again does nothing.
const noopData = "-"

// action is what an update asks of us.
type action struct {
	inbound  *channels.Inbound
	callback *models.CallbackQuery // acknowledged once the update is stored
	group    int64                 // a group chat to tell, once, that we answer only in private
	ignore   string                // why nothing is done, for the log
}

// parse reads an update. Only private chats reach the pipeline; edits, channel posts and
// update types we do not handle are ignored.
func parse(u *models.Update) action {
	switch {
	case u.Message != nil:
		return parseMessage(u.ID, u.Message)
	case u.CallbackQuery != nil:
		return parseCallback(u.ID, u.CallbackQuery)
	case u.EditedMessage != nil:
		return action{ignore: "edited message"}
	case u.ChannelPost != nil:
		return action{ignore: "channel post"}
	}
	return action{ignore: "update type not handled"}
}

func parseMessage(updateID int64, m *models.Message) action {
	switch m.Chat.Type {
	case models.ChatTypePrivate:
	case models.ChatTypeGroup, models.ChatTypeSupergroup:
		return action{group: m.Chat.ID}
	default:
		return action{ignore: "not a private chat"}
	}
	if m.From == nil || m.From.IsBot {
		return action{ignore: "not from a person"}
	}
	in, err := inbound(updateID, m.Chat.ID, m.From, time.Unix(int64(m.Date), 0))
	if err != nil {
		return action{ignore: err.Error()}
	}
	in.MessageID = strconv.Itoa(m.ID) // kept so that the message can be erased later
	in.Text = m.Text
	switch {
	case m.Text != "":
		switch cmd, arg := command(m); cmd {
		case "start":
			// "Start" (or a deep link from a poster: /start <payload>) begins again at the menu.
			in.Text, in.Payload, in.Source = "", channels.MenuPayload, arg
		case "menu":
			in.Text, in.Payload = "", channels.MenuPayload
		}
	case m.Contact != nil:
		// Only one's own number is taken, and kept only if the person then agrees; someone
		// else's contact card is not kept at all.
		if m.Contact.UserID == m.From.ID {
			in.SharedPhone = m.Contact.PhoneNumber
		}
	case m.Voice != nil:
		in.Text, in.Media = m.Caption, []channels.Media{{Type: "audio", ID: m.Voice.FileID}}
	case m.Audio != nil:
		in.Text, in.Media = m.Caption, []channels.Media{{Type: "audio", ID: m.Audio.FileID}}
	case m.VideoNote != nil:
		in.Media = []channels.Media{{Type: "video", ID: m.VideoNote.FileID}}
	case m.Video != nil:
		in.Text, in.Media = m.Caption, []channels.Media{{Type: "video", ID: m.Video.FileID}}
	case len(m.Photo) > 0:
		largest := m.Photo[len(m.Photo)-1] // sizes come smallest first
		in.Text, in.Media = m.Caption, []channels.Media{{Type: "image", ID: largest.FileID}}
	case m.Document != nil:
		in.Text, in.Media = m.Caption, []channels.Media{{Type: "document", ID: m.Document.FileID}}
	case m.Sticker != nil:
		in.Text = m.Sticker.Emoji // a reaction, not an answer
	}
	return action{inbound: &in}
}

func parseCallback(updateID int64, cq *models.CallbackQuery) action {
	chatID := cq.From.ID
	if msg := cq.Message.Message; msg != nil {
		if msg.Chat.Type != models.ChatTypePrivate {
			return action{ignore: "button in a group", callback: cq}
		}
		chatID = msg.Chat.ID
	}
	if cq.Data == noopData {
		return action{callback: cq}
	}
	in, err := inbound(updateID, chatID, &cq.From, time.Time{})
	if err != nil {
		return action{ignore: err.Error(), callback: cq}
	}
	in.Payload = cq.Data // no MessageID: a pressed button is no message of the person's
	return action{inbound: &in, callback: cq}
}

func inbound(updateID, chatID int64, from *models.User, at time.Time) (channels.Inbound, error) {
	urn, err := channels.NewTelegramURN(strconv.FormatInt(chatID, 10))
	if err != nil {
		return channels.Inbound{}, err
	}
	return channels.Inbound{
		Channel: channels.Telegram, ExternalID: strconv.FormatInt(updateID, 10), URN: urn,
		LanguageHint: from.LanguageCode, ReceivedAt: at,
	}, nil
}

// command reads a bot command at the start of a message ("/start abc" → "start", "abc").
func command(m *models.Message) (name, arg string) {
	if len(m.Entities) == 0 || m.Entities[0].Type != models.MessageEntityTypeBotCommand || m.Entities[0].Offset != 0 {
		return "", ""
	}
	word, rest, _ := strings.Cut(m.Text, " ")
	word, _, _ = strings.Cut(strings.TrimPrefix(word, "/"), "@") // /start@sawt_bot
	return strings.ToLower(word), strings.TrimSpace(rest)
}

// handle stores an update through the pipeline, or does what little else it asks. An error
// means it was not stored and must come again (webhook: 503; polling: not confirmed).
func (c *Channel) handle(ctx context.Context, u *models.Update) error {
	a := parse(u)
	switch {
	case a.group != 0:
		c.tellGroup(ctx, a.group)
		return nil
	case a.inbound == nil:
		if a.ignore != "" {
			c.log.Debug("telegram update ignored", "update", u.ID, "reason", a.ignore)
		}
		if a.callback != nil {
			c.acknowledge(a.callback, "")
		}
		return nil
	}
	res, err := c.cfg.Receiver.Receive(ctx, *a.inbound)
	if errors.Is(err, channels.ErrBadInbound) {
		c.log.Warn("telegram update refused", "update", u.ID, "err", err)
		return nil // no retry can fix it
	}
	if err != nil {
		return err
	}
	if a.callback != nil && !res.Duplicate { // a repeat was acknowledged the first time
		c.acknowledge(a.callback, a.callback.Data)
	}
	return nil
}

// tellGroup says once in a group that the bot answers only in private chats.
func (c *Channel) tellGroup(ctx context.Context, chatID int64) {
	if c.cfg.GroupNotice == "" {
		return
	}
	first, err := c.cfg.State.FirstTime(ctx, "group-notice:"+strconv.FormatInt(chatID, 10))
	if err != nil || !first {
		return
	}
	c.background("sendMessage (group notice)", func(ctx context.Context) error {
		_, err := c.sendText(ctx, chatID, c.cfg.GroupNotice, nil)
		return err
	})
}

// acknowledge answers a pressed button (so the app stops its spinner) and, for a real choice,
// replaces the message's buttons by one "✓ <chosen>" that does nothing: an old menu cannot be
// pressed again into a confusing state.
func (c *Channel) acknowledge(cq *models.CallbackQuery, data string) {
	c.background("answerCallbackQuery", func(ctx context.Context) error {
		_, err := c.api.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID})
		return err
	})
	msg := cq.Message.Message
	if data == "" || msg == nil {
		return
	}
	markup := keyboard{InlineKeyboard: [][]button{}}
	if label := pressedLabel(msg.ReplyMarkup, data); label != "" {
		markup.InlineKeyboard = [][]button{{{Text: "✓ " + label, CallbackData: noopData}}}
	}
	c.background("editMessageReplyMarkup", func(ctx context.Context) error {
		_, err := c.api.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: msg.Chat.ID, MessageID: msg.ID, ReplyMarkup: markup})
		return err
	})
}

func pressedLabel(markup *models.InlineKeyboardMarkup, data string) string {
	if markup == nil {
		return ""
	}
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == data {
				return b.Text
			}
		}
	}
	return ""
}
