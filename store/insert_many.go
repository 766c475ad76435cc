package store

import "strings"

// insertMany inserts args (per values each, row the placeholders of one
// row: "(?, ?)") in multi-row statements of up to 250 rows, queued
// (Tx.Later): they go out together. On a database in another process a
// statement a row would be a round trip a row; 250 rows of a few columns
// stay well under SQLite's 32,766 and PostgreSQL's 65,535 parameters a
// statement. head is the statement up to the rows ("INSERT INTO t (a, b)
// VALUES "), tail what follows them (an ON CONFLICT clause, or "").
func insertMany(tx *Tx, head, row string, per int, args []any, tail string) error {
	const rows = 250
	for len(args) > 0 {
		n := min(len(args)/per, rows)
		q := head + strings.Repeat(row+", ", n-1) + row + tail
		tx.Later(q, nil, args[:n*per]...)
		args = args[n*per:]
	}
	return tx.Err()
}
