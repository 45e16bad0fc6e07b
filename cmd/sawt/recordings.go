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

const recordingsUsage = `Usage: sawt recordings list [--case REF] [--limit N]
       sawt recordings save REF --out DIR [--as NAME]

What callers said on the phone line, kept by Sawt after it fetched each recording from the
provider (and deleted it there).

Subcommands:
  list   list the recordings, newest first, without their audio
  save   write a case's recordings into a directory, to play them back

Recordings made for a confidential report are not here: a PSEA focal point decrypts them
with 'sawt psea show REF --identity FILE --recordings DIR'.`

func runRecordings(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, recordingsUsage, args,
		subcommand{"list", runRecordingsList}, subcommand{"save", runRecordingsSave})
}

func runRecordingsList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "recordings list", "recordings list [--case REF] [--limit N]", strings.TrimSpace(`
Lists the phone line's recordings, newest first: when each was made (local time), the case it
belongs to ("-" while the call has not made one yet), its length, and where its audio is:
"kept" (here, deleted at the provider), "kept, at provider" (deletion pending), or
"at provider" (not fetched yet). No audio is read.`))
	caseRef := fs.String("case", "", "only the recordings of the case with this `REF`erence")
	limit := fs.Int("limit", 50, "list at most `N` recordings (0: all)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return usageErrorf("--limit must not be negative, got %d", *limit)
	}
	pool, loc, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	var caseID *int64
	if *caseRef != "" {
		c, err := caseByRef(ctx, pool, *caseRef)
		if err != nil {
			return err
		}
		caseID = &c.ID
	}
	list, err := store.ListRecordings(ctx, pool, caseID, *limit)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "No recordings.")
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tMADE\tCASE\tLENGTH\tAUDIO")
	for _, r := range list {
		ref := "-"
		if r.CaseReference != "" {
			ref = r.CaseReference
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", r.ID, r.CreatedAt.In(loc).Format("2006-01-02 15:04"), ref,
			(time.Duration(r.DurationSeconds) * time.Second).String(), whereAudio(r))
	}
	return w.Flush()
}

func whereAudio(r store.RecordingListing) string {
	switch {
	case r.AudioBytes > 0 && r.DeletedAt != nil:
		return "kept"
	case r.AudioBytes > 0:
		return "kept, at provider"
	case r.DeletedAt != nil:
		return "lost" // deleted at the provider before it was fetched: should not happen
	}
	return "at provider"
}

func runRecordingsSave(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "recordings save", "recordings save REF --out DIR [--as NAME]", strings.TrimSpace(`
Writes the recordings of the case with reference REF into DIR (made if missing, mode 0700) as
REF-1.mp3, REF-2.mp3, … in the order they were made, each mode 0600 and never over an existing
file, and prints their paths: play them with any audio player. The callers' voices are
personal data: every save is written to the audit log, and the files should be deleted once
listened to.`))
	out := fs.String("out", "", "the directory to write the recordings into (required)")
	actor := actorFlag(e, fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "REF"); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("--out DIR is required")
	}
	pool, _, done, err := openMigratedLocal(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	c, err := caseByRef(ctx, pool, rest[0])
	if err != nil {
		return err
	}
	recs, err := store.RecordingsOfCase(ctx, pool, c.ID)
	if err != nil {
		return err
	}
	files := make([]audioFile, 0, len(recs))
	for _, r := range recs {
		files = append(files, audioFile{contentType: r.ContentType, audio: r.Audio, missing: len(r.Audio) == 0})
	}
	kept := 0
	for _, f := range files {
		if !f.missing {
			kept++
		}
	}
	if kept > 0 {
		if err := audit(ctx, pool, actor(), "recordings.save", c.Reference, fmt.Sprintf("%d recordings", kept)); err != nil {
			return err
		}
	}
	written, err := writeRecordings(*out, c.Reference, files)
	for _, p := range written {
		fmt.Fprintln(e.stdout, p)
	}
	if err != nil {
		return err
	}
	switch {
	case len(recs) == 0:
		fmt.Fprintf(e.stderr, "Case %s has no recordings.\n", c.Reference)
	case kept < len(recs):
		fmt.Fprintf(e.stderr, "%d of the case's %d recordings are not fetched from the provider yet.\n", len(recs)-kept, len(recs))
	}
	return nil
}

// caseByRef finds a case by its reference as a person or caseworker would type it.
func caseByRef(ctx context.Context, db store.DB, typed string) (store.CaseRow, error) {
	ref := canonicalRef(typed)
	c, err := store.CaseByReference(ctx, db, ref)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("no case with reference %s", ref)
	}
	return c, err
}
