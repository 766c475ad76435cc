package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"wardmail/dkimsign"
)

const dkimUsage = `usage:
  wardmail dkim show --data DIR DOMAIN                    the domain's keys: selectors, when each signs and retires
  wardmail dkim rotate --data DIR DOMAIN [--overlap 72h]  new keys, published now, signing after the overlap
  wardmail dkim prune --data DIR DOMAIN                   remove keys whose retirement has passed`

// dkimDir is where a data folder keeps its DKIM keys (package dkimsign).
func dkimDir(data string) string { return filepath.Join(data, "dkim") }

func runDKIM(args []string) error {
	if len(args) == 0 {
		return errors.New(dkimUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("dkim "+verb, flag.ExitOnError)
	data := fs.String("data", "", "data folder")
	overlap := fs.Duration("overlap", dkimsign.DefaultOverlap, "how long new keys are published before they sign (and old ones kept after)")
	rest := parseMixed(fs, args[1:])
	if len(rest) != 1 || *data == "" {
		return errors.New(dkimUsage)
	}
	domain := rest[0]
	keys := dkimsign.Open(dkimDir(*data), nil)
	switch verb {
	case "show":
	case "rotate":
		g, err := keys.Rotate(domain, *overlap)
		if err != nil {
			return err
		}
		if err := auditCLI(*data, "dkim.rotate", domain, map[string]any{"selectors": selectorsOf(g), "signs": g.Signs}); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "new keys for %s: publish these records now (wardmail dns records %s); they sign from %s\n",
			domain, domain, g.Signs.Format(time.RFC3339))
	case "prune":
		if err := keys.Prune(domain); err != nil {
			return err
		}
		if err := auditCLI(*data, "dkim.prune", domain, nil); err != nil {
			return err
		}
	default:
		return errors.New(dkimUsage)
	}
	gens, err := keys.Generations(domain)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SELECTOR\tALGORITHM\tCREATED\tSIGNS FROM\tRETIRES")
	for _, g := range gens {
		retires := "-"
		if !g.Retires.IsZero() {
			retires = g.Retires.Format(time.RFC3339)
		}
		for _, k := range g.Keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Selector, k.Algorithm, g.Created.Format(time.RFC3339), g.Signs.Format(time.RFC3339), retires)
		}
	}
	return tw.Flush()
}

func selectorsOf(g dkimsign.Generation) []string {
	var s []string
	for _, k := range g.Keys {
		s = append(s, k.Selector)
	}
	return s
}

// auditCLI records an administrator's action taken on the command line.
func auditCLI(data, action, target string, detail any) error {
	ctx := context.Background()
	st, err := openStore(ctx, storeAt{Dir: data})
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Audit(ctx, "cli:"+osUser(), action, target, detail)
}
