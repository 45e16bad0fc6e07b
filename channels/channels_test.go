package channels_test

import (
	"testing"

	"github.com/sawt/sawt/channels"
)

func TestButtons(t *testing.T) {
	choices := []channels.Choice{{Number: "1", Label: "شكوى", Payload: "complaint"}, {Number: "2", Label: "Question"}}
	if got, want := channels.Buttons(channels.Telegram, choices), "[1 شكوى] [2 Question]"; got != want {
		t.Errorf("Telegram: %q, want %q", got, want)
	}
	for _, k := range []channels.Kind{channels.SMS, channels.Voice, channels.Terminal} {
		if got := channels.Buttons(k, choices); got != "" {
			t.Errorf("%s lists the choices in the text, yet Buttons gives %q", k, got)
		}
	}
	if got := channels.Buttons(channels.Telegram, nil); got != "" {
		t.Errorf("no choices: %q", got)
	}
}
