package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/store"
)

const auditUsage = `Usage: sawt audit verify
       sawt audit list [--limit N]

Subcommands:
  verify   check that no entry of the audit log was altered or removed
  list     print the audit log's entries, oldest first`

func runAudit(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, auditUsage, args,
		subcommand{"verify", runAuditVerify}, subcommand{"list", runAuditList})
}

func runAuditVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "audit verify", "audit verify", `Walks the audit log's hash chain from its first entry and checks that every entry still hashes
to its hash and follows the one before it. Prints "audit log intact: N entries" and exits 0, or
names the first entry that was altered, or that follows a removed one, and exits 1. Removing
the newest entries cannot be seen from the chain alone: compare the count with an earlier run.`)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	return withAuditDatabase(ctx, e, func(pool *pgxpool.Pool) error {
		n, err := store.VerifyAudit(ctx, pool)
		var brk *store.AuditBreak
		if errors.As(err, &brk) {
			return fmt.Errorf("audit log broken: %v (%s before it verified)", brk, entries(n))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "audit log intact: %s\n", entries(n))
		return nil
	})
}

func runAuditList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "audit list", "audit list [--limit N]", `Prints the audit log's entries, oldest first: id, time (UTC), actor, action, subject and detail.
With --limit N, only the newest N.`)
	limit := fs.Int("limit", 0, "print only the newest `N` entries (0: all)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return usageErrorf("--limit must not be negative, got %d", *limit)
	}
	return withAuditDatabase(ctx, e, func(pool *pgxpool.Pool) error {
		list, err := store.AuditEntries(ctx, pool, *limit)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(e.stderr, "The audit log is empty.")
			return nil
		}
		w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTIME\tACTOR\tACTION\tSUBJECT\tDETAIL")
		for _, a := range list {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.At.UTC().Format(time.RFC3339),
				printable(a.Actor), printable(a.Action), printable(a.Subject), printable(a.Detail))
		}
		return w.Flush()
	})
}

// withAuditDatabase opens the database (a private server under SAWT_DATA_DIR without
// DATABASE_URL), brings its schema up to date so that a fresh one has an audit log, and runs
// fn, then closes it again.
func withAuditDatabase(ctx context.Context, e *env, fn func(*pgxpool.Pool) error) error {
	pool, _, closeDB, err := openMigrated(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	return fn(pool)
}

func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}

// printable keeps a field on its column and the terminal safe: one with tabs, line breaks or
// other control characters is quoted, and "-" stands for an empty one.
func printable(s string) string {
	if s == "" {
		return "-"
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
