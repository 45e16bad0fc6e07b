package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store/pgtest"
)

// echoed returns the lines piped chat echoed as "> input", in order.
func echoed(stdout string) []string {
	var in []string
	for _, line := range strings.Split(stdout, "\n") {
		if s, ok := strings.CutPrefix(line, "> "); ok {
			in = append(in, s)
		}
	}
	return in
}

func checkEchoed(t *testing.T, stdout string, inputs []string) {
	t.Helper()
	got := echoed(stdout)
	if strings.Join(got, "\n") != strings.Join(inputs, "\n") {
		t.Errorf("echoed inputs %q, want %q; stdout:\n%s", got, inputs, stdout)
	}
}

var complaintNumber = regexp.MustCompile(`(?m)^Thank you\. Your complaint number is (\d{4}) (\d{4})\. Please keep this number\.$`)

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestChatPipedComplaint: a whole complaint typed into piped `sawt chat` becomes one case
// with what was typed, under the reference it printed; a second run with the same URN is the
// same person.
func TestChatPipedComplaint(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	const description = "The water tank in block C is broken"
	inputs := []string{"hi", "1", "1", description, "1", "Jeddah 5", "1", "1"}

	r := runSawt(t, vars, strings.Join(inputs, "\n")+"\n", "chat", "--lang", "en", "--urn", "terminal:x")
	if r.code != exitOK {
		t.Fatalf("first chat: exit code %d, want %d; stderr:\n%s", r.code, exitOK, r.stderr)
	}
	checkEchoed(t, r.stdout, inputs)
	if strings.Contains(r.stdout, "Choose your language") {
		t.Errorf("--lang en was given, yet the language menu was shown:\n%s", r.stdout)
	}
	m := complaintNumber.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no \"Your complaint number is NNNN NNNN\" line in:\n%s", r.stdout)
	}
	printed := m[1] + m[2]
	if !strings.HasSuffix(strings.TrimRight(r.stdout, "\n"), "0. Main menu") {
		t.Errorf("the conversation does not end by offering the main menu:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("piped chat wrote to stderr: %q", r.stderr)
	}

	pool := openPool(t, url)
	type caseRow struct {
		reference, category, governorate, site, description, channel, language, status string
		consentContact, consentShare                                                   bool
		contactID                                                                      int64
	}
	var cases []caseRow
	rows, err := pool.Query(ctx, `SELECT reference, category, coalesce(governorate, ''), coalesce(site, ''),
		description, channel, coalesce(language, ''), status, consent_contact, consent_share, contact_id FROM cases`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c caseRow
		if err := rows.Scan(&c.reference, &c.category, &c.governorate, &c.site, &c.description, &c.channel,
			&c.language, &c.status, &c.consentContact, &c.consentShare, &c.contactID); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 {
		t.Fatalf("%d cases in the database, want 1: %+v", len(cases), cases)
	}
	got := cases[0]
	want := caseRow{
		reference: printed, category: "assistance_request", governorate: "ninewa", site: "Jeddah 5",
		description: description, channel: "terminal", language: "en", status: "new",
		consentContact: true, consentShare: true, contactID: got.contactID,
	}
	if got != want {
		t.Errorf("case in the database:\n%+v\nwant:\n%+v", got, want)
	}
	var urnContact int64
	if err := pool.QueryRow(ctx, `SELECT contact_id FROM urns WHERE urn = 'terminal:x'`).Scan(&urnContact); err != nil {
		t.Fatalf("URN terminal:x: %v", err)
	}
	if urnContact != got.contactID {
		t.Errorf("case belongs to contact %d, URN terminal:x to contact %d", got.contactID, urnContact)
	}

	// The same person comes back, without --lang: Sawt knows their language and their case.
	again := []string{"hi", "4", printed}
	r2 := runSawt(t, vars, strings.Join(again, "\n")+"\n", "chat", "--urn", "terminal:x")
	if r2.code != exitOK {
		t.Fatalf("second chat: exit code %d, want %d; stderr:\n%s", r2.code, exitOK, r2.stderr)
	}
	checkEchoed(t, r2.stdout, again)
	if strings.Contains(r2.stdout, "Choose your language") {
		t.Errorf("second chat as terminal:x shows the language menu, as to a stranger:\n%s", r2.stdout)
	}
	if !strings.Contains(r2.stdout, "\n1. Make a complaint\n") {
		t.Errorf("second chat does not answer with the English main menu:\n%s", r2.stdout)
	}
	if status := "Complaint " + m[1] + " " + m[2] + ": we have received it."; !strings.Contains(r2.stdout, status) {
		t.Errorf("second chat does not find the case: no %q in:\n%s", status, r2.stdout)
	}
	var contacts, urns, inbound, strangers int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM urns),
		(SELECT count(*) FROM messages WHERE direction = 'in'),
		(SELECT count(*) FROM messages WHERE contact_id <> $1)`, urnContact).Scan(&contacts, &urns, &inbound, &strangers); err != nil {
		t.Fatal(err)
	}
	if contacts != 1 || urns != 1 {
		t.Errorf("%d contacts and %d URNs after two chats as terminal:x, want 1 and 1", contacts, urns)
	}
	if want := len(inputs) + len(again); inbound != want {
		t.Errorf("%d inbound messages stored, want %d (one per line typed)", inbound, want)
	}
	if strangers != 0 {
		t.Errorf("%d messages belong to a contact other than terminal:x's", strangers)
	}
}

func TestChatTelegramButtons(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.NewURL(t)}
	r := runSawt(t, vars, "hi\n", "chat", "--channel", "telegram", "--lang", "en", "--urn", "telegram:12345")
	if r.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, exitOK, r.stderr)
	}
	const buttons = "\n[1 Make a complaint] [2 Give feedback or a suggestion] [3 Report abuse or exploitation by aid workers (confidential)] [4 Check a complaint] [5 Information] [6 Ask for a call back] [7 Change language] [8 Aid distributions] [9 Choose our updates]\n"
	if !strings.Contains(r.stdout, buttons) {
		t.Errorf("the menu is not shown as one line of buttons %q:\n%s", buttons, r.stdout)
	}
	if strings.Contains(r.stdout, "1. Make a complaint") {
		t.Errorf("telegram shows the options as a numbered list too:\n%s", r.stdout)
	}
}

// Mistakes in chat's flags are usage errors, found before the database is touched (there is
// none here).
func TestChatBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown language", []string{"--lang", "xx"}, []string{`--lang "xx"`, "ar, ckb, badini or en"}},
		{"short phone number", []string{"--urn", "tel:123"}, []string{"--urn", `"123"`, "international form"}},
		{"unknown URN scheme", []string{"--urn", "whatsapp:123"}, []string{"--urn", `unknown scheme "whatsapp"`}},
		{"unknown channel", []string{"--channel", "pigeon"}, []string{`--channel "pigeon"`, "sms, telegram, voice or terminal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runSawt(t, nil, "hi\n", append([]string{"chat"}, tt.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit code %d, want %d", r.code, exitUsage)
			}
			if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "sawt chat: usage: ") {
				t.Errorf("want one line starting \"sawt chat: usage: \", got:\n%s", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q: %s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("a refused chat talked: %q", r.stdout)
			}
		})
	}
}
