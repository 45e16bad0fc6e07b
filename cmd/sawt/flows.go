package main

import (
	"context"
	"fmt"

	"github.com/sawt/sawt/flows"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/locales"
)

func runFlows(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: sawt flows check [--dir DIR]\n\nSubcommands:\n  check    validate every flow and that every text exists in all four languages")
		if len(args) == 0 {
			return usageErrorf("missing subcommand")
		}
		return nil
	}
	if args[0] != "check" {
		return usageErrorf("unknown subcommand %q (try: sawt flows check)", args[0])
	}
	fs := newFlagSet(e, "flows check", "flows check [--dir DIR]", `Validates the shipped flows (and those of DIR, default $SAWT_FLOWS_DIR, which add to or replace
them): unknown or unreachable steps, choices that lead nowhere, unknown inputs and actions, and
texts missing in Arabic, Sorani, Badini or English. Prints each problem with its file and line
and exits 1 if there is any.`)
	dir := fs.String("dir", e.getenv("SAWT_FLOWS_DIR"), "directory of flow files to check with the shipped ones")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q (give a directory with --dir DIR)", fs.Arg(0))
	}
	texts, err := locales.Default()
	if err != nil {
		return err
	}
	defs, err := flows.Load(*dir)
	if err != nil {
		return err
	}
	probs := flows.Check(defs, texts, gateway.EngineConfig(flows.Config{}))
	for _, p := range probs {
		fmt.Fprintln(e.stdout, p)
	}
	if len(probs) > 0 {
		return fmt.Errorf("%d problems found", len(probs))
	}
	fmt.Fprintf(e.stdout, "ok: %d flows, %d texts in each of %d languages\n", len(defs), len(texts.Keys(locales.English)), len(locales.Languages))
	return nil
}
