// Package postgres opens the store on PostgreSQL, for several Wardmail nodes
// sharing one database (DESIGN section 6). It owns the PostgreSQL schema (a
// translation of every store/sqlite migration, schema.go) and the dialect the
// store's portable SQL needs. Bodies stay in a blob store (a folder here;
// an S3-compatible one when that backend lands).
//
// The driver is pgx through database/sql (github.com/jackc/pgx/v5/stdlib).
// Writes go through one connection, the store's group-commit writer; reads
// use a pool of their own, whose explicit transactions are REPEATABLE READ so
// that a read transaction (a mailbox snapshot) sees one state, as a SQLite
// read transaction does. Strings bound as text are made valid UTF-8 first
// (text.go): PostgreSQL refuses anything else.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"wardmail/blob"
	"wardmail/blob/fsblob"
	"wardmail/lists"
	"wardmail/store"
)

// Options tune Open.
type Options struct {
	// BlobDir is the folder message bodies are kept in, unless OpenBlobs
	// is set. Every node sharing the database must see the same folder.
	BlobDir string
	// KeyFile, when set, turns on AES-256-GCM at rest for every body.
	KeyFile string
	// TOTPKeyFile seals TOTP secrets (made on first use when missing).
	TOTPKeyFile string
	// OpenBlobs, when set, opens the body store (e.g. an S3 bucket,
	// blob/s3blob) with the sealer made from KeyFile (nil without one);
	// unset: the blobs folder.
	OpenBlobs func(sealer *blob.Sealer) (blob.Store, error)
	// ListGovernance is store.Config.ListGovernance.
	ListGovernance lists.Governance
	InlineMax      int // bodies up to this size stay in SQL; default 8 KiB, -1 for none
	Logger         *slog.Logger
	Now            func() time.Time
	// Readers is the size of the read pool (default 8).
	Readers int
	// IndexEvery is store.Config.IndexEvery: how often the word indexer
	// wakes (default 250ms; negative: never, tests call IndexWords).
	IndexEvery time.Duration
	// NodeName is store.Config.NodeName: this node's name in
	// cluster_nodes, which the rolling-upgrade checks leave out.
	NodeName string
	// ExtraMigrations are appended to Migrations. Only tests of rolling
	// upgrades set it, to play the next release (a test build of
	// cmd/wardmail, docs/upgrades.md); operators never do.
	ExtraMigrations []string
}

// DefaultInlineMax is the default Options.InlineMax, as for SQLite.
const DefaultInlineMax = 8 << 10

// Open connects to the database dsn names (a postgres:// URL or key=value
// string, as libpq takes), migrates it and returns the store.
func Open(ctx context.Context, dsn string, opt Options) (*store.Store, error) {
	if opt.BlobDir == "" && opt.OpenBlobs == nil {
		return nil, errors.New("postgres: Options.BlobDir or OpenBlobs is required")
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
	blobs, err := openBlobs(opt.OpenBlobs, sealer, opt.BlobDir)
	if err != nil {
		return nil, err
	}
	w, err := openPool(dsn, "wardmail writer", nil)
	if err != nil {
		return nil, err
	}
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	r, err := openPool(dsn, "wardmail reader", map[string]string{"default_transaction_isolation": "repeatable read"})
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	if opt.Readers <= 0 {
		opt.Readers = 8
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	r.SetConnMaxIdleTime(5 * time.Minute)
	inline := opt.InlineMax
	if inline == 0 {
		inline = DefaultInlineMax
	} else if inline < 0 {
		inline = 0
	}
	feed, err := newChangeFeed(dsn, opt.Logger)
	if err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, err
	}
	st, err := store.Open(ctx, store.Config{Feed: feed,
		Writer: w, Reader: r, Dialect: Dialect{extra: opt.ExtraMigrations}, Blobs: blobs, NodeName: opt.NodeName, Sealer: sealer, TOTPSealers: totpSealers,
		InlineMax: inline, Logger: opt.Logger, Now: opt.Now, IndexEvery: opt.IndexEvery, ListGovernance: opt.ListGovernance,
	})
	if err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, err
	}
	return st, nil
}

// openPool opens a database/sql pool over pgx with extra session settings.
func openPool(dsn, name string, params map[string]string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = name
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	return sql.OpenDB(validText{stdlib.GetConnector(*cfg)}), nil
}

// Dialect is PostgreSQL's store.Dialect.
type Dialect struct {
	extra []string // Options.ExtraMigrations
}

// Name implements store.Dialect.
func (Dialect) Name() string { return "postgres" }

// Schema implements store.Dialect.
func (d Dialect) Schema() []string {
	if len(d.extra) == 0 {
		return Migrations
	}
	return slices.Concat(Migrations, d.extra)
}

// ExpandOnlyFrom implements store.RollingUpgrades: several nodes of two
// releases share a PostgreSQL database while one of them migrates it.
func (Dialect) ExpandOnlyFrom() int { return expandOnlyFrom }

// migrationLock is the advisory lock key migrations hold: any constant
// agreed by every node ("wardmail" in ASCII).
const migrationLock = 0x7761_7264_6d61_696c

// LockMigrations implements store.Dialect with a transaction-scoped
// advisory lock: a second node starting at the same moment waits here, then
// finds the schema current.
func (Dialect) LockMigrations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock))
	return err
}

// Position implements store.Dialect.
func (Dialect) Position(haystack, needle string) string {
	return "strpos(" + haystack + ", " + needle + ")"
}

// Rebind implements store.Dialect: ? becomes $1, $2, ... in order. A ?
// inside a string literal or a quoted name is left alone (the store's SQL
// has none, but a literal must never turn into a parameter).
func (Dialect) Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the quote we are inside, or 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// openBlobs opens the body store: open's when set, else the folder dir.
func openBlobs(open func(*blob.Sealer) (blob.Store, error), sealer *blob.Sealer, dir string) (blob.Store, error) {
	if open != nil {
		return open(sealer)
	}
	return fsblob.Open(dir, sealer)
}
