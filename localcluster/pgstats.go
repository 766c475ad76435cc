package localcluster

import (
	"context"
	"database/sql"
)

// PGStats reads PostgreSQL's statistics views (pg_stat_database,
// pg_stat_wal, pg_class) for a measurement of the cluster: what the
// database did, never Wardmail's own tables' contents.
type PGStats struct{ db *sql.DB }

// OpenPGStats connects to the database at url (two connections at most).
func OpenPGStats(url string) (*PGStats, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	return &PGStats{db: db}, nil
}

// Close closes the connections.
func (p *PGStats) Close() error { return p.db.Close() }

// TableSize is one table's size on disk with its indexes.
type TableSize struct {
	Name  string  `json:"name"`
	Bytes float64 `json:"bytes"`
	Rows  float64 `json:"rows_estimate"`
}

// PGCounters are PostgreSQL's own counters for the database the nodes use.
type PGCounters struct {
	Commits, Rollbacks, BlksRead, BlksHit, TupIns, TupUpd, TupDel float64
	WALBytes, WALSyncs, WALFPI                                    float64
	DBBytes                                                       float64
}

// Counters reads PGCounters.
func (p *PGStats) Counters(ctx context.Context) (PGCounters, error) {
	db := p.db
	var c PGCounters
	err := db.QueryRowContext(ctx, `SELECT xact_commit, xact_rollback, blks_read, blks_hit, tup_inserted, tup_updated, tup_deleted,
		pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), pg_database_size(current_database())
		FROM pg_stat_database WHERE datname = current_database()`).Scan(
		&c.Commits, &c.Rollbacks, &c.BlksRead, &c.BlksHit, &c.TupIns, &c.TupUpd, &c.TupDel, &c.WALBytes, &c.DBBytes)
	if err != nil {
		return c, err
	}
	// pg_stat_wal (PostgreSQL 14 and later): WAL flushes and full-page
	// images; absent on older servers, which is not an error.
	_ = db.QueryRowContext(ctx, `SELECT wal_sync, wal_fpi FROM pg_stat_wal`).Scan(&c.WALSyncs, &c.WALFPI)
	return c, nil
}

// LargestTables are the n largest tables with their indexes and TOAST,
// after an ANALYZE so that the row estimates are current.
func (p *PGStats) LargestTables(ctx context.Context, n int) ([]TableSize, error) {
	db := p.db
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples
		FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE c.relkind = 'r' AND s.nspname NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 2 DESC LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TableSize
	for rows.Next() {
		var t TableSize
		if err := rows.Scan(&t.Name, &t.Bytes, &t.Rows); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
