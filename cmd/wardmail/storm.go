package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"wardmail/policy"
	"wardmail/server"
)

const stormUsage = `usage:
  wardmail admin storms --data DIR [--since 168h] [--json] [--config FILE]
  wardmail admin storm block|unblock --data DIR THREAD [--hours H] [--reason TEXT]
  wardmail admin broadcast grant --data DIR EMAIL --per-day N
  wardmail admin broadcast revoke|list --data DIR [EMAIL]`

// stormAdminCommands are the reply-all storm and sender-limit commands.
var stormAdminCommands = map[string]func(args []string) error{
	"storms":    runStorms,
	"storm":     runStorm,
	"broadcast": runBroadcast,
}

// stormFlags parses what the storm commands share and opens the breaker
// over the data folder, with the settings of --config when given (the
// server's config file), else the defaults.
func stormFlags(name string, args []string, extra func(fs *flag.FlagSet)) (*policy.Breaker, []string, func() error, error) {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	data := storeFlags(fs, "")
	conf := fs.String("config", "", "the server's config file, for its storm settings")
	if extra != nil {
		extra(fs)
	}
	rest := parseMixed(fs, args)
	cfg := server.Defaults()
	if *conf != "" {
		if err := server.LoadFile(*conf, &cfg); err != nil {
			return nil, nil, nil, err
		}
	}
	st, err := openStore(context.Background(), *data)
	if err != nil {
		return nil, nil, nil, err
	}
	b := policy.NewBreaker(st, policy.StormConfig{MinAudience: cfg.StormMinAudience, Threshold: cfg.StormReplies,
		Window: cfg.StormWindow, BlockFor: cfg.StormBlock, BrakeFrom: cfg.StormBrakeFrom, BrakeDelay: cfg.StormBrakeDelay}, nil, nil, nil)
	return b, rest, st.Close, nil
}

// runStorms prints the storm board.
func runStorms(args []string) error {
	var since time.Duration
	var asJSON bool
	b, _, closeFn, err := stormFlags("admin storms", args, func(fs *flag.FlagSet) {
		fs.DurationVar(&since, "since", 7*24*time.Hour, "threads with large-audience replies in this time, or still blocked")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	defer closeFn()
	threads, err := b.Board(context.Background(), since)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"threads": threads})
	}
	if len(threads) == 0 {
		fmt.Println("no thread has had replies to a large audience")
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STATE\tREPLIES\tIN WINDOW\tBLOCKED\tBRAKED\tAUDIENCE\tSUBJECT\tORIGINAL SENDER\tFIRST\tLAST\tBLOCKED UNTIL\tTHREAD")
	for _, t := range threads {
		until := "-"
		if t.BlockedUntil != nil && t.State == "blocked" {
			until = t.BlockedUntil.Format("2006-01-02 15:04") + " by " + t.BlockedBy
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.State, t.Replies, t.InWindow, t.Refused, t.Braked, t.Audience,
			clip(t.Subject, 40), t.FirstSender, t.FirstAt.Format("01-02 15:04"), t.LastAt.Format("01-02 15:04"), until, t.ThreadID)
	}
	return w.Flush()
}

// runStorm blocks or unblocks one thread.
func runStorm(args []string) error {
	var hours float64
	var reason string
	b, rest, closeFn, err := stormFlags("admin storm", args, func(fs *flag.FlagSet) {
		fs.Float64Var(&hours, "hours", 0, "block: how long (default: the configured block time, 6 hours)")
		fs.StringVar(&reason, "reason", "", "why, for the audit trail")
	})
	if err != nil {
		return err
	}
	defer closeFn()
	if len(rest) != 2 || (rest[0] != "block" && rest[0] != "unblock") {
		return errors.New(stormUsage)
	}
	verb, thread := rest[0], rest[1]
	ctx, actor := context.Background(), "cli:"+osUser()
	if verb == "block" {
		t, err := b.Block(ctx, actor, thread, time.Duration(hours*float64(time.Hour)), reason)
		if err != nil {
			return err
		}
		fmt.Printf("blocked replies to large audiences on %s (%q) until %s\n", t.ThreadID, t.Subject, t.BlockedUntil.Format(time.RFC3339))
		return nil
	}
	t, err := b.Unblock(ctx, actor, thread, reason)
	if err != nil {
		return err
	}
	fmt.Printf("unblocked %s (%q); its reply count starts again from now\n", t.ThreadID, t.Subject)
	return nil
}

// runBroadcast manages authorised broadcast senders and their quotas.
func runBroadcast(args []string) error {
	fs := flag.NewFlagSet("admin broadcast", flag.ExitOnError)
	data := storeFlags(fs, "")
	perDay := fs.Int64("per-day", 0, "grant: people the sender may reach a day")
	rest := parseMixed(fs, args)
	if len(rest) == 0 {
		return errors.New(stormUsage)
	}
	verb := rest[0]
	rest = rest[1:]
	ctx := context.Background()
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	actor := "cli:" + osUser()
	switch verb {
	case "list":
		bs, err := st.BroadcastSenders(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "EMAIL\tPEOPLE A DAY\tGRANTED BY\tGRANTED")
		for _, b := range bs {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", b.Email, b.RecipientsPerDay, b.GrantedBy, b.GrantedAt.Format("2006-01-02"))
		}
		return w.Flush()
	case "grant", "revoke":
		if len(rest) != 1 || (verb == "grant" && *perDay <= 0) {
			return errors.New(stormUsage)
		}
		p, err := st.PersonByEmail(ctx, rest[0])
		if err != nil {
			return fmt.Errorf("%s: %w", rest[0], err)
		}
		n := *perDay
		if verb == "revoke" {
			n = 0
		}
		if err := st.SetBroadcastSender(ctx, actor, p.ID, n); err != nil {
			return err
		}
		if n == 0 {
			fmt.Printf("%s is no longer a broadcast sender\n", p.Email)
		} else {
			fmt.Printf("%s may reach %d people a day\n", p.Email, n)
		}
		return nil
	}
	return errors.New(stormUsage)
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\t", " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
