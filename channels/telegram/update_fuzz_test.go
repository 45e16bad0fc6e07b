package telegram

import (
	"encoding/json"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
)

// FuzzParseUpdate reads any body as the webhook and the poller do (JSON into an Update) and
// parses it: never a panic, and whatever reaches the pipeline is a private chat's message
// with a valid URN and the update's id.
func FuzzParseUpdate(f *testing.F) {
	amal := channeltest.TelegramUser{ID: 7001, FirstName: "أمل", LanguageCode: "ar"}
	for _, u := range []json.RawMessage{
		channeltest.TelegramTextUpdate(amal, "مرحبا"),
		channeltest.TelegramStartUpdate(amal, "poster-hasansham"),
		channeltest.TelegramCallbackUpdate(amal, 12, "اختر", "2"),
		channeltest.TelegramVoiceUpdate(amal, "AwACAgIAAx", 14),
		channeltest.TelegramPhotoUpdate(amal, "AgACAgIAAx", "الخيمة"),
		channeltest.TelegramDocumentUpdate(amal, "BQACAgIAAx", "a.pdf", "application/pdf", ""),
		channeltest.TelegramContactUpdate(amal, "+9647701234567", 7001),
		channeltest.TelegramEditedUpdate(amal, 3, "تعديل"),
		channeltest.TelegramChannelPostUpdate(-100123, "news", "hello"),
	} {
		var m map[string]any
		if err := json.Unmarshal(u, &m); err != nil {
			f.Fatal(err)
		}
		m["update_id"] = 1234
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte(`{"update_id":1,"message":{"chat":{"id":-5,"type":"group"},"text":"hi"}}`))
	f.Add([]byte(`{"update_id":2,"message":{"chat":{"id":5,"type":"private"},"text":"/start"}}`))
	f.Add([]byte(`{"update_id":3,"callback_query":{"id":"q","from":{"id":0},"data":"x"}}`))
	f.Add([]byte(`{"update_id":4,"message":{"chat":{"id":9223372036854775807,"type":"private"},"from":{"id":1},"photo":[]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var u models.Update
		if json.Unmarshal(body, &u) != nil {
			return
		}
		a := parse(&u)
		if a.inbound == nil {
			return
		}
		in := a.inbound
		if in.Channel != channels.Telegram {
			t.Fatalf("channel %q", in.Channel)
		}
		if _, err := channels.ParseURN(string(in.URN)); err != nil {
			t.Fatalf("URN %q: %v", in.URN, err)
		}
		if in.ExternalID == "" {
			t.Fatal("no external ID")
		}
		if u.Message != nil && u.Message.Chat.Type != models.ChatTypePrivate {
			t.Fatalf("a %q chat's message reached the pipeline", u.Message.Chat.Type)
		}
	})
}
