package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"wardmail/bench"
)

// runBenchOutbound is `wardmail bench outbound`.
func runBenchOutbound(args []string) error {
	fs := flag.NewFlagSet("bench outbound", flag.ExitOnError)
	cfg := bench.OutboundConfig{Out: os.Stderr}
	fs.IntVar(&cfg.Messages, "messages", 50000, "messages queued before delivery starts")
	fs.IntVar(&cfg.Domains, "domains", 20, "destination domains, each with its own address on loopback (smtp-sink)")
	fs.IntVar(&cfg.Size, "size", 2048, "message size in bytes")
	fs.BoolVar(&cfg.Postfix, "postfix", false, "also measure Postfix's SMTP client (Debian's) delivering the same messages to the same sink")
	fs.BoolVar(&cfg.PostfixOnly, "postfix-only", false, "measure only Postfix (to try its settings with WARDMAIL_BENCH_POSTFIX_MAIN_CF)")
	fs.IntVar(&cfg.Down, "down", 0, "also queue this many messages for a destination that is down: RSS, idle CPU, then the drain rate")
	fs.BoolVar(&cfg.SkipDrain, "down-only", false, "only the destination that is down (--down)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	_ = fs.Parse(args)
	res, err := bench.Outbound(context.Background(), cfg)
	if res != nil {
		if *asJSON {
			return errors.Join(err, json.NewEncoder(os.Stdout).Encode(res))
		}
		fmt.Printf("outbound: %d messages of %d bytes to %d domains (smtp-sink on loopback)\n", res.Messages, res.Size, res.Domains)
		for _, r := range []*bench.DrainResult{res.Wardmail, res.Postfix} {
			if r != nil {
				fmt.Printf("  %-9s end to end %6.0f messages/s (%.1f s); draining a full queue %6.0f messages/s (%.1f s, %.1f CPU s; filled in %.1f s)\n",
					r.Side, r.E2EPerSecond, r.E2ESeconds, r.PerSecond, r.Seconds, r.CPUSeconds, r.FillSecond)
			}
		}
		if d := res.Down; d != nil {
			fmt.Printf("  down destination: %d queued, RSS %.0f MiB, idle CPU %.2f%%, drained at %.0f messages/s (%.1f s)\n",
				d.Messages, d.RSSMiB, d.IdleCPUPct, d.DrainPerSec, d.DrainSeconds)
		}
	}
	return err
}
