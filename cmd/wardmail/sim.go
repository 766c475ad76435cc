package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"wardmail/sim"
)

func runSim(args []string) error {
	if len(args) >= 1 && args[0] == "cluster" {
		return runSimCluster(args[1:]) // simcluster.go
	}
	if len(args) >= 2 && args[0] == "replay" && args[1] == "lockout" {
		return runReplayLockout(args[2:])
	}
	if len(args) >= 2 && args[0] == "replay" && (args[1] == "list-scope" || args[1] == "reply-all-storm") {
		return runReplayStorm(args[1], args[2:]) // simstorm.go
	}
	if len(args) == 0 || args[0] != "gen" {
		return errors.New("usage: wardmail sim gen --people N --orgs N --out FILE.csv [--seed N] [--domain D]\n       wardmail sim replay lockout [--people N --devices N ...] (-h for all)\n       wardmail sim cluster [--nodes N] [--database URL] [--s3 versitygw|off] [--haproxy] [--ops N] (-h for all)\n       wardmail sim replay list-scope|reply-all-storm [--protection on|off] [--target HOST] [--duration D] [--chart FILE.svg] (-h for all)")
	}
	fs := flag.NewFlagSet("sim gen", flag.ExitOnError)
	cfg := sim.GenConfig{}
	fs.IntVar(&cfg.People, "people", 1200000, "people in the service")
	fs.IntVar(&cfg.Orgs, "orgs", 250, "organisations")
	fs.Uint64Var(&cfg.Seed, "seed", 2016, "random seed (same seed, same service)")
	fs.StringVar(&cfg.Domain, "domain", sim.DemoDomain, "everyone's mail domain")
	out := fs.String("out", "", "CSV file to write (a directory import file)")
	_ = fs.Parse(args[1:])
	if *out == "" || cfg.People < 1 || cfg.Orgs < 1 {
		return errors.New("--out, a positive --people and --orgs are required")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	orgs, err := sim.WritePeopleCSV(f, cfg)
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	fmt.Printf("wrote %d people in %d organisations to %s (largest %s: %d; smallest: %d)\n",
		cfg.People, len(orgs), *out, orgs[0].Name, orgs[0].People, orgs[len(orgs)-1].People)
	return nil
}
