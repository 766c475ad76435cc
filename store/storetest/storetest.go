// Package storetest gives each test a store of its own on the backend the
// test run asks for: the embedded SQLite in a temporary folder by default,
// or, when WARDMAIL_TEST_POSTGRES names a PostgreSQL server
// (postgres://user@host/db?..., as `make test-postgres` sets it), a fresh
// database created for the test and dropped when it ends. Tests stay
// independent and can run in parallel on either backend.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for creating databases

	"wardmail/store"
	"wardmail/store/postgres"
	"wardmail/store/sqlite"
)

// Env is the environment variable that switches tests to PostgreSQL: a
// connection string for a role allowed to create databases.
const Env = "WARDMAIL_TEST_POSTGRES"

// Postgres reports whether tests run on PostgreSQL.
func Postgres() bool { return os.Getenv(Env) != "" }

// Backend is where one test keeps its store: a folder (the SQLite database
// and the blobs) and, on PostgreSQL, a database of its own. Open it as many
// times as the test needs: it is the same data each time.
type Backend struct {
	// Dir holds the blobs, and the SQLite database when DSN is empty.
	Dir string
	// DSN is the test's own PostgreSQL database; empty on SQLite.
	DSN string
}

// New makes a backend for t, removed when t ends.
func New(t testing.TB) *Backend {
	t.Helper()
	return &Backend{Dir: t.TempDir(), DSN: Database(t)}
}

// Database returns a connection string for a new, empty PostgreSQL database
// dropped when t ends, or "" when tests run on SQLite (what
// server.Config.Database takes).
func Database(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		return ""
	}
	admin, err := adminDB(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", Env, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "wardmail_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("storetest: creating a database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends connections a failed test left open (PostgreSQL 13+).
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("storetest: dropping %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("storetest: %s: %v", Env, err)
	}
	return dsn
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// adminDB is one small pool per test binary for creating and dropping
// databases.
func adminDB(dsn string) (*sql.DB, error) {
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", dsn)
		if adminErr == nil {
			admin.SetMaxOpenConns(2)
			adminErr = admin.Ping()
		}
	})
	return admin, adminErr
}

// withDatabase returns dsn pointing at database name instead.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}

// Options are what tests vary in either backend's options.
type Options struct {
	KeyFile    string
	InlineMax  int
	Now        func() time.Time
	IndexEvery time.Duration
}

// Open opens the backend's store, closed when t ends (Close may be called
// before, to open it again).
func (b *Backend) Open(t testing.TB, opt Options) *store.Store {
	t.Helper()
	s, err := b.OpenErr(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// OpenErr opens the backend's store and leaves closing it to the caller.
func (b *Backend) OpenErr(opt Options) (*store.Store, error) {
	ctx := context.Background()
	if b.DSN != "" {
		return postgres.Open(ctx, b.DSN, postgres.Options{BlobDir: filepath.Join(b.Dir, "blobs"), KeyFile: opt.KeyFile,
			InlineMax: opt.InlineMax, Now: opt.Now, IndexEvery: opt.IndexEvery})
	}
	return sqlite.Open(ctx, b.Dir, sqlite.Options{KeyFile: opt.KeyFile, InlineMax: opt.InlineMax, Now: opt.Now, IndexEvery: opt.IndexEvery})
}

// Open gives t a store of its own on the backend the run asks for.
func Open(t testing.TB, opt Options) *store.Store {
	t.Helper()
	return New(t).Open(t, opt)
}
