package twilio_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/channeltest"
	"github.com/sawt/sawt/channels/twilio"
)

const fuzzToken = "fuzz-auth-token"

// checkingReceiver stands in for the gateway behind the webhooks: it checks what the parser
// hands on, and answers with a reply that has the menu choices a voice answer renders.
type checkingReceiver struct {
	t   *testing.T
	got []channels.Inbound
}

func (r *checkingReceiver) Receive(_ context.Context, in channels.Inbound) (channels.Result, error) {
	if in.ExternalID == "" {
		r.t.Errorf("an inbound without an external ID: %+v", in)
	}
	if _, err := channels.ParseURN(string(in.URN)); err != nil {
		r.t.Errorf("an inbound with an invalid URN %q: %v", in.URN, err)
	}
	r.got = append(r.got, in)
	if strings.Contains(in.Text, "9") {
		return channels.Result{}, errors.New("database down")
	}
	return channels.Result{Replies: []channels.Outbound{{Channel: in.Channel, URN: in.URN, Language: "ar",
		Text: "أهلاً " + in.Text, Choices: []channels.Choice{{Number: "1", Label: in.Text}}}}}, nil
}

type noReports struct{}

func (noReports) Delivered(context.Context, channels.DeliveryReport) error      { return nil }
func (noReports) RecordingReady(context.Context, channels.RecordingReady) error { return nil }

type textPrompts struct{}

func (textPrompts) Recorded(lang, key string) (string, bool) { return "", false }
func (textPrompts) Text(lang, key string) string             { return "نص " + key }

func fuzzChannel(t *testing.T) (*twilio.Channel, *checkingReceiver) {
	rcv := &checkingReceiver{t: t}
	c, err := twilio.New(twilio.Config{AccountSID: "AC" + strings.Repeat("0", 32), AuthToken: fuzzToken,
		PublicURL: "https://sawt.example.org", Receiver: rcv, Reports: noReports{}, Prompts: textPrompts{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return c, rcv
}

// seedForms are webhook bodies as Twilio posts them, and some it never would.
var seedForms = []string{
	"ToCountry=IQ&MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B9647701234567&To=%2B9647800000000&Body=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7&NumMedia=0&NumSegments=1&SmsStatus=received&ApiVersion=2010-04-01",
	"MessageSid=SM1&From=%2B9647501234567&Body=STOP&OptOutType=STOP",
	"MessageSid=SM2&From=%2B9647501234567&Body=&NumMedia=2&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm%2F1&MediaContentType1=audio%2Famr&MediaUrl1=x",
	"MessageSid=SM3&From=Zain&Body=Your+balance",
	"CallSid=CA0123456789abcdef0123456789abcdef&From=%2B9647701234567&To=%2B9647800000000&CallStatus=ringing&Direction=inbound",
	"CallSid=CA1&From=%2B9647701234567&Digits=2%23",
	"CallSid=CA2&From=%2B266696687",
	"CallSid=CA3&From=%2B9647701234567&RecordingSid=RE1&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2FRecordings%2FRE1&Digits=hangup",
	"MessageSid=SM4&MessageSid=SM5&From=%2B964",
	"Body=%zz&From=",
	"NumMedia=99999999999999999999&MessageSid=SM6&From=%2B9647701234567",
}

// FuzzSMSWebhook posts any body to the SMS webhook, signed as Twilio would when it can be:
// the answer is always TwiML or a clear 4xx/503, never a panic, and a message is handed on
// only when signed and with a sender.
func FuzzSMSWebhook(f *testing.F) {
	for _, s := range seedForms {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body string, sign bool) {
		c, rcv := fuzzChannel(t)
		code, out := postWebhook(t, c.ServeSMS, "/twilio/sms", body, sign)
		switch code {
		case http.StatusOK:
			if !strings.HasPrefix(out, "<?xml") {
				t.Fatalf("200 without TwiML: %q", out)
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d: %q", code, out)
		}
		if code == http.StatusForbidden && len(rcv.got) > 0 {
			t.Fatal("a refused request was handed on")
		}
		for _, in := range rcv.got {
			if in.Channel != channels.SMS || len(in.Media) > 10 {
				t.Fatalf("handed on %+v", in)
			}
		}
	})
}

// FuzzVoiceWebhook does the same for the voice webhook, whose every answer must be TwiML a
// caller hears (well-formed XML), even when the pipeline fails.
func FuzzVoiceWebhook(f *testing.F) {
	for _, s := range seedForms {
		f.Add(s, true, "0")
		f.Add(s, false, "3")
	}
	f.Fuzz(func(t *testing.T, body string, sign bool, step string) {
		c, _ := fuzzChannel(t)
		code, out := postWebhook(t, c.ServeVoice, "/twilio/voice?n="+url.QueryEscape(step), body, sign)
		if code != http.StatusOK {
			if code != http.StatusBadRequest && code != http.StatusForbidden && code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d: %q", code, out)
			}
			return
		}
		if !utf8.ValidString(out) {
			t.Fatalf("TwiML is not UTF-8: %q", out)
		}
		d := xml.NewDecoder(strings.NewReader(out))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("TwiML is not well-formed XML (%v): %s", err, out)
			}
		}
		if !strings.Contains(out, "<Response>") {
			t.Fatalf("no <Response>: %s", out)
		}
	})
}

func postWebhook(t *testing.T, h http.HandlerFunc, target, body string, sign bool) (int, string) {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sig := "bm90IGEgc2lnbmF0dXJl"
	if form, err := url.ParseQuery(body); sign && err == nil {
		sig = channeltest.TwilioSignature(fuzzToken, "https://sawt.example.org"+r.URL.RequestURI(), form)
	}
	r.Header.Set("X-Twilio-Signature", sig)
	w := httptest.NewRecorder()
	h(w, r)
	return w.Code, w.Body.String()
}

// The fuzz targets' signing is Twilio's: a signed seed is taken, the same unsigned refused,
// so that the fuzzing reaches past the signature check.
func TestFuzzSigningIsTwilios(t *testing.T) {
	c, rcv := fuzzChannel(t)
	if code, out := postWebhook(t, c.ServeSMS, "/twilio/sms", seedForms[0], true); code != http.StatusOK || len(rcv.got) != 1 || rcv.got[0].Text != "مرحبا" {
		t.Fatalf("signed: %d %q, handed on %+v", code, out, rcv.got)
	}
	if code, _ := postWebhook(t, c.ServeSMS, "/twilio/sms", seedForms[0], false); code != http.StatusForbidden || len(rcv.got) != 1 {
		t.Fatalf("unsigned: %d", code)
	}
	if code, out := postWebhook(t, c.ServeVoice, "/twilio/voice?n=1", seedForms[5], true); code != http.StatusOK || !strings.Contains(out, "<Response>") {
		t.Fatalf("voice: %d %q", code, out)
	}
}
