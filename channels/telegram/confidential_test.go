package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/telegram"
)

// TestSendErrorNeverQuotesTheText: an answer that is not valid JSON (here, sendMessage's answer
// cut short) is quoted whole by the client library's error; what the person was told must not
// reach the error, which is stored and logged.
func TestSendErrorNeverQuotesTheText(t *testing.T) {
	const words = "what happened to you at the distribution"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"result":{"message_id":7,"chat":{"id":71001,"type":"private"},"text":"` + words + `"`))
	}))
	t.Cleanup(srv.Close)
	ch, err := telegram.New(telegram.Config{
		Token: channeltest.DefaultTelegramToken, APIURL: srv.URL, Receiver: &recorder{}, State: memState{},
		Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close(context.Background()) })
	msg := outbound("71001", words)
	msg.Confidential = true
	_, err = ch.Send(context.Background(), msg)
	var se *channels.SendError
	if !errors.As(err, &se) || !se.Retryable {
		t.Fatalf("err = %v, want a retryable SendError", err)
	}
	if strings.Contains(err.Error(), "distribution") {
		t.Errorf("the error quotes the message: %v", err)
	}
	if !strings.Contains(err.Error(), "sendMessage") || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("the error %q no longer says what went wrong", err)
	}
}
