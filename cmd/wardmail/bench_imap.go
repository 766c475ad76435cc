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
	"time"

	"wardmail/bench"
)

// runBenchIMAPStress runs `wardmail bench imap-stress`: many IMAP clients on
// shared mailboxes against `wardmail serve` and, with --dovecot, Dovecot.
func runBenchIMAPStress(args []string) error {
	fs := flag.NewFlagSet("bench imap-stress", flag.ExitOnError)
	cfg := bench.IMAPStressConfig{Out: os.Stderr}
	clients := fs.String("clients", "10,50", "client counts, comma-separated; each is a run on each side")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "length of each run")
	fs.IntVar(&cfg.Seed, "seed", 100, "messages put in each shared mailbox first")
	fs.BoolVar(&cfg.Dovecot, "dovecot", true, "also measure Debian's Dovecot 2.3 on loopback")
	fs.BoolVar(&cfg.Install, "install", false, "apt-get install dovecot (and postfix, which the pair starts) when missing")
	fs.StringVar(&cfg.Binary, "server-binary", "", "the wardmail executable to run as the server (default: this one)")
	fs.StringVar(&cfg.ServerProfile, "server-cpuprofile", "", "the server writes a CPU profile of the run to this file")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	_ = fs.Parse(args)
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bench imap-stress: bad --clients %q", *clients)
		}
		cfg.Clients = append(cfg.Clients, n)
	}
	res, err := bench.IMAPStress(context.Background(), cfg)
	if res != nil {
		if *asJSON {
			return errors.Join(err, json.NewEncoder(os.Stdout).Encode(res))
		}
		res.Print(os.Stdout)
	}
	return err
}
