package clustertest_test

import (
	"testing"

	"wardmail/clustertest"
)

// The standby is synchronous: what the primary commits is on the standby,
// and after the primary dies and the standby is promoted, it takes writes.
func TestPostgresStandbyTakesOver(t *testing.T) {
	pg := clustertest.StartPostgres(t, true)
	if n := pg.Count(pg.Primary, `SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'`); n != 1 {
		t.Fatalf("synchronous standbys: %d", n)
	}
	pg.KillPrimary()
	pg.Promote()
	if n := pg.Count(pg.Standby, `SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END`); n != 1 {
		t.Fatal("the promoted standby is still in recovery")
	}
}
