package store

import "context"

// Moving an installation from one backend to another (`wardmail migrate`):
// a backend that can be read from gives a TransferSource, one that can be
// written gives an importer taking it. Both speak in tables, rows and
// columns, which the backends' schemas keep identical at each version
// (store/postgres's schema test checks it), so no row is reinterpreted on the
// way: ids, UIDs, UIDVALIDITY values and MODSEQs arrive as they left.

// TransferTable is one table as a source exports it.
type TransferTable struct {
	Name    string
	Columns []string
	// Key orders the rows (the primary key, else every column), so both
	// sides can be compared row by row.
	Key []string
}

// TransferSource is a consistent snapshot of an installation's database.
type TransferSource interface {
	// SchemaVersion is the migration step the snapshot is at.
	SchemaVersion(ctx context.Context) (int, error)
	// Tables lists the tables to move (not the schema's own bookkeeping).
	Tables(ctx context.Context) ([]TransferTable, error)
	// Scan calls fn with each row of t in Key order; values are int64,
	// float64, string, []byte or nil. fn must not keep the slice.
	Scan(ctx context.Context, t TransferTable, fn func(row []any) error) error
	Close() error
}
