package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"wardmail/auth"
	"wardmail/store"
	"wardmail/store/postgres"
	"wardmail/store/sqlite"
)

// storeAt is where an admin command finds the store: the data folder and,
// as for serve, the PostgreSQL database when there is one (the bodies stay
// in DATA/blobs).
type storeAt struct {
	Dir      string
	Database string
}

// storeFlags adds --data and --database to an admin command's flags.
func storeFlags(fs *flag.FlagSet, dir string) *storeAt {
	at := &storeAt{}
	fs.StringVar(&at.Dir, "data", dir, "data folder")
	fs.StringVar(&at.Database, "database", "", "postgres:// URL of the database, as serve's --database (empty: SQLite in the data folder)")
	return at
}

// openStore opens the store for an admin command. SQLite in WAL mode lets
// it run beside a serving wardmail on the same folder; PostgreSQL beside
// any number of nodes.
func openStore(ctx context.Context, at storeAt) (*store.Store, error) {
	if at.Dir == "" {
		return nil, errors.New("--data is required")
	}
	if at.Database != "" {
		return postgres.Open(ctx, at.Database, postgres.Options{BlobDir: filepath.Join(at.Dir, "blobs")})
	}
	return sqlite.Open(ctx, at.Dir, sqlite.Options{})
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
