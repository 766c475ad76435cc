package postgres

import (
	"context"
	"database/sql"

	"wardmail/store"
)

// Replication implements store.ReplicationReader: whether this server is a
// primary (not in recovery) and the standbys streaming from it.
func (Dialect) Replication(ctx context.Context, db *sql.DB) (*store.Replication, error) {
	r := &store.Replication{Backend: "postgres"}
	var recovering bool
	if err := db.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil {
		return nil, err
	}
	r.Primary = !recovering
	rows, err := db.QueryContext(ctx, `SELECT application_name, COALESCE(host(client_addr), 'local'), state, sync_state,
		COALESCE(replay_lag::text, '0') FROM pg_stat_replication ORDER BY application_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s store.Standby
		if err := rows.Scan(&s.Name, &s.Addr, &s.State, &s.Sync, &s.ReplayLag); err != nil {
			return nil, err
		}
		r.Standbys = append(r.Standbys, s)
	}
	return r, rows.Err()
}
