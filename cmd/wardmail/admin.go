package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"wardmail/auth"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// openStore opens the store of a data folder for an admin command. SQLite in
// WAL mode lets it run beside a serving wardmail on the same folder.
func openStore(ctx context.Context, dir string) (*store.Store, error) {
	if dir == "" {
		return nil, errors.New("--data is required")
	}
	return sqlite.Open(ctx, dir, sqlite.Options{})
}

// readPassword reads one line from stdin: passwords never go on the command
// line, where other users of the machine could read them.
func readPassword(prompt string) (string, error) {
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		fmt.Fprint(os.Stderr, prompt)
	}
	line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func hashNew(ctx context.Context, pw string) (string, error) {
	if err := auth.CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	return auth.HashPassword(auth.DefaultParams(), pw)
}

// parseMixed parses flags that may come before, between or after the
// positional arguments ("list show ADDR --json"), which flag.Parse alone
// stops at, and returns the positional arguments.
func parseMixed(fs *flag.FlagSet, args []string) []string {
	var pos []string
	for {
		_ = fs.Parse(args)
		args = fs.Args()
		if len(args) == 0 {
			return pos
		}
		if args[0] == "--" {
			return append(pos, args[1:]...)
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
