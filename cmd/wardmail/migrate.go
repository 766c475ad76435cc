package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"wardmail/store/postgres"
	"wardmail/store/sqlite"
)

const migrateUsage = `usage:
  wardmail migrate --from DIR --to postgres://USER@HOST/DB [--key-file FILE]`

const migrateHelp = `Moves the database of the data folder DIR (the embedded SQLite store) into an
empty PostgreSQL database: people, mailboxes with their UIDs and UIDVALIDITY
(clients do not resync), flags, lists and post logs, sign-in state, the audit
trail, everything. Stop "wardmail serve" first: the copy is of the database as
it is when the command starts. Bodies stay in DIR/blobs, where a server with
"--data DIR --database postgres://..." reads them. Each table's row count and
checksum are compared on both sides afterwards.`

func runMigrate(args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ExitOnError)
	from := fs.String("from", "", "the data folder to move (its wardmail.db)")
	to := fs.String("to", "", "the PostgreSQL database to move it to (postgres://...)")
	keyFile := fs.String("key-file", "", "body_key_file, when the installation seals bodies")
	fs.Usage = func() { fmt.Fprintf(os.Stderr, "%s\n\n%s\n", migrateUsage, migrateHelp) }
	_ = fs.Parse(args)
	if *from == "" || *to == "" || fs.NArg() != 0 {
		return errors.New(migrateUsage)
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return errors.New("--to must be a postgres:// URL")
	}
	ctx := context.Background()
	// Bring the folder's schema up to this wardmail's first: the copy is
	// table for table between two schemas of the same version.
	st, err := sqlite.Open(ctx, *from, sqlite.Options{KeyFile: *keyFile, IndexEvery: -1})
	if err != nil {
		return fmt.Errorf("opening %s: %w", *from, err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	snap, err := sqlite.OpenSnapshot(ctx, *from)
	if err != nil {
		return err
	}
	defer snap.Close()
	rep, err := postgres.Import(ctx, *to, snap, postgres.Options{BlobDir: filepath.Join(*from, "blobs"), KeyFile: *keyFile})
	if err != nil {
		return err
	}
	var rows int64
	for _, t := range rep.Tables {
		if t.Rows > 0 {
			fmt.Printf("%-24s %10d rows  checksum %s…\n", t.Name, t.Rows, t.Checksum[:16])
		}
		rows += t.Rows
	}
	fmt.Printf("moved %d rows in %d tables (schema version %d) in %.1fs; counts and checksums agree on both sides\n",
		rows, len(rep.Tables), rep.SchemaVersion, rep.Seconds)
	if rep.Replaced > 0 {
		fmt.Printf("%d text values were not UTF-8 and had their invalid bytes replaced (PostgreSQL stores UTF-8 only)\n", rep.Replaced)
	}
	fmt.Printf("now serve with: wardmail serve --data %s --database '<the same URL>'\n", *from)
	return nil
}
