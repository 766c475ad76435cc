package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"
)

const signInUsage = `usage:
  wardmail admin incident on|off --data DIR     stop (on) or resume (off) all lockout counting
  wardmail admin unlock --data DIR EMAIL...     forget the lockout state of these accounts
  wardmail admin unlock --data DIR --all-locked-since DURATION|RFC3339
                                                unlock every account locked since then (e.g. 6h)
  wardmail admin lockouts --data DIR [--json]   list the locks running now, with their sources`

func runIncident(args []string) error {
	fs := flag.NewFlagSet("admin incident", flag.ExitOnError)
	data := storeFlags(fs, "")
	rest := parseMixed(fs, args)
	if len(rest) != 1 || (rest[0] != "on" && rest[0] != "off") {
		return errors.New(signInUsage)
	}
	ctx := context.Background()
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := adminService(st).SetIncident(ctx, operatorPrincipal(), rest[0] == "on"); err != nil {
		return err
	}
	if rest[0] == "on" {
		fmt.Println("incident mode on: no sign-in failure is counted towards a lock (a running server sees it within a second)")
	} else {
		fmt.Println("incident mode off: sign-in failures are counted again")
	}
	return nil
}

// parseSince takes a duration back from now ("6h") or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--all-locked-since: %q is neither a duration (6h) nor an RFC 3339 time (2018-12-01T09:00:00Z)", s)
}

func runUnlock(args []string) error {
	fs := flag.NewFlagSet("admin unlock", flag.ExitOnError)
	data := storeFlags(fs, "")
	since := fs.String("all-locked-since", "", "unlock every account locked since this (a duration back from now, or RFC 3339)")
	accounts := parseMixed(fs, args)
	if len(accounts) == 0 && *since == "" {
		return errors.New(signInUsage)
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = parseSince(*since, time.Now()); err != nil {
			return err
		}
	}
	ctx := context.Background()
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := adminService(st).Unlock(ctx, operatorPrincipal(), accounts, from)
	if err != nil {
		return err
	}
	fmt.Printf("unlocked %d accounts (%d locks were running); a running server sees it within a second\n", len(res.Unlocked), res.LocksEnded)
	return nil
}

func runLockouts(args []string) error {
	fs := flag.NewFlagSet("admin lockouts", flag.ExitOnError)
	data := storeFlags(fs, "")
	asJSON := fs.Bool("json", false, "print JSON")
	_ = parseMixed(fs, args)
	ctx := context.Background()
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	locks, incident, err := adminService(st).Lockouts(ctx, operatorPrincipal())
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"incident": incident, "locks": locks})
	}
	if incident {
		fmt.Println("incident mode is on: failures are not being counted")
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tSOURCE\tFAMILIAR\tLOCK\tLOCKED AT\tUNTIL")
	for _, l := range locks {
		src := l.Source
		if src == "*" {
			src = "* (every unfamiliar source)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%s\t%s\n", l.Account, src, l.Familiar, l.Locks,
			l.LockedAt.Format(time.RFC3339), l.LockedUntil.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("%d locks running (a server saves its locks every second)\n", len(locks))
	return nil
}
