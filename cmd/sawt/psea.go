package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/term"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
)

const pseaUsage = `Usage: sawt psea <command> [flags]

Works with reports of sexual exploitation and abuse (SEA), for PSEA focal points. Reports
are encrypted to every registered focal point's public key and an escrow key before they are
stored; reading one takes a focal point's identity file and its passphrase. Every view and
change is written to the audit log.

Commands:
  keygen --out FILE                  make a focal point's identity (no database needed)
  recipients add NAME PUBKEY         register a focal point's public key [--telegram CHAT_ID]
                                     [--phone +964…] [--lang en|ar|ckb|badini]
  recipients list                    list the keys reports are encrypted to
  recipients remove NAME             stop encrypting new reports to a focal point
  list                               list the reports, without content
  show REF --identity FILE           decrypt and print a report [--recordings DIR]
  status REF NEW-STATUS [--note TEXT]  move a report on (new, acknowledged, referred,
                                     in_progress, resolved, closed)

Commands that write the audit log take --as NAME (default: your user name).
Run 'sawt psea <command> -h' for a command's flags.
`

func runPsea(ctx context.Context, e *env, args []string) error {
	keygen := func(_ context.Context, e *env, args []string) error { return runPseaKeygen(e, args) }
	return dispatch(ctx, e, pseaUsage, args, subcommand{"keygen", keygen}, subcommand{"recipients", runPseaRecipients},
		subcommand{"list", runPseaList}, subcommand{"show", runPseaShow}, subcommand{"status", runPseaStatus})
}

// parseArgs parses flags given before, between or after the arguments, and returns the
// arguments. After "--" everything is an argument.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of arguments.
func wantArgs(got []string, names ...string) error {
	if len(got) < len(names) {
		return usageErrorf("missing %s", strings.Join(names[len(got):], " and "))
	}
	if len(got) > len(names) {
		return usageErrorf("unexpected argument %q", got[len(names)])
	}
	return nil
}

// nameArg parses a command that takes one NAME and returns the name, trimmed and not empty.
func nameArg(fs *flag.FlagSet, args []string) (string, error) {
	rest, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if err := wantArgs(rest, "NAME"); err != nil {
		return "", err
	}
	name := strings.TrimSpace(rest[0])
	if name == "" {
		return "", usageErrorf("NAME is empty")
	}
	return name, nil
}

// actorFlag adds --as, who is acting for the audit log.
func actorFlag(e *env, fs *flag.FlagSet) func() string {
	as := fs.String("as", "", "who is acting, as written to the audit log (default: your user name)")
	return func() string {
		if s := strings.TrimSpace(*as); s != "" {
			return s
		}
		if u, err := user.Current(); err == nil && u.Username != "" {
			return u.Username
		}
		if s := e.getenv("USER"); s != "" {
			return s
		}
		return "unknown"
	}
}

// passphrases reads passphrases: from the terminal without echo when standard input is one,
// else one per line of standard input.
type passphrases struct {
	e     *env
	lines *bufio.Reader
}

func (p *passphrases) read(prompt string) (string, error) {
	if f, ok := p.e.stdin.(*os.File); ok && p.e.stdinIsTTY {
		fmt.Fprint(p.e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.e.stderr)
		if err != nil {
			return "", fmt.Errorf("read the passphrase: %w", err)
		}
		return string(b), nil
	}
	if p.lines == nil {
		p.lines = bufio.NewReader(p.e.stdin)
	}
	line, err := p.lines.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		if err == io.EOF {
			return "", errors.New("no passphrase given: standard input ended")
		}
		return "", fmt.Errorf("read the passphrase: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// openMigratedLocal is openMigrated with the configured time zone (SAWT_TIMEZONE), for
// commands that show or read local times.
func openMigratedLocal(ctx context.Context, e *env) (*pgxpool.Pool, *time.Location, func(), error) {
	pool, cfg, closeDB, err := openMigrated(ctx, e)
	if err != nil {
		return nil, nil, nil, err
	}
	loc, err := time.LoadLocation(cfg.Timezone) // checked with the configuration
	if err != nil {
		closeDB()
		return nil, nil, nil, err
	}
	return pool, loc, closeDB, nil
}

func audit(ctx context.Context, db store.DB, actor, action, subject, detail string) error {
	err := store.AppendAudit(ctx, db, store.AuditEntry{At: time.Now(), Actor: actor, Action: action, Subject: subject, Detail: detail})
	if err != nil {
		return fmt.Errorf("write the audit log: %w", err)
	}
	return nil
}

func runPseaKeygen(e *env, args []string) error {
	fs := newFlagSet(e, "psea keygen", "psea keygen --out FILE [--work-factor N]", strings.TrimSpace(`
Makes a new identity for a PSEA focal point: a secret key, protected by a passphrase you are
asked for twice, written to FILE (mode 0600, never overwritten), and its public key, printed.
Register the public key on the server with 'sawt psea recipients add NAME age1…'; keep FILE
and the passphrase yourself. When standard input is not a terminal, the passphrase is read
from its first two lines. No database is needed.`))
	out := fs.String("out", "", "where to write the identity file (required)")
	workFactor := fs.Int("work-factor", 0, fmt.Sprintf("scrypt work factor of the passphrase, 1 to %d (default: age's, 18); lower is faster and weaker, for tests", safeguarding.MaxWorkFactor))
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("--out FILE is required")
	}
	if *workFactor < 0 || *workFactor > safeguarding.MaxWorkFactor {
		return usageErrorf("--work-factor %d: use 1 to %d", *workFactor, safeguarding.MaxWorkFactor)
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s exists already: not overwritten (choose another --out)", *out)
	}
	pw := &passphrases{e: e}
	first, err := pw.read("Passphrase for the new identity: ")
	if err != nil {
		return err
	}
	if first == "" {
		return errors.New("the passphrase is empty: choose one (a few unrelated words are easy to remember and hard to guess)")
	}
	second, err := pw.read("The same passphrase again: ")
	if err != nil {
		return err
	}
	if first != second {
		return errors.New("the two passphrases differ: nothing written")
	}
	file, pub, err := safeguarding.NewIdentity(first, *workFactor)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write the identity: %w", err)
	}
	if _, err := f.Write(file); err != nil {
		f.Close()
		os.Remove(*out)
		return fmt.Errorf("write the identity: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(*out)
		return fmt.Errorf("write the identity: %w", err)
	}
	fmt.Fprintf(e.stdout, "Wrote a new PSEA identity to %s, protected by your passphrase.\n", *out)
	fmt.Fprintf(e.stdout, "Public key: %s\n", pub)
	fmt.Fprintln(e.stdout, "Keep the file and the passphrase safe and off the server: reports encrypted to this key can be read only with them.")
	fmt.Fprintf(e.stdout, "Next, register the key on the server: sawt psea recipients add NAME %s\n", pub)
	return nil
}

func runPseaRecipients(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, pseaUsage, args, subcommand{"add", runPseaRecipientsAdd},
		subcommand{"list", runPseaRecipientsList}, subcommand{"remove", runPseaRecipientsRemove})
}

func runPseaRecipientsAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "psea recipients add",
		"psea recipients add NAME PUBKEY [--telegram CHAT_ID] [--phone +964…] [--lang en|ar|ckb|badini] [--as NAME]",
		strings.TrimSpace(`
Registers a PSEA focal point's public key (from sawt psea keygen): reports stored from now on
are encrypted to it too. Reports stored before stay readable only by the keys they were
encrypted to. --telegram and --phone say where the focal point is alerted of a new report
(alerts never hold content), in the language of --lang.`))
	telegram := fs.String("telegram", "", "Telegram chat ID to alert")
	phone := fs.String("phone", "", "phone number to alert by SMS, in international form (+964…)")
	lang := fs.String("lang", locales.English, "language of the alerts: en, ar, ckb or badini")
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "NAME", "PUBKEY"); err != nil {
		return err
	}
	name, key := strings.TrimSpace(rest[0]), strings.TrimSpace(rest[1])
	if name == "" {
		return usageErrorf("NAME is empty")
	}
	if strings.EqualFold(name, safeguarding.EscrowName) {
		return usageErrorf("the name %q is reserved for the escrow key: choose another", name)
	}
	if _, err := safeguarding.ParseRecipient(key); err != nil {
		return usageErrorf("PUBKEY: %v", err)
	}
	r := store.PSEARecipient{Name: name, PublicKey: key, Language: *lang}
	if !locales.Valid(*lang) {
		return usageErrorf("--lang %q: use en, ar, ckb or badini", *lang)
	}
	if *telegram != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(*telegram), 10, 64)
		if err != nil || id == 0 {
			return usageErrorf("--telegram %q: a Telegram chat ID is a number, like 123456789", *telegram)
		}
		r.TelegramChat = &id
	}
	if *phone != "" {
		urn, err := channels.NewTelURN(*phone)
		if err != nil {
			return usageErrorf("--phone: %v", err)
		}
		r.Phone = urn.Path()
	}
	pool, _, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	r.CreatedAt = time.Now()
	detail := "key " + key
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := store.AddPSEARecipient(ctx, tx, r); err != nil {
			return err
		}
		return audit(ctx, tx, actor(), "psea.recipients.add", name, detail)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Registered %s (%s): reports stored from now on are encrypted to this key too.\n", name, key)
	return nil
}

func runPseaRecipientsList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "psea recipients list", "psea recipients list",
		"Lists the keys new reports are encrypted to: the focal points', then the escrow key.")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	pool, loc, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	rs, err := store.ListPSEARecipients(ctx, pool)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		fmt.Fprintln(e.stdout, "No PSEA recipient registered: the escrow key is registered when sawt serve or sawt chat starts.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tPUBLIC KEY\tALERTS\tLANG\tADDED")
	for _, r := range rs {
		role := "focal point"
		if r.Escrow {
			role = "escrow"
		}
		var alerts []string
		if r.TelegramChat != nil {
			alerts = append(alerts, "telegram "+strconv.FormatInt(*r.TelegramChat, 10))
		}
		if r.Phone != "" {
			alerts = append(alerts, "sms "+r.Phone)
		}
		if len(alerts) == 0 {
			alerts = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, role, r.PublicKey, strings.Join(alerts, ", "), r.Language,
			r.CreatedAt.In(loc).Format("2006-01-02"))
	}
	return tw.Flush()
}

func runPseaRecipientsRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "psea recipients remove", "psea recipients remove NAME [--as NAME]", strings.TrimSpace(`
Stops encrypting new reports to a focal point's key. Reports stored before stay readable with
that focal point's identity file: if it was lost or compromised, that cannot be undone here.`))
	actor := actorFlag(e, fs)
	name, err := nameArg(fs, args)
	if err != nil {
		return err
	}
	pool, _, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := store.RemovePSEARecipient(ctx, tx, name, time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no PSEA recipient named %q is registered (see sawt psea recipients list)", name)
			}
			if errors.Is(err, store.ErrEscrowRemoval) {
				return errors.New("the escrow key cannot be removed: without it, a report would be lost with its focal points' keys")
			}
			return err
		}
		return audit(ctx, tx, actor(), "psea.recipients.remove", name, "")
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Removed %s: new reports are no longer encrypted to its key. Reports stored before remain readable with its identity file.\n", name)
	return nil
}

const timeLayout = "2006-01-02 15:04 MST"

func runPseaList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "psea list", "psea list [--as NAME]",
		"Lists the SEA reports, newest first: reference, when, channel, status and the deadline to\nacknowledge them. Never their content.")
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	pool, loc, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	reports, err := store.ListSEAReports(ctx, pool)
	if err != nil {
		return err
	}
	if err := audit(ctx, pool, actor(), "psea.list", "", fmt.Sprintf("%d reports", len(reports))); err != nil {
		return err
	}
	if len(reports) == 0 {
		fmt.Fprintln(e.stdout, "No SEA report.")
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REFERENCE\tCREATED\tCHANNEL\tSTATUS\tCOMPLETE\tACKNOWLEDGE BY")
	for _, r := range reports {
		complete := "yes"
		if !r.Complete {
			complete = "no"
		}
		due := r.AckDueAt.In(loc).Format(timeLayout)
		if r.AcknowledgedAt != nil {
			due = "acknowledged"
		} else if now.After(r.AckDueAt) {
			due += " OVERDUE"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Reference, r.CreatedAt.In(loc).Format(timeLayout), r.Channel,
			r.Status, complete, due)
	}
	return tw.Flush()
}

// canonicalRef is a reference as stored; what is not a valid reference is looked up as typed.
func canonicalRef(s string) string {
	if r, err := cases.ParseReference(s); err == nil {
		return string(r)
	}
	return strings.TrimSpace(s)
}

func runPseaShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "psea show", "psea show REF --identity FILE [--recordings DIR] [--as NAME]", strings.TrimSpace(`
Decrypts an SEA report with a focal point's (or the escrow) identity file and prints it: its
status and deadlines, what the person said and the focal points' notes. The passphrase is
asked for (read from the first line of standard input when it is not a terminal). With
--recordings, the report's recordings are decrypted into DIR (REF-1.mp3, …, mode 0600).
Every attempt is written to the audit log.`))
	identityPath := fs.String("identity", "", "the identity file (from sawt psea keygen, or the escrow identity) (required)")
	recDir := fs.String("recordings", "", "decrypt the report's recordings into this directory")
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "REF"); err != nil {
		return err
	}
	if *identityPath == "" {
		return usageErrorf("--identity FILE is required")
	}
	ref := canonicalRef(rest[0])
	idFile, err := os.ReadFile(*identityPath)
	if err != nil {
		return fmt.Errorf("read the identity: %w", err)
	}
	pool, loc, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	who := actor()

	report, err := store.SEAReportByReference(ctx, pool, ref)
	if errors.Is(err, store.ErrNotFound) {
		if aerr := audit(ctx, pool, who, "psea.show", ref, "not found"); aerr != nil {
			return aerr
		}
		return fmt.Errorf("no SEA report with reference %s", ref)
	}
	if err != nil {
		return err
	}
	// Decrypt everything before printing anything: a failure shows no partial content.
	parts, recs, err := openReport(ctx, pool, report, idFile, &passphrases{e: e}, *recDir != "")
	if err != nil {
		if aerr := audit(ctx, pool, who, "psea.show", ref, "failed"); aerr != nil {
			return aerr
		}
		return err
	}
	detail := ""
	if *recDir != "" {
		detail = fmt.Sprintf("with %d recordings", len(recs))
	}
	if err := audit(ctx, pool, who, "psea.show", ref, detail); err != nil {
		return err
	}

	var written []string
	if *recDir != "" && len(recs) > 0 {
		if written, err = writeRecordings(*recDir, ref, recs); err != nil {
			return err
		}
	}
	printReport(e.stdout, report, parts, loc)
	missing := 0
	for _, r := range recs {
		if r.missing {
			missing++
		}
	}
	switch {
	case len(recs) == 0:
		fmt.Fprintln(e.stdout, "\nRecordings: none.")
	case *recDir != "":
		fmt.Fprintf(e.stdout, "\nRecordings: %d, decrypted into %s:\n", len(written), *recDir)
		for _, p := range written {
			fmt.Fprintf(e.stdout, "  %s\n", p)
		}
	default:
		fmt.Fprintf(e.stdout, "\nRecordings: %d (decrypt them with --recordings DIR).\n", len(recs)-missing)
	}
	if missing > 0 {
		fmt.Fprintf(e.stdout, "%d more not fetched from the provider yet.\n", missing)
	}
	return nil
}

// audioFile is a recording's audio in the clear, or its absence (not fetched yet).
type audioFile struct {
	contentType string
	audio       []byte
	missing     bool
}

// openReport opens the identity (asking for its passphrase) and decrypts the report
// (safeguarding.OpenReport) and, with withRecordings, its recordings. Without, recordings
// are counted, not decrypted.
func openReport(ctx context.Context, db store.DB, report store.SEAReport, idFile []byte, pw *passphrases, withRecordings bool) ([]safeguarding.Part, []audioFile, error) {
	id, err := safeguarding.OpenIdentity(idFile, func() (string, error) { return pw.read("Passphrase of the identity: ") })
	if err != nil {
		return nil, nil, err
	}
	parts, recs, err := safeguarding.OpenReport(ctx, db, report, id, withRecordings)
	if err != nil {
		return nil, nil, err
	}
	files := make([]audioFile, 0, len(recs))
	for _, r := range recs {
		files = append(files, audioFile{contentType: r.ContentType, audio: r.Audio, missing: r.Missing})
	}
	return parts, files, nil
}

// writeRecordings writes recordings in the clear into dir as REF-1.mp3, … (0600), never over
// an existing file, and returns the files written.
func writeRecordings(dir, ref string, recs []audioFile) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	var written []string
	for i, r := range recs {
		if r.missing {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%d%s", ref, i+1, audioExt(r.contentType)))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return written, fmt.Errorf("recordings: %w (not overwritten)", err)
		}
		_, werr := f.Write(r.audio)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return written, fmt.Errorf("recordings: %w", werr)
		}
		written = append(written, path)
	}
	return written, nil
}

func audioExt(contentType string) string {
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	switch strings.TrimSpace(ct) {
	case "audio/mpeg", "audio/mp3", "":
		return ".mp3"
	case "audio/wav", "audio/x-wav", "audio/wave":
		return ".wav"
	case "audio/ogg", "audio/opus":
		return ".ogg"
	case "audio/mp4", "audio/m4a", "audio/x-m4a":
		return ".m4a"
	}
	return ".bin"
}

// clean makes text a person typed safe to print on a terminal: control characters (which
// could move the cursor or rewrite what is shown) become U+FFFD; line breaks and tabs stay.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// indented prints a possibly multi-line value, continuation lines indented.
func indented(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(clean(s), "\n"), "\n", "\n"+indent)
}

func printReport(w io.Writer, r store.SEAReport, parts []safeguarding.Part, loc *time.Location) {
	at := func(t time.Time) string { return t.In(loc).Format(timeLayout) }
	opt := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return at(*t)
	}
	now := time.Now()
	ackDue := at(r.AckDueAt)
	if r.AcknowledgedAt == nil && now.After(r.AckDueAt) {
		ackDue += " OVERDUE"
	}
	resolveDue := at(r.ResolveDueAt)
	if r.ResolvedAt == nil && r.Status != string(cases.StatusClosed) && now.After(r.ResolveDueAt) {
		resolveDue += " OVERDUE"
	}
	complete := "yes"
	if !r.Complete {
		complete = "no: the person did not reach the end of the questions"
	}
	fmt.Fprintf(w, "SEA report %s\n", r.Reference)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Status:\t%s\n", r.Status)
	fmt.Fprintf(tw, "Channel:\t%s\n", r.Channel)
	fmt.Fprintf(tw, "Complete:\t%s\n", complete)
	fmt.Fprintf(tw, "Created:\t%s\n", at(r.CreatedAt))
	fmt.Fprintf(tw, "Updated:\t%s\n", at(r.UpdatedAt))
	fmt.Fprintf(tw, "Acknowledge by:\t%s\n", ackDue)
	fmt.Fprintf(tw, "Acknowledged:\t%s\n", opt(r.AcknowledgedAt))
	fmt.Fprintf(tw, "Resolve by:\t%s\n", resolveDue)
	fmt.Fprintf(tw, "Resolved:\t%s\n", opt(r.ResolvedAt))
	if r.Assignee != "" {
		fmt.Fprintf(tw, "Assignee:\t%s\n", r.Assignee)
	}
	tw.Flush()

	var answers, notes []safeguarding.Part
	for _, p := range parts {
		if p.Kind == store.SEAPartNote {
			notes = append(notes, p)
		} else {
			answers = append(answers, p)
		}
	}
	fmt.Fprintln(w, "\nWhat the person said:")
	if len(answers) == 0 {
		fmt.Fprintln(w, "  (nothing yet)")
	}
	for _, p := range answers {
		if p.Raw != "" {
			fmt.Fprintf(w, "  (unrecognised part): %s\n", indented(p.Raw, "    "))
			continue
		}
		fmt.Fprintf(w, "  %s: %s\n", clean(p.Answer.Field), indented(p.Answer.Value, "    "))
		if len(p.Answer.Media) > 0 {
			fmt.Fprintf(w, "    (recordings: %s)\n", clean(strings.Join(p.Answer.Media, ", ")))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, p := range notes {
			if p.Raw != "" {
				fmt.Fprintf(w, "  %s: %s\n", at(p.At), indented(p.Raw, "    "))
				continue
			}
			when := p.Note.At
			if when.IsZero() {
				when = p.At
			}
			fmt.Fprintf(w, "  %s, %s: %s\n", at(when), clean(p.Note.By), indented(p.Note.Note, "    "))
		}
	}
}

func runPseaStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "psea status", "psea status REF NEW-STATUS [--note TEXT] [--as NAME]", strings.TrimSpace(`
Moves an SEA report to a new status: new → acknowledged → referred / in_progress → resolved →
closed (resolved may go back to in_progress). A note is encrypted like the report and added to
it; the audit log records the move, never the note.`))
	note := fs.String("note", "", "a note to add to the report, encrypted")
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "REF", "NEW-STATUS"); err != nil {
		return err
	}
	ref := canonicalRef(rest[0])
	to := cases.Status(strings.TrimSpace(rest[1]))
	if !to.Valid() {
		var all []string
		for _, s := range cases.Statuses() {
			all = append(all, string(s))
		}
		return usageErrorf("status %q: use one of %s", to, strings.Join(all, ", "))
	}
	pool, _, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	who := actor()
	var from cases.Status
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		r, err := store.SEAReportByReference(ctx, tx, ref)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no SEA report with reference %s", ref)
		}
		if err != nil {
			return err
		}
		from, err = safeguarding.ChangeStatus(ctx, tx, r.ID, to, *note, who, time.Now())
		if errors.Is(err, cases.ErrTransition) {
			var allowed []string
			for _, s := range cases.Statuses() {
				if cases.CanTransition(from, s) {
					allowed = append(allowed, string(s))
				}
			}
			next := "none: it is final"
			if len(allowed) > 0 {
				next = strings.Join(allowed, ", ")
			}
			return fmt.Errorf("report %s cannot move from %s to %s (from %s: %s)", ref, from, to, from, next)
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Report %s: %s → %s.\n", ref, from, to)
	if strings.TrimSpace(*note) != "" {
		fmt.Fprintln(e.stdout, "The note was encrypted and added to the report.")
	}
	return nil
}
