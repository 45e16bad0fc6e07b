package channeltest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// TelegramUser is the person an update comes from. In a private chat the chat's id is the
// user's id, as at Telegram.
type TelegramUser struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string // Telegram's language_code, e.g. "ar", "ku", "en"; may be empty
}

// The update builders return Update objects as JSON for TelegramAPI.QueueUpdates or a webhook
// request, with the real Bot API field names (they are built from github.com/go-telegram/bot's
// models). They carry no update_id: QueueUpdates assigns one. Message ids come from one counter
// for the whole test binary, and date is now.

var telegramUpdateMessageID atomic.Int64

func nextTelegramMessageID() int { return int(telegramUpdateMessageID.Add(1)) }

func (u TelegramUser) model() *models.User {
	return &models.User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, LanguageCode: u.LanguageCode}
}

func (u TelegramUser) privateChat() models.Chat {
	return models.Chat{ID: u.ID, Type: models.ChatTypePrivate, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username}
}

func privateMessage(from TelegramUser) *models.Message {
	return &models.Message{ID: nextTelegramMessageID(), From: from.model(), Chat: from.privateChat(), Date: int(time.Now().Unix())}
}

func telegramUpdate(kind string, v any) json.RawMessage {
	raw, err := json.Marshal(map[string]any{kind: v})
	if err != nil {
		panic(fmt.Sprintf("channeltest: marshalling a Telegram update: %v", err))
	}
	return raw
}

// TelegramTextUpdate is a text message from a person in their private chat with the bot.
func TelegramTextUpdate(from TelegramUser, text string) json.RawMessage {
	m := privateMessage(from)
	m.Text = text
	return telegramUpdate("message", m)
}

// TelegramStartUpdate is "/start", or "/start PAYLOAD" when payload is not empty (a deep link
// t.me/bot?start=PAYLOAD), with its bot_command entity.
func TelegramStartUpdate(from TelegramUser, payload string) json.RawMessage {
	m := privateMessage(from)
	m.Text = strings.TrimSpace("/start " + payload)
	m.Entities = []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: len("/start")}}
	return telegramUpdate("message", m)
}

// TelegramCallbackUpdate is a press on an inline button with callback data, on the bot's message
// messageID (with messageText) in the person's private chat.
func TelegramCallbackUpdate(from TelegramUser, messageID int, messageText, data string) json.RawMessage {
	m := &models.Message{
		ID:   messageID,
		From: &models.User{ID: 123456789, IsBot: true, FirstName: "Sawt", Username: "sawt_test_bot"},
		Chat: from.privateChat(),
		Date: int(time.Now().Add(-time.Minute).Unix()),
		Text: messageText,
	}
	q := &models.CallbackQuery{
		ID:           fmt.Sprintf("%d%06d", from.ID, nextTelegramMessageID()),
		From:         *from.model(),
		Message:      models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: m},
		ChatInstance: fmt.Sprintf("-%d", 7000000000000000000+from.ID),
		Data:         data,
	}
	return telegramUpdate("callback_query", q)
}

// TelegramVoiceUpdate is a voice note (audio/ogg) of duration seconds.
func TelegramVoiceUpdate(from TelegramUser, fileID string, duration int) json.RawMessage {
	m := privateMessage(from)
	m.Voice = &models.Voice{FileID: fileID, FileUniqueID: uniqueID(fileID), Duration: duration, MimeType: "audio/ogg", FileSize: int64(duration) * 2000}
	return telegramUpdate("message", m)
}

// TelegramPhotoUpdate is a photo in three sizes, smallest first as Telegram sends them: the
// largest has fileID, the others fileID+"_90" and fileID+"_320". caption may be empty.
func TelegramPhotoUpdate(from TelegramUser, fileID, caption string) json.RawMessage {
	m := privateMessage(from)
	m.Photo = []models.PhotoSize{
		{FileID: fileID + "_90", FileUniqueID: uniqueID(fileID + "_90"), Width: 90, Height: 67, FileSize: 1200},
		{FileID: fileID + "_320", FileUniqueID: uniqueID(fileID + "_320"), Width: 320, Height: 240, FileSize: 15800},
		{FileID: fileID, FileUniqueID: uniqueID(fileID), Width: 1280, Height: 960, FileSize: 98000},
	}
	m.Caption = caption
	return telegramUpdate("message", m)
}

// TelegramDocumentUpdate is a file sent as a document. caption may be empty.
func TelegramDocumentUpdate(from TelegramUser, fileID, fileName, mimeType, caption string) json.RawMessage {
	m := privateMessage(from)
	m.Document = &models.Document{FileID: fileID, FileUniqueID: uniqueID(fileID), FileName: fileName, MimeType: mimeType, FileSize: 24000}
	m.Caption = caption
	return telegramUpdate("message", m)
}

// TelegramContactUpdate is a shared contact. userID is the contact's Telegram user: from.ID when
// the person shares their own number (the "share my phone" button), another id for someone
// else's, 0 for a contact not on Telegram.
func TelegramContactUpdate(from TelegramUser, phone string, userID int64) json.RawMessage {
	m := privateMessage(from)
	first := from.FirstName
	if userID != from.ID {
		first = "Contact"
	}
	m.Contact = &models.Contact{PhoneNumber: phone, FirstName: first, UserID: userID}
	return telegramUpdate("message", m)
}

// TelegramEditedUpdate is an edited_message: the person changed the text of their message
// messageID.
func TelegramEditedUpdate(from TelegramUser, messageID int, text string) json.RawMessage {
	m := privateMessage(from)
	m.ID = messageID
	m.EditDate = m.Date
	m.Date -= 60
	m.Text = text
	return telegramUpdate("edited_message", m)
}

// TelegramChannelPostUpdate is a post in a channel the bot is in (it has no from, only
// sender_chat).
func TelegramChannelPostUpdate(chatID int64, title, text string) json.RawMessage {
	chat := models.Chat{ID: chatID, Type: models.ChatTypeChannel, Title: title}
	m := &models.Message{ID: nextTelegramMessageID(), SenderChat: &chat, Chat: chat, Date: int(time.Now().Unix()), Text: text}
	return telegramUpdate("channel_post", m)
}

// TelegramGroupUpdate is a text message in a group (a supergroup when chatID is -100…).
func TelegramGroupUpdate(chatID int64, title string, from TelegramUser, text string) json.RawMessage {
	typ := models.ChatTypeGroup
	if chatID <= -1000000000000 {
		typ = models.ChatTypeSupergroup
	}
	m := &models.Message{ID: nextTelegramMessageID(), From: from.model(), Chat: models.Chat{ID: chatID, Type: typ, Title: title}, Date: int(time.Now().Unix()), Text: text}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		m.Entities = []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: len(utf16.Encode([]rune(cmd)))}}
	}
	return telegramUpdate("message", m)
}

func uniqueID(fileID string) string {
	h := uint32(2166136261)
	for i := 0; i < len(fileID); i++ {
		h = (h ^ uint32(fileID[i])) * 16777619
	}
	return fmt.Sprintf("AgAD%08x", h)
}
