package store

import (
	"context"
	"database/sql"
	"time"
)

// NodeRow is one node of a cluster as its last heartbeat left it.
type NodeRow struct {
	Name    string
	Version string
	Doors   string // "smtp 0.0.0.0:25, imap 0.0.0.0:143, ..."
	// SchemaStep is how many migration steps the node's binary knows
	// (0: a node from before nodes recorded it).
	SchemaStep int
	Started    time.Time
	Seen       time.Time
}

// LeaseRow says which node runs a background job, until when.
type LeaseRow struct {
	Job    string
	Holder string
	Until  time.Time
}

// Heartbeat records that a node is alive now (the row is made on its first
// beat and rewritten on each one after), with the schema steps this binary
// knows, which the rolling-upgrade checks read (upgrade.go).
func (s *Store) Heartbeat(ctx context.Context, n NodeRow) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO cluster_nodes (name, version, doors, started, seen, schema_step) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET version = excluded.version, doors = excluded.doors,
				started = excluded.started, seen = excluded.seen, schema_step = excluded.schema_step`,
			n.Name, n.Version, n.Doors, n.Started.Unix(), s.now().Unix(), s.knownSteps)
		return err
	})
}

// ForgetNode removes a node's row (it stopped cleanly) and its leases, so
// another node takes its jobs at once rather than when they lapse.
func (s *Store) ForgetNode(ctx context.Context, name string) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM cluster_leases WHERE holder = ?`, name); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM cluster_nodes WHERE name = ?`, name)
		return err
	})
}

// Nodes lists the nodes that have beaten, most recently seen first.
func (s *Store) Nodes(ctx context.Context) ([]NodeRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, version, doors, started, seen, schema_step FROM cluster_nodes ORDER BY seen DESC, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NodeRow
	for rows.Next() {
		var n NodeRow
		var started, seen int64
		if err := rows.Scan(&n.Name, &n.Version, &n.Doors, &started, &seen, &n.SchemaStep); err != nil {
			return nil, err
		}
		n.Started, n.Seen = time.Unix(started, 0), time.Unix(seen, 0)
		out = append(out, n)
	}
	return out, rows.Err()
}

// TakeLease gives job to holder for ttl when nobody holds it, when holder
// already does (a renewal), or when the last holder's lease has lapsed. It
// reports whether holder has the lease now. One statement, so two nodes
// asking at once cannot both be given it: the database's row lock on the
// job's key decides.
func (s *Store) TakeLease(ctx context.Context, job, holder string, ttl time.Duration) (bool, error) {
	now := s.now()
	var got bool
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`INSERT INTO cluster_leases (job, holder, until) VALUES (?, ?, ?)
			ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until
			WHERE cluster_leases.holder = excluded.holder OR cluster_leases.until < ?`,
			job, holder, now.Add(ttl).Unix(), now.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		got = n == 1
		return err
	})
	return got, err
}

// Leases lists who holds each background job.
func (s *Store) Leases(ctx context.Context) ([]LeaseRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT job, holder, until FROM cluster_leases ORDER BY job`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LeaseRow
	for rows.Next() {
		var l LeaseRow
		var until int64
		if err := rows.Scan(&l.Job, &l.Holder, &until); err != nil {
			return nil, err
		}
		l.Until = time.Unix(until, 0)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Replication is the database's own replication, as `wardmail cluster
// status` shows it.
type Replication struct {
	Backend string // "sqlite" or "postgres"
	// Primary: this database takes writes (not a standby in recovery).
	Primary bool
	// Standbys stream from it (PostgreSQL's pg_stat_replication).
	Standbys []Standby
}

// Standby is one streaming replica.
type Standby struct {
	Name      string // its application_name
	Addr      string
	State     string // streaming, catchup, …
	Sync      string // sync, async, potential, quorum
	ReplayLag string // how far behind it applies, as the database says it
}

// ReplicationReader is implemented by a Dialect whose database replicates.
type ReplicationReader interface {
	Replication(ctx context.Context, db *sql.DB) (*Replication, error)
}

// Replication reads the database's replication state; an embedded database
// is its own primary with no standby.
func (s *Store) Replication(ctx context.Context) (*Replication, error) {
	if rr, ok := s.dialect.(ReplicationReader); ok {
		return rr.Replication(ctx, s.r)
	}
	return &Replication{Backend: s.dialect.Name(), Primary: true}, nil
}
