package server_test

import (
	"testing"
)

// A local administrator reads the audit entries about the people and lists of
// their organisations, and not another organisation's, nor entries that
// concern no single organisation; a national administrator reads them all.
func TestAuditScopedToLocalAdministrators(t *testing.T) {
	e, call := consoleEnv(t) // loc administers Leeds; dev is at Barts
	// An entry from before entries recorded organisations concerns none.
	if err := e.st.Audit(e.ctx, "test", "legacy.action", "", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ as, path string }{
		{"nat1@nhs.test", "/api/v1/admin/people/dev@nhs.test/disable"}, // Barts
		{"nat1@nhs.test", "/api/v1/admin/people/n1@nhs.test/disable"},  // Leeds
	} {
		if code := call(c.as, "POST", c.path, map[string]any{}, nil); code != 200 {
			t.Fatalf("%s %s: %d", c.as, c.path, code)
		}
	}
	e.staticList("leeds-ward@nhs.test", "n0@nhs.test", "n0@nhs.test")
	e.staticList("barts-ward@nhs.test", "dev@nhs.test", "dev@nhs.test")
	e.dynamicList("barts-nurses@nhs.test", "nat1@nhs.test", `role = "Nurse"`, "org:"+barts)
	// A list handed from Leeds to Barts: the change concerns both.
	e.staticList("handed@nhs.test", "n0@nhs.test", "n0@nhs.test")
	if code := call("nat1@nhs.test", "PUT", "/api/v1/admin/lists/handed@nhs.test/owners", map[string]any{"owners": []string{"dev@nhs.test"}}, nil); code != 200 {
		t.Fatalf("changing owners: %d", code)
	}

	type entries struct {
		Entries []struct{ Action, Target string }
	}
	read := func(as, query string) map[string]bool {
		t.Helper()
		var out entries
		if code := call(as, "GET", "/api/v1/admin/audit?limit=1000"+query, nil, &out); code != 200 {
			t.Fatalf("%s reading the audit trail: %d", as, code)
		}
		seen := map[string]bool{}
		for _, x := range out.Entries {
			seen[x.Action+" "+x.Target] = true
		}
		return seen
	}
	local := read("loc@nhs.test", "")
	for _, want := range []string{"person.disable n1@nhs.test", "list.create leeds-ward@nhs.test", "list.owners handed@nhs.test"} {
		if !local[want] {
			t.Errorf("the Leeds administrator does not see %q: %v", want, local)
		}
	}
	for _, not := range []string{"person.disable dev@nhs.test", "list.create barts-ward@nhs.test", "list.create barts-nurses@nhs.test", "legacy.action "} {
		if local[not] {
			t.Errorf("the Leeds administrator sees %q", not)
		}
	}
	if got := read("loc@nhs.test", "&target=dev@nhs.test"); len(got) != 0 {
		t.Errorf("filtering on a Barts person shows %v", got)
	}
	national := read("nat1@nhs.test", "")
	for _, want := range []string{"person.disable dev@nhs.test", "person.disable n1@nhs.test", "list.create barts-ward@nhs.test", "legacy.action "} {
		if !national[want] {
			t.Errorf("a national administrator does not see %q", want)
		}
	}
}
