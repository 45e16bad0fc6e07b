package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

var ageKeyRe = regexp.MustCompile(`age1[0-9a-z]{58}`)

// keygen runs sawt psea keygen with a piped passphrase and returns the public key.
func keygen(t *testing.T, path, passphrase string) string {
	t.Helper()
	r := runSawt(t, nil, passphrase+"\n"+passphrase+"\n", "psea", "keygen", "--out", path, "--work-factor", "10")
	if r.code != exitOK {
		t.Fatalf("keygen: exit %d\n%s", r.code, r.stderr)
	}
	key := ageKeyRe.FindString(r.stdout)
	if key == "" || !strings.Contains(r.stdout, "sawt psea recipients add NAME "+key) {
		t.Fatalf("keygen printed no public key and next step:\n%s", r.stdout)
	}
	return key
}

// The whole way of a report through the console: a focal point's key is made and
// registered, a report arrives (sealed as the gateway seals it), it is listed without
// content, read with the identity and passphrase, refused with a wrong one or another key,
// moved on with a note, and every view and change is in the audit log.
func TestPSEAConsole(t *testing.T) {
	url := pgtest.NewURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	ctx := context.Background()
	dir := t.TempDir()
	identity := filepath.Join(dir, "layla.age")

	key := keygen(t, identity, "olive tree at dawn")
	if st, err := os.Stat(identity); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v %v", st, err)
	}

	// keygen refusals: nothing written, exit 1
	for name, c := range map[string]struct{ stdin, out string }{
		"mismatch": {"one\ntwo\n", filepath.Join(dir, "x1.age")},
		"empty":    {"\n\n", filepath.Join(dir, "x2.age")},
		"no input": {"", filepath.Join(dir, "x3.age")},
		"exists":   {"a\na\n", identity},
	} {
		r := runSawt(t, nil, c.stdin, "psea", "keygen", "--out", c.out, "--work-factor", "10")
		if r.code != exitFailure || !strings.HasPrefix(r.stderr, "sawt psea: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("keygen %s: exit %d, stderr %q", name, r.code, r.stderr)
		}
		if c.out != identity {
			if _, err := os.Stat(c.out); err == nil {
				t.Errorf("keygen %s wrote %s", name, c.out)
			}
		}
	}
	if r := runSawt(t, nil, "", "psea", "keygen"); r.code != exitUsage || !strings.Contains(r.stderr, "--out") {
		t.Errorf("keygen without --out: exit %d %q", r.code, r.stderr)
	}

	// register the focal point; bad keys and phones are usage errors that say why
	r := runSawt(t, vars, "", "psea", "recipients", "add", "Layla", key, "--phone", "0770 123 4567", "--lang", "ar", "--as", "admin")
	if r.code != exitOK || !strings.Contains(r.stdout, "Registered Layla") {
		t.Fatalf("recipients add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	otherID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	otherKey := otherID.Recipient().String()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"Omar", "age1xyz"}, "not a valid age public key"},
		{[]string{"Omar", "AGE-SECRET-KEY-1ABC"}, "secret key"},
		{[]string{"Omar", key}, "registered already"},
		{[]string{"Omar", otherKey, "--phone", "12"}, "--phone"},
		{[]string{"escrow", key}, "reserved"},
		{[]string{"Omar", otherKey, "--lang", "fr"}, "--lang"},
		{[]string{"Omar"}, "missing PUBKEY"},
	} {
		r := runSawt(t, vars, "", append([]string{"psea", "recipients", "add"}, c.args...)...)
		if r.code == exitOK || !strings.Contains(r.stderr, c.want) {
			t.Errorf("recipients add %q: exit %d, stderr %q, want it to say %q", c.args, r.code, r.stderr, c.want)
		}
	}

	// serve's start: the escrow
	pool, err := store.Open(ctx, url, store.PoolConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	dataDir := filepath.Join(dir, "data")
	if _, err := safeguarding.EnsureEscrow(ctx, pool, dataDir, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	r = runSawt(t, vars, "", "psea", "recipients", "list")
	if r.code != exitOK || !strings.Contains(r.stdout, "Layla") || !strings.Contains(r.stdout, key) ||
		!strings.Contains(r.stdout, "sms +9647701234567") || !strings.Contains(r.stdout, "escrow") {
		t.Errorf("recipients list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// a report arrives, as the gateway stores it
	const ref = "46152399" // a valid reference (Damm check digit)
	const planted = "The distribution officer asked me for sex for a food card"
	audio := []byte("ID3 the recording")
	now := time.Now()
	sealer := safeguarding.NewSealer()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		id, err := store.InsertSEAReport(ctx, tx, store.SEAReport{Reference: ref, Channel: "telegram",
			AckDueAt: now.Add(-time.Hour), ResolveDueAt: now.Add(30 * 24 * time.Hour), CreatedAt: now.Add(-25 * time.Hour)})
		if err != nil {
			return err
		}
		for _, a := range []safeguarding.Answer{
			{Field: "what", Value: planted, Media: []string{"REsea1"}, At: now},
			{Field: "where", Value: "Camp 3, near the water point\n\x1b[2Jsecond line", At: now},
		} {
			plain, _ := json.Marshal(a)
			ct, err := sealer.Seal(ctx, tx, plain)
			if err != nil {
				return err
			}
			if err := store.AddSEAPart(ctx, tx, id, store.SEAPartAnswer, ct, now); err != nil {
				return err
			}
		}
		sealedAudio, err := sealer.Seal(ctx, tx, audio)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO recordings (provider_id, audio, content_type, fetched_at, confidential, sea_report_id, created_at)
			VALUES ('REsea1', $1, 'audio/mpeg', $2, true, $3, $2)`, sealedAudio, now, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// list: the report, overdue, no content
	r = runSawt(t, vars, "", "psea", "list", "--as", "Layla")
	if r.code != exitOK || !strings.Contains(r.stdout, ref) || !strings.Contains(r.stdout, "OVERDUE") ||
		!strings.Contains(r.stdout, "telegram") || !strings.Contains(r.stdout, "new") {
		t.Fatalf("psea list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "food card") || strings.Contains(r.stdout, "Camp 3") {
		t.Fatalf("psea list shows content:\n%s", r.stdout)
	}

	// show: every answer, in order, with the recording counted
	r = runSawt(t, vars, "olive tree at dawn\n", "psea", "show", ref, "--identity", identity, "--as", "Layla")
	if r.code != exitOK {
		t.Fatalf("psea show: exit %d\n%s", r.code, r.stderr)
	}
	what := strings.Index(r.stdout, "what: "+planted)
	where := strings.Index(r.stdout, "where: Camp 3, near the water point")
	if what < 0 || where < what || !strings.Contains(r.stdout, "Recordings: 1 (decrypt them with --recordings DIR)") ||
		!strings.Contains(r.stdout, "SEA report "+ref) || !strings.Contains(r.stdout, "Status:") {
		t.Errorf("psea show:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "\x1b") {
		t.Error("psea show printed a terminal escape from the report")
	}
	// the reference as a person may say it, and the recordings decrypted
	recDir := filepath.Join(dir, "recs")
	r = runSawt(t, vars, "olive tree at dawn\n", "psea", "show", "4615 2399", "--identity", identity, "--recordings", recDir, "--as", "Layla")
	if r.code != exitOK || !strings.Contains(r.stdout, "what: "+planted) {
		t.Fatalf("psea show --recordings: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	recFile := filepath.Join(recDir, ref+"-1.mp3")
	if got, err := os.ReadFile(recFile); err != nil || string(got) != string(audio) {
		t.Errorf("recording %s: %q %v", recFile, got, err)
	}
	if st, err := os.Stat(recFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("recording file mode: %v", err)
	}
	if !strings.Contains(r.stdout, recFile) {
		t.Errorf("psea show does not say where the recordings are:\n%s", r.stdout)
	}
	// the escrow identity, a plain file, needs no passphrase
	r = runSawt(t, vars, "", "psea", "show", ref, "--identity", filepath.Join(dataDir, safeguarding.EscrowFile), "--as", "escrow-holder")
	if r.code != exitOK || !strings.Contains(r.stdout, "what: "+planted) {
		t.Errorf("psea show with the escrow identity: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// a wrong passphrase, another key: exit 1, one line, no content
	other := filepath.Join(dir, "other.age")
	keygen(t, other, "pw")
	for name, c := range map[string]struct{ identity, stdin, want string }{
		"wrong passphrase": {identity, "olive tree at dusk\n", "sawt psea: wrong passphrase\n"},
		"another key":      {other, "pw\n", "sawt psea: this identity cannot open report " + ref + ": it was not encrypted to this key\n"},
	} {
		r := runSawt(t, vars, c.stdin, "psea", "show", ref, "--identity", c.identity, "--as", "Layla")
		if r.code != exitFailure || r.stderr != c.want {
			t.Errorf("%s: exit %d, stderr %q, want %q", name, r.code, r.stderr, c.want)
		}
		if r.stdout != "" {
			t.Errorf("%s: printed %q", name, r.stdout)
		}
	}
	if r := runSawt(t, vars, "pw\n", "psea", "show", "12345674", "--identity", identity); r.code != exitFailure || !strings.Contains(r.stderr, "no SEA report") {
		t.Errorf("show of no report: exit %d %q", r.code, r.stderr)
	}

	// status: checked moves, a sealed note
	const noteText = "Called her back on the safe number"
	r = runSawt(t, vars, "", "psea", "status", ref, "acknowledged", "--note", noteText, "--as", "Layla")
	if r.code != exitOK || !strings.Contains(r.stdout, "new → acknowledged") {
		t.Fatalf("psea status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runSawt(t, vars, "", "psea", "status", ref, "closed", "--as", "Layla")
	if r.code != exitFailure || !strings.Contains(r.stderr, "cannot move from acknowledged to closed") {
		t.Errorf("a move not allowed: exit %d %q", r.code, r.stderr)
	}
	if r := runSawt(t, vars, "", "psea", "status", ref, "done"); r.code != exitUsage {
		t.Errorf("an unknown status: exit %d %q", r.code, r.stderr)
	}
	rep, err := store.SEAReportByReference(ctx, pool, ref)
	if err != nil || rep.Status != "acknowledged" || rep.AcknowledgedAt == nil {
		t.Errorf("report after the move: %+v %v", rep, err)
	}
	r = runSawt(t, vars, "olive tree at dawn\n", "psea", "show", ref, "--identity", identity, "--as", "Layla")
	if r.code != exitOK || !strings.Contains(r.stdout, "Layla: "+noteText) || !regexp.MustCompile(`Status:\s+acknowledged\n`).MatchString(r.stdout) {
		t.Errorf("psea show after the note:\n%s%s", r.stdout, r.stderr)
	}
	if r := runSawt(t, vars, "", "psea", "list", "--as", "Layla"); strings.Contains(r.stdout, "OVERDUE") {
		t.Errorf("an acknowledged report is listed as overdue:\n%s", r.stdout)
	}

	// recipients: the escrow stays, a focal point goes
	if r := runSawt(t, vars, "", "psea", "recipients", "remove", "escrow", "--as", "admin"); r.code != exitFailure || !strings.Contains(r.stderr, "cannot be removed") {
		t.Errorf("removing the escrow: exit %d %q", r.code, r.stderr)
	}
	if r := runSawt(t, vars, "", "psea", "recipients", "remove", "layla", "--as", "admin"); r.code != exitOK {
		t.Errorf("removing Layla: exit %d %q", r.code, r.stderr)
	}
	if r := runSawt(t, vars, "", "psea", "recipients", "remove", "layla", "--as", "admin"); r.code != exitFailure || !strings.Contains(r.stderr, "no PSEA recipient named") {
		t.Errorf("removing Layla twice: exit %d %q", r.code, r.stderr)
	}

	// the audit log: every view and change, never content
	entries, err := store.AuditEntries(ctx, pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Actor+" "+e.Action+" "+e.Subject+" "+e.Detail)
		for _, secret := range []string{"food card", "Camp 3", noteText, "olive"} {
			if strings.Contains(e.Detail+e.Subject+e.Action, secret) {
				t.Errorf("audit entry %d holds content: %+v", e.ID, e)
			}
		}
	}
	want := []string{
		"admin psea.recipients.add Layla key " + key,
		"Layla psea.list  1 reports",
		"Layla psea.show " + ref + " ",
		"Layla psea.show " + ref + " with 1 recordings",
		"escrow-holder psea.show " + ref + " ",
		"Layla psea.show " + ref + " failed",
		"Layla psea.show " + ref + " failed",
		// the show of no report, by the default actor, is checked below
		"Layla psea.status " + ref + " new → acknowledged",
		"Layla psea.show " + ref + " ",
		"Layla psea.list  1 reports",
		"admin psea.recipients.remove layla ",
	}
	var filtered []string
	for _, g := range got {
		if strings.Contains(g, "psea.show 12345674 not found") {
			if strings.HasPrefix(g, " ") {
				t.Errorf("an audit entry without an actor: %q", g)
			}
			continue
		}
		filtered = append(filtered, g)
	}
	if strings.Join(filtered, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != len(want)+1 {
		t.Errorf("audit log has %d entries, want %d (with the show of no report)", len(got), len(want)+1)
	}
	if n, err := store.VerifyAudit(ctx, pool); err != nil || n != len(got) {
		t.Errorf("VerifyAudit: %d %v", n, err)
	}
}

func TestPSEAHelp(t *testing.T) {
	r := runSawt(t, nil, "", "psea", "-h")
	if r.code != exitOK || !strings.Contains(r.stderr, "Usage: sawt psea <command>") || !strings.Contains(r.stderr, "recipients add NAME PUBKEY") {
		t.Errorf("psea -h: exit %d\n%s", r.code, r.stderr)
	}
	if r := runSawt(t, nil, "", "psea"); r.code != exitUsage {
		t.Errorf("psea alone: exit %d", r.code)
	}
	if r := runSawt(t, nil, "", "psea", "export"); r.code != exitUsage || !strings.Contains(r.stderr, `unknown subcommand "export"`) {
		t.Errorf("psea export: exit %d %q", r.code, r.stderr)
	}
	r = runSawt(t, nil, "", "psea", "show", "-h")
	if r.code != exitOK || !strings.Contains(r.stderr, "Usage: sawt psea show REF --identity FILE") {
		t.Errorf("psea show -h: exit %d\n%s", r.code, r.stderr)
	}
	r = runSawt(t, nil, "", "-h")
	if !strings.Contains(r.stderr, "  psea ") {
		t.Errorf("sawt -h does not list psea:\n%s", r.stderr)
	}
}
