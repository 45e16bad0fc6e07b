package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

const usersUsage = `Usage: sawt users add EMAIL --role ROLE [--language en|ar|ckb] [--as ACTOR]
       sawt users list
       sawt users password EMAIL [--as ACTOR]
       sawt users disable|enable EMAIL [--as ACTOR]
       sawt users totp-reset EMAIL [--as ACTOR]

People who sign in to the staff console (on the admin listener, SAWT_ADMIN_ADDR, at /login).
Each has an email, one role, which decides what they may open: admin, cwc, caseworker, psea
or viewer (admin does not include the others), and the language of their pages. A new user,
or one whose password is reset, gets a one-time password, printed once: at their first
sign-in the console has them choose their own. PSEA focal points and administrators may turn
on two-step sign-in (a code from an authenticator app) on their account page. Adding and
resetting are written to the audit log.

Subcommands:
  add        add a user and print their one-time password, once
  list       list the users (never their passwords)
  password   give a user a new one-time password, and sign them out everywhere
  disable    stop a user signing in, and sign them out everywhere (someone who left)
  enable     let a disabled user sign in again
  totp-reset turn a user's two-step sign-in off (they lost their phone)

Run 'sawt users <subcommand> -h' for a subcommand's flags.
`

func runUsers(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, usersUsage, args,
		subcommand{"add", runUsersAdd}, subcommand{"list", runUsersList}, subcommand{"password", runUsersPassword},
		subcommand{"disable", func(ctx context.Context, e *env, args []string) error { return runUsersDisable(ctx, e, args, true) }},
		subcommand{"enable", func(ctx context.Context, e *env, args []string) error { return runUsersDisable(ctx, e, args, false) }},
		subcommand{"totp-reset", runUsersTOTPReset})
}

// emailArg checks the EMAIL argument and returns it as stored (lower-cased).
func emailArg(rest []string) (string, error) {
	if err := wantArgs(rest, "EMAIL"); err != nil {
		return "", err
	}
	email, err := console.NormalizeEmail(rest[0])
	if err != nil {
		return "", usageErrorf("%v", err)
	}
	return email, nil
}

func runUsersAdd(ctx context.Context, e *env, args []string) error {
	roles := strings.Join(console.Roles(), "|")
	langs := strings.Join(console.Languages(), "|")
	fs := newFlagSet(e, "users add", "users add EMAIL --role "+roles+" [--language "+langs+"] [--as ACTOR]", strings.TrimSpace(`
Adds a console user with one role, and prints a one-time password on standard output, alone on
its line. It is shown only this once (only its hash is stored): give it to the person yourself,
not by the same way as their email address. At their first sign-in they choose their own.
Roles: admin (users, settings), cwc (campaigns, distributions), caseworker (cases), psea (SEA
reports only), viewer (aggregate dashboards only). No role includes another. Languages of the
console: en (English), ar (Arabic), ckb (Sorani). An email may have one user, in any case.`))
	role := fs.String("role", "", "what the user may do: "+strings.Join(console.Roles(), ", ")+" (required)")
	lang := fs.String("language", "en", "the language of their console: "+strings.Join(console.Languages(), ", "))
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	email, err := emailArg(rest)
	if err != nil {
		return err
	}
	if *role == "" {
		return usageErrorf("--role is required: one of %s", strings.Join(console.Roles(), ", "))
	}
	if !console.ValidRole(*role) {
		return usageErrorf("--role %q: use one of %s", *role, strings.Join(console.Roles(), ", "))
	}
	if !console.ValidLanguage(*lang) {
		return usageErrorf("--language %q: use one of %s", *lang, strings.Join(console.Languages(), ", "))
	}
	pool, cfg, closeDB, err := openMigrated(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	password, hash, err := console.NewUserPassword()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := store.InsertStaffUser(ctx, tx, store.StaffUser{Email: email, Role: *role, PasswordHash: hash,
			Language: *lang, CreatedAt: time.Now()})
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("a user with the email %s exists already (see sawt users list; sawt users password %s gives them a new password)",
				email, quoteArg(email))
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor(), "user.add", email, *role)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, password)
	fmt.Fprintf(e.stderr, "Added %s with role %s. The one-time password is shown only this once: they sign in at http://%s/login and choose their own.\n",
		email, *role, cfg.AdminAddr)
	return nil
}

func runUsersList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "users list", "users list", strings.TrimSpace(`
Lists the console users: email, role, language, when added, when they last chose their
password ("one-time" while they have not), and when disabled for those that are. Passwords
are never shown: they are not stored.`))
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	pool, loc, closeDB, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	list, err := store.ListStaffUsers(ctx, pool)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "No console user yet: add one with sawt users add EMAIL --role ROLE (serve adds an administrator on first start).")
		return nil
	}
	at := localTimeOr(loc)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tLANGUAGE\tADDED\tPASSWORD CHOSEN\tDISABLED")
	for _, u := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", printable(u.Email), u.Role, u.Language, at(&u.CreatedAt, ""),
			at(u.PasswordChangedAt, "one-time"), at(u.DisabledAt, "-"))
	}
	return tw.Flush()
}

func runUsersPassword(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "users password", "users password EMAIL [--as ACTOR]", strings.TrimSpace(`
Gives the user with this email (in any case) a new one-time password, printed on standard output
alone on its line and shown only this once, and ends all their console sessions. Their old
password stops working at once; at their next sign-in they choose their own again.`))
	password, hash, err := console.NewUserPassword()
	if err != nil {
		return err
	}
	var ended int64
	email, err := changeUser(ctx, e, fs, args, "user.password", func(tx pgx.Tx, u store.StaffUser) (err error) {
		if err := store.SetStaffPassword(ctx, tx, u.ID, hash, nil); err != nil {
			return err
		}
		ended, err = store.DeleteStaffSessionsOfUser(ctx, tx, u.ID, nil)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, password)
	fmt.Fprintf(e.stderr, "Gave %s a new one-time password, shown only this once; %s ended. They choose their own at their next sign-in.\n",
		email, sessions(ended))
	return nil
}

// changeUser runs a command that changes the user named by its EMAIL argument: in one
// transaction, change and an audit entry of action by the --as actor. It returns the email.
func changeUser(ctx context.Context, e *env, fs *flag.FlagSet, args []string, action string,
	change func(pgx.Tx, store.StaffUser) error) (string, error) {
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	email, err := emailArg(rest)
	if err != nil {
		return "", err
	}
	pool, _, closeDB, err := openMigrated(ctx, e)
	if err != nil {
		return "", err
	}
	defer closeDB()
	return email, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		u, err := store.StaffUserByEmail(ctx, tx, email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user with the email %s (see sawt users list)", email)
		}
		if err != nil {
			return err
		}
		if err := change(tx, u); err != nil {
			return err
		}
		return audit(ctx, tx, actor(), action, email, "")
	})
}

// runUsersDisable disables (or enables again) a user: a disabled one cannot sign in and their
// sessions end; their name stays in the history of what they did.
func runUsersDisable(ctx context.Context, e *env, args []string, disable bool) error {
	verb, help := "enable", "Lets a disabled user sign in again, with the password they had."
	if disable {
		verb, help = "disable", "Stops the user with this email signing in to the console, and ends all their sessions at once. "+
			"What they did stays in the audit log and the cases' history under their email."
	}
	fs := newFlagSet(e, "users "+verb, "users "+verb+" EMAIL [--as ACTOR]", help)
	var ended int64
	email, err := changeUser(ctx, e, fs, args, "user."+verb, func(tx pgx.Tx, u store.StaffUser) error {
		var at *time.Time
		if disable {
			now := time.Now()
			at = &now
			var err error
			if ended, err = store.DeleteStaffSessionsOfUser(ctx, tx, u.ID, nil); err != nil {
				return err
			}
		}
		return store.SetStaffDisabled(ctx, tx, u.ID, at)
	})
	if err != nil {
		return err
	}
	if disable {
		fmt.Fprintf(e.stdout, "%s is disabled; %s ended.\n", email, sessions(ended))
	} else {
		fmt.Fprintf(e.stdout, "%s may sign in again.\n", email)
	}
	return nil
}

func sessions(n int64) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}

// runUsersTOTPReset turns a user's two-step sign-in off, for someone who lost the phone with
// their authenticator app: they sign in with the password alone, and can turn it on again
// with a new key. Their sessions waiting for a code end.
func runUsersTOTPReset(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "users totp-reset", "users totp-reset EMAIL [--as ACTOR]", strings.TrimSpace(`
Turns off two-step sign-in for the user with this email, for someone who lost the phone with
their authenticator app: from now on they sign in with their password alone, and they can turn
it on again, with a new key, on their account page. Make sure it is them who asks (not by a
message that anyone could send). Written to the audit log.`))
	email, err := changeUser(ctx, e, fs, args, console.AuditTOTPReset, func(tx pgx.Tx, u store.StaffUser) error {
		wasOn, err := store.DisableStaffTOTP(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if !wasOn {
			return fmt.Errorf("%s does not have two-step sign-in on: nothing to reset", u.Email)
		}
		return store.DeletePendingStaffSessions(ctx, tx, u.ID)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Two-step sign-in is off for %s: they sign in with their password alone, and can turn it on again on their account page.\n", email)
	return nil
}
