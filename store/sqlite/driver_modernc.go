//go:build modernc

package sqlite

import (
	"net/url"

	_ "modernc.org/sqlite" // pure-Go SQLite, measured against mattn in docs/decisions.md
)

const driverName = "sqlite"

func writerDSN(path string) string {
	return "file:" + url.PathEscape(path) + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
}

func readerDSN(path string) string {
	return "file:" + url.PathEscape(path) + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=query_only(1)"
}
