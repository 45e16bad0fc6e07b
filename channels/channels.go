// Package channels is the neutral contract between the messaging providers and the gateway:
// what an inbound message is, what an outbound message is, who receives the one and who sends
// the other. It imports nothing of ours, so every package may depend on it.
package channels

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Kind names a channel: how a person reaches us and how replies are rendered for them.
type Kind string

// The channels Sawt speaks on.
const (
	Telegram Kind = "telegram"
	SMS      Kind = "sms"
	Voice    Kind = "voice"
	Terminal Kind = "terminal" // `sawt chat`: the real engine and store, without a provider
)

// Kinds lists every channel kind, in a stable order.
var Kinds = []Kind{Telegram, SMS, Voice, Terminal}

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case Telegram, SMS, Voice, Terminal:
		return true
	}
	return false
}

// Media is a reference to something a person sent that is not text (a voice note, a photo,
// a recording). The content stays at the provider until a later step fetches it.
type Media struct {
	Type string `json:"type"` // "audio", "image", "document", "recording"
	URL  string `json:"url,omitempty"`
	ID   string `json:"id,omitempty"` // provider file or recording identifier
}

// Inbound is one message from a person, parsed from a provider's request.
type Inbound struct {
	Channel    Kind
	ExternalID string // the provider's identifier: the dedupe key together with Channel
	// MessageID is the provider's ID of the person's message inside the chat, when it differs
	// from ExternalID (Telegram: the message's message_id, where ExternalID is the update_id).
	// It is kept so that the message can be deleted from the person's device later (Eraser).
	// Empty when the update carries no message of the person's (a pressed button).
	MessageID string
	URN       URN
	Text      string
	Payload   string // the payload of a pressed button, when there was one
	Media     []Media
	// LanguageHint is what the provider tells about the person's language (Telegram's
	// language_code). It is a hint shown first, never a decision.
	LanguageHint string
	// Source is where the person came from, when the provider says (a Telegram deep link from
	// a campaign poster). Kept on the contact the first time.
	Source string
	// SharedPhone is a phone number the person shared as their own (Telegram's contact
	// button). It is kept only if they then agree to it.
	SharedPhone string
	ReceivedAt  time.Time
	// Inline asks for the replies in the result rather than through the outbox: the voice
	// webhook renders them into its HTTP answer, the terminal prints them.
	Inline bool
}

// Choice is one option of a menu: Number is what the person types or presses, Payload what a
// button sends back.
type Choice struct {
	Number  string `json:"number"`
	Label   string `json:"label"`
	Payload string `json:"payload"`
	// Key and Language are the label's text key and the language it is in (in the language
	// menu each option is in its own); the voice channel plays its recording.
	Key      string `json:"key,omitempty"`
	Language string `json:"lang,omitempty"`
	// Alt is the label in Arabic, for speaking a Kurdish option where no recording exists.
	Alt string `json:"alt,omitempty"`
}

// Part is one text of an outbound message, as the voice channel needs it: which recording to
// play, or what to speak.
type Part struct {
	Key      string `json:"key,omitempty"`
	Language string `json:"lang,omitempty"`
	Text     string `json:"text"`
	// Alt is the same text in Arabic, given for Kurdish parts on the voice channel: there is
	// no Kurdish text-to-speech, so a missing Kurdish recording is spoken in Arabic.
	Alt string `json:"alt,omitempty"`
	// Digits is a number to read out one digit at a time (a case reference); Text then holds
	// it as written.
	Digits string `json:"digits,omitempty"`
}

// Outbound is one message to a person, already rendered in their language.
type Outbound struct {
	ID       int64 // the message's row in the log
	Channel  Kind
	URN      URN
	Language string
	// Text is the whole message as it is shown on text channels (for SMS and the terminal it
	// already holds the numbered list of choices).
	Text string
	// Choices are the menu options; Telegram shows them as buttons.
	Choices []Choice
	// Parts are the texts the message was made of, in order; the voice channel plays or
	// speaks each, then the choices.
	Parts []Part
	// Expect is what the conversation waits for next: "choice", "yesno", "text", a validated
	// input such as "reference", or "" for nothing. Voice gathers digits or records by it.
	Expect string
	// Confidential says the message belongs to a confidential conversation (a report of sexual
	// exploitation and abuse): a channel must never log its content, and on the phone a
	// recording made in answer to it is reported as confidential (RecordingReady.Confidential).
	Confidential bool
}

// Buttons is how a text-only view of a conversation shows a message's options on a channel
// that offers them as buttons (Telegram): "[1 Label] [2 Label]", on one line. `sawt chat` and
// the console's simulator both show replies so. It is "" on the other channels, whose text
// lists the options already, and for a message without options.
func Buttons(kind Kind, choices []Choice) string {
	if kind != Telegram || len(choices) == 0 {
		return ""
	}
	buttons := make([]string, 0, len(choices))
	for _, c := range choices {
		buttons = append(buttons, "["+c.Number+" "+c.Label+"]")
	}
	return strings.Join(buttons, " ")
}

// Result is what the gateway did with an inbound message.
type Result struct {
	Duplicate bool       // the external ID had been received before; nothing new was done
	Replies   []Outbound // the replies, in order (also for a duplicate, as first produced)
	// Spooled: the database could not take the message, so it was kept on local disk, to be
	// handled when the database answers again. There are no replies yet.
	Spooled bool
}

// ErrBadInbound is wrapped by a Receiver's refusal of a message that no retry can fix (an
// invalid address, an unknown channel). A webhook acknowledges it rather than have the
// provider send it again and again.
var ErrBadInbound = errors.New("bad inbound message")

// Payloads with a meaning of their own: the "main menu" button, and events that are not
// something the person wrote.
const (
	// MenuPayload is the payload of the "main menu" option when it is pressed as a button.
	MenuPayload = "menu"
	// CallPayload starts a phone call: the conversation begins again from the top.
	CallPayload = "call"
	// HangupPayload says the caller hung up: an unfinished conversation is closed.
	HangupPayload = "hangup"
	// VoicemailPayload carries a message a caller recorded while the database could not
	// answer (the recording in Media): it becomes a call-back case.
	VoicemailPayload = "voicemail"
	// StopPayload and StartPayload are the provider's own opt-out and opt-in (Twilio's
	// STOP and START keywords), whatever words the person used.
	StopPayload  = "stop"
	StartPayload = "start"
)

// Receiver takes an inbound message and stores and handles it in one transaction. It returns
// only when the message is durably stored; an error means it was not, and the provider should
// be told to retry.
type Receiver interface {
	Receive(ctx context.Context, in Inbound) (Result, error)
}

// Sender sends one outbound message through a provider. Errors should be *SendError so the
// outbox knows whether to retry.
type Sender interface {
	Send(ctx context.Context, msg Outbound) (SendResult, error)
}

// Eraser deletes messages of a conversation from the person's device, where the provider allows it
// (Telegram: a bot may delete messages in a private chat within 48 hours). ids are the provider's
// message IDs, of both the person's messages and ours (an ID may hold several, comma-separated, for
// a reply sent as several messages). Messages already gone are not an error.
//
// Errors are *SendError, as a Sender's: a retryable one (throttling, a provider or network
// failure) means the whole call may be made again, since deleting a message already deleted is
// not an error.
type Eraser interface {
	Erase(ctx context.Context, urn URN, ids []string) error
}

// SendResult is what a provider told us about an accepted message.
type SendResult struct {
	ProviderID string
	Status     Status
	// ProviderIDs are the IDs of every message the reply was sent as, when the provider
	// reports delivery of each (a long SMS sent in several parts); their reports update it.
	ProviderIDs []string
}

// Status is the delivery state of an outbound message.
type Status string

// Delivery states, in the order a message normally goes through them.
const (
	StatusQueued    Status = "queued"
	StatusSent      Status = "sent"
	StatusDelivered Status = "delivered"
	// StatusUndelivered: the provider sent it, the network could not deliver it.
	StatusUndelivered Status = "undelivered"
	StatusFailed      Status = "failed"
)

// DeliveryReport is a provider's word on a message it sent: delivered, or not and why.
type DeliveryReport struct {
	ProviderID string
	Status     Status
	ErrorCode  string
}

// RecordingReady is a provider's word that a recording a person made is ready to fetch.
type RecordingReady struct {
	ProviderID      string // the recording's ID at the provider
	CallID          string
	URL             string
	DurationSeconds int
	// Confidential says the recording was made in answer to a confidential question
	// (Outbound.Confidential): it must be encrypted when fetched, never stored in clear.
	Confidential bool
}

// Reports takes what providers tell besides messages. Like Receive, an error means nothing
// was stored and the provider should be asked to try again.
type Reports interface {
	Delivered(ctx context.Context, r DeliveryReport) error
	RecordingReady(ctx context.Context, r RecordingReady) error
}

// ErrUnknownMessage is wrapped by Delivered for a report about a message we do not know.
var ErrUnknownMessage = errors.New("unknown message")

// ErrMediaGone says the provider no longer has a recording or file we meant to fetch.
var ErrMediaGone = errors.New("media no longer at the provider")
