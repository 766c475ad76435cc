//go:build !modernc

package sqlite

import (
	"net/url"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver (cgo); see docs/decisions.md
)

const driverName = "sqlite3"

// writerDSN: WAL with synchronous=FULL, so a commit is on disk before the
// store answers (a "250 OK" survives power loss, not only a crash);
// BEGIN IMMEDIATE takes the write lock up front, so another process (an admin
// command) waits on busy_timeout instead of failing mid-transaction.
// Each connection keeps its 128 most recent prepared statements: preparing
// was a third of an app-password sign-in's lookup (BenchmarkAppPasswordOwner:
// 45 µs → 30 µs).
func writerDSN(path string) string {
	return "file:" + url.PathEscape(path) + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_txlock=immediate&_foreign_keys=off&cache=private&_stmt_cache_size=128"
}

func readerDSN(path string) string {
	return "file:" + url.PathEscape(path) + "?_journal_mode=WAL&_busy_timeout=10000&_query_only=true&cache=private&_stmt_cache_size=128"
}
