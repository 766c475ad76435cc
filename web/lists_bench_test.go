package web_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"wardmail/lockout"
	"wardmail/store"
)

// BenchmarkAdminLists measures the console's list table, GET
// /api/v1/admin/lists, through the HTTP API (TLS, session, JSON) over 5,000
// lists in 50 organisations: 4,000 static lists with two owners and a named
// sender, 1,000 dynamic lists scoped to one organisation, every tenth with
// two approvals. Each sub-benchmark is one request:
//
//   - national: a national administrator's first page (100 lists);
//
//   - local: a local administrator of one organisation (the scope is worked
//     out for every list);
//
//   - filter: a national administrator looking for "ward-12" (address or
//     name contains).
//
//     go test ./web/ -run '^$' -bench AdminLists -benchtime 20x
func BenchmarkAdminLists(b *testing.B) {
	const orgs, lists = 50, 5000
	people := map[string]string{"nat@nhs.test": "Org 0", "loc@nhs.test": "Org 7"}
	ts := startSignin(b, lockout.Policy{Threshold: 100}, people)
	ctx := context.Background()
	var recs []store.PersonRecord
	for i := 0; i < 2*orgs*20; i++ {
		recs = append(recs, store.PersonRecord{Email: fmt.Sprintf("p%d@nhs.test", i), Name: fmt.Sprintf("Person %d", i), Org: fmt.Sprintf("Org %d", i%orgs)})
	}
	if _, _, err := ts.Store.UpsertPeople(ctx, recs); err != nil {
		b.Fatal(err)
	}
	ids, _, err := ts.Store.PersonIDs(ctx, func() (out []string) {
		for _, r := range recs {
			out = append(out, r.Email)
		}
		return out
	}())
	if err != nil {
		b.Fatal(err)
	}
	orgList, err := ts.Store.Orgs(ctx)
	if err != nil {
		b.Fatal(err)
	}
	orgName := map[int64]string{}
	for _, o := range orgList {
		orgName[o.ID] = o.Name
	}
	// Rows written directly: creating 5,000 lists one by one through
	// CreateList would measure list creation, not the table.
	err = ts.Store.Write(ctx, func(tx *store.Tx) error {
		for i := 0; i < lists; i++ {
			kind, rule, scope := store.ListStatic, "", ""
			if i%5 == 4 {
				kind, rule, scope = store.ListDynamic, `role = "Nurse"`, fmt.Sprintf("org:Org %d", i%orgs)
			}
			var id int64
			if err := tx.QueryRow(`INSERT INTO lists (address, name, kind, rule, scope, post_policy, created_by, created_at, updated_at, size, approved_size)
				VALUES (?, ?, ?, ?, ?, 'members', 0, 0, 0, ?, ?) RETURNING id`,
				fmt.Sprintf("ward-%d@nhs.test", i), fmt.Sprintf("Ward %d", i), kind, rule, scope, 10+i%50, 0).Scan(&id); err != nil {
				return err
			}
			a, c := ids[(2*i)%len(ids)], ids[(2*i+1)%len(ids)]
			for _, q := range []string{`INSERT INTO list_owners (list_id, person_id) VALUES (?, ?)`, `INSERT INTO list_senders (list_id, person_id) VALUES (?, ?)`} {
				if _, err := tx.Exec(q, id, a); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(`INSERT INTO list_owners (list_id, person_id) VALUES (?, ?)`, id, c); err != nil {
				return err
			}
			if i%10 == 0 {
				for _, adm := range []int64{a, c} {
					if _, err := tx.Exec(`INSERT INTO list_approvals (list_id, admin_id, size, at) VALUES (?, ?, ?, 0)`, id, adm, 10+i%50); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	nat := ts.adminClient(b, "nat@nhs.test", store.RoleNational)
	loc := ts.adminClient(b, "loc@nhs.test", store.RoleLocal)
	for _, c := range []struct {
		name  string
		as    *client
		query string
	}{
		{"national", nat, ""},
		{"local", loc, ""},
		{"filter", nat, "?q=" + url.QueryEscape("ward-12")},
	} {
		b.Run(c.name, func(b *testing.B) {
			shown := 0
			for i := 0; i < b.N; i++ {
				var out struct{ Lists []struct{ Address string } }
				if code := c.as.do("GET", "/api/v1/admin/lists"+c.query, nil, &out); code != 200 {
					b.Fatalf("lists: %d", code)
				}
				shown = len(out.Lists)
			}
			b.ReportMetric(float64(shown), "lists-shown")
		})
	}
}
