package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"wardmail/auth"
	"wardmail/sim"
)

// runReplayLockout is `wardmail sim replay lockout`.
func runReplayLockout(args []string) error {
	fs := flag.NewFlagSet("sim replay lockout", flag.ExitOnError)
	cfg := sim.LockoutConfig{Params: auth.DefaultParams()}
	fs.IntVar(&cfg.People, "people", 100000, "people")
	fs.IntVar(&cfg.Devices, "devices", 200000, "devices in all (1-3 per person)")
	fs.Float64Var(&cfg.PasswordShare, "password-share", 0.1, "share of devices signing in with the person's password (the rest use app passwords)")
	fs.Float64Var(&cfg.StaleShare, "stale-share", 0.05, "share of devices holding a stale password or revoked app password")
	fs.IntVar(&cfg.Retries, "retries", 12, "retries of a refused device (a stale one retries this often: more than a lock threshold)")
	fs.IntVar(&cfg.AttackSources, "attack-sources", 4, "attacker networks")
	fs.IntVar(&cfg.AttackAccounts, "attack-accounts", 300, "accounts the attacker sprays")
	fs.IntVar(&cfg.AttackClients, "attack-clients", 4, "concurrent attacker connections")
	fs.DurationVar(&cfg.Outage, "outage", 15e9, "how long the credential store fails")
	fs.IntVar(&cfg.Clients, "clients", 64, "concurrent device connections")
	fs.BoolVar(&cfg.ClientX25519Only, "client-x25519", false, "clients offer X25519 only (most mail clients today) instead of Go's hybrid X25519MLKEM768")
	fs.BoolVar(&cfg.TLSResume, "tls-resume", false, "devices resume their TLS sessions when they reconnect, as real clients do")
	mem := fs.Uint("argon2-memory-kib", 1024, "argon2id memory of the shared simulated password hash (sim only; production default 19456)")
	tm := fs.Uint("argon2-time", 1, "argon2id passes of the shared simulated password hash (production default 2)")
	fs.StringVar(&cfg.DataDir, "data", "", "data folder (default: a temporary one, removed afterwards)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	_ = fs.Parse(args)
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	cfg.Params.Memory, cfg.Params.Time = uint32(*mem), uint32(*tm)
	cfg.Out = os.Stderr
	res, err := sim.ReplayLockout(context.Background(), cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Print(res)
	if res.LegitLockedOut > 0 {
		return fmt.Errorf("%d legitimate people were locked out", res.LegitLockedOut)
	}
	return nil
}
