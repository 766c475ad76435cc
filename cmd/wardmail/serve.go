package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"wardmail/server"
)

// serveFlags binds the serve flags to a config; the config file is read
// first and flags given on the command line override it.
func serveFlags(fs *flag.FlagSet) func() (server.Config, error) {
	cfg := server.Defaults()
	configFile := fs.String("config", "", "config file of key = value lines (see docs/configuration.md)")
	set := map[string]*string{}
	for _, f := range []struct{ key, def, help string }{
		{"data", cfg.DataDir, "data folder: database, blobs, certificates"},
		{"database", "", "postgres:// URL of a PostgreSQL database shared by several nodes (empty: SQLite in the data folder)"},
		{"hostname", cfg.Hostname, "host name in greetings, Received headers and the self-signed certificate"},
		{"smtp", cfg.SMTPAddr, "inbound SMTP address (mail from other servers)"},
		{"submission", cfg.SubmissionAddr, "submission address (STARTTLS, AUTH required)"},
		{"submissions", "", "implicit-TLS submission address (off when empty)"},
		{"imap", cfg.IMAPAddr, "IMAP address (STARTTLS)"},
		{"imaps", "", "implicit-TLS IMAP address (off when empty)"},
		{"http", cfg.HTTPAddr, "HTTPS address: the webmail and admin console, the JSON API, /healthz, /metrics (http:// there is redirected)"},
		{"tls-cert", "", "TLS certificate (PEM); a self-signed one is made in the data folder when empty"},
		{"tls-key", "", "TLS private key (PEM)"},
		{"log-level", cfg.LogLevel, "debug, info, warn or error"},
	} {
		set[f.key] = fs.String(f.key, f.def, f.help)
	}
	return func() (server.Config, error) {
		if *configFile != "" {
			if err := server.LoadFile(*configFile, &cfg); err != nil {
				return cfg, err
			}
		}
		var err error
		fs.Visit(func(f *flag.Flag) {
			if p, ok := set[f.Name]; ok && err == nil {
				err = cfg.Set(strings.ReplaceAll(f.Name, "-", "_"), *p)
			}
		})
		// Defaults of flags not given and not in the file stay as Defaults() set them.
		return cfg, err
	}
}

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	load := serveFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server to this file until it stops")
	_ = fs.Parse(args)
	cfg, err := load()
	if err != nil {
		return err
	}
	cfg.Version = version
	if cfg.ExtraMigrations, err = testExtraMigrations(); err != nil {
		return err
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	return serve(cfg, nil)
}

// serve runs until SIGINT/SIGTERM. banner, if set, is printed once the doors
// are open.
func serve(cfg server.Config, banner func(*server.Server)) error {
	log := newLogger(cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	if banner != nil {
		banner(srv)
	} else {
		fmt.Fprintf(os.Stderr, "wardmail: serving %s (data in %s)\n", srv.DescribeDoors(), cfg.DataDir)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-srv.Err():
		log.Error("a door stopped", "err", err)
	}
	return errors.Join(err, srv.Close())
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
