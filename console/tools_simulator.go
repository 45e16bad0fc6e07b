package console

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/store"
)

// The conversation simulator: staff talk with the live flows, through the gateway, as a person
// would on a channel of their choice and in a language of their choice, as `sawt chat` does in
// a terminal. What it makes is real (a complaint becomes a case, a report of abuse reaches the
// PSEA focal points); the simulated person is told apart by their address, a terminal one of
// the staff member's own (terminal:console-<user id>-<conversation>), never a phone number or
// a Telegram chat. The conversation is read back from the message log, so that a reload
// shows it as the gateway kept it.

func init() {
	pages["simulator"] = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/simulator.html"))
}

// simCookie holds the browser's simulator conversation: "<channel>.<conversation>". The
// address is made from it and the signed-in user's ID, so a cookie can only ever lead to a
// simulated person of that user's.
const simCookie = "sawt_simulator"

// maxSimText bounds one message typed in the simulator, in characters (Telegram's limit).
const maxSimText = 4096

// simShown is how many of the conversation's last messages the page shows: a long
// conversation keeps the page small.
const simShown = 60

// simChannels are the channels a simulated person may write on.
var simChannels = []channels.Kind{channels.SMS, channels.Telegram, channels.Voice, channels.Terminal}

// simConversation is who the simulator speaks as: the simulated person's address, and the
// channel their messages come by and replies are shown as.
type simConversation struct {
	URN     channels.URN
	Channel channels.Kind
}

// newSimID is a new conversation's part of the simulated address: random, so that a new
// conversation is a new person, with no history.
func newSimID() string {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// simURN is the address of a user's simulated person in conversation id, or of a token's in
// the API: each its own, never a real person's.
func simURN(owner, id string) (channels.URN, error) {
	return channels.NewTerminalURN(owner + "-" + id)
}

// validSimID says whether s is a conversation's part of an address as newSimID makes them.
func validSimID(s string) bool {
	if len(s) != 16 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// simConversationOf is the conversation the browser holds, for user; false when it holds none
// (or one that is not well formed).
func simConversationOf(r *http.Request, user store.StaffUser) (simConversation, bool) {
	c, err := r.Cookie(simCookie)
	if err != nil {
		return simConversation{}, false
	}
	kind, id, ok := strings.Cut(c.Value, ".")
	if !ok || !slices.Contains(simChannels, channels.Kind(kind)) || !validSimID(id) {
		return simConversation{}, false
	}
	urn, err := simURN(consoleSimOwner(user), id)
	if err != nil {
		return simConversation{}, false
	}
	return simConversation{URN: urn, Channel: channels.Kind(kind)}, true
}

// consoleSimOwner is the first part of the addresses of a user's simulated people.
func consoleSimOwner(user store.StaffUser) string { return "console-" + strconv.FormatInt(user.ID, 10) }

// simMessage is a message of the simulated conversation as the page shows it.
type simMessage struct {
	In            bool
	Who, At, Text string
	Redacted      bool
}

// simData is the simulator page.
type simData struct {
	// Active says a conversation is going on: its address, channel and language (named, and
	// their codes, which the form to start a new one offers first).
	Active                    bool
	URN, Channel, Language    string
	ChannelCode, LanguageCode string
	// Messages are the conversation's last messages; Earlier says there are more before them.
	Messages []simMessage
	Earlier  bool
	// Channels and Languages are the choices of the form to start a conversation.
	Channels, Languages []option
	// Draft is a message typed that was refused, to type it again.
	Draft   string
	MaxText int
}

// simUnavailable answers 503: this server has no gateway to simulate with.
func (w *Web) simUnavailable(rw http.ResponseWriter, r *http.Request, s session) {
	lang := s.user.Language
	w.render(rw, r, http.StatusServiceUnavailable, "message", &page{Lang: lang, User: &s.user,
		Title: text(lang, "simulator_title"), Error: text(lang, "sim_unavailable")})
}

// simulatorPage shows the simulator: the conversation going on, if any, and the forms to
// write in it and to start a new one.
func (w *Web) simulatorPage(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if w.Simulator == nil {
		w.simUnavailable(rw, r, s)
		return
	}
	w.showSimulator(rw, r, s, http.StatusOK, "", "")
}

// showSimulator answers with the simulator page and a refusal said at its top, if any, and
// the text typed, to type it again.
func (w *Web) showSimulator(rw http.ResponseWriter, r *http.Request, s session, status int, refusalKey, draft string) {
	lang := s.user.Language
	p := &page{Lang: lang, User: &s.user, Title: text(lang, "simulator_title")}
	if refusalKey != "" {
		p.Error = simRefusal(lang, refusalKey)
	}
	d := &simData{Draft: draft, MaxText: maxSimText}
	chosenChannel, chosenLang := string(channels.SMS), lang
	if conv, ok := simConversationOf(r, s.user); ok {
		found, err := w.simTranscript(r.Context(), lang, conv, d)
		if err != nil {
			w.serverError(rw, r, "read the simulated conversation", err)
			return
		}
		if found {
			chosenChannel, chosenLang = d.ChannelCode, d.LanguageCode
		}
	}
	for _, k := range simChannels {
		d.Channels = append(d.Channels, option{Value: string(k), Text: text(lang, "channel."+string(k)), Selected: string(k) == chosenChannel})
	}
	for _, l := range locales.Languages {
		d.Languages = append(d.Languages, option{Value: l, Text: text(lang, "lang."+l), Selected: l == chosenLang})
	}
	if r.URL.Query().Get("started") == "1" && d.Active {
		p.Message = text(lang, "sim_started")
	}
	p.Data = d
	w.render(rw, r, status, "simulator", p)
}

// simTranscript fills d with the conversation as the message log has it: each message shown
// as its channel shows it (Telegram's buttons under the text). It says false when the
// simulated person does not exist (any more): there is no conversation then.
func (w *Web) simTranscript(ctx context.Context, lang string, conv simConversation, d *simData) (bool, error) {
	contact, err := store.ContactOfURN(ctx, w.Pool, conv.URN)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	msgs, err := store.Conversation(ctx, w.Pool, contact.ID, time.Time{}, time.Time{}, store.ConversationLimit)
	if err != nil {
		return false, err
	}
	if len(msgs) > simShown {
		msgs, d.Earlier = msgs[len(msgs)-simShown:], true
	}
	d.Active, d.URN = true, string(conv.URN)
	d.ChannelCode, d.Channel = string(conv.Channel), text(lang, "channel."+string(conv.Channel))
	d.LanguageCode, d.Language = contact.Language, valueText(lang, "lang.", contact.Language)
	if d.Language == "" {
		d.Language = text(lang, "sim_no_language")
	}
	for _, m := range msgs {
		sm := simMessage{In: m.Direction == "in", At: w.localTime(m.At), Text: m.Text, Redacted: m.Redacted}
		if sm.In {
			sm.Who = text(lang, "sim_you")
		} else {
			sm.Who = text(lang, "sim_sawt")
			if b := channels.Buttons(m.Channel, m.Choices); b != "" {
				sm.Text += "\n" + b
			}
		}
		d.Messages = append(d.Messages, sm)
	}
	return true, nil
}

// simulate serves the simulator's forms: start a new conversation (start set: a new simulated
// person on the channel and in the language chosen), or write in the one going on. Either
// answers 303 back to the page, which shows the conversation with the replies.
func (w *Web) simulate(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, _ := sessionFrom(ctx)
	if w.Simulator == nil {
		w.simUnavailable(rw, r, s)
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		w.showSimulator(rw, r, s, http.StatusBadRequest, "bad_form", "")
		return
	}
	if r.PostForm.Get("start") != "" {
		kind, lang := channels.Kind(r.PostForm.Get("channel")), r.PostForm.Get("language")
		if !slices.Contains(simChannels, kind) || !locales.Valid(lang) {
			w.showSimulator(rw, r, s, http.StatusBadRequest, "sim_bad_choice", "")
			return
		}
		id := newSimID()
		urn, err := simURN(consoleSimOwner(s.user), id)
		if err == nil {
			err = w.Simulator.SetLanguage(ctx, urn, lang)
		}
		if err != nil {
			w.serverError(rw, r, "start a simulated conversation", err)
			return
		}
		http.SetCookie(rw, &http.Cookie{Name: simCookie, Value: string(kind) + "." + id, Path: "/simulator", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: w.secureCookie(r)})
		w.log().Info("console: simulated conversation started", "user", s.user.ID, "channel", kind, "language", lang)
		http.Redirect(rw, r, "/simulator?started=1", http.StatusSeeOther)
		return
	}
	conv, ok := simConversationOf(r, s.user)
	if !ok {
		w.showSimulator(rw, r, s, http.StatusBadRequest, "sim_no_conversation", "")
		return
	}
	msg, key := simText(r.PostForm.Get("text"))
	if key != "" {
		w.showSimulator(rw, r, s, http.StatusBadRequest, key, r.PostForm.Get("text"))
		return
	}
	if _, err := w.Simulator.Receive(ctx, simInbound(conv.Channel, conv.URN, msg)); err != nil {
		w.serverError(rw, r, "simulate a message", err)
		return
	}
	http.Redirect(rw, r, "/simulator", http.StatusSeeOther)
}

// simText is a message typed in the simulator as the person sends it (line breaks as a phone
// sends them), or the key of why it is refused: empty, or too long.
func simText(s string) (string, string) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	switch {
	case strings.TrimSpace(s) == "":
		return "", "sim_empty"
	case utf8.RuneCountInString(s) > maxSimText:
		return "", "sim_too_long"
	}
	return s, ""
}

// simRefusal says in lang why the simulator refused a form: the text of key.
func simRefusal(lang, key string) string {
	if key == "sim_too_long" {
		return text(lang, key, maxSimText)
	}
	return text(lang, key)
}

// simInbound is a simulated person's message as the gateway receives it, as `sawt chat` sends
// it: on the channel chosen, its replies answered inline rather than sent.
func simInbound(kind channels.Kind, urn channels.URN, text string) channels.Inbound {
	return channels.Inbound{Channel: kind, URN: urn, Text: text, ExternalID: "console-" + newSimID() + newSimID(), Inline: true}
}

// simReplyJSON is a reply as the simulator API answers it: its text as the channel shows it,
// and its options (Telegram's buttons; listed in the text on the other channels).
type simReplyJSON struct {
	Text    string          `json:"text"`
	Choices []simChoiceJSON `json:"choices"`
}

type simChoiceJSON struct {
	Number string `json:"number"`
	Label  string `json:"label"`
}

// simulate is POST /api/v1/simulator: a message of a simulated person, as the page sends it;
// without urn, from a new person of the token's own. A language given is recorded as the
// person's before the message (as choosing it would). It answers the person's address, to
// write as them again, and the replies.
func (a *API) simulate(w http.ResponseWriter, r *http.Request) {
	if a.Simulator == nil {
		WriteError(w, http.StatusServiceUnavailable, "the simulator is not available on this server")
		return
	}
	var in struct {
		Channel  string `json:"channel"`
		Language string `json:"language"`
		URN      string `json:"urn"`
		Text     string `json:"text"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	ctx := r.Context()
	caller, _ := CallerFrom(ctx)
	owner := "api-" + strconv.FormatInt(caller.TokenID, 10)
	kind := channels.Kind(in.Channel)
	if !slices.Contains(simChannels, kind) {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: "channel", Error: "channel: use one of sms, telegram, voice, terminal"})
		return
	}
	if in.Language != "" && !locales.Valid(in.Language) {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: "language", Error: "language: use one of " + strings.Join(locales.Languages, ", ")})
		return
	}
	var urn channels.URN
	var err error
	if in.URN == "" {
		urn, err = simURN(owner, newSimID())
	} else {
		id, ok := strings.CutPrefix(in.URN, "terminal:"+owner+"-")
		if !ok || !validSimID(id) {
			WriteJSON(w, http.StatusBadRequest, fieldError{Field: "urn",
				Error: "urn: give an address this API answered to this token, or none for a new simulated person"})
			return
		}
		urn, err = simURN(owner, id)
	}
	if err != nil {
		a.serverError(w, "simulate a message", err)
		return
	}
	msg, key := simText(in.Text)
	if key != "" {
		WriteJSON(w, http.StatusBadRequest, fieldError{Field: "text", Error: "text: " + simRefusal("en", key)})
		return
	}
	if in.Language != "" {
		if err := a.Simulator.SetLanguage(ctx, urn, in.Language); err != nil {
			a.serverError(w, "simulate a message", err)
			return
		}
	}
	res, err := a.Simulator.Receive(ctx, simInbound(kind, urn, msg))
	if err != nil {
		a.serverError(w, "simulate a message", err)
		return
	}
	replies := make([]simReplyJSON, 0, len(res.Replies))
	for _, o := range res.Replies {
		rj := simReplyJSON{Text: o.Text, Choices: []simChoiceJSON{}}
		for _, c := range o.Choices {
			rj.Choices = append(rj.Choices, simChoiceJSON{Number: c.Number, Label: c.Label})
		}
		replies = append(replies, rj)
	}
	a.log().Info("API: simulated message", "token", caller.Name, "channel", kind)
	WriteJSON(w, http.StatusOK, struct {
		URN     string         `json:"urn"`
		Replies []simReplyJSON `json:"replies"`
	}{string(urn), replies})
}
