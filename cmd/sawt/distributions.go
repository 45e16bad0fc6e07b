package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"

	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

const distributionsUsage = `Usage: sawt distributions import FILE.yaml [--as NAME]
       sawt distributions import --distribution ID FILE.csv
       sawt distributions list
       sawt distributions show ID
       sawt distributions cancel ID

Aid distributions and the households told of them. A running 'sawt serve' sends the alerts:
an announcement when households are imported (or at announce_at), reminders before the
start (24 and 2 hours by default), and a notice when the distribution is changed or
cancelled. Every alert says assistance is free and carries a code people can send back to
check that it came from us.

Subcommands:
  import   make a distribution from a YAML file and import its households, or add
           households to one (--distribution ID); nothing is imported unless every line
           of the household list is good
  list     list the distributions, the latest first
  show     a distribution with its households count and alerts, as JSON
  cancel   cancel a distribution: its households are told

A distribution file:

  site: Mamrashan camp
  governorate: duhok
  starts_at: 2026-12-10T09:00:00+03:00
  place: the distribution hall near gate 2
  items: food basket and hygiene kit
  bring: your ration card and ID
  reminders_hours: [24, 2]
  households: households.csv   # phone,household,language[,name]; relative to this file`

func runDistributions(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, distributionsUsage, args,
		subcommand{"import", runDistributionsImport}, subcommand{"list", runDistributionsList},
		subcommand{"show", runDistributionsShow}, subcommand{"cancel", runDistributionsCancel})
}

// distributionFile is the YAML file of sawt distributions import.
type distributionFile struct {
	outreach.DistributionSpec `yaml:",inline"`
	Households                string `yaml:"households"`
}

func runDistributionsImport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "distributions import", "distributions import FILE.yaml | --distribution ID FILE.csv", strings.TrimSpace(`
Makes a distribution from a YAML file (site, governorate, starts_at, place, items, bring,
announce_at, reminders_hours, and households: the CSV file of its households) and imports
the households; or, with --distribution, adds the households of a CSV file to an existing
distribution. The CSV has the columns phone, household, language and, if you want, name.
Every bad line is reported with its number and nothing is imported until the file is
clean. Prints the distribution's ID.`))
	actor := actorFlag(e, fs)
	existing := fs.Int64("distribution", 0, "add the households to this `ID` instead of making a distribution")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "FILE"); err != nil {
		return err
	}
	path := rest[0]
	var spec *distributionFile
	csvPath := path
	if *existing == 0 {
		if strings.EqualFold(filepath.Ext(path), ".csv") {
			return usageErrorf("%s is a household list: say which distribution it is for with --distribution ID, or give a distribution file (YAML)", path)
		}
		if spec, err = readDistributionFile(path); err != nil {
			return err
		}
		if spec.Households == "" {
			return fmt.Errorf("%s: households: name the CSV file of the households", path)
		}
		csvPath = spec.Households
		if !filepath.IsAbs(csvPath) {
			csvPath = filepath.Join(filepath.Dir(path), csvPath)
		}
	}
	households, err := readHouseholds(csvPath)
	if err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		id := *existing
		if spec != nil {
			if id, err = s.CreateDistribution(ctx, spec.DistributionSpec, actor()); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		res, err := s.ImportHouseholds(ctx, id, households)
		if errors.Is(err, outreach.ErrNoDistribution) {
			return fmt.Errorf("no distribution %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, id)
		fmt.Fprintf(e.stderr, "Distribution %d: %d households imported (%d new); it has %d.\n", id, res.Rows, res.Added, res.Households)
		return nil
	})
}

func readDistributionFile(path string) (*distributionFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f distributionFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty", path)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &f, nil
}

// readHouseholds reads a household list, every bad line reported as FILE:LINE.
func readHouseholds(path string) ([]outreach.Household, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	households, err := outreach.ParseHouseholds(f, 0)
	var ie *outreach.ImportError
	if errors.As(err, &ie) {
		var b strings.Builder
		for _, l := range ie.Lines {
			fmt.Fprintf(&b, "%s:%d: %s: %s\n", path, l.Line, l.Column, l.Message)
		}
		fmt.Fprintf(&b, "%d problems; nothing was imported", len(ie.Lines))
		return nil, errors.New(b.String())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return households, nil
}

func runDistributionsList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "distributions list", "distributions list", "Lists the distributions, the latest first: ID, state, start (local time), households, site.")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		list, _, err := store.Distributions(ctx, s.Pool, 1000, 0)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(e.stderr, "No distributions.")
			return nil
		}
		w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSTATE\tSTARTS\tHOUSEHOLDS\tSITE")
		for _, d := range list {
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\n", d.ID, d.State, d.StartsAt.In(s.Location).Format("2006-01-02 15:04"), d.Households, printable(d.Site))
		}
		return w.Flush()
	})
}

func runDistributionsShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "distributions show", "distributions show ID", "Prints a distribution with its households count and its alerts (code and counts), as JSON (as GET /api/v1/distributions/ID).")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := idArg(rest, "distribution")
	if err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		st, err := s.GetDistribution(ctx, id)
		if errors.Is(err, outreach.ErrNoDistribution) {
			return fmt.Errorf("no distribution %d", id)
		}
		if err != nil {
			return err
		}
		return printJSON(e.stdout, st)
	})
}

func runDistributionsCancel(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "distributions cancel", "distributions cancel ID", "Cancels a distribution: alerts not yet sent are stopped and its households are told it is cancelled.")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := idArg(rest, "distribution")
	if err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		err := s.CancelDistribution(ctx, id)
		if errors.Is(err, outreach.ErrNoDistribution) {
			return fmt.Errorf("no distribution %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Distribution %d is cancelled; its households will be told.\n", id)
		return nil
	})
}
