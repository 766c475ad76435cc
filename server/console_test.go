package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"wardmail/server"
	"wardmail/store"
)

// The console's list editing, approvals, person detail, audit filters and
// trace over the admin API, as a local and two national administrators.

type listOut struct {
	Address          string   `json:"address"`
	Kind             string   `json:"kind"`
	Rule             string   `json:"rule"`
	Scope            string   `json:"scope"`
	Policy           string   `json:"policy"`
	Size             int64    `json:"size"`
	ApprovedSize     int64    `json:"approved_size"`
	Owners           []string `json:"owners"`
	Members          []string `json:"members"`
	Drifted          bool     `json:"drifted"`
	ApprovalsMissing int      `json:"approvals_missing"`
	Approvals        []struct{ Admin string }
	Held             []struct{ Subject string }
}

type problemOut struct {
	Detail string `json:"detail"`
	Field  string `json:"field"`
}

func consoleEnv(t *testing.T) (*listEnv, func(as, method, path string, body, out any) int) {
	var people []who
	for i := 0; i < 6; i++ {
		people = append(people, who{fmt.Sprintf("n%d@nhs.test", i), leeds, "Nurse", "LGI"})
	}
	people = append(people, who{"loc@nhs.test", leeds, "IT", "LGI"}, who{"nat1@nhs.test", barts, "IT", "RLH"},
		who{"nat2@nhs.test", barts, "IT", "RLH"}, who{"dev@nhs.test", barts, "Nurse", "RLH"})
	e := startListServer(t, people, func(c *server.Config) { c.ListSendersOnlyAbove, c.ListApprovalAbove = 3, 5 })
	for _, a := range []string{"nat1@nhs.test", "nat2@nhs.test"} {
		if err := e.st.GrantAdmin(e.ctx, "test", e.id(a), store.RoleNational, 0); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := e.st.PersonByEmail(e.ctx, "loc@nhs.test")
	if err := e.st.GrantAdmin(e.ctx, "test", p.ID, store.RoleLocal, p.OrgID); err != nil {
		t.Fatal(err)
	}
	clients := map[string]*apiClient{}
	return e, func(as, method, path string, body, out any) int {
		t.Helper()
		if clients[as] == nil {
			clients[as] = newAPIClient(t, e.srv, as)
		}
		return clients[as].call(method, path, body, out)
	}
}

func TestConsoleListEditing(t *testing.T) {
	e, call := consoleEnv(t)
	e.staticList("ward@nhs.test", "loc@nhs.test", "n0@nhs.test", "n1@nhs.test")
	var l listOut
	var prob problemOut
	// A local administrator manages the static lists owned in their organisations.
	e.staticList("mixed@nhs.test", "n5@nhs.test", "n0@nhs.test", "dev@nhs.test")
	var all struct{ Lists []listOut }
	if code := call("loc@nhs.test", "GET", "/api/v1/admin/lists", nil, &all); code != 200 || len(all.Lists) != 2 || all.Lists[0].Address != "mixed@nhs.test" {
		t.Errorf("a local administrator's lists: %d %+v", code, all)
	}
	// Members: add and remove, with the detail coming back.
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists/ward@nhs.test/members", map[string]any{"members": []string{"n2@nhs.test", "n3@nhs.test"}}, &l); code != 200 || l.Size != 4 || strings.Join(l.Members, ",") != "n0@nhs.test,n1@nhs.test,n2@nhs.test,n3@nhs.test" {
		t.Errorf("adding members: %d %+v", code, l)
	}
	if code := call("loc@nhs.test", "DELETE", "/api/v1/admin/lists/ward@nhs.test/members", map[string]any{"members": []string{"n0@nhs.test"}}, &l); code != 200 || l.Size != 3 {
		t.Errorf("removing a member: %d %+v", code, l)
	}
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists/ward@nhs.test/members", map[string]any{"members": []string{"nobody@nhs.test"}}, &prob); code != 422 || !strings.Contains(prob.Detail, "nobody@nhs.test is neither a person nor a list") {
		t.Errorf("adding an unknown member: %d %+v", code, prob)
	}
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists/ward@nhs.test/members", map[string]any{"members": []string{"ward@nhs.test"}}, &prob); code != 422 || !strings.Contains(prob.Detail, "cannot contain itself") {
		t.Errorf("nesting a list in itself: %d %+v", code, prob)
	}
	// Policy: over 3 members, only a national administrator opens it to members.
	call("loc@nhs.test", "POST", "/api/v1/admin/lists/ward@nhs.test/members", map[string]any{"members": []string{"n4@nhs.test"}}, &l)
	if code := call("loc@nhs.test", "PUT", "/api/v1/admin/lists/ward@nhs.test/policy", map[string]any{"policy": "members"}, &prob); code != 403 ||
		prob.Detail != "ward@nhs.test has 4 members: lists over 3 take posts from named senders only, and only a national administrator may let all its members post to it." {
		t.Errorf("local admin opening a large list: %d %+v", code, prob)
	}
	if code := call("loc@nhs.test", "PUT", "/api/v1/admin/lists/ward@nhs.test/policy", map[string]any{"policy": "announce", "senders": []string{"n1@nhs.test"}}, &l); code != 200 || l.Policy != "announce" {
		t.Errorf("local admin choosing announce: %d %+v", code, l)
	}
	if code := call("nat1@nhs.test", "PUT", "/api/v1/admin/lists/ward@nhs.test/policy", map[string]any{"policy": "members"}, &l); code != 200 || l.Policy != "members" {
		t.Errorf("national admin opening a large list: %d %+v", code, l)
	}
	// Owners: from the local administrator's organisations only.
	if code := call("loc@nhs.test", "PUT", "/api/v1/admin/lists/ward@nhs.test/owners", map[string]any{"owners": []string{"dev@nhs.test"}}, &prob); code != 403 {
		t.Errorf("local admin naming an owner elsewhere: %d %+v", code, prob)
	}
	if code := call("loc@nhs.test", "PUT", "/api/v1/admin/lists/ward@nhs.test/owners", map[string]any{"owners": []string{"n1@nhs.test", "loc@nhs.test"}}, &l); code != 200 || strings.Join(l.Owners, ",") != "loc@nhs.test,n1@nhs.test" {
		t.Errorf("owners: %d %+v", code, l)
	}
	// Rule and scope of a dynamic list.
	e.dynamicList("nurses@nhs.test", "loc@nhs.test", `role = "Nurse"`, "org:"+leeds)
	if code := call("loc@nhs.test", "PUT", "/api/v1/admin/lists/nurses@nhs.test/rule", map[string]any{"rule": `role = "IT"`, "scope": "national"}, &prob); code != 403 {
		t.Errorf("local admin giving a national scope: %d %+v", code, prob)
	}
	if code := call("loc@nhs.test", "PUT", "/api/v1/admin/lists/nurses@nhs.test/rule", map[string]any{"rule": `role = IT`, "scope": "org:" + leeds}, &prob); code != 422 || !strings.Contains(prob.Detail, "column") {
		t.Errorf("a bad rule: %d %+v", code, prob)
	}
	if code := call("loc@nhs.test", "PUT", "/api/v1/admin/lists/nurses@nhs.test/rule", map[string]any{"rule": `role = "IT"`, "scope": "org:" + leeds}, &l); code != 200 || l.Size != 1 || l.Rule != `role = "IT"` {
		t.Errorf("changing the rule: %d %+v", code, l)
	}
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists/nurses@nhs.test/members", map[string]any{"members": []string{"n1@nhs.test"}}, &prob); code != 422 || !strings.Contains(prob.Detail, "dynamic") {
		t.Errorf("adding members to a dynamic list: %d %+v", code, prob)
	}
	// Delete; then it is gone, and the trail names it by address.
	if code := call("loc@nhs.test", "DELETE", "/api/v1/admin/lists/nurses@nhs.test", nil, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code := call("loc@nhs.test", "GET", "/api/v1/admin/lists/nurses@nhs.test", nil, &prob); code != 404 {
		t.Errorf("after delete: %d", code)
	}
	var audit struct {
		Entries []struct{ Actor, Action, Target string }
	}
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/audit?actor=loc@nhs.test&action=list.&target=nurses@nhs.test", nil, &audit); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	var actions []string
	for _, a := range audit.Entries {
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, " ") != "list.delete list.rule" {
		t.Errorf("loc's actions on nurses@: %q", actions)
	}
	// Members in the trail are named by address.
	var adds struct{ Entries []struct{ Detail string } }
	call("nat1@nhs.test", "GET", "/api/v1/admin/audit?action=list.add&target=ward@nhs.test", nil, &adds)
	if len(adds.Entries) < 2 || !strings.Contains(adds.Entries[len(adds.Entries)-1].Detail, `"people":["n2@nhs.test","n3@nhs.test"]`) {
		t.Errorf("list.add entries: %+v", adds)
	}
}

func TestConsoleApprovalsAndDrift(t *testing.T) {
	e, call := consoleEnv(t)
	e.staticList("big@nhs.test", "loc@nhs.test", "n0@nhs.test", "n1@nhs.test", "n2@nhs.test", "n3@nhs.test", "n4@nhs.test", "n5@nhs.test")
	var l listOut
	var prob problemOut
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/lists/big@nhs.test", nil, &l); code != 200 || l.ApprovalsMissing != 2 {
		t.Errorf("a list over the threshold: %d %+v", code, l)
	}
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists/big@nhs.test/approve", nil, &prob); code != 403 {
		t.Errorf("a local admin approving: %d", code)
	}
	call("nat1@nhs.test", "POST", "/api/v1/admin/lists/big@nhs.test/approve", nil, &l)
	if l.ApprovalsMissing != 1 || l.ApprovedSize != 0 || len(l.Approvals) != 1 || l.Approvals[0].Admin != "nat1@nhs.test" {
		t.Errorf("after one approval: %+v", l)
	}
	call("nat2@nhs.test", "POST", "/api/v1/admin/lists/big@nhs.test/approve", nil, &l)
	if l.ApprovalsMissing != 0 || l.ApprovedSize != 6 {
		t.Errorf("after two approvals: %+v", l)
	}
	// Growing past 110% of 6 (to 7, 116%) is a drift until approved again.
	call("nat1@nhs.test", "POST", "/api/v1/admin/lists/big@nhs.test/members", map[string]any{"members": []string{"loc@nhs.test"}}, &l)
	if !l.Drifted || l.ApprovalsMissing != 2 {
		t.Errorf("after growing to 7: %+v", l)
	}
	call("nat1@nhs.test", "POST", "/api/v1/admin/lists/big@nhs.test/approve", nil, &l)
	call("nat2@nhs.test", "POST", "/api/v1/admin/lists/big@nhs.test/approve", nil, &l)
	if l.Drifted || l.ApprovalsMissing != 0 || l.ApprovedSize != 7 {
		t.Errorf("re-approved at 7: %+v", l)
	}
}

func TestConsolePersonDetailAndTrace(t *testing.T) {
	e, call := consoleEnv(t)
	l := e.staticList("mod@nhs.test", "loc@nhs.test", "n0@nhs.test", "n1@nhs.test")
	if err := e.st.SetPostPolicy(e.ctx, "test", l.ID, "moderated", nil, 0); err != nil {
		t.Fatal(err)
	}
	var person struct {
		Email      string
		Org        string
		Lists      []store.PersonList
		LastSignIn *string `json:"last_sign_in"`
	}
	if code := call("loc@nhs.test", "GET", "/api/v1/admin/people/n0@nhs.test", nil, &person); code != 200 || person.Org != leeds ||
		len(person.Lists) != 1 || person.Lists[0].Address != "mod@nhs.test" || !person.Lists[0].Member {
		t.Errorf("person detail: %d %+v", code, person)
	}
	// The last sign-in is written with the lockout state, within a second.
	deadline := time.Now().Add(5 * time.Second)
	for {
		person.LastSignIn = nil
		code := call("loc@nhs.test", "GET", "/api/v1/admin/people/loc@nhs.test", nil, &person)
		if code == 200 && person.LastSignIn != nil && person.Lists[0].Owner {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the administrator's own detail (signed in, owner): %d %+v", code, person)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var prob problemOut
	if code := call("loc@nhs.test", "GET", "/api/v1/admin/people/dev@nhs.test", nil, &prob); code != 404 || !strings.Contains(prob.Detail, "organisations you administer") {
		t.Errorf("someone in another organisation: %d %+v", code, prob)
	}
	// A held post, approved: the trace tells the story.
	e.mustSubmit("dev@nhs.test", []string{"mod@nhs.test"}, "held one", "Message-ID: <held-1@nhs.test>\r\n")
	var held struct{ Held []store.Held }
	call("loc@nhs.test", "GET", "/api/v1/admin/held", nil, &held)
	if len(held.Held) != 1 {
		t.Fatalf("held: %+v", held)
	}
	call("loc@nhs.test", "POST", fmt.Sprintf("/api/v1/admin/held/%d", held.Held[0].ID), map[string]any{"approve": true}, nil)
	call("nat1@nhs.test", "POST", "/api/v1/admin/purge", map[string]any{"message_id": "<held-1@nhs.test>"}, nil)
	var tr struct{ Messages []store.Trace }
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/trace?message_id="+url.QueryEscape("<held-1@nhs.test>"), nil, &tr); code != 200 || len(tr.Messages) != 1 {
		t.Fatalf("trace: %d %+v", code, tr)
	}
	m := tr.Messages[0]
	if len(m.Moderation) != 1 || m.Moderation[0].State != "approved" || m.Moderation[0].DecidedBy != "loc@nhs.test" || m.Moderation[0].DecidedAt == nil {
		t.Errorf("moderation history: %+v", m.Moderation)
	}
	if m.Purged == nil || m.Purged.By != "nat1@nhs.test" {
		t.Errorf("purge in the trace: %+v", m.Purged)
	}
	// Audit: the time range and paging.
	var audit struct {
		Entries    []struct{ ID int64 }
		NextBefore int64 `json:"next_before"`
	}
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/audit?limit=2", nil, &audit); code != 200 || len(audit.Entries) != 2 || audit.NextBefore != audit.Entries[1].ID {
		t.Errorf("first page: %d %+v", code, audit)
	}
	before := audit.NextBefore
	if code := call("nat1@nhs.test", "GET", fmt.Sprintf("/api/v1/admin/audit?limit=2&before=%d", before), nil, &audit); code != 200 || len(audit.Entries) == 0 || audit.Entries[0].ID >= before {
		t.Errorf("second page: %d %+v", code, audit)
	}
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/audit?until=2000-01-01", nil, &audit); code != 200 || len(audit.Entries) != 0 {
		t.Errorf("until 2000: %d %+v", code, audit)
	}
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/audit?since=yesterday", nil, &prob); code != 400 || prob.Field != "since" {
		t.Errorf("a bad since: %d %+v", code, prob)
	}
}
