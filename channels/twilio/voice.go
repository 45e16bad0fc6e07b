package twilio

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sawt/sawt/channels"
)

// The phone line: every step of a call is a webhook that runs the same pipeline as a message
// and answers TwiML at once. A call's steps are numbered in the URL Twilio calls next (signed
// like the rest), so each step has its own dedupe key and a retried step answers the same.

// Prompt keys the phone line says on its own.
const (
	keyNoInput    = "voice.no_input"
	keyGoodbye    = "voice.goodbye"
	keyRecord     = "voice.record"
	keyTypeNumber = "voice.type_number"
	keyHidden     = "voice.hidden_number"
	keyUnavail    = "voice.unavailable"
	keyOutage     = "voice.outage"
	keyThanks     = "voice.voicemail_thanks"
	keyPress      = "voice.press."
	keyDigit      = "digit."
)

// Timing of the phone line.
const (
	gatherTimeout = 6  // seconds of silence before a menu is said again
	numberTimeout = 10 // a reference takes longer to type
	recordMax     = 120
	recordSilence = 5
	// repeats is how many times a question is said again after silence; then goodbye.
	repeats = 2
)

// Languages the phone line can speak by text-to-speech; Kurdish is spoken from recordings,
// else in Arabic.
const (
	langAR = "ar"
	langEN = "en"
)

// ServeVoice answers one step of a call. Whatever happens, the caller hears something: when
// the database cannot take the call, the caller is asked to leave a message, which is kept
// (on disk if need be: see gateway.Spooler) and becomes a call-back case; never silence or
// Twilio's error tone.
func (c *Channel) ServeVoice(w http.ResponseWriter, r *http.Request) {
	form, err := c.form(w, r)
	if err != nil {
		c.fail(w, err)
		return
	}
	callSid := form.Get("CallSid")
	if callSid == "" {
		http.Error(w, "missing CallSid", http.StatusBadRequest)
		return
	}
	urn, err := callerURN(form.Get("From"))
	if err != nil { // a hidden or foreign-format caller ID: we cannot follow up
		writeTwiML(w, c.everyLanguage(keyHidden))
		return
	}
	if r.URL.Query().Get(voicemailQuery) == "1" {
		c.voicemail(w, r, form, callSid, urn)
		return
	}
	step, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if step < 0 {
		step = 0
	}
	in := channels.Inbound{
		Channel: channels.Voice, ExternalID: callSid + ":" + strconv.Itoa(step), URN: urn,
		Text: strings.TrimSuffix(form.Get("Digits"), "#"), Inline: true,
	}
	if step == 0 {
		in.Payload = channels.CallPayload
	}
	if sid := form.Get("RecordingSid"); sid != "" {
		in.Media = []channels.Media{{Type: "recording", ID: sid, URL: form.Get("RecordingUrl")}}
		in.Text = ""
	}
	res, err := c.cfg.Receiver.Receive(r.Context(), in)
	if err != nil {
		if errors.Is(err, channels.ErrBadInbound) {
			c.log.Warn("call step refused", "urn", urn.Masked(), "err", err)
			writeTwiML(w, c.everyLanguage(keyUnavail))
			return
		}
		c.log.Error("call step not stored; asking the caller to leave a message", "urn", urn.Masked(), "err", err)
		writeTwiML(w, c.leaveMessage(urn))
		return
	}
	if n := len(res.Replies); n > 0 && res.Replies[n-1].Language != "" {
		c.callers.remember(urn, res.Replies[n-1].Language)
	}
	writeTwiML(w, c.render(res.Replies, step+1))
}

// voicemailQuery marks the step that brings a message left while the database could not take
// the call (the <Record> of leaveMessage).
const voicemailQuery = "voicemail"

// leaveMessage is what a caller hears when the database cannot take their call: in their
// language if this process has spoken with them before, else in all four, a request to leave
// a message, and a recording whose result comes back to the voicemail step.
func (c *Channel) leaveMessage(urn channels.URN) []byte {
	langs := []string{langAR, "ckb", "badini", langEN}
	if l, ok := c.callers.language(urn); ok {
		langs = []string{l}
	}
	verbs := c.each(langs, keyOutage)
	verbs = append(verbs, record{Action: c.public + VoicePath + "?" + voicemailQuery + "=1", Method: http.MethodPost,
		MaxLength: recordMax, Timeout: recordSilence, FinishOnKey: "#", PlayBeep: true,
		RecordingStatusCallback: c.recordingCallback(false), RecordingStatusCallbackEvent: "completed"})
	verbs = append(verbs, c.each(langs, keyGoodbye)...)
	return twiml{Verbs: append(verbs, hangupVerb{})}.bytes()
}

// voicemail takes the message a caller left: through the pipeline as a VoicemailPayload, which
// keeps it on disk if the database still cannot take it. Either way the caller is thanked.
func (c *Channel) voicemail(w http.ResponseWriter, r *http.Request, form url.Values, callSid string, urn channels.URN) {
	langs := []string{langAR, "ckb", "badini", langEN}
	if l, ok := c.callers.language(urn); ok {
		langs = []string{l}
	}
	sid := form.Get("RecordingSid")
	if sid == "" { // hung up or silent: nothing was recorded
		writeTwiML(w, twiml{Verbs: append(c.each(langs, keyGoodbye), hangupVerb{})}.bytes())
		return
	}
	in := channels.Inbound{
		Channel: channels.Voice, ExternalID: callSid + ":" + voicemailQuery, URN: urn, Payload: channels.VoicemailPayload,
		Media: []channels.Media{{Type: "recording", ID: sid, URL: form.Get("RecordingUrl")}}, Inline: true,
	}
	res, err := c.cfg.Receiver.Receive(r.Context(), in)
	switch {
	case err != nil:
		c.log.Error("a message left by a caller was not kept", "urn", urn.Masked(), "err", err)
		writeTwiML(w, c.everyLanguage(keyUnavail))
	case res.Spooled || len(res.Replies) == 0:
		writeTwiML(w, twiml{Verbs: append(c.each(langs, keyThanks), hangupVerb{})}.bytes())
	default:
		writeTwiML(w, c.render(res.Replies, 0))
	}
}

// hiddenCallers are what Twilio gives as From when the caller ID is withheld: ANONYMOUS,
// RESTRICTED, UNAVAILABLE, BLOCKED and UNKNOWN spelt on a keypad. Some look like real numbers;
// taken as one, every hidden caller would share one contact and one conversation.
var hiddenCallers = map[string]bool{
	"+266696687": true, "+7378742833": true, "+86282452253": true, "+2562533": true, "+8656696": true,
}

// callerURN is the caller's number, or an error when it is hidden or not a phone number.
func callerURN(from string) (channels.URN, error) {
	if hiddenCallers[strings.TrimSpace(from)] {
		return "", errors.New("caller ID withheld")
	}
	return channels.NewTelURN(from)
}

// hangup closes the conversation of a call that ended.
func (c *Channel) hangup(ctx context.Context, form url.Values) error {
	urn, err := callerURN(form.Get("From"))
	if err != nil {
		return nil // a hidden number never started a conversation
	}
	_, err = c.cfg.Receiver.Receive(ctx, channels.Inbound{
		Channel: channels.Voice, ExternalID: form.Get("CallSid") + ":end", URN: urn,
		Payload: channels.HangupPayload, Inline: true,
	})
	if errors.Is(err, channels.ErrBadInbound) {
		return nil
	}
	return err
}

// TwiML, as much of it as the line uses.
type (
	twiml struct {
		XMLName xml.Name `xml:"Response"`
		Verbs   []any
	}
	say struct {
		XMLName  xml.Name `xml:"Say"`
		Voice    string   `xml:"voice,attr,omitempty"`
		Language string   `xml:"language,attr,omitempty"`
		Text     string   `xml:",chardata"`
	}
	play struct {
		XMLName xml.Name `xml:"Play"`
		URL     string   `xml:",chardata"`
	}
	gather struct {
		XMLName     xml.Name `xml:"Gather"`
		Input       string   `xml:"input,attr"`
		Action      string   `xml:"action,attr"`
		Method      string   `xml:"method,attr"`
		Timeout     int      `xml:"timeout,attr"`
		NumDigits   int      `xml:"numDigits,attr,omitempty"`
		FinishOnKey string   `xml:"finishOnKey,attr,omitempty"`
		Verbs       []any
	}
	record struct {
		XMLName                      xml.Name `xml:"Record"`
		Action                       string   `xml:"action,attr"`
		Method                       string   `xml:"method,attr"`
		MaxLength                    int      `xml:"maxLength,attr"`
		Timeout                      int      `xml:"timeout,attr"`
		FinishOnKey                  string   `xml:"finishOnKey,attr"`
		PlayBeep                     bool     `xml:"playBeep,attr"`
		RecordingStatusCallback      string   `xml:"recordingStatusCallback,attr"`
		RecordingStatusCallbackEvent string   `xml:"recordingStatusCallbackEvent,attr"`
	}
	hangupVerb struct {
		XMLName xml.Name `xml:"Hangup"`
	}
)

func (t twiml) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(t); err != nil {
		// Only our own structs are encoded; this cannot happen, and a caller must hear something.
		return []byte(xml.Header + `<Response><Hangup/></Response>`)
	}
	return b.Bytes()
}

// render turns a turn's replies into the answer to the call step: everything said inside the
// first gathering (a key press cuts it short), then the question again twice after silence,
// then goodbye.
func (c *Channel) render(replies []channels.Outbound, next int) []byte {
	if len(replies) == 0 {
		return twiml{Verbs: []any{hangupVerb{}}}.bytes()
	}
	last := replies[len(replies)-1]
	question := c.message(last)
	var all []any
	for _, r := range replies[:len(replies)-1] {
		all = append(all, c.message(r)...)
	}
	all = append(all, question...)
	langs := languages(last)
	action := c.public + VoicePath + "?n=" + strconv.Itoa(next)
	var verbs []any
	switch {
	case last.Expect == "text":
		rec := record{Action: action, Method: http.MethodPost, MaxLength: recordMax, Timeout: recordSilence,
			FinishOnKey: "#", PlayBeep: true, RecordingStatusCallback: c.recordingCallback(last.Confidential),
			RecordingStatusCallbackEvent: "completed"}
		hint := c.each(langs, keyRecord)
		verbs = append(verbs, all...)
		verbs = append(verbs, hint...)
		verbs = append(verbs, rec)
		for range repeats {
			verbs = append(verbs, c.each(langs, keyNoInput)...)
			verbs = append(verbs, question...)
			verbs = append(verbs, hint...)
			verbs = append(verbs, rec)
		}
	case len(last.Choices) > 0 || last.Expect != "":
		g := gather{Input: "dtmf", Action: action, Method: http.MethodPost, Timeout: gatherTimeout, NumDigits: 1}
		var hint []any
		if len(last.Choices) == 0 { // a number to type: a reference
			g.NumDigits, g.FinishOnKey, g.Timeout = 0, "#", numberTimeout
			hint = c.each(langs, keyTypeNumber)
		}
		first := g
		first.Verbs = append(append([]any{}, all...), hint...)
		verbs = append(verbs, first)
		for range repeats {
			again := g
			again.Verbs = append(c.each(langs, keyNoInput), question...)
			again.Verbs = append(again.Verbs, hint...)
			verbs = append(verbs, again)
		}
	default: // nothing more to ask
		return twiml{Verbs: append(all, hangupVerb{})}.bytes()
	}
	verbs = append(verbs, c.each(langs, keyGoodbye)...)
	verbs = append(verbs, hangupVerb{})
	return twiml{Verbs: verbs}.bytes()
}

// confidentialQuery marks a recording status callback as the answer to a confidential
// question. Twilio signs the URL it calls, query included, so the mark cannot be forged.
const confidentialQuery = "confidential"

// recordingCallback is where Twilio reports a finished recording: the status URL, marked when
// the question was confidential so that the report says so (RecordingReady.Confidential).
func (c *Channel) recordingCallback(confidential bool) string {
	if confidential {
		return c.public + StatusPath + "?" + confidentialQuery + "=1"
	}
	return c.public + StatusPath
}

// languages are the languages a message is in: one, or several for the language menu, where
// the line's own words are said in each.
func languages(m channels.Outbound) []string {
	var langs []string
	add := func(l string) {
		if l != "" && !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	add(m.Language)
	for _, c := range m.Choices {
		add(c.Language)
	}
	return langs
}

// message is what one reply says: its texts, then each option followed by the key to press.
func (c *Channel) message(m channels.Outbound) []any {
	var verbs []any
	for _, p := range m.Parts {
		if p.Digits != "" {
			verbs = append(verbs, c.digits(cmp.Or(p.Language, m.Language), p.Digits)...)
			continue
		}
		verbs = append(verbs, c.prompt(cmp.Or(p.Language, m.Language), p.Key, p.Text, p.Alt)...)
	}
	for _, ch := range m.Choices {
		lang := cmp.Or(ch.Language, m.Language)
		verbs = append(verbs, c.prompt(lang, ch.Key, ch.Label, ch.Alt)...)
		press := keyPress + ch.Number
		verbs = append(verbs, c.prompt(lang, press, c.text(lang, press), c.text(langAR, press))...)
	}
	return withoutRepeats(verbs)
}

// prompt says one text: its recording in the language; else, for Arabic and English, by
// text-to-speech; else (Kurdish) the Arabic recording or the Arabic text spoken.
func (c *Channel) prompt(lang, key, text, alt string) []any {
	if key != "" {
		if path, ok := c.cfg.Prompts.Recorded(lang, key); ok {
			return []any{play{URL: c.public + path}}
		}
	}
	switch lang {
	case langAR, langEN:
		return []any{c.speak(lang, text)}
	}
	if key != "" {
		if path, ok := c.cfg.Prompts.Recorded(langAR, key); ok {
			return []any{play{URL: c.public + path}}
		}
	}
	if alt == "" && key != "" {
		alt = c.text(langAR, key)
	}
	return []any{c.speak(langAR, cmp.Or(alt, text))}
}

// digits reads a number one digit at a time: recorded digits when all are, else spoken.
func (c *Channel) digits(lang, digits string) []any {
	var plays []any
	for _, d := range digits {
		path, ok := c.cfg.Prompts.Recorded(lang, keyDigit+string(d))
		if !ok && lang != langAR && lang != langEN {
			path, ok = c.cfg.Prompts.Recorded(langAR, keyDigit+string(d))
		}
		if !ok {
			plays = nil
			break
		}
		plays = append(plays, play{URL: c.public + path})
	}
	if plays != nil {
		return plays
	}
	if lang != langEN {
		lang = langAR
	}
	spoken := strings.Join(strings.Split(digits, ""), ", ")
	return []any{c.speak(lang, spoken)}
}

func (c *Channel) speak(lang, text string) say {
	voiceName := c.cfg.VoiceAR
	if lang == langEN {
		voiceName = c.cfg.VoiceEN
	}
	return say{Voice: voiceName, Language: voiceLanguage(voiceName, lang), Text: text}
}

// voiceLanguage is the language attribute for a voice: Google voices carry it in their name
// (Google.ar-XA-Standard-A); Amazon Polly's Arabic voices speak "arb".
func voiceLanguage(voiceName, lang string) string {
	if name, ok := strings.CutPrefix(voiceName, "Google."); ok {
		parts := strings.SplitN(name, "-", 3)
		if len(parts) >= 2 {
			return parts[0] + "-" + parts[1]
		}
	}
	if lang == langAR {
		if strings.HasPrefix(voiceName, "Polly.") {
			return "arb"
		}
		return "ar-XA"
	}
	return "en-GB"
}

// each says the line's own words in each language given.
func (c *Channel) each(langs []string, key string) []any {
	var verbs []any
	for _, l := range langs {
		verbs = append(verbs, c.prompt(l, key, c.text(l, key), "")...)
	}
	return withoutRepeats(verbs)
}

// everyLanguage is a last word in all four languages, then the call ends.
func (c *Channel) everyLanguage(key string) []byte {
	verbs := c.each([]string{langAR, "ckb", "badini", langEN}, key)
	return twiml{Verbs: append(verbs, hangupVerb{})}.bytes()
}

func (c *Channel) text(lang, key string) string { return c.cfg.Prompts.Text(lang, key) }

// withoutRepeats drops a spoken text already spoken in the same list: a Kurdish text without
// a recording is said in Arabic, and the language menu would say the Arabic question three
// times.
func withoutRepeats(verbs []any) []any {
	out := verbs[:0]
	seen := map[say]bool{}
	for _, v := range verbs {
		if s, ok := v.(say); ok {
			if seen[s] {
				continue
			}
			seen[s] = true
		}
		out = append(out, v)
	}
	return out
}
