package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"wardmail/bench"
)

func runBench(args []string) error {
	if len(args) > 0 && args[0] == "fanout" {
		return runBenchFanout(args[1:])
	}
	if len(args) > 0 && args[0] == "signin" {
		return runBenchSignIn(args[1:])
	}
	if len(args) > 0 && args[0] == "outside" {
		return runBenchOutside(args[1:])
	}
	if len(args) > 0 && args[0] == "mailbox" {
		return runBenchMailbox(args[1:])
	}
	if len(args) > 0 && args[0] == "imap-stress" {
		return runBenchIMAPStress(args[1:])
	}
	if len(args) > 0 && args[0] == "outbound" {
		return runBenchOutbound(args[1:])
	}
	if len(args) == 0 || args[0] != "deliver" {
		return errors.New("usage: wardmail bench deliver [--clients 20] [--messages 20000] [--size 2048]\n" +
			"       wardmail bench fanout [--members 1200000] [--posts 100] [--readers 1000]\n" +
			"       wardmail bench signin [--people 20000] [--clients 64] [--duration 20s] [--server-cpus 0]\n" +
			"       wardmail bench outside [--messages 20000] [--runs 3] [--pair] [--read 10000] [--install]\n" +
			"       wardmail bench mailbox --data DIR [--person ben.okafor@nhs.test] [--count 100000]\n" +
			"       wardmail bench imap-stress [--clients 10,50] [--duration 30s] [--dovecot] [--install]\n" +
			"       wardmail bench outbound [--messages 50000] [--domains 20] [--postfix] [--down 1000000]")
	}
	fs := flag.NewFlagSet("bench deliver", flag.ExitOnError)
	cfg := bench.DeliverConfig{Out: os.Stderr}
	fs.IntVar(&cfg.Clients, "clients", 20, "concurrent SMTP submission clients")
	fs.IntVar(&cfg.Messages, "messages", 20000, "messages to send")
	fs.IntVar(&cfg.Size, "size", 2048, "message size in bytes")
	fs.IntVar(&cfg.People, "people", 200, "recipients the messages spread over")
	fs.IntVar(&cfg.Readers, "readers", 4, "concurrent IMAP LOGIN+SELECT samplers")
	fs.DurationVar(&cfg.OpenEvery, "open-every", 500*time.Millisecond, "each sampler's interval between LOGIN+SELECTs")
	fs.DurationVar(&cfg.Idle, "idle", 5*time.Second, "how long to measure IMAP opens before the load")
	fs.StringVar(&cfg.DataDir, "data", "", "data folder (default: a temporary one)")
	database, backends := backendFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load phase (not the seeding nor the idle opens) to this file; with --backends, one file per backend with its name appended")
	_ = fs.Parse(args[1:])
	profile := func(name string) (io.Writer, func(), error) {
		if *cpuProfile == "" {
			return nil, func() {}, nil
		}
		f, err := os.Create(*cpuProfile + name)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { _ = f.Close() }, nil
	}
	if *backends == "" {
		cfg.Database = *database
		w, done, err := profile("")
		if err != nil {
			return err
		}
		defer done()
		cfg.LoadProfile = w
		res, err := bench.Deliver(context.Background(), cfg)
		if res != nil {
			res.Print(os.Stdout)
		}
		return err
	}
	var names []string
	var all []*bench.DeliverResult
	err := bench.Backends(context.Background(), strings.Split(*backends, ","), *database, os.Stdout, func(name, db string) error {
		c := cfg
		c.Database = db
		if c.DataDir != "" {
			c.DataDir = filepath.Join(c.DataDir, name)
		}
		w, done, err := profile("." + name)
		if err != nil {
			return err
		}
		defer done()
		c.LoadProfile = w
		res, err := bench.Deliver(context.Background(), c)
		if res != nil {
			res.Print(os.Stdout)
			names, all = append(names, name), append(all, res)
		}
		return err
	})
	if len(all) > 1 {
		bench.PrintDeliverSideBySide(os.Stdout, names, all)
	}
	return err
}

// backendFlags adds --database and --backends to a benchmark.
func backendFlags(fs *flag.FlagSet) (database, backends *string) {
	database = fs.String("database", "", "postgres:// URL: with --backends, a server where each PostgreSQL run gets a throwaway database; alone, the database to run on (empty: SQLite)")
	backends = fs.String("backends", "", "run on each of these in turn and print them side by side: sqlite,postgres")
	return database, backends
}

func runBenchFanout(args []string) error {
	fs := flag.NewFlagSet("bench fanout", flag.ExitOnError)
	cfg := bench.FanoutConfig{Out: os.Stderr}
	fs.IntVar(&cfg.Members, "members", 1200000, "people in the directory, all on one national list")
	fs.IntVar(&cfg.Posts, "posts", 100, "posts to the list")
	fs.IntVar(&cfg.Readers, "readers", 1000, "random members who then SELECT and FETCH all")
	fs.IntVar(&cfg.Workers, "workers", 8, "concurrent IMAP readers")
	fs.StringVar(&cfg.DataDir, "data", "", "data folder (default: a temporary one)")
	database, backends := backendFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	_ = fs.Parse(args)
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	if *backends == "" {
		cfg.Database = *database
		res, err := bench.Fanout(context.Background(), cfg)
		if res != nil {
			res.Print(os.Stdout)
		}
		return err
	}
	var names []string
	var all []*bench.FanoutResult
	err = bench.Backends(context.Background(), strings.Split(*backends, ","), *database, os.Stdout, func(name, db string) error {
		c := cfg
		c.Database = db
		if c.DataDir != "" {
			c.DataDir = filepath.Join(c.DataDir, name)
		}
		res, err := bench.Fanout(context.Background(), c)
		if res != nil {
			res.Print(os.Stdout)
			names, all = append(names, name), append(all, res)
		}
		return err
	})
	if len(all) > 1 {
		bench.PrintFanoutSideBySide(os.Stdout, names, all)
	}
	return err
}

// runBenchMailbox seeds the demo people and one large folder into --data
// (for `wardmail demo --data` and the browser benchmark) and times the
// message list's store queries.
func runBenchMailbox(args []string) error {
	fs := flag.NewFlagSet("bench mailbox", flag.ExitOnError)
	cfg := bench.MailboxConfig{Out: os.Stderr}
	dir := storeFlags(fs, "")
	fs.StringVar(&cfg.Person, "person", "ben.okafor@nhs.test", "whose INBOX to fill")
	fs.IntVar(&cfg.Count, "count", 100000, "messages")
	fs.IntVar(&cfg.Workers, "workers", 32, "concurrent appends")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	_ = fs.Parse(args)
	if dir.Dir == "" {
		return errors.New("bench mailbox: --data is required")
	}
	ctx := context.Background()
	if err := seedDemo(ctx, *dir); err != nil {
		return err
	}
	st, err := openStore(ctx, *dir)
	if err != nil {
		return err
	}
	res, err := bench.Mailbox(ctx, st, cfg)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if res != nil {
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(res)
		}
		res.Print(os.Stdout)
	}
	return err
}

// startCPUProfile writes a CPU profile to path until stop is called; with
// no path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "wardmail: writing the CPU profile:", err)
		}
	}, nil
}

func runBenchSignIn(args []string) error {
	fs := flag.NewFlagSet("bench signin", flag.ExitOnError)
	cfg := bench.SignInConfig{Out: os.Stderr}
	fs.IntVar(&cfg.People, "people", 20000, "people, one app-password device each")
	fs.IntVar(&cfg.Clients, "clients", 64, "concurrent reconnecting clients")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long to measure after the warm-up")
	fs.StringVar(&cfg.ServerCPUs, "server-cpus", "", "pin the server process to these CPUs with taskset (e.g. 0); run the bench itself under taskset on the others")
	fs.BoolVar(&cfg.TLSResume, "tls-resume", false, "clients resume TLS sessions, as real devices do")
	fs.StringVar(&cfg.DataDir, "data", "", "data folder (default: a temporary one)")
	fs.StringVar(&cfg.ServerProfile, "server-cpuprofile", "", "the server writes a CPU profile of the run to this file")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	_ = fs.Parse(args)
	res, err := bench.SignIn(context.Background(), cfg)
	if res != nil {
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(res)
		}
		res.Print(os.Stdout)
	}
	return err
}

func runBenchOutside(args []string) error {
	fs := flag.NewFlagSet("bench outside", flag.ExitOnError)
	cfg := bench.OutsideConfig{Out: os.Stderr}
	fs.IntVar(&cfg.People, "people", 20000, "recipients 1..N (smtp-source -N numbers them)")
	fs.IntVar(&cfg.Messages, "messages", 20000, "messages per delivery run")
	fs.IntVar(&cfg.Sessions, "sessions", 20, "smtp-source parallel sessions (-s)")
	fs.IntVar(&cfg.Size, "size", 1940, "smtp-source message length (-l)")
	fs.IntVar(&cfg.Runs, "runs", 3, "delivery runs of each side, interleaved, into the same data folder (0: reads only)")
	fs.IntVar(&cfg.ReadMessages, "read", 10000, "messages in the INBOX opened by imaplib (0: no read test)")
	fs.IntVar(&cfg.ReadRepeats, "read-repeats", 20, "warm opens timed")
	fs.IntVar(&cfg.FloodPosts, "flood", 0, "posts to a list of every bench person from 20 named senders while 4 readers open random mailboxes (0: no flood; the issue's is 400)")
	fs.DurationVar(&cfg.FloodQuiet, "flood-quiet", 10*time.Second, "how long mailbox opens are timed before the flood (and after it)")
	fs.BoolVar(&cfg.Pair, "pair", false, "also measure Postfix -> LMTP -> Dovecot (Debian's packages) in the same run")
	fs.BoolVar(&cfg.Install, "install", false, "apt-get install Debian's postfix (smtp-source) and dovecot when missing")
	fs.StringVar(&cfg.DataDir, "data", "", "Wardmail's data folder (default: a temporary one)")
	fs.StringVar(&cfg.Binary, "server-binary", "", "the wardmail executable to run as the server (default: this one), to measure another version")
	fs.StringVar(&cfg.ServerProfile, "server-cpuprofile", "", "the server writes a CPU profile of the run to this file")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	_ = fs.Parse(args)
	res, err := bench.Outside(context.Background(), cfg)
	if res != nil {
		if *asJSON {
			return errors.Join(err, json.NewEncoder(os.Stdout).Encode(res))
		}
		res.Print(os.Stdout)
	}
	return err
}
