// Package flowtest runs conversation transcripts as golden tests: each file under testdata
// holds a channel, an optional language and person, the messages the person sends, and what
// Sawt answered, followed by the cases the conversation left in the database. The runner
// plays the messages through the real app (engine, gateway, PostgreSQL) with a fixed clock
// and random source, and compares; `go test ./flows/... -update` rewrites the answers.
//
// Format:
//
//	# comment lines
//	channel: sms            (terminal, sms, telegram or voice; default terminal)
//	lang: ar                (language chosen beforehand; default none: the language menu)
//	urn: tel:+9647701234567 (default terminal:flowtest)
//	hint: ar                (a provider's language hint, as Telegram's language_code)
//	distribution: yes       (the person's household is on a distribution two days ahead,
//	                         announced before the conversation; $CODE: its alert's code)
//	---
//	> message the person sends   (">" alone: an empty message; $REF: the last case's
//	                              reference; $LONG: a 10,000-character message)
//	> {press:PAYLOAD}            (a button pressed)
//	> {audio} caption            (a voice note, {photo} or {document}, with an optional caption)
//	> {phone:9647701234567}      (a phone number shared as the person's own)
//	> {call}                     (a phone call starts; voice)
//	> {hangup}                   (the caller hangs up; voice)
//	~ 31m                        (the clock moves on)
//	! resolve ANSWER             (a caseworker resolves the last case with this answer, after
//	                              acknowledging it and starting work if need be; what the
//	                              person is sent follows, on the channel it goes by)
//	! reply TEXT                 (a caseworker writes to the person about the last case)
//	reply lines …
//	=== cases                    (written by the runner)
package flowtest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/store"
)

// Start is the clock's start in transcripts: a Monday morning in Baghdad.
var Start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("Asia/Baghdad", 3*3600))

// Script is a parsed transcript.
type Script struct {
	Header  []string // comment and setting lines, kept as written
	Channel channels.Kind
	Lang    string
	URN     channels.URN
	Hint    string
	// Distribution puts the person's household on an announced distribution.
	Distribution bool
	Steps        []Step
}

// Step is one thing that happens: a message, time passing, or a caseworker's action.
type Step struct {
	Input string        // as written after "> ", or the text of a caseworker's action
	Wait  time.Duration // for "~" lines
	IsMsg bool
	// Staff is a caseworker's action on the last case ("!" lines): resolve or reply.
	Staff string
}

// Caseworkers' actions a transcript may have.
const (
	StaffResolve = "resolve"
	StaffReply   = "reply"
)

// Parse reads a transcript; the expected answers are ignored (they are what Run produces).
func Parse(text string) (Script, error) {
	s := Script{Channel: channels.Terminal, URN: "terminal:flowtest"}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	inBody := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !inBody {
			if line == "---" {
				inBody = true
			}
			s.Header = append(s.Header, line)
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
				v = strings.TrimSpace(v)
				switch strings.TrimSpace(k) {
				case "channel":
					s.Channel = channels.Kind(v)
					if !s.Channel.Valid() {
						return s, fmt.Errorf("line %d: unknown channel %q", n, v)
					}
				case "lang":
					s.Lang = v
				case "hint":
					s.Hint = v
				case "distribution":
					s.Distribution = v == "yes"
				case "urn":
					urn, err := channels.ParseURN(v)
					if err != nil {
						return s, fmt.Errorf("line %d: %w", n, err)
					}
					s.URN = urn
				default:
					return s, fmt.Errorf("line %d: unknown setting %q", n, k)
				}
			}
			continue
		}
		switch {
		case line == "===" || strings.HasPrefix(line, "=== "):
			return s, nil
		case line == ">":
			s.Steps = append(s.Steps, Step{IsMsg: true})
		case strings.HasPrefix(line, "> "):
			s.Steps = append(s.Steps, Step{IsMsg: true, Input: strings.TrimPrefix(line, "> ")})
		case strings.HasPrefix(line, "! "):
			action, text, _ := strings.Cut(strings.TrimPrefix(line, "! "), " ")
			if action != StaffResolve && action != StaffReply {
				return s, fmt.Errorf("line %d: unknown action %q (resolve or reply)", n, action)
			}
			s.Steps = append(s.Steps, Step{Staff: action, Input: text})
		case strings.HasPrefix(line, "~ "):
			d, err := time.ParseDuration(strings.TrimPrefix(line, "~ "))
			if err != nil {
				return s, fmt.Errorf("line %d: %w", n, err)
			}
			s.Steps = append(s.Steps, Step{Wait: d})
		}
	}
	if !inBody {
		return s, fmt.Errorf("no --- line between the settings and the conversation")
	}
	return s, nil
}

// Clock is a fake clock that moves one second per reading, as a person types.
type Clock struct{ now time.Time }

// NewClock starts a clock at Start.
func NewClock() *Clock { return &Clock{now: Start} }

// Now moves the clock on by one second and returns it.
func (c *Clock) Now() time.Time {
	c.now = c.now.Add(time.Second)
	return c.now
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// Rand is the seeded random source transcripts use.
func Rand() *rand.Rand { return rand.New(rand.NewPCG(2026, 11)) }

// LongMessage is what $LONG stands for: 10,000 characters of mixed Arabic and Latin script.
func LongMessage() string {
	unit := []rune("الماء مقطوع في المخيم منذ أيام. Water cut. ")
	out := make([]rune, 0, 10000)
	for len(out) < 10000 {
		out = append(out, unit...)
	}
	return string(out[:10000])
}

// Inbound makes the message an input line stands for: $REF and $LONG expanded, and a
// leading {press:…}, {audio}, {photo}, {document} or {phone:…} turned into what a provider
// would give.
func Inbound(input, lastRef string) channels.Inbound {
	input = strings.ReplaceAll(input, "$REF", lastRef)
	input = strings.ReplaceAll(input, "$LONG", LongMessage())
	var in channels.Inbound
	if strings.HasPrefix(input, "{") {
		if end := strings.Index(input, "}"); end > 0 {
			kind, value, _ := strings.Cut(input[1:end], ":")
			rest := strings.TrimSpace(input[end+1:])
			switch kind {
			case "press":
				in.Payload, input = value, rest
			case "phone":
				in.SharedPhone, input = value, rest
			case "call":
				in.Payload, input = channels.CallPayload, rest
			case "hangup":
				in.Payload, input = channels.HangupPayload, rest
			case "audio", "photo", "document":
				in.Media, input = []channels.Media{{Type: kind, ID: "file-" + kind}}, rest
			}
		}
	}
	in.Text = input
	return in
}

// FormatReplies writes replies as a transcript shows them: the text, Telegram's buttons on
// one line, a blank line after each.
func FormatReplies(b *strings.Builder, kind channels.Kind, replies []channels.Outbound) {
	for _, r := range replies {
		b.WriteString(r.Text)
		b.WriteString("\n")
		if kind == channels.Telegram && len(r.Choices) > 0 {
			var buttons []string
			for _, c := range r.Choices {
				buttons = append(buttons, fmt.Sprintf("[%s %s]", c.Number, c.Label))
			}
			b.WriteString(strings.Join(buttons, " ") + "\n")
		}
		b.WriteString("\n")
	}
}

// FormatCases writes the cases of the database, one per line, for the end of a transcript.
func FormatCases(ctx context.Context, db store.DB, b *strings.Builder) error {
	rows, err := db.Query(ctx, `
		SELECT reference, category, priority, status, channel, coalesce(language, ''), coalesce(governorate, ''),
		       coalesce(site, ''), consent_contact, consent_share, char_length(description), left(description, 60),
		       resolve_due_at - created_at, call_back, incomplete,
		       (SELECT count(*) FROM recordings r WHERE r.case_id = cases.id), satisfied
		FROM cases ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	b.WriteString("=== cases\n")
	for rows.Next() {
		var ref, cat, prio, status, ch, lang, gov, site, desc string
		var cc, cs bool
		var n, recordings int
		var resolveIn time.Duration
		var callBack, incomplete bool
		var satisfied *bool
		if err := rows.Scan(&ref, &cat, &prio, &status, &ch, &lang, &gov, &site, &cc, &cs, &n, &desc, &resolveIn,
			&callBack, &incomplete, &recordings, &satisfied); err != nil {
			return err
		}
		fmt.Fprintf(b, "%s %s priority=%s status=%s channel=%s language=%s governorate=%s site=%q contact=%t share=%t resolve_in=%s description(%d)=%q",
			ref, cat, prio, status, ch, lang, gov, site, cc, cs, resolveIn, n, desc)
		if callBack {
			b.WriteString(" call-back")
		}
		if incomplete {
			b.WriteString(" incomplete")
		}
		if recordings > 0 {
			fmt.Fprintf(b, " recordings=%d", recordings)
		}
		if satisfied != nil {
			fmt.Fprintf(b, " satisfied=%t", *satisfied)
		}
		b.WriteString("\n")
	}
	return rows.Err()
}

// FormatSEAReports writes the confidential reports of the database, without content (there
// is none in clear): reference, status, how many sealed parts and recordings.
func FormatSEAReports(ctx context.Context, db store.DB, b *strings.Builder) error {
	rows, err := db.Query(ctx, `
		SELECT reference, status, channel, complete, ack_due_at - created_at, alerted_at IS NOT NULL,
		       (SELECT count(*) FROM sea_parts p WHERE p.report_id = r.id),
		       (SELECT count(*) FROM recordings c WHERE c.sea_report_id = r.id)
		FROM sea_reports r ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref, status, ch string
		var complete, alerted bool
		var ackIn time.Duration
		var parts, recordings int
		if err := rows.Scan(&ref, &status, &ch, &complete, &ackIn, &alerted, &parts, &recordings); err != nil {
			return err
		}
		fmt.Fprintf(b, "=== sea %s status=%s channel=%s complete=%t ack_in=%s alerted=%t sealed_parts=%d recordings=%d\n",
			ref, status, ch, complete, ackIn, alerted, parts, recordings)
	}
	return rows.Err()
}

// FormatURNs writes the addresses of contacts that have more than one (a shared phone number
// kept), for the end of a transcript.
func FormatURNs(ctx context.Context, db store.DB, b *strings.Builder) error {
	rows, err := db.Query(ctx, `
		SELECT string_agg(urn, ' ' ORDER BY urn) FROM urns GROUP BY contact_id HAVING count(*) > 1 ORDER BY 1`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var urns string
		if err := rows.Scan(&urns); err != nil {
			return err
		}
		b.WriteString("=== linked " + urns + "\n")
	}
	return rows.Err()
}
