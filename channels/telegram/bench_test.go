package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/telegram"
	"github.com/sawt/sawt/test/load"
)

// webhookCycle is what each benchmark chat sends, over and over, from the main menu.
var webhookCycle = []string{"4", "5", "3", "12345678", "0", "2", "Thank you for the winter kits", "0"}

// BenchmarkWebhook posts updates over loopback HTTP to the webhook, 32 chats at once: the
// handler, the pipeline and the database, as Telegram drives them. Replies are queued, not sent
// (the outbox is measured by BenchmarkSend).
//
//	go test ./channels/telegram/ -run '^$' -bench Webhook -benchtime 5000x
func BenchmarkWebhook(b *testing.B) {
	const chats = 32
	e := newEnv(b, nil)
	srv := httptest.NewServer(e.web)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: chats}}
	var ids atomic.Int64
	ids.Store(1_000_000)
	post := func(u json.RawMessage) error {
		var m map[string]any
		if err := json.Unmarshal(u, &m); err != nil {
			return err
		}
		m["update_id"] = ids.Add(1)
		body, _ := json.Marshal(m)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+telegram.WebhookPath, bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body) // drained, so the connection is kept alive as Telegram keeps it
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	users := make([]channeltest.TelegramUser, chats)
	for i := range users {
		users[i] = channeltest.TelegramUser{ID: int64(800000 + i), FirstName: "P", LanguageCode: "en"}
		for _, text := range []string{"hi", "4"} { // English, then resting at the main menu
			if err := post(channeltest.TelegramTextUpdate(users[i], text)); err != nil {
				b.Fatal(err)
			}
		}
	}
	load.Run(b, chats, "updates/s", func(c, i int) error {
		return post(channeltest.TelegramTextUpdate(users[c], webhookCycle[i%len(webhookCycle)]))
	})
}

// BenchmarkSend sends through the Telegram sender to the fake Bot API over loopback, with the
// rate limits lifted, 16 at once (the outbox's concurrency).
//
//	go test ./channels/telegram/ -run '^$' -bench Send -benchtime 5000x
func BenchmarkSend(b *testing.B) {
	e := newEnv(b, func(c *app.Config) { c.TelegramRate, c.TelegramChatRate = 1e6, 1e6 })
	const senders = 16
	load.Run(b, senders, "msgs/s", func(w, _ int) error {
		_, err := e.app.Telegram.Send(context.Background(), channels.Outbound{
			URN: channels.URN(fmt.Sprintf("telegram:%d", 900000+w)), Text: "كيف يمكننا مساعدتك؟ أرسل رقمًا.",
			Choices: []channels.Choice{{Number: "1", Label: "تقديم شكوى", Payload: "menu.main:1"}, {Number: "2", Label: "معلومات", Payload: "menu.main:4"}},
		})
		return err
	})
}
