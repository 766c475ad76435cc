package clustertest

import (
	"os"
	"testing"

	"wardmail/localcluster"
)

// Postgres is a PostgreSQL primary and, optionally, a synchronous streaming
// standby (localcluster.Postgres) that fails its test instead of returning
// errors.
type Postgres struct {
	*localcluster.Postgres
	t testing.TB
}

// PGServer is one PostgreSQL server process.
type PGServer = localcluster.PGServer

// StartPostgres starts a primary and, with standby, a synchronous standby
// replicating from it; both stop when the test ends (their folders are
// kept for a failed test when WARDMAIL_CLUSTER_KEEP is set).
func StartPostgres(t testing.TB, standby bool) *Postgres {
	t.Helper()
	Enabled(t)
	pg, err := localcluster.StartPostgres(localcluster.PostgresOptions{Standby: standby})
	check(t, err)
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("WARDMAIL_CLUSTER_KEEP") != "" {
			pg.Halt()
			t.Logf("PostgreSQL folders kept in %s", pg.Dir)
			return
		}
		pg.Stop()
	})
	return &Postgres{Postgres: pg, t: t}
}

// KillPrimary stops the primary at once, as a crash would.
func (p *Postgres) KillPrimary() {
	p.t.Helper()
	if err := p.Postgres.KillPrimary(); err != nil {
		p.t.Fatal(err)
	}
}

// Promote makes the standby the primary and waits until it accepts writes.
func (p *Postgres) Promote() {
	p.t.Helper()
	if err := p.Postgres.Promote(); err != nil {
		p.t.Fatal(err)
	}
}

// Count runs a count query on server s.
func (p *Postgres) Count(s *PGServer, query string, args ...any) int {
	p.t.Helper()
	n, err := p.Postgres.Count(s, query, args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}
