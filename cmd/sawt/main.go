// Command sawt is the Sawt gateway: `sawt serve` runs it, `sawt chat` talks to it in a
// terminal, `sawt migrate` updates the database, `sawt flows check` validates the flows and
// texts, `sawt prompts` lists the voice prompts to record, `sawt recordings` plays back what
// callers recorded, `sawt psea` and `sawt audit` serve PSEA focal points, `sawt users` manages who
// signs in to the staff console. Run `sawt -h` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // SAWT_TIMEZONE must work in a minimal image without /usr/share/zoneinfo

	"github.com/sawt/sawt/app"
)

// exit codes
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command reads and writes: injected so tests run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	stdinIsTTY     bool
}

var commands = []command{
	{"serve", "run the gateway: webhooks, workers, health and metrics", runServe},
	{"chat", "talk with Sawt in this terminal, with the real engine and database", runChat},
	{"migrate", "bring the database schema up to date", runMigrate},
	{"flows", "work with the conversation flows (flows check)", runFlows},
	{"prompts", "list the phone line's voice prompts: the script to record, and what is missing", runPrompts},
	{"psea", "for PSEA focal points: keys, and reading SEA reports (psea keygen|recipients|list|show|status)", runPsea},
	{"audit", "check or list the audit log of sensitive data (audit verify, audit list)", runAudit},
	{"recordings", "list the phone line's recordings, or save a case's to play them back", runRecordings},
	{"campaigns", "awareness campaigns (campaigns create|list|show|pause|resume|cancel)", runCampaigns},
	{"partners", "the organisations cases are referred to (partners add|list|retire)", runPartners},
	{"distributions", "aid distributions and their alerts (distributions import|list|show|cancel)", runDistributions},
	{"tokens", "API tokens for the /api/v1 JSON API (tokens create|list|revoke)", runTokens},
	{"users", "people who sign in to the staff console (users add|list|password)", runUsers},
}

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stdinIsTTY: isTerminal(os.Stdin)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsage), errors.Is(err, app.ErrConfig):
			fmt.Fprintf(e.stderr, "sawt %s: %v\n", c.name, err)
			return exitUsage
		default:
			fmt.Fprintf(e.stderr, "sawt %s: %v\n", c.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(e.stderr, "sawt: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Sawt (صوت): complaints, feedback and information for people affected by displacement.")
	fmt.Fprintln(w, "\nUsage: sawt <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sawt <command> -h' for a command's flags. Configuration is read from the environment (see README.md).")
}

// errUsage wraps mistakes in how a command was called.
var errUsage = errors.New("usage")

func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// newFlagSet makes a command's flag set that prints its usage to stderr on -h.
func newFlagSet(e *env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("sawt "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: sawt %s\n\n%s\n", synopsis, about)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(e.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses flags, turning a flag mistake into a usage error (the message is printed by
// the flag package already).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// parseNoArgs parses flags of a command that takes no arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// config reads the environment configuration; progress of a private database goes to stderr.
func config(e *env) (app.Config, error) {
	cfg, err := app.ConfigFromEnv(e.getenv)
	if err != nil {
		return cfg, err
	}
	cfg.Logf = func(format string, args ...any) { fmt.Fprintf(e.stderr, format+"\n", args...) }
	return cfg, nil
}

// subcommand is one word of a command with several (sawt audit verify, sawt tokens create).
type subcommand struct {
	name string
	run  func(ctx context.Context, e *env, args []string) error
}

// dispatch runs the subcommand args name. Without one, or with -h, it prints usage; an
// unknown one is a usage error that lists the known ones.
func dispatch(ctx context.Context, e *env, usage string, args []string, subs ...subcommand) error {
	var names []string
	for _, s := range subs {
		names = append(names, s.name)
	}
	known := strings.Join(names, ", ")
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, strings.TrimRight(usage, "\n"))
		return usageErrorf("missing subcommand: %s", known)
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stderr, strings.TrimRight(usage, "\n"))
		return flag.ErrHelp
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	return usageErrorf("unknown subcommand %q: use %s", args[0], known)
}
