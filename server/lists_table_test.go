package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// The console's list table: a filter on the address or name, pages, and a
// local administrator's scope applied before paging.
func TestAdminListTablePagesAndFilters(t *testing.T) {
	e, call := consoleEnv(t)
	for i := 0; i < 5; i++ {
		e.staticList(fmt.Sprintf("leeds-%d@nhs.test", i), "n0@nhs.test", "n0@nhs.test")
		e.staticList(fmt.Sprintf("barts-%d@nhs.test", i), "dev@nhs.test", "dev@nhs.test")
	}
	e.dynamicList("bart-nurses@nhs.test", "nat1@nhs.test", `role = "Nurse"`, "org:"+barts)
	type page struct {
		Lists      []struct{ Address string }
		Total      int
		NextOffset *int `json:"next_offset"`
	}
	get := func(as, query string) (page, string) {
		t.Helper()
		var p page
		if code := call(as, "GET", "/api/v1/admin/lists"+query, nil, &p); code != 200 {
			t.Fatalf("%s %s: %d", as, query, code)
		}
		var addrs []string
		for _, l := range p.Lists {
			addrs = append(addrs, strings.TrimSuffix(l.Address, "@nhs.test"))
		}
		return p, strings.Join(addrs, " ")
	}
	test := func(as, query string, total int, want string, next int) {
		t.Helper()
		p, got := get(as, query)
		n := -1
		if p.NextOffset != nil {
			n = *p.NextOffset
		}
		if p.Total != total || got != want || n != next {
			t.Errorf("%s %s: total %d, %q, next %d; want %d, %q, %d", as, query, p.Total, got, n, total, want, next)
		}
	}
	test("nat1@nhs.test", "?limit=3", 11, "bart-nurses barts-0 barts-1", 3)
	test("nat1@nhs.test", "?limit=3&offset=9", 11, "leeds-3 leeds-4", -1)
	test("nat1@nhs.test", "?q=BARTS-", 5, "barts-0 barts-1 barts-2 barts-3 barts-4", -1)
	test("nat1@nhs.test", "?q=barts-2%40", 1, "barts-2", -1)
	test("nat1@nhs.test", "?q=%25", 0, "", -1) // a % is looked for, not a wildcard
	test("loc@nhs.test", "?limit=2", 5, "leeds-0 leeds-1", 2)
	test("loc@nhs.test", "?limit=2&offset=4", 5, "leeds-4", -1)
	test("loc@nhs.test", "?q=barts", 0, "", -1)
	test("loc@nhs.test", "?alert=1", 0, "", -1)
	var prob problemOut
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/lists?limit=0", nil, &prob); code != 400 || prob.Field != "limit" || !strings.Contains(prob.Detail, "limit must be a whole number from 1 to 1000") {
		t.Errorf("a bad limit: %d %+v", code, prob)
	}
}
