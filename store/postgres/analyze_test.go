package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"wardmail/store"
	"wardmail/store/storetest"
)

// When thousands of people join a list at once, the memberships' planner
// statistics are renewed then, not when autovacuum comes round: until it
// does, the planner counts a near-empty table and scans every membership
// for each member's "posts pending?" probe at sign-in and SELECT.
func TestABulkJoinAnalysesMemberships(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("PostgreSQL only: " + storetest.Env + " (make test-postgres)")
	}
	ctx := context.Background()
	be := storetest.New(t)
	s := be.Open(t, storetest.Options{IndexEvery: -1})
	db, err := sql.Open("pgx", be.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	analysed := func() bool {
		var at sql.NullTime
		if err := db.QueryRowContext(ctx, `SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'memberships'`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at.Valid
	}
	const n = 10000
	recs := make([]store.PersonRecord, n)
	for i := range recs {
		recs[i] = store.PersonRecord{Email: fmt.Sprintf("p%d@nhs.test", i), Name: "P", Org: "Test Trust"}
	}
	if _, _, err := s.UpsertPeople(ctx, recs); err != nil {
		t.Fatal(err)
	}
	owner, err := s.PersonByEmail(ctx, "p0@nhs.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateList(ctx, "test", store.ListSpec{Address: "few@nhs.test", Name: "Few", Kind: store.ListStatic,
		Owners: []int64{owner.ID}, Members: []int64{owner.ID}}); err != nil {
		t.Fatal(err)
	}
	if analysed() {
		t.Fatal("memberships analysed after one person joined a list")
	}
	ids := make([]int64, 0, n)
	for i := range n {
		p, err := s.PersonByEmail(ctx, fmt.Sprintf("p%d@nhs.test", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	l, err := s.CreateList(ctx, "test", store.ListSpec{Address: "all@nhs.test", Name: "All", Kind: store.ListStatic,
		Owners: []int64{owner.ID}, Members: ids})
	if err != nil {
		t.Fatal(err)
	}
	if l.Size != n {
		t.Fatalf("list of %d, want %d", l.Size, n)
	}
	if !analysed() {
		t.Error("10,000 people joined a list and the memberships' statistics were not renewed")
	}
}
