package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/channels/twilio"
)

// stub is the Twilio channel alone, its webhooks on a mux: the receiver answers every call step
// with the replies it is given, and the reports it gets are recorded. No database.
type stub struct {
	mux     *http.ServeMux
	replies []channels.Outbound

	mu         sync.Mutex
	recordings []channels.RecordingReady
}

func newStub(t *testing.T) *stub {
	t.Helper()
	s := &stub{mux: http.NewServeMux()}
	ch, err := twilio.New(twilio.Config{
		AccountSID: accountSID, AuthToken: authToken, From: fromNumber, PublicURL: publicURL,
		APIURL: "http://127.0.0.1:1", Receiver: s, Reports: s, Prompts: noPrompts{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ch.Routes(s.mux)
	return s
}

func (s *stub) Receive(context.Context, channels.Inbound) (channels.Result, error) {
	return channels.Result{Replies: s.replies}, nil
}

func (s *stub) Delivered(context.Context, channels.DeliveryReport) error { return nil }

func (s *stub) RecordingReady(_ context.Context, r channels.RecordingReady) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordings = append(s.recordings, r)
	return nil
}

func (s *stub) reported() []channels.RecordingReady {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]channels.RecordingReady(nil), s.recordings...)
}

func (s *stub) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.mux.ServeHTTP(w, r)
	return w
}

type noPrompts struct{}

func (noPrompts) Recorded(string, string) (string, bool) { return "", false }
func (noPrompts) Text(string, string) string             { return "" }

// TestConfidentialQuestionMarksItsRecording: a recording asked for by a confidential question is
// reported to a status URL that says so; any other question's is not.
func TestConfidentialQuestionMarksItsRecording(t *testing.T) {
	for _, tc := range []struct {
		name         string
		confidential bool
		want         string
	}{
		{"confidential", true, publicURL + twilio.StatusPath + "?confidential=1"},
		{"normal", false, publicURL + twilio.StatusPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t)
			s.replies = []channels.Outbound{
				{Channel: channels.Voice, Language: "en", Confidential: tc.confidential,
					Parts: []channels.Part{{Text: "Thank you for trusting us."}}},
				{Channel: channels.Voice, Language: "en", Confidential: tc.confidential, Expect: "text",
					Parts: []channels.Part{{Text: "Tell us what happened, after the tone."}}},
			}
			r := parseTwiML(t, s.serve(signedRequest(twilio.VoicePath+"?n=3", callParams(newSid("CA"), caller))))
			recs := r.all("Record")
			if len(recs) == 0 {
				t.Fatalf("no <Record>: %s", r)
			}
			for i, rec := range recs {
				if got := rec.attr("recordingStatusCallback"); got != tc.want {
					t.Errorf("<Record> %d: recordingStatusCallback %q, want %q", i, got, tc.want)
				}
				if got, want := rec.attr("action"), publicURL+twilio.VoicePath+"?n=4"; got != want {
					t.Errorf("<Record> %d: action %q, want %q", i, got, want)
				}
			}
		})
	}
	t.Run("only the last reply counts", func(t *testing.T) {
		s := newStub(t)
		s.replies = []channels.Outbound{
			{Channel: channels.Voice, Language: "en", Confidential: true, Parts: []channels.Part{{Text: "Thank you."}}},
			{Channel: channels.Voice, Language: "en", Expect: "text", Parts: []channels.Part{{Text: "Tell us more."}}},
		}
		r := parseTwiML(t, s.serve(signedRequest(twilio.VoicePath+"?n=1", callParams(newSid("CA"), caller))))
		for _, rec := range r.all("Record") {
			if got := rec.attr("recordingStatusCallback"); got != publicURL+twilio.StatusPath {
				t.Errorf("recordingStatusCallback %q for a question that is not confidential", got)
			}
		}
	})
}

func recordingReport(callSid, rec string) url.Values {
	return url.Values{
		"AccountSid": {accountSID}, "CallSid": {callSid}, "RecordingSid": {rec}, "RecordingStatus": {"completed"},
		"RecordingUrl":      {"https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Recordings/" + rec},
		"RecordingDuration": {"31"}, "RecordingChannels": {"1"}, "RecordingSource": {"RecordVerb"},
	}
}

func TestConfidentialRecordingReport(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pathAndQuery string
		confidential bool
	}{
		{"confidential", twilio.StatusPath + "?confidential=1", true},
		{"normal", twilio.StatusPath, false},
		{"not 1", twilio.StatusPath + "?confidential=0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t)
			callSid, rec := newSid("CA"), newSid("RE")
			if w := s.serve(signedRequest(tc.pathAndQuery, recordingReport(callSid, rec))); w.Code != http.StatusNoContent {
				t.Fatalf("status %d %s, want 204", w.Code, w.Body)
			}
			got := s.reported()
			if len(got) != 1 {
				t.Fatalf("%d recording reports, want 1", len(got))
			}
			if got[0].Confidential != tc.confidential || got[0].ProviderID != rec || got[0].CallID != callSid || got[0].DurationSeconds != 31 {
				t.Errorf("reported %+v, want recording %s of call %s, confidential %v", got[0], rec, callSid, tc.confidential)
			}
		})
	}
	t.Run("the mark cannot be added to a signed report", func(t *testing.T) {
		s := newStub(t)
		r := signedRequest(twilio.StatusPath, recordingReport(newSid("CA"), newSid("RE")))
		r.URL.RawQuery = "confidential=1"
		if w := s.serve(r); w.Code != http.StatusForbidden {
			t.Errorf("status %d %s, want 403", w.Code, w.Body)
		}
		r = signedRequest(twilio.StatusPath+"?confidential=1", recordingReport(newSid("CA"), newSid("RE")))
		r.URL.RawQuery = ""
		if w := s.serve(r); w.Code != http.StatusForbidden {
			t.Errorf("mark removed: status %d %s, want 403", w.Code, w.Body)
		}
		if n := len(s.reported()); n != 0 {
			t.Errorf("%d reports from altered requests", n)
		}
	})
}
