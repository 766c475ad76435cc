package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"wardmail/store"
)

// Snapshot is a read-only, consistent view of a data folder's database, for
// moving it to another backend (store.TransferSource). It holds one read
// transaction from Open to Close, so what it exports is the database as it
// was at one moment even if a server is still writing (what that server
// writes afterwards is not in it: stop the server first).
type Snapshot struct {
	db *sql.DB
	tx *sql.Tx
}

// OpenSnapshot opens dir/wardmail.db read-only and starts the snapshot.
func OpenSnapshot(ctx context.Context, dir string) (*Snapshot, error) {
	path := filepath.Join(dir, "wardmail.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: no database in %s: %w", dir, err)
	}
	db, err := sql.Open(driverName, readerDSN(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &Snapshot{db: db, tx: tx}, nil
}

// SchemaVersion implements store.TransferSource.
func (s *Snapshot) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	return v, err
}

// Tables implements store.TransferSource: every table but SQLite's own and
// schema_version, with their columns and primary keys.
func (s *Snapshot) Tables(ctx context.Context) ([]store.TransferTable, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name != 'schema_version' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	var out []store.TransferTable
	for _, n := range names {
		t := store.TransferTable{Name: n}
		cols, err := s.tx.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, n)
		if err != nil {
			return nil, err
		}
		pks := map[int]string{}
		for cols.Next() {
			var c string
			var pk int
			if err := cols.Scan(&c, &pk); err != nil {
				cols.Close()
				return nil, err
			}
			t.Columns = append(t.Columns, c)
			if pk > 0 {
				pks[pk] = c
			}
		}
		if err := errors.Join(cols.Err(), cols.Close()); err != nil {
			return nil, err
		}
		for i := 1; i <= len(pks); i++ {
			t.Key = append(t.Key, pks[i])
		}
		if len(t.Key) == 0 {
			t.Key = t.Columns
		}
		out = append(out, t)
	}
	return out, nil
}

// Scan implements store.TransferSource.
func (s *Snapshot) Scan(ctx context.Context, t store.TransferTable, fn func(row []any) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT `+strings.Join(t.Columns, ", ")+` FROM `+t.Name+` ORDER BY `+strings.Join(t.Key, ", "))
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.Name, err)
	}
	defer rows.Close()
	vals := make([]any, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Close ends the snapshot.
func (s *Snapshot) Close() error {
	return errors.Join(s.tx.Rollback(), s.db.Close())
}
