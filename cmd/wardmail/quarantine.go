package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"wardmail/store"
)

const quarantineUsage = `usage:
  wardmail admin quarantine list --data DIR [--all] [--by EMAIL] [--json]
  wardmail admin quarantine release --data DIR ID [--by EMAIL]
  wardmail admin quarantine delete --data DIR ID [--by EMAIL]`

// runQuarantine is `wardmail admin quarantine`: the messages the scanner
// kept from their recipients. The operator acts with national rights;
// --by EMAIL acts with that administrator's rights (their organisations'
// recipients only). Releases and deletions are audited under that name.
func runQuarantine(args []string) error {
	if len(args) == 0 {
		return errors.New(quarantineUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("admin quarantine "+verb, flag.ExitOnError)
	at := storeFlags(fs, "")
	by := fs.String("by", "", "act as this administrator (default: the operator, with national rights)")
	all := fs.Bool("all", false, "list: decided messages too")
	asJSON := fs.Bool("json", false, "print JSON")
	rest := parseMixed(fs, args[1:])
	ctx := context.Background()
	st, err := openStore(ctx, *at)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := adminService(st)
	actor := operatorPrincipal()
	if *by != "" {
		pr, err := svc.ActorNamed(ctx, *by)
		if err != nil {
			return fmt.Errorf("--by %s: %w", *by, err)
		}
		actor = *pr
	}
	switch verb {
	case "list":
		msgs, err := svc.Quarantine(ctx, actor, !*all, 0)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(msgs)
		}
		if len(msgs) == 0 {
			fmt.Println("the quarantine is empty")
			return nil
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tRECEIVED\tVERDICT\tFROM\tSUBJECT\tRECIPIENTS")
		for _, q := range msgs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%q\t%s\n", q.ID, q.Created.Local().Format("2006-01-02 15:04"), q.Kind, q.Sender, q.Subject, rcptList(q.Recipients))
		}
		return w.Flush()
	case "release", "delete":
		if len(rest) != 1 {
			return errors.New(quarantineUsage)
		}
		id, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a quarantine id (see wardmail admin quarantine list)", rest[0])
		}
		decide := svc.ReleaseQuarantined
		done := "released to"
		if verb == "delete" {
			decide, done = svc.DeleteQuarantined, "deleted for"
		}
		res, err := decide(ctx, actor, id)
		if err != nil {
			return err
		}
		fmt.Printf("quarantined message %d %s %s\n", id, done, strings.Join(res.Recipients, ", "))
		return nil
	}
	return fmt.Errorf("unknown quarantine command %q\n%s", verb, quarantineUsage)
}

// rcptList shows each recipient with its state when it is not held.
func rcptList(rs []store.QuarantineRcpt) string {
	var out []string
	for _, r := range rs {
		s := r.Address
		if r.State != "held" {
			s += " (" + r.State + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}
