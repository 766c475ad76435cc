package listsvc_test

import (
	"context"
	"errors"
	"testing"

	"wardmail/lists"
	"wardmail/listsvc"
	"wardmail/privilege"
	"wardmail/store"
	"wardmail/store/storetest"
)

// A list's governance as every door shows it: approved at its size, then
// grown past the drift limit, it is drifted and needs an approval again at
// its new size; the console's alert table finds it; a local administrator
// sees and changes only lists of their own organisations.
func TestViewDriftAndApprovals(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, storetest.Options{})
	add := func(email, org string) *store.Person {
		t.Helper()
		p, err := st.AddPerson(ctx, "test", store.PersonRecord{Email: email, Name: email, Org: org, Role: "Nurse"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const leeds, barts = "Leeds Teaching Hospitals NHS Trust", "Barts Health NHS Trust"
	owner := add("owner@nhs.test", leeds)
	for _, e := range []string{"a@nhs.test", "b@nhs.test", "c@nhs.test", "d@nhs.test"} {
		add(e, leeds)
	}
	nat := add("nat@nhs.test", barts)
	svc := listsvc.New(listsvc.Config{Store: st, Governance: lists.Governance{ApprovalAbove: 4, Approvals: 2}})

	l, err := svc.Create(ctx, nil, "test", 0, listsvc.NewList{Address: "ward@nhs.test", Name: "Ward", Owners: []string{owner.Email},
		Members: []string{"a@nhs.test", "b@nhs.test", "c@nhs.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := svc.View(l); v.Drifted || v.ApprovalsMissing != 0 || v.NeedsApprovals != 1 {
		t.Fatalf("a new small list: %+v", v)
	}
	if l, _, err = svc.Approve(ctx, "test", l, nat.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.ChangeMembers(ctx, "test", l, []string{"d@nhs.test", "owner@nhs.test"}, false); err != nil {
		t.Fatal(err)
	}
	if l, err = svc.ByID(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	// 5 members against 3 approved: past 110%, and above ApprovalAbove, so
	// two approvals at 5 are needed and none is recorded at that size.
	v := svc.View(l)
	if !v.Drifted || v.NeedsApprovals != 2 || v.ApprovalsMissing != 2 || v.EffectivePolicy != lists.PolicyMembers {
		t.Errorf("a drifted list: drifted %v, needs %d, missing %d, policy %s", v.Drifted, v.NeedsApprovals, v.ApprovalsMissing, v.EffectivePolicy)
	}
	if l, _, err = svc.Approve(ctx, "test", l, nat.ID); err != nil {
		t.Fatal(err)
	}
	if v := svc.View(l); v.ApprovalsMissing != 1 {
		t.Errorf("after one approval at the new size: missing %d", v.ApprovalsMissing)
	}

	national := &privilege.Principal{PersonID: nat.ID, Email: nat.Email, National: true}
	page, total, err := svc.Table(ctx, national, "", true, 0, 10)
	if err != nil || total != 1 || len(page) != 1 || page[0].Address != "ward@nhs.test" {
		t.Errorf("alert table: %d lists, %v", total, err)
	}

	orgs, err := st.Orgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var bartsID int64
	for _, o := range orgs {
		if o.Name == barts {
			bartsID = o.ID
		}
	}
	local := &privilege.Principal{PersonID: nat.ID, Email: nat.Email, OrgID: bartsID, Orgs: []int64{bartsID}}
	var le *listsvc.Error
	if _, err := svc.Managed(ctx, local, "ward@nhs.test"); !errors.As(err, &le) || le.Kind != listsvc.Forbidden {
		t.Errorf("a Barts administrator managing a Leeds list: %v", err)
	}
	if err := svc.CheckScope(ctx, local, "org:"+leeds); !errors.As(err, &le) || le.Type != "not-your-org" {
		t.Errorf("a Barts administrator scoping a list to Leeds: %v", err)
	}
	if err := svc.CheckScope(ctx, local, "national"); err == nil {
		t.Error("a local administrator may scope a list nationally")
	}
	if _, _, err := svc.ResolveMembers(ctx, []string{"nobody@nhs.test"}); !errors.As(err, &le) || le.Type != "unknown-member" {
		t.Errorf("an unknown member: %v", err)
	}
}
