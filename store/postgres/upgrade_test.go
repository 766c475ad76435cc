package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"wardmail/store"
	"wardmail/store/postgres"
	"wardmail/store/storetest"
)

// From the step that records the rolling-upgrade rule on, every migration
// only adds, or is a contract step marked as such (docs/upgrades.md): a
// node of the previous release keeps running on the schema a newer one
// migrated.
func TestMigrationsAreExpandOnly(t *testing.T) {
	from := (postgres.Dialect{}).ExpandOnlyFrom()
	if from < 0 {
		t.Fatal("the step that records the rolling-upgrade rule is not among the migrations")
	}
	for i, step := range postgres.Migrations[from:] {
		rule, err := store.ParseStepRule(step)
		if err != nil {
			t.Errorf("step %d: %v", from+i+1, err)
			continue
		}
		if what := store.ExpandOnly(step); what != "" && !rule.Contract {
			t.Errorf("step %d is not expand-only (%s): add instead, or mark it as a contract step for a later release", from+i+1, what)
		}
	}
}

// The first upgrade to the release that records schema steps happens while
// nodes of the release before it (which record none) are alive: it
// migrates, including steps after the one that adds the record. The next
// upgrade, with such a node still alive, is refused and names it.
func TestFirstUpgradeFromNodesWithoutSteps(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("PostgreSQL tests need " + storetest.Env + " (make test-postgres)")
	}
	ctx := context.Background()
	dsn := storetest.Database(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	from := (postgres.Dialect{}).ExpandOnlyFrom()
	for _, step := range postgres.Migrations[:from] {
		if _, err := db.ExecContext(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (%d);
		INSERT INTO cluster_nodes (name, version, doors, started, seen) VALUES ('old1', 'previous', '', %d, %d)`,
		from, time.Now().Unix(), time.Now().Unix())); err != nil {
		t.Fatal(err)
	}
	open := func(extra ...string) error {
		st, err := postgres.Open(ctx, dsn, postgres.Options{BlobDir: t.TempDir(), IndexEvery: -1, NodeName: "new1", ExtraMigrations: extra})
		if err == nil {
			err = st.Close()
		}
		return err
	}
	if err := open(`CREATE TABLE ward_rounds (id BIGINT PRIMARY KEY)`); err != nil {
		t.Fatalf("the first upgrade, beside a node that records no step: %v", err)
	}
	err = open(`CREATE TABLE ward_rounds (id BIGINT PRIMARY KEY)`, `CREATE TABLE ward_teams (id BIGINT PRIMARY KEY)`)
	var ue *store.UpgradeError
	if !errors.As(err, &ue) || !strings.Contains(ue.Sentence, "node old1 (version previous, schema step 0) is alive and older than the release before this one") {
		t.Fatalf("the next upgrade beside a node of two releases ago: %v", err)
	}
}
