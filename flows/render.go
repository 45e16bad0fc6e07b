package flows

import (
	"strings"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
)

// Message is a reply before it is fitted to a channel: texts and options, with their keys so
// the voice channel can play recordings.
type Message struct {
	Language string
	Parts    []Said
	Choices  []MenuChoice
	// Expect is the input type the conversation now waits for ("" when it waits for nothing).
	Expect string
}

// Said is one text of a message.
type Said struct {
	Key      string
	Language string // the language the text is in (a fallback may differ from the message's)
	Text     string
	// Alt is the text in Arabic, made for Kurdish texts on the voice channel (see
	// channels.Part).
	Alt string
	// Digits is a number read out digit by digit on the voice channel.
	Digits string
}

// MenuChoice is one option offered.
type MenuChoice struct {
	Number   string
	Key      string
	Language string
	Label    string
	Payload  string
	Alt      string
}

// Render fits a message to a channel. Telegram shows options as buttons under the text; SMS,
// voice and the terminal show them as a numbered list in the text. Numbers are ASCII digits:
// they are what a keypad shows.
func Render(m Message, kind channels.Kind) channels.Outbound {
	out := channels.Outbound{Channel: kind, Language: m.Language, Expect: m.Expect}
	lines := make([]string, 0, len(m.Parts)+len(m.Choices))
	for _, p := range m.Parts {
		lines = append(lines, p.Text)
		out.Parts = append(out.Parts, channels.Part{Key: p.Key, Language: p.Language, Text: p.Text, Alt: p.Alt, Digits: p.Digits})
	}
	// Telegram shows the options as buttons, unless the message would have no text: it
	// refuses an empty one.
	listed := kind != channels.Telegram || len(m.Parts) == 0
	for _, c := range m.Choices {
		out.Choices = append(out.Choices, channels.Choice{Number: c.Number, Label: c.Label, Payload: c.Payload,
			Key: c.Key, Language: c.Language, Alt: c.Alt})
		if listed {
			lines = append(lines, numbered(c, m.Language))
		}
	}
	out.Text = strings.Join(lines, "\n")
	return out
}

// numbered writes "1. Label" in a left-to-right message, and "1 - Label" in a right-to-left
// one, where "1." would show as ".1".
func numbered(c MenuChoice, lang string) string {
	if locales.RTL(lang) {
		return c.Number + " - " + c.Label
	}
	return c.Number + ". " + c.Label
}
