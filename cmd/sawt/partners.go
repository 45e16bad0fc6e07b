package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sawt/sawt/store"
)

const partnersUsage = `Usage: sawt partners add NAME [--sector SECTOR] [--contact CONTACT]
       sawt partners list [--all]
       sawt partners retire ID

The organisations caseworkers refer cases to (with the person's consent to share): a name, the
sector they work in (health, protection, shelter, …) and how staff reach them. A partner is
never deleted, since cases keep pointing at it: one who no longer takes referrals is retired.

Subcommands:
  add      add a partner and print its ID
  list     list the partners who take referrals (--all: retired ones too)
  retire   stop offering a partner for new referrals`

func runPartners(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, partnersUsage, args,
		subcommand{"add", runPartnersAdd}, subcommand{"list", runPartnersList}, subcommand{"retire", runPartnersRetire})
}

func runPartnersAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "partners add", "partners add NAME [--sector SECTOR] [--contact CONTACT]",
		"Adds a referral partner and prints its ID. The name must not be another partner's.")
	sector := fs.String("sector", "", "what the partner works on, e.g. health, protection, shelter")
	contact := fs.String("contact", "", "how staff reach the partner: a focal point, a number")
	name, err := nameArg(fs, args)
	if err != nil {
		return err
	}
	pool, _, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	id, err := store.InsertPartner(ctx, pool, store.Partner{Name: name, Sector: strings.TrimSpace(*sector),
		Contact: strings.TrimSpace(*contact), CreatedAt: time.Now()})
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("there is a partner named %q already (sawt partners list --all)", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, id)
	return nil
}

func runPartnersList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "partners list", "partners list [--all]", "Lists the partners who take referrals: ID, sector, name, contact.")
	all := fs.Bool("all", false, "retired partners too")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	pool, _, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	list, err := store.Partners(ctx, pool, !*all)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "No partners: add one with sawt partners add NAME --sector SECTOR --contact CONTACT.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSECTOR\tNAME\tCONTACT\tRETIRED")
	for _, p := range list {
		retired := ""
		if !p.Active {
			retired = "retired"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, printable(p.Sector), printable(p.Name), printable(p.Contact), retired)
	}
	return tw.Flush()
}

func runPartnersRetire(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "partners retire", "partners retire ID", "Stops offering a partner for new referrals; cases referred to it keep it.")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := idArg(rest, "partner")
	if err != nil {
		return err
	}
	pool, _, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	if err := store.SetPartnerActive(ctx, pool, id, false); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no partner %d", id)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Partner %d is retired: it is no longer offered for referrals.\n", id)
	return nil
}
