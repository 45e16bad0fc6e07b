package flowtest

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

var update = flag.Bool("update", false, "rewrite the transcripts' answers with what Sawt says now")

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestTranscripts plays every transcript under testdata through the real app and database.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts under testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			runTranscript(t, file)
		})
	}
}

func runTranscript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	script, err := Parse(string(data))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	ctx := context.Background()
	clock := NewClock()
	a, err := app.New(ctx, app.Config{
		DataDir: t.TempDir(), DatabaseURL: pgtest.NewURL(t), Now: clock.Now, Rand: Rand(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if script.Lang != "" {
		if err := a.Gateway.SetLanguage(ctx, script.URN, script.Lang); err != nil {
			t.Fatal(err)
		}
	}

	code := ""
	if script.Distribution {
		code = announceDistribution(ctx, t, a, script.URN)
	}
	var b strings.Builder
	b.WriteString(strings.Join(script.Header, "\n") + "\n")
	for i, st := range script.Steps {
		if st.Staff != "" {
			b.WriteString("! " + st.Staff + " " + st.Input + "\n")
			staffAction(ctx, t, a, st, &b)
			continue
		}
		if !st.IsMsg {
			clock.Advance(st.Wait)
			b.WriteString("~ " + st.Wait.String() + "\n\n")
			continue
		}
		if st.Input == "" {
			b.WriteString(">\n")
		} else {
			b.WriteString("> " + st.Input + "\n")
		}
		in := Inbound(strings.ReplaceAll(st.Input, "$CODE", code), lastReference(ctx, t, a))
		in.Channel, in.ExternalID, in.URN, in.LanguageHint, in.Inline = script.Channel, "flowtest-"+itoa(i), script.URN, script.Hint, true
		res, err := a.Gateway.Receive(ctx, in)
		if err != nil {
			t.Fatalf("message %d %q: %v", i+1, st.Input, err)
		}
		FormatReplies(&b, script.Channel, res.Replies)
	}
	if err := FormatCases(ctx, a.Pool, &b); err != nil {
		t.Fatal(err)
	}
	if err := FormatSEAReports(ctx, a.Pool, &b); err != nil {
		t.Fatal(err)
	}
	if err := FormatURNs(ctx, a.Pool, &b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(data) {
		t.Errorf("%s differs from what Sawt says now (run go test ./flows/... -update and review the diff):\n%s", file, diff(string(data), got))
	}
}

// announceDistribution puts the person's household on a distribution two days ahead and
// runs its announcement, as serve would; it returns the announcement's code.
func announceDistribution(ctx context.Context, t *testing.T, a *app.App, urn channels.URN) string {
	t.Helper()
	if urn.Scheme() != channels.SchemeTel {
		t.Fatal("distribution: needs a tel: urn")
	}
	starts := time.Date(Start.Year(), Start.Month(), Start.Day()+2, 9, 0, 0, 0, Start.Location())
	id, err := a.Outreach.CreateDistribution(ctx, outreach.DistributionSpec{
		Site: "Mamrashan camp", StartsAt: &starts, Place: "the hall near gate 2", Items: "food basket", Bring: "ration card",
	}, "flowtest")
	if err != nil {
		t.Fatal(err)
	}
	phone := strings.TrimPrefix(string(urn), "tel:")
	if _, err := a.Outreach.ImportHouseholds(ctx, id, []outreach.Household{{Phone: phone, HouseholdID: "HH-1", Language: "ar"}}); err != nil {
		t.Fatal(err)
	}
	w := &outreach.AlertWorker{Service: a.Outreach}
	args := outreach.AlertArgs{DistributionID: id, Alert: store.AlertAnnouncement, DueAt: a.Config.Now().UTC()}
	if err := w.Work(ctx, &river.Job[outreach.AlertArgs]{Args: args}); err != nil {
		t.Fatal(err)
	}
	var code string
	if err := a.Pool.QueryRow(ctx, `SELECT code FROM alert_codes`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	return code
}

// staffAction does what a caseworker does to the last case, as the console would, and writes
// what the person is sent.
func staffAction(ctx context.Context, t *testing.T, a *app.App, st Step, b *strings.Builder) {
	t.Helper()
	var caseID, lastMessage int64
	if err := a.Pool.QueryRow(ctx, `SELECT coalesce((SELECT max(id) FROM cases), 0), coalesce((SELECT max(id) FROM messages), 0)`).
		Scan(&caseID, &lastMessage); err != nil {
		t.Fatal(err)
	}
	if caseID == 0 {
		t.Fatalf("! %s: there is no case", st.Staff)
	}
	const actor = "caseworker@flowtest"
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		switch st.Staff {
		case StaffReply:
			return a.Gateway.ReplyToCase(ctx, tx, caseID, st.Input, actor)
		}
		c, err := store.CaseForUpdate(ctx, tx, caseID)
		if err != nil {
			return err
		}
		for _, to := range []cases.Status{cases.StatusAcknowledged, cases.StatusInProgress} {
			if cases.CanTransition(cases.Status(c.Status), to) {
				if err := cases.ChangeStatus(ctx, tx, caseID, to, actor, "", a.Config.Now()); err != nil {
					return err
				}
				c.Status = string(to)
			}
		}
		_, err = a.Gateway.ResolveCase(ctx, tx, caseID, st.Input, actor)
		return err
	})
	if err != nil {
		t.Fatalf("! %s: %v", st.Staff, err)
	}
	rows, err := a.Pool.Query(ctx, `SELECT id FROM messages WHERE id > $1 AND direction = 'out' ORDER BY id`, lastMessage)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		o, _, err := store.OutboundMessage(ctx, a.Pool, id)
		if err != nil {
			t.Fatal(err)
		}
		FormatReplies(b, o.Channel, []channels.Outbound{o})
	}
}

// lastReference is the display form of the newest case's reference, for $REF.
func lastReference(ctx context.Context, t *testing.T, a *app.App) string {
	var ref string
	err := a.Pool.QueryRow(ctx, `
		SELECT reference FROM (SELECT reference, created_at FROM cases UNION ALL SELECT reference, created_at FROM sea_reports) r
		ORDER BY created_at DESC LIMIT 1`).Scan(&ref)
	if err != nil {
		if store.IsNoRows(err) {
			return ""
		}
		t.Fatal(err)
	}
	return ref[:4] + " " + ref[4:]
}

func itoa(i int) string { return strconv.Itoa(i) }

// diff shows the first differing lines of two transcripts.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			if shown++; shown == 8 {
				break
			}
		}
	}
	return b.String()
}
