package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/telegram"
)

// bare is the Telegram channel alone, against the fake Bot API, with a Receiver that records
// what reaches it: no database, no gateway.
type bare struct {
	ch  *telegram.Channel
	api *channeltest.TelegramAPI
	rcv *recorder
	log *bytes.Buffer
}

func newBare(t *testing.T) *bare {
	t.Helper()
	api := channeltest.NewTelegramAPI(t, channeltest.DefaultTelegramToken)
	logs := &bytes.Buffer{}
	rcv := &recorder{}
	ch, err := telegram.New(telegram.Config{
		Token: api.Token, Secret: secret, APIURL: api.URL, Receiver: rcv, State: memState{},
		ChatRate: 1000, Timeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close(context.Background()) })
	return &bare{ch: ch, api: api, rcv: rcv, log: logs}
}

type recorder struct {
	mu  sync.Mutex
	ins []channels.Inbound
}

func (r *recorder) Receive(_ context.Context, in channels.Inbound) (channels.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ins = append(r.ins, in)
	return channels.Result{}, nil
}

func (r *recorder) received() []channels.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.Inbound(nil), r.ins...)
}

type memState struct{}

func (memState) Offset(context.Context) (int64, error)           { return 0, nil }
func (memState) SetOffset(context.Context, int64) error          { return nil }
func (memState) FirstTime(context.Context, string) (bool, error) { return true, nil }
func (memState) Lead(context.Context) (func(), error)            { return func() {}, nil }

// deleted is the message_id of every deleteMessage call to a chat, in order.
func (b *bare) deleted(t *testing.T, chat string) []string {
	t.Helper()
	var ids []string
	for _, c := range b.api.Calls("deleteMessage") {
		if c.Params["chat_id"] != chat {
			t.Errorf("deleteMessage in chat %q, want %s", c.Params["chat_id"], chat)
		}
		ids = append(ids, c.Params["message_id"])
	}
	return ids
}

func TestEraseDeletesEachMessage(t *testing.T) {
	b := newBare(t)
	ctx := context.Background()
	// Two replies of ours, the second sent in two parts (its ID is comma-joined).
	first, err := b.ch.Send(ctx, outbound("71001", "Is it safe to talk now?"))
	if err != nil {
		t.Fatal(err)
	}
	long, err := b.ch.Send(ctx, outbound("71001", strings.Repeat("word ", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(long.ProviderID, ",") {
		t.Fatalf("the long reply went as one message (%q)", long.ProviderID)
	}
	// 4242 is a message of the person's; empty, non-numeric and repeated IDs are skipped.
	ids := []string{"4242", first.ProviderID, long.ProviderID, "", "abc", " 4242 "}
	if err := b.ch.Erase(ctx, channels.URN("telegram:71001"), ids); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"4242", first.ProviderID}, strings.Split(long.ProviderID, ",")...)
	if got := b.deleted(t, "71001"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("deleted %v, want %v", got, want)
	}
	for _, c := range b.api.Calls("deleteMessage") {
		if c.Status != http.StatusOK {
			t.Errorf("deleteMessage %s answered %d", c.Params["message_id"], c.Status)
		}
	}
}

func TestEraseMissingMessagesAreNotAnError(t *testing.T) {
	b := newBare(t)
	ctx := context.Background()
	urn := channels.URN("telegram:71001")
	if err := b.ch.Erase(ctx, urn, []string{"10", "11"}); err != nil {
		t.Fatal(err)
	}
	// Again, as a retried job does: Telegram answers "message to delete not found".
	if err := b.ch.Erase(ctx, urn, []string{"10,11"}); err != nil {
		t.Errorf("erasing deleted messages again: %v", err)
	}
	calls := b.api.Calls("deleteMessage")
	if len(calls) != 4 || calls[2].Status != http.StatusBadRequest || calls[3].Status != http.StatusBadRequest {
		t.Fatalf("calls %+v, want the second two answered 400", calls)
	}
	// A message older than 48 hours: Telegram refuses, nothing more can be done.
	b.api.Fail("deleteMessage", channeltest.Failure{Status: 400, Description: "Bad Request: message can't be deleted"})
	if err := b.ch.Erase(ctx, urn, []string{"12", "13"}); err != nil {
		t.Errorf("a message too old to delete: %v", err)
	}
	if got := b.deleted(t, "71001"); strings.Join(got, " ") != "10 11 10 11 12 13" {
		t.Errorf("deleted %v: the next message is still deleted after one that cannot be", got)
	}
	if !strings.Contains(b.log.String(), "telegram message not erased") {
		t.Errorf("no debug line for a message not erased:\n%s", b.log)
	}
}

func TestEraseErrors(t *testing.T) {
	for _, tc := range []struct {
		name                string
		fail                channeltest.Failure
		retryable, optedOut bool
		retryAfter          time.Duration
		calls               int // deleteMessage calls for the three IDs
	}{
		{"429 stops and waits as told", channeltest.Failure{Status: 429, RetryAfter: 3}, true, false, 3 * time.Second, 1},
		{"500 stops and is retried", channeltest.Failure{Status: 500}, true, false, 0, 1},
		{"a proxy's HTML page is retried", channeltest.Failure{Status: 502, NotJSON: true}, true, false, 0, 1},
		{"a timeout is retried", channeltest.Failure{Delay: 3 * time.Second}, true, false, 0, 1},
		{"403 blocked stops", channeltest.Failure{Status: 403}, false, true, 0, 1},
		{"another 400 is permanent, the rest still deleted", channeltest.Failure{Status: 400, Description: "Bad Request: MESSAGE_ID_INVALID"}, false, false, 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBare(t)
			b.api.Fail("deleteMessage", tc.fail)
			err := b.ch.Erase(context.Background(), channels.URN("telegram:71001"), []string{"21", "22,23"})
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a SendError", err)
			}
			if se.Retryable != tc.retryable || se.OptedOut != tc.optedOut || se.RetryAfter != tc.retryAfter {
				t.Errorf("%+v, want retryable %v, opted out %v, retry after %s", se, tc.retryable, tc.optedOut, tc.retryAfter)
			}
			if n := len(b.api.Calls("deleteMessage")); n != tc.calls {
				t.Errorf("%d deleteMessage calls, want %d", n, tc.calls)
			}
			if strings.Contains(err.Error(), strings.Split(b.api.Token, ":")[1]) {
				t.Errorf("the token is in the error: %v", err)
			}
			if !tc.retryable {
				return
			}
			// The job's next try deletes everything; what was deleted is passed over.
			if err := b.ch.Erase(context.Background(), channels.URN("telegram:71001"), []string{"21", "22,23"}); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got := b.deleted(t, "71001"); strings.Join(got[len(got)-3:], " ") != "21 22 23" {
				t.Errorf("deleted %v, want 21 22 23 on the retry", got)
			}
		})
	}
}

func TestEraseRefusesOtherAddresses(t *testing.T) {
	b := newBare(t)
	for _, urn := range []channels.URN{"tel:+9647701234567", "telegram:abc"} {
		err := b.ch.Erase(context.Background(), urn, []string{"1"})
		var se *channels.SendError
		if !errors.As(err, &se) || se.Retryable {
			t.Errorf("Erase(%s): %v, want a permanent SendError", urn, err)
		}
	}
	if n := len(b.api.Calls("deleteMessage")); n != 0 {
		t.Errorf("%d deleteMessage calls", n)
	}
}

// TestInboundMessageID: whatever a person sends, the message's own ID is kept beside the
// update's, so that it can be erased; a pressed button is no message of theirs.
func TestInboundMessageID(t *testing.T) {
	b := newBare(t)
	for _, tc := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"text", channeltest.TelegramTextUpdate(amira, "something happened")},
		{"start", channeltest.TelegramStartUpdate(amira, "")},
		{"voice", channeltest.TelegramVoiceUpdate(amira, "voice-1", 9)},
		{"photo", channeltest.TelegramPhotoUpdate(amira, "photo-1", "")},
		{"document", channeltest.TelegramDocumentUpdate(amira, "doc-1", "a.pdf", "application/pdf", "")},
		{"contact", channeltest.TelegramContactUpdate(amira, "9647702220000", amira.ID)},
		{"button", channeltest.TelegramCallbackUpdate(amira, 900, "menu", "menu.main:1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u struct {
				Message *struct {
					MessageID int `json:"message_id"`
				} `json:"message"`
			}
			if err := json.Unmarshal(tc.raw, &u); err != nil {
				t.Fatal(err)
			}
			updateID, body := withID(t, tc.raw)
			req := httptest.NewRequest(http.MethodPost, telegram.WebhookPath, bytes.NewReader(body))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			w := httptest.NewRecorder()
			b.ch.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d %s", w.Code, w.Body)
			}
			ins := b.rcv.received()
			in := ins[len(ins)-1]
			if in.ExternalID != strconv.FormatInt(updateID, 10) {
				t.Errorf("ExternalID %q, want the update_id %d", in.ExternalID, updateID)
			}
			want := ""
			if u.Message != nil {
				want = strconv.Itoa(u.Message.MessageID)
			}
			if in.MessageID != want {
				t.Errorf("MessageID %q, want %q", in.MessageID, want)
			}
		})
	}
	if n := len(b.rcv.received()); n != 7 {
		t.Errorf("%d inbound messages, want 7", n)
	}
}
