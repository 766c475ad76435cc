package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"wardmail/sim"
)

// runSimCluster is `wardmail sim cluster`.
func runSimCluster(args []string) error {
	fs := flag.NewFlagSet("sim cluster", flag.ExitOnError)
	cfg := sim.ClusterConfig{}
	fs.IntVar(&cfg.Nodes, "nodes", 3, "wardmail serve processes")
	fs.StringVar(&cfg.Database, "database", "", "postgres:// URL of the database the nodes share (empty: start a throwaway PostgreSQL and count its CPU)")
	fs.BoolVar(&cfg.Standby, "standby", false, "give the throwaway PostgreSQL a synchronous streaming standby (every commit waits for it)")
	s3 := fs.String("s3", "versitygw", "where the bodies go: versitygw (start Versity's S3 gateway) or off (each node's folder: only for bodies that stay inline)")
	fs.BoolVar(&cfg.HAProxy, "haproxy", false, "send clients through HAProxy (default: round robin over the nodes, which gives per-node figures)")
	fs.IntVar(&cfg.People, "people", 20000, "people in the synthetic health service imported first")
	fs.IntVar(&cfg.Orgs, "orgs", 40, "its organisations")
	fs.Uint64Var(&cfg.Seed, "seed", 2016, "its random seed")
	fs.IntVar(&cfg.Readers, "readers", 200, "mailboxes that take the deliveries and are read, searched and signed in to")
	fs.IntVar(&cfg.Ops, "ops", 2000, "operations in each of deliver, submit, select-fetch, fetch-body and search")
	fs.IntVar(&cfg.SignIns, "signins", 200, "sign-ins in each sign-in phase (app password, argon2id password)")
	fs.IntVar(&cfg.Clients, "clients", 8, "concurrent clients in each phase")
	fs.IntVar(&cfg.BodyBytes, "body-bytes", 12<<10, "size of each message's text")
	fs.IntVar(&cfg.ListSize, "list-size", 1000, "members of the list posted to")
	fs.IntVar(&cfg.ListPosts, "list-posts", 10, "posts to the list")
	fs.IntVar(&cfg.IdleSessions, "idle", 600, "IMAP sessions left in IDLE to weigh a session")
	fs.DurationVar(&cfg.Settle, "settle", 0, "wait after each phase for PostgreSQL's statistics (default 11s)")
	phases := fs.String("phases", "", "comma-separated phases to run (default all: "+strings.Join(sim.ClusterPhases, ",")+")")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	report := fs.String("report", "", "print the report of a result saved with --json, run nothing")
	_ = fs.Parse(args)
	if *report != "" {
		b, err := os.ReadFile(*report)
		if err != nil {
			return err
		}
		var res sim.ClusterResult
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: %w", *report, err)
		}
		fmt.Print(&res)
		return nil
	}
	switch *s3 {
	case "versitygw":
		cfg.S3 = true
	case "off":
	default:
		return fmt.Errorf("--s3 versitygw or off, not %q", *s3)
	}
	if *phases != "" {
		cfg.Phases = strings.Split(*phases, ",")
	}
	cfg.Out = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := sim.RunCluster(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Print(res)
	return nil
}
