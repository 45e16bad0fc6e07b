package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"gopkg.in/yaml.v3"

	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

const campaignsUsage = `Usage: sawt campaigns create FILE.yaml [--as NAME]
       sawt campaigns list
       sawt campaigns show ID
       sawt campaigns pause|resume|cancel ID

Awareness campaigns: a text per language, an audience and a schedule. A running 'sawt serve'
sends them; these commands only write and read the database.

Subcommands:
  create   make a campaign from a YAML file (the fields of POST /api/v1/campaigns)
  list     list the campaigns, newest first
  show     a campaign with its runs and their counts, as JSON
  pause    hold a campaign between two messages
  resume   go on where a paused campaign stopped
  cancel   stop a campaign for good

A campaign file:

  name: Winter fire safety
  topic: safety
  texts:
    ar: "..."
    ckb: "..."
    badini: "..."
    en: "..."
  audience:            # every list given must match; leave out for everyone
    governorates: [duhok]
    channels: [sms, telegram]
  schedule:
    cron: "0 18 * * 5" # or: at: 2026-12-01T09:00:00+03:00, or: now: true`

func runCampaigns(ctx context.Context, e *env, args []string) error {
	move := func(verb string) subcommand {
		return subcommand{verb, func(ctx context.Context, e *env, args []string) error { return runCampaignsMove(ctx, e, verb, args) }}
	}
	return dispatch(ctx, e, campaignsUsage, args,
		subcommand{"create", runCampaignsCreate}, subcommand{"list", runCampaignsList}, subcommand{"show", runCampaignsShow},
		move("pause"), move("resume"), move("cancel"))
}

// withOutreach opens the database (migrated) and an outreach service that only queues jobs.
func withOutreach(ctx context.Context, e *env, fn func(*outreach.Service) error) error {
	pool, loc, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return err
	}
	return fn(&outreach.Service{Pool: pool, River: rc, Location: loc})
}

// ReadSpec reads a campaign file: YAML, unknown fields refused.
func readSpec(path string, stdin io.Reader) (outreach.Spec, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return outreach.Spec{}, err
	}
	var spec outreach.Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		if errors.Is(err, io.EOF) {
			return spec, fmt.Errorf("%s is empty", path)
		}
		return spec, fmt.Errorf("%s: %v", path, err)
	}
	return spec, nil
}

func runCampaignsCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "campaigns create", "campaigns create FILE.yaml [--as NAME]", strings.TrimSpace(`
Makes a campaign from a YAML file (- for standard input) with the fields of the API: name,
topic, texts (ar, ckb, badini, en), audience (languages, governorates, sites, channels,
topics, households), schedule (now, at or cron, in SAWT_TIMEZONE), allow_links,
allow_missing_languages. Texts with links, or a language without a text, are refused unless
allowed. Prints the campaign's ID.`))
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "FILE.yaml"); err != nil {
		return err
	}
	spec, err := readSpec(rest[0], e.stdin)
	if err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		id, err := s.Create(ctx, spec, actor())
		if err != nil {
			return err
		}
		c, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, id)
		if c.NextRunAt != nil {
			fmt.Fprintf(e.stderr, "Campaign %d %q: first run %s.\n", id, c.Name, c.NextRunAt.In(s.Location).Format("2006-01-02 15:04 MST"))
		}
		return nil
	})
}

// campaignsPage is how many campaigns list reads at a time.
const campaignsPage = 500

func runCampaignsList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "campaigns list", "campaigns list", "Lists the campaigns, newest first: ID, state, next run (local time), name.")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		var list []store.CampaignListing
		for offset := 0; ; offset += campaignsPage {
			page, more, err := store.Campaigns(ctx, s.Pool, campaignsPage, offset)
			if err != nil {
				return err
			}
			list = append(list, page...)
			if !more {
				break
			}
		}
		if len(list) == 0 {
			fmt.Fprintln(e.stderr, "No campaigns.")
			return nil
		}
		w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSTATE\tNEXT RUN\tNAME")
		for _, c := range list {
			next := "-"
			if c.NextRunAt != nil {
				next = c.NextRunAt.In(s.Location).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", c.ID, c.State, next, printable(c.Name))
		}
		return w.Flush()
	})
}

func campaignID(rest []string) (int64, error) { return idArg(rest, "campaign") }

// idArg reads the one argument of a command that takes the ID of a thing.
func idArg(rest []string, thing string) (int64, error) {
	if err := wantArgs(rest, "ID"); err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErrorf("%q is not a %s ID", rest[0], thing)
	}
	return id, nil
}

// printJSON writes v as indented JSON, as the API would send it.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runCampaignsShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "campaigns show", "campaigns show ID", "Prints a campaign with its newest runs and their counts, as JSON (as GET /api/v1/campaigns/ID).")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := campaignID(rest)
	if err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		st, err := s.Get(ctx, id)
		if errors.Is(err, outreach.ErrNotFound) {
			return fmt.Errorf("no campaign %d", id)
		}
		if err != nil {
			return err
		}
		return printJSON(e.stdout, st)
	})
}

func runCampaignsMove(ctx context.Context, e *env, verb string, args []string) error {
	fs := newFlagSet(e, "campaigns "+verb, "campaigns "+verb+" ID", map[string]string{
		"pause":  "Holds a campaign: its running run stops between two messages; a recurring one skips occurrences while paused.",
		"resume": "Lets a paused campaign go on where it stopped: nobody gets its message twice.",
		"cancel": "Stops a campaign for good: nothing more of it is sent and it never runs again.",
	}[verb])
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := campaignID(rest)
	if err != nil {
		return err
	}
	return withOutreach(ctx, e, func(s *outreach.Service) error {
		move := map[string]func(context.Context, int64) error{"pause": s.Pause, "resume": s.Resume, "cancel": s.Cancel}[verb]
		err := move(ctx, id)
		if errors.Is(err, outreach.ErrNotFound) {
			return fmt.Errorf("no campaign %d", id)
		}
		if err != nil {
			return err
		}
		st, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Campaign %d is %s.\n", id, st.State)
		return nil
	})
}
