package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

const tokensUsage = `Usage: sawt tokens create NAME --role ROLE [--as ACTOR]
       sawt tokens list
       sawt tokens revoke NAME [--as ACTOR]

Bearer tokens for the JSON API under /api/v1 (on the admin listener, SAWT_ADMIN_ADDR). A token
has a name, saying who or what uses it, and one role, which decides what it may do:
admin, cwc, caseworker, psea or viewer (admin does not include the others). Only a hash of a
token is stored: it is shown once, when made. Making and revoking are written to the audit log.

Subcommands:
  create   make a token and print it, once
  list     list the tokens (never their values), revoked ones too
  revoke   refuse a token from now on

Run 'sawt tokens <subcommand> -h' for a subcommand's flags.
`

func runTokens(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, tokensUsage, args,
		subcommand{"create", runTokensCreate}, subcommand{"list", runTokensList}, subcommand{"revoke", runTokensRevoke})
}

func runTokensCreate(ctx context.Context, e *env, args []string) error {
	roles := strings.Join(console.Roles(), "|")
	fs := newFlagSet(e, "tokens create", "tokens create NAME --role "+roles+" [--as ACTOR]", strings.TrimSpace(`
Makes an API token named NAME (who or what will use it, e.g. "kobo-sync" or "amira-laptop")
with one role, and prints it on standard output, alone on its line. It is shown only this once:
only its hash is stored, so a lost token cannot be shown again; revoke it and make another.
A client sends it with every request to /api/v1 as the header
    Authorization: Bearer sawt_…
Roles: admin (users, settings), cwc (campaigns, distributions), caseworker (cases), psea (SEA
reports only), viewer (aggregate dashboards only). No role includes another. The name must not
be that of another active token.`))
	role := fs.String("role", "", "what the token may do: "+strings.Join(console.Roles(), ", ")+" (required)")
	actor := actorFlag(e, fs)
	name, err := nameArg(fs, args)
	if err != nil {
		return err
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return usageErrorf("NAME %q has control characters: use letters, digits, spaces and punctuation", name)
	}
	if *role == "" {
		return usageErrorf("--role is required: one of %s", strings.Join(console.Roles(), ", "))
	}
	if !console.ValidRole(*role) {
		return usageErrorf("--role %q: use one of %s", *role, strings.Join(console.Roles(), ", "))
	}
	pool, _, closeDB, err := openMigrated(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	token, hash, err := console.NewToken()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := store.CreateAPIToken(ctx, tx, name, *role, hash, time.Now()); err != nil {
			if errors.Is(err, store.ErrTokenExists) {
				return fmt.Errorf("a token named %q exists already: choose another name, or revoke that one first (sawt tokens revoke %s)", name, quoteArg(name))
			}
			return err
		}
		return audit(ctx, tx, actor(), "token.create", name, *role)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	fmt.Fprintf(e.stderr, "Made token %q with role %s. It is shown only this once: store it now. Clients send it as the header \"Authorization: Bearer <the token>\".\n", name, *role)
	return nil
}

func runTokensList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "tokens list", "tokens list", strings.TrimSpace(`
Lists the API tokens: name, role, when made and last used (to the minute), and when revoked for
those that are. Token values are never shown: they are not stored.`))
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	pool, cfg, closeDB, err := openMigrated(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	loc, err := time.LoadLocation(cfg.Timezone) // checked with the configuration
	if err != nil {
		return err
	}
	list, err := store.ListAPITokens(ctx, pool)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "No API token yet: make one with sawt tokens create NAME --role ROLE.")
		return nil
	}
	at := localTimeOr(loc)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST USED\tREVOKED")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(t.Name), t.Role, at(&t.CreatedAt, ""),
			at(t.LastUsedAt, "never"), at(t.RevokedAt, "-"))
	}
	return tw.Flush()
}

func runTokensRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "tokens revoke", "tokens revoke NAME [--as ACTOR]", strings.TrimSpace(`
Revokes the active API token named NAME (in any case): every request with it is refused from
now on. This cannot be undone; make a new token instead. Its name is free again.`))
	actor := actorFlag(e, fs)
	name, err := nameArg(fs, args)
	if err != nil {
		return err
	}
	pool, _, closeDB, err := openMigrated(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := store.RevokeAPIToken(ctx, tx, name, time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no active token named %q (see sawt tokens list)", name)
			}
			return err
		}
		return audit(ctx, tx, actor(), "token.revoke", name, "")
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Revoked token %q: requests with it are refused from now on.\n", name)
	return nil
}

// quoteArg quotes a name for a shell command line when it needs it.
func quoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// localTimeOr writes a time in loc as the lists show it, or none when there is no time.
func localTimeOr(loc *time.Location) func(t *time.Time, none string) string {
	return func(t *time.Time, none string) string {
		if t == nil {
			return none
		}
		return t.In(loc).Format(timeLayout)
	}
}
