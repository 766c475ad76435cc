// Package store holds every mailbox: people and organisations as the mail
// system sees them, mailboxes with their UIDs, flags and MODSEQs (RFC 9051,
// RFC 7162), message rows and the content they point at.
//
// The store speaks portable SQL through database/sql and imports no driver:
// store/sqlite (the embedded default) and store/postgres open the database,
// own its schema, and hand it here with a Dialect for what differs. Every
// write goes through one writer goroutine that commits concurrent requests
// together (group commit, see commit.go) and answers each caller only after
// its batch is durable; readers use their own connections, so a flood of
// deliveries does not block mailbox reads.
//
// Message bodies live in a blob.Store named by their SHA-256, or inline in SQL
// when small; either way a body is written once however many people receive it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/blob"
	"wardmail/lists"
)

// Errors callers map to protocol replies.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrInvalidName   = errors.New("invalid mailbox name")
	ErrCannotDelete  = errors.New("mailbox cannot be deleted")
	ErrTooManyWrites = errors.New("the write queue is full")
	// ErrBodyUnavailable: the body store (an object store over the
	// network) does not answer now; the message's rows are fine.
	ErrBodyUnavailable = blob.ErrUnavailable
)

// Dialect is what differs between SQL databases. Each backend owns its
// schema (its own migrations, in the same order); the SQL in this package is
// written once, in the subset both databases accept, and a dialect supplies
// the few fragments that have no common spelling.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Rebind turns a query written with ? placeholders into the database's form.
	Rebind(query string) string
	// Schema returns the migrations, in order; migration i brings the schema
	// from version i to i+1.
	Schema() []string
	// LockMigrations is run first in each migration transaction: it returns
	// once no other process sharing the database is migrating, so that
	// several nodes starting at once migrate once. The lock ends with tx.
	LockMigrations(ctx context.Context, tx *sql.Tx) error
	// Position is the SQL for the 1-based position of needle in haystack,
	// 0 when absent (SQLite's instr, PostgreSQL's strpos). An expression
	// index written with it must use the same spelling in the backend's
	// schema.
	Position(haystack, needle string) string
}

// Config is what Open needs.
type Config struct {
	// Writer is the connection pool writes go through; Open limits it to one
	// connection (the group commit). Reader is a pool of its own that serves
	// reads, so that reads never queue behind the writer's open transaction:
	// read-only connections for SQLite, REPEATABLE READ ones for PostgreSQL.
	Writer, Reader *sql.DB
	Dialect        Dialect
	Blobs          blob.Store
	// Sealer, when set, encrypts bodies kept inline in SQL (the blob store
	// seals its own files).
	Sealer *blob.Sealer
	// TOTPSealers seal TOTP secrets (secrets.go): the first seals, any
	// opens. Empty: Sealer alone, if set.
	TOTPSealers []*blob.Sealer
	// InlineMax is the largest body kept inline in SQL rather than as a blob
	// file. Zero keeps every body in the blob store.
	InlineMax int
	// MaxBatch bounds how many write requests one commit carries.
	MaxBatch int
	Logger   *slog.Logger
	// Now returns the current time (tests replace it).
	Now func() time.Time
	// Maintain, when set, runs every MaintainEvery (default 1s) on a
	// goroutine of its own until Close: SQLite checkpoints its WAL there,
	// off the writer's commit path.
	Maintain      func(context.Context) error
	MaintainEvery time.Duration
	// BetweenBatches, when set, runs on the writer goroutine after each
	// commit, when no write transaction is open: SQLite finishes a
	// checkpoint there once its WAL has grown past a bound, which only the
	// one writer can do while deliveries keep coming (store/sqlite).
	BetweenBatches func(context.Context) error
	// Release, when set, closes what the backend opened beside Writer and
	// Reader (SQLite's checkpoint connection), once the writer and the
	// maintenance have stopped and before Writer and Reader close.
	Release func() error
	// IndexEvery is how often the word indexer wakes to index the bodies
	// delivered since (default 250ms); negative: no background indexer
	// (IndexWords is then called by hand, or StartIndexer starts one under
	// a cluster lease).
	IndexEvery time.Duration
	// Feed, when set, carries change announcements to and from the other
	// processes sharing the database (feed.go).
	Feed ChangeFeed
	// NodeName is this process's name among the nodes sharing the
	// database (cluster_nodes): the rolling-upgrade checks leave its own
	// row, left by its previous run, out of the nodes still alive.
	NodeName string
	// ListGovernance is the list defaults in force (zero fields: the
	// defaults of lists.DefaultGovernance); nesting a list checks the outer
	// list's owners against it (list_rights.go).
	ListGovernance lists.Governance
}

// Store is the mail store. It is safe for concurrent use.
type Store struct {
	w, r    *sql.DB
	dialect Dialect
	pipe    Pipeliner // the dialect, when it pipelines (pipeline.go)
	// statementSnapshots: each statement of a write sees what other
	// processes committed since the previous one (PostgreSQL's READ
	// COMMITTED), so what was read before taking a row lock is read again
	// after it. A SQLite write transaction sees one snapshot, and fails
	// rather than write over a newer commit.
	statementSnapshots bool
	blobs              blob.Store
	sealer             *blob.Sealer
	inlineMax          int
	log                *slog.Logger
	now                func() time.Time
	gov                lists.Governance

	hub     *Hub
	feed    *feed                       // feed.go; nil without a ChangeFeed
	between func(context.Context) error // Config.BetweenBatches
	release func() error                // Config.Release
	writes  chan *writeReq
	maxB    int
	stop    chan struct{}
	stopped sync.WaitGroup

	revocations *Revocations   // revoke.go
	totpSealers []*blob.Sealer // secrets.go

	closeOnce sync.Once
	closeErr  error
	metrics   *Metrics

	stmtMu sync.Mutex
	stmts  map[string]string // ? query -> rebound query

	nodeName   string // Config.NodeName
	knownSteps int    // how many migration steps this binary knows (upgrade.go)

	// takeInAt is when a reader last took in list posts (UnixNano), for
	// the trickle to stay out of their way (posts.go, LastTakeIn).
	takeInAt atomic.Int64

	snaps   snapCache   // snapcache.go
	words   wordIndexer // words.go
	wordKey []byte      // with a Sealer: word keys are keyed hashes, and no vocabulary is kept
	// The indexer stops before the writer, so its last write is answered.
	idxStop chan struct{}
	idxDone sync.WaitGroup
}

// Open migrates the schema and starts the writer.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Writer == nil || cfg.Reader == nil || cfg.Dialect == nil || cfg.Blobs == nil {
		return nil, errors.New("store: Writer, Reader, Dialect and Blobs are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	cfg.Writer.SetMaxOpenConns(1)
	cfg.ListGovernance.Fill()
	s := &Store{gov: cfg.ListGovernance,
		w: cfg.Writer, r: cfg.Reader, dialect: cfg.Dialect, blobs: cfg.Blobs, sealer: cfg.Sealer,
		inlineMax: cfg.InlineMax, log: cfg.Logger, now: cfg.Now,
		hub: NewHub(), writes: make(chan *writeReq, 4096), maxB: cfg.MaxBatch,
		stop: make(chan struct{}), idxStop: make(chan struct{}), metrics: newMetrics(), stmts: map[string]string{},
	}
	s.between, s.release = cfg.BetweenBatches, cfg.Release
	s.nodeName = cfg.NodeName
	s.statementSnapshots = cfg.Dialect.Name() != "sqlite"
	s.pipe, _ = cfg.Dialect.(Pipeliner)
	s.revocations = newRevocations(s)
	s.totpSealers = cfg.TOTPSealers
	if len(s.totpSealers) == 0 && cfg.Sealer != nil {
		s.totpSealers = []*blob.Sealer{cfg.Sealer}
	}
	if cfg.Sealer != nil {
		s.wordKey = cfg.Sealer.Derive("wardmail word index v1")
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if cfg.Feed != nil {
		s.startFeed(cfg.Feed)
	}
	s.stopped.Add(1)
	go s.writer()
	if cfg.IndexEvery >= 0 {
		s.StartIndexer(cfg.IndexEvery, nil)
	}
	if cfg.Maintain != nil {
		if cfg.MaintainEvery <= 0 {
			cfg.MaintainEvery = time.Second
		}
		s.stopped.Add(1)
		go s.maintain(cfg.Maintain, cfg.MaintainEvery)
	}
	return s, nil
}

// maintain runs the backend's housekeeping until Close.
func (s *Store) maintain(fn func(context.Context) error, every time.Duration) {
	defer s.stopped.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if err := fn(context.Background()); err != nil {
			s.log.Warn("store maintenance", "err", err)
		}
	}
}

// Close stops the writer after the requests already queued are committed, and
// closes the databases.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.idxStop)
		s.idxDone.Wait()
		close(s.stop)
		s.stopped.Wait()
		s.stopFeed()
		if s.release != nil {
			s.closeErr = s.release()
		}
		s.closeErr = errors.Join(s.closeErr, s.w.Close())
		if s.r != s.w {
			s.closeErr = errors.Join(s.closeErr, s.r.Close())
		}
	})
	return s.closeErr
}

// Hub returns the change hub that announces committed mailbox changes.
func (s *Store) Hub() *Hub { return s.hub }

// Metrics returns the store's Prometheus collector.
func (s *Store) Metrics() *Metrics { return s.metrics }

// Blobs returns the blob store bodies are kept in.
func (s *Store) Blobs() blob.Store { return s.blobs }

// q rebinds a query for the dialect, once per distinct query text.
func (s *Store) q(query string) string {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if r, ok := s.stmts[query]; ok {
		return r
	}
	r := s.dialect.Rebind(query)
	s.stmts[query] = r
	return r
}

// migrate brings the schema up to date one step per transaction. Each
// transaction takes the dialect's migration lock and reads the version
// again under it, so a process that waited for another's migration finds
// the work done. Where nodes of two releases share the database, the
// rolling-upgrade rule decides whether this node may run and migrate
// (upgrade.go).
func (s *Store) migrate(ctx context.Context) error {
	steps := s.dialect.Schema()
	s.knownSteps = len(steps)
	start := -1
	for {
		done, err := s.migrateStep(ctx, steps, &start)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration, if any, and reports whether the
// schema was already current. *start is set to the version the first call
// found: the schema the nodes already running know.
func (s *Store) migrateStep(ctx context.Context, steps []string, start *int) (done bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := s.dialect.LockMigrations(ctx, tx); err != nil {
		return false, fmt.Errorf("store: migration lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return false, fmt.Errorf("store: schema_version: %w", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, fmt.Errorf("store: reading schema version: %w", err)
	}
	if *start < 0 {
		*start = v
	}
	ahead, err := s.checkSchemaAhead(ctx, tx, v, len(steps))
	if err != nil {
		return false, err
	}
	if ahead || v == len(steps) {
		return true, tx.Commit()
	}
	rule, err := s.checkStep(ctx, tx, steps[v], v, *start)
	if err != nil {
		return false, err
	}
	if steps[v] == "" {
		// A step reserved for a feature still being written.
	} else if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
		return false, fmt.Errorf("store: migration %d: %w", v+1, err)
	}
	if rule.Contract {
		if _, err := tx.ExecContext(ctx, s.dialect.Rebind(`UPDATE schema_floor SET oldest = ? WHERE oldest < ?`), rule.After, rule.After); err != nil {
			return false, fmt.Errorf("store: migration %d: raising the schema floor: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.dialect.Rebind(`UPDATE schema_version SET version = ?`), v+1); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: migration %d: %w", v+1, err)
	}
	s.log.Info("schema migrated", "version", v+1, "dialect", s.dialect.Name(), "contract", rule.Contract)
	return false, nil
}

// Ping checks that the database answers a read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// boolInt is how a flag is stored: an integer, 1 or 0, in both databases
// (PostgreSQL takes no Go bool for an integer column).
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// prefixEnd is an upper bound for the strings that start with prefix, for
// "s >= prefix AND s < prefixEnd(prefix)" range scans in bytewise order.
// It is valid UTF-8, which PostgreSQL requires of text; only strings with
// prefix followed by U+10FFFF itself fall outside it.
func prefixEnd(prefix string) string { return prefix + "\U0010FFFF" }
