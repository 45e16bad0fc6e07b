package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/telegram"
	"github.com/sawt/sawt/gateway"
)

func outbound(chat string, text string, choices ...channels.Choice) channels.Outbound {
	return channels.Outbound{Channel: channels.Telegram, URN: channels.URN("telegram:" + chat), Text: text, Choices: choices}
}

func TestSendButtonsWithoutMarkup(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.app.Telegram.Send(context.Background(), outbound("71001", "<b>Choose</b> *one*",
		channels.Choice{Number: "1", Label: "تقديم شكوى", Payload: "menu.main:1"},
		channels.Choice{Number: "2", Label: "Information", Payload: "menu.main:4"}))
	if err != nil {
		t.Fatal(err)
	}
	call := e.api.Calls("sendMessage")[0]
	if call.Params["text"] != "<b>Choose</b> *one*" || call.Params["chat_id"] != "71001" {
		t.Errorf("sent %v", call.Params)
	}
	if _, ok := call.Params["parse_mode"]; ok {
		t.Errorf("parse_mode sent: what people write must never be read as markup")
	}
	want := `{"inline_keyboard":[[{"text":"تقديم شكوى","callback_data":"menu.main:1"}],[{"text":"Information","callback_data":"menu.main:4"}]]}`
	if got := call.Params["reply_markup"]; got != want {
		t.Errorf("reply_markup\n got %s\nwant %s", got, want)
	}
	if res.ProviderID == "" || res.Status != channels.StatusSent {
		t.Errorf("result %+v: Telegram's message ID is recorded", res)
	}
}

func TestSendSplitsLongText(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.TelegramChatRate = 1000 })
	para := strings.Repeat("كلمة ", 500) // 2,500 characters
	text := para + "\n" + para + "\n" + para
	res, err := e.app.Telegram.Send(context.Background(), outbound("71001", text, channels.Choice{Number: "0", Label: "Menu", Payload: "menu"}))
	if err != nil {
		t.Fatal(err)
	}
	calls := e.api.Calls("sendMessage")
	if len(calls) != 3 || strings.Count(res.ProviderID, ",") != 2 {
		t.Fatalf("%d parts (ids %q), want 3", len(calls), res.ProviderID)
	}
	var joined []string
	for i, c := range calls {
		if _, has := c.Params["reply_markup"]; has != (i == 2) {
			t.Errorf("part %d has buttons: %v; only the last part should", i, has)
		}
		joined = append(joined, c.Params["text"])
	}
	if got, want := strings.Fields(strings.Join(joined, " ")), strings.Fields(text); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the parts do not add up to the text: %d words, want %d", len(got), len(want))
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		max        int
		want       []string
	}{
		{"short", "hello", 10, []string{"hello"}},
		{"empty", "", 10, []string{""}},
		{"at a line", "first line\nsecond line", 15, []string{"first line", "second line"}},
		{"at a word", "one two three four", 10, []string{"one two", "three four"}},
		{"a word longer than a part", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"astral characters count twice", "😀😀😀", 4, []string{"😀😀", "😀"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := telegram.Split(tc.text, tc.max)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Split(%q, %d) = %q, want %q", tc.text, tc.max, got, tc.want)
			}
			for _, p := range got {
				if n := len(utf16.Encode([]rune(p))); n > tc.max {
					t.Errorf("part %q is %d units long", p, n)
				}
			}
		})
	}
}

// TestSendErrors: each Bot API failure tells the outbox what to do, and never shows the token.
func TestSendErrors(t *testing.T) {
	for _, tc := range []struct {
		name                string
		fail                channeltest.Failure
		retryable, optedOut bool
		retryAfter          time.Duration
	}{
		{"429 waits as told", channeltest.Failure{Status: 429, RetryAfter: 7}, true, false, 7 * time.Second},
		{"403 blocked is an opt-out", channeltest.Failure{Status: 403}, false, true, 0},
		{"400 is permanent", channeltest.Failure{Status: 400, Description: "Bad Request: chat not found"}, false, false, 0},
		{"500 is retried", channeltest.Failure{Status: 500}, true, false, 0},
		{"a proxy's HTML page is retried", channeltest.Failure{Status: 502, NotJSON: true}, true, false, 0},
		{"401 (token revoked) waits for the operator", channeltest.Failure{Status: 401}, true, false, 0},
		{"a timeout is retried", channeltest.Failure{Delay: 3 * time.Second}, true, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *app.Config) { c.TelegramTimeout = time.Second })
			e.api.Fail("sendMessage", tc.fail)
			_, err := e.app.Telegram.Send(context.Background(), outbound("71001", "hello"))
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a SendError", err)
			}
			if se.Retryable != tc.retryable || se.OptedOut != tc.optedOut || se.RetryAfter != tc.retryAfter {
				t.Errorf("%+v, want retryable %v, opted out %v, retry after %s", se, tc.retryable, tc.optedOut, tc.retryAfter)
			}
			if strings.Contains(err.Error(), e.api.Token) || strings.Contains(err.Error(), strings.Split(e.api.Token, ":")[1]) {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}

// TestBlockedBotOptsOut runs the outbox worker: a 403 marks the person's Telegram address as
// opted out and the message failed, without retrying.
func TestBlockedBotOptsOut(t *testing.T) {
	e := newEnv(t, nil)
	e.send(t, channeltest.TelegramTextUpdate(amira, "hi"))
	e.api.Fail("sendMessage", channeltest.Failure{Status: 403})
	if err := e.work(t); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM urns WHERE urn = 'telegram:71001' AND opted_out_at IS NOT NULL`); n != 1 {
		t.Errorf("the blocked chat is not opted out")
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'failed' AND error LIKE '%403%'`); n != 1 {
		t.Errorf("the reply is not marked failed with the 403")
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("a second message to one chat waits", func(t *testing.T) {
		e := newEnv(t, func(c *app.Config) { c.TelegramChatRate = 2 }) // one every 500 ms
		start := time.Now()
		for range 3 {
			if _, err := e.app.Telegram.Send(context.Background(), outbound("71001", "hi")); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("three messages to one chat took %s, want about 1 s at 2 a second", d)
		}
	})
	t.Run("a long wait is given back to the outbox", func(t *testing.T) {
		e := newEnv(t, func(c *app.Config) { c.TelegramChatRate = 0.1 }) // one every 10 s
		if _, err := e.app.Telegram.Send(context.Background(), outbound("71001", "hi")); err != nil {
			t.Fatal(err)
		}
		_, err := e.app.Telegram.Send(context.Background(), outbound("71001", "again"))
		var se *channels.SendError
		if !errors.As(err, &se) || se.RetryAfter < 9*time.Second || !se.Retryable {
			t.Fatalf("err = %v, want a retry after about 10 s", err)
		}
		if n := len(e.api.Calls("sendMessage")); n != 1 {
			t.Errorf("%d messages reached Telegram, want 1", n)
		}
		if _, err := e.app.Telegram.Send(context.Background(), outbound("71002", "another chat")); err != nil {
			t.Errorf("another chat is not held back: %v", err)
		}
	})
}

// work runs the outbox's send job for what is queued, once, as a River worker would.
func (e *env) work(t *testing.T) error {
	t.Helper()
	var raw []byte
	if err := e.pool.QueryRow(context.Background(), `SELECT args FROM river_job ORDER BY id DESC LIMIT 1`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var args gateway.SendArgs
	if err := json.Unmarshal(raw, &args); err != nil {
		t.Fatal(err)
	}
	w := &gateway.SendWorker{Pool: e.pool, Senders: map[channels.Kind]channels.Sender{channels.Telegram: e.app.Telegram}}
	return w.Work(context.Background(), &river.Job[gateway.SendArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 25}, Args: args})
}
