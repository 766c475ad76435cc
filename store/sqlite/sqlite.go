// Package sqlite opens the embedded default store: one SQLite database in WAL
// mode beside a folder of blobs. Writes go through one connection (the
// store's group-commit writer); reads use a pool of read-only connections, so
// readers never wait for a commit.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"wardmail/blob"
	"wardmail/blob/fsblob"
	"wardmail/lists"
	"wardmail/store"
)

// Options tune Open.
type Options struct {
	// KeyFile, when set, turns on AES-256-GCM at rest for every body.
	KeyFile string
	// TOTPKeyFile, when set, seals TOTP secrets (store/secrets.go); the
	// file is made on first use. A body key still opens secrets it sealed
	// before.
	TOTPKeyFile string
	InlineMax   int // bodies up to this size stay in SQL; default 8 KiB, -1 for none
	Logger      *slog.Logger
	Now         func() time.Time
	// Readers is the size of the read pool (default 8).
	Readers int
	// IndexEvery is store.Config.IndexEvery: how often the word indexer
	// wakes (default 250ms; negative: never, tests call IndexWords).
	IndexEvery time.Duration
	// WALLimit bounds the write-ahead log in bytes (default 64 MiB, see
	// wal.go): past it the writer finishes a checkpoint between commits.
	WALLimit int64
	// OpenBlobs, when set, opens the body store (e.g. an S3 bucket,
	// blob/s3blob) with the sealer made from KeyFile (nil without one);
	// unset: the blobs folder.
	OpenBlobs func(sealer *blob.Sealer) (blob.Store, error)
	// ListGovernance is store.Config.ListGovernance.
	ListGovernance lists.Governance
}

// DefaultInlineMax is the default Options.InlineMax (see docs/decisions.md).
const DefaultInlineMax = 8 << 10

// Open opens (creating if needed) the store in dir: dir/wardmail.db and
// dir/blobs/.
func Open(ctx context.Context, dir string, opt Options) (*store.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if err := secureDataDir(dir, opt.Logger); err != nil {
		return nil, err
	}
	var sealer *blob.Sealer
	if opt.KeyFile != "" {
		var err error
		if sealer, err = blob.LoadKeyFile(opt.KeyFile); err != nil {
			return nil, err
		}
	}
	totpSealers, err := store.TOTPSealers(opt.TOTPKeyFile, sealer, opt.Logger)
	if err != nil {
		return nil, err
	}
	blobs, err := openBlobs(opt.OpenBlobs, sealer, filepath.Join(dir, "blobs"))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "wardmail.db")
	w, err := sql.Open(driverName, writerDSN(path))
	if err != nil {
		return nil, err
	}
	if opt.WALLimit <= 0 {
		opt.WALLimit = DefaultWALLimit
	}
	// The writer creates the file and switches it to WAL before readers open.
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	if err := tightenFiles(opt.Logger, path, path+"-wal", path+"-shm"); err != nil {
		_ = w.Close()
		return nil, err
	}
	// Checkpoints run on a connection of their own, several times a
	// second, instead of inside whichever commit crosses the WAL's size
	// threshold: a checkpoint copies and fsyncs pages, which would stall
	// every SMTP session waiting on that commit. The writer finishes one
	// only when the WAL has grown past its bound (wal.go); the file is then
	// cut back to that bound.
	if _, err := w.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		_ = w.Close()
		return nil, err
	}
	if _, err := w.ExecContext(ctx, fmt.Sprintf(`PRAGMA journal_size_limit = %d`, opt.WALLimit)); err != nil {
		_ = w.Close()
		return nil, err
	}
	cp, err := sql.Open(driverName, writerDSN(path))
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	cp.SetMaxOpenConns(1)
	r, err := sql.Open(driverName, readerDSN(path))
	if err != nil {
		_ = w.Close()
		_ = cp.Close()
		return nil, err
	}
	if opt.Readers <= 0 {
		opt.Readers = 8
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	wal := &walGuard{cp: cp, w: w, path: path + "-wal", limit: opt.WALLimit}
	inline := opt.InlineMax
	if inline == 0 {
		inline = DefaultInlineMax
	} else if inline < 0 {
		inline = 0
	}
	return store.Open(ctx, store.Config{
		Writer: w, Reader: r, Dialect: Dialect{}, Blobs: blobs, Sealer: sealer, TOTPSealers: totpSealers,
		InlineMax: inline, Logger: opt.Logger, Now: opt.Now,
		Maintain: wal.background, MaintainEvery: 250 * time.Millisecond, BetweenBatches: wal.betweenBatches, Release: cp.Close,
		IndexEvery: opt.IndexEvery, ListGovernance: opt.ListGovernance,
	})
}

// Dialect is SQLite's store.Dialect.
type Dialect struct{}

// Name implements store.Dialect.
func (Dialect) Name() string { return "sqlite" }

// Rebind implements store.Dialect: SQLite takes ? as it is.
func (Dialect) Rebind(q string) string { return q }

// Schema implements store.Dialect.
func (Dialect) Schema() []string { return Migrations }

// LockMigrations implements store.Dialect: a data folder belongs to one
// process, and the writer's transactions take SQLite's write lock when they
// begin (BEGIN IMMEDIATE), so there is nothing more to wait for.
func (Dialect) LockMigrations(context.Context, *sql.Tx) error { return nil }

// Position implements store.Dialect.
func (Dialect) Position(haystack, needle string) string {
	return "instr(" + haystack + ", " + needle + ")"
}

// openBlobs opens the body store: open's when set, else the folder dir.
func openBlobs(open func(*blob.Sealer) (blob.Store, error), sealer *blob.Sealer, dir string) (blob.Store, error) {
	if open != nil {
		return open(sealer)
	}
	return fsblob.Open(dir, sealer)
}
