package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"wardmail/auth"
	"wardmail/directory"
	"wardmail/server"
)

func runDirectory(args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New("usage: wardmail directory import [--data DIR] FILE.csv")
	}
	fs := flag.NewFlagSet("directory import", flag.ExitOnError)
	data := storeFlags(fs, server.Defaults().DataDir)
	_ = fs.Parse(args[1:])
	if fs.NArg() != 1 {
		return errors.New("usage: wardmail directory import [--data DIR] FILE.csv")
	}
	file := fs.Arg(0)
	ctx := context.Background()
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	stats, err := directory.NewService(st).Import(ctx, f, file, auth.DefaultParams())
	if err != nil {
		var ie *directory.ImportError
		if errors.As(err, &ie) {
			fmt.Fprintln(os.Stderr, err)
			return fmt.Errorf("nothing was imported: fix the %d problem(s) above and import again", len(ie.Problems)+ie.More)
		}
		return fmt.Errorf("nothing was imported: %w", err)
	}
	fmt.Printf("imported %d people (%d added, %d updated, %d passwords set) in %.1fs\n",
		stats.Rows, stats.Added, stats.Updated, stats.Passwords, time.Since(start).Seconds())
	return nil
}
