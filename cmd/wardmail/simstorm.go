package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"wardmail/server"
	"wardmail/sim"
)

// runReplayStorm is `wardmail sim replay list-scope|reply-all-storm`.
func runReplayStorm(scenario string, args []string) error {
	fs := flag.NewFlagSet("sim replay "+scenario, flag.ExitOnError)
	cfg := sim.StormConfig{Scenario: scenario}
	protection := fs.String("protection", "on", "on: storm breaker, sender limits and list governance; off: none of them (the 2016 situation)")
	fs.StringVar(&cfg.Target, "target", "", "a running wardmail serve on this host (default ports 2587, 2143, 8080) over a folder prepared with --prepare; empty: start one in this process")
	fs.StringVar(&cfg.SubmissionAddr, "submission", "", "the target's submission address (default TARGET:2587)")
	fs.StringVar(&cfg.IMAPAddr, "imap", "", "the target's IMAP address (default TARGET:2143)")
	fs.StringVar(&cfg.HTTPAddr, "http", "", "the target's HTTPS address (default TARGET:8080)")
	fs.StringVar(&cfg.DataDir, "data", "", "data folder (default: a temporary one, removed afterwards)")
	fs.BoolVar(&cfg.PrepareOnly, "prepare", false, "only set up --data (directory, list, passwords) for a --target run")
	fs.IntVar(&cfg.People, "people", 1200000, "people in the synthetic service (when --data is empty)")
	fs.IntVar(&cfg.Orgs, "orgs", 250, "organisations")
	fs.Uint64Var(&cfg.Seed, "seed", 2016, "random seed of the synthetic service")
	fs.IntVar(&cfg.StormListSize, "list-size", 8000, "reply-all-storm: use the organisation closest to this size for the list")
	fs.IntVar(&cfg.Readers, "readers", 200, "staff opening their mailboxes over IMAP")
	fs.DurationVar(&cfg.OpenEvery, "open-every", 4*time.Second, "each reader opens their mailbox this often")
	fs.IntVar(&cfg.Senders, "senders", 40, "staff sending one-to-one mail over SMTP")
	fs.DurationVar(&cfg.SendEvery, "send-every", 4*time.Second, "each sender sends this often")
	fs.IntVar(&cfg.Replies, "replies", 500, "people who press reply-all")
	fs.DurationVar(&cfg.Duration, "duration", 4*time.Minute, "the whole run: a quarter quiet, half the incident, a quarter after")
	fs.StringVar(&cfg.Chart, "chart", "", "write an SVG chart of latency over time here")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var sets []string
	fs.Func("set", "KEY=VALUE: a server setting for the in-process server (repeatable), e.g. post_trickle_interval=0s", func(v string) error {
		sets = append(sets, v)
		return nil
	})
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	_ = fs.Parse(args)
	switch *protection {
	case "on", "off":
		cfg.Protection = *protection == "on"
	default:
		return fmt.Errorf("--protection on or off, not %q", *protection)
	}
	cfg.Out = os.Stderr
	cfg.Tweak = func(c *server.Config) error {
		for _, kv := range sets {
			k, v, _ := strings.Cut(kv, "=")
			if err := c.Set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
				return err
			}
		}
		return nil
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	res, err := sim.ReplayStorm(context.Background(), cfg)
	if err != nil {
		return err
	}
	if cfg.PrepareOnly {
		return nil
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Print(res)
	return nil
}
