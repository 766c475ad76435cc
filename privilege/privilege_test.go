package privilege_test

import (
	"errors"
	"testing"

	"wardmail/privilege"
)

func TestActingOnPeople(t *testing.T) {
	const leeds, barts = 1, 2
	staff := func(id, org int64) privilege.Principal {
		return privilege.Principal{PersonID: id, Email: "p@nhs.test", OrgID: org}
	}
	local := func(id, org int64) privilege.Principal {
		p := staff(id, org)
		p.Orgs = []int64{org}
		return p
	}
	national := func(id, org int64) privilege.Principal {
		p := staff(id, org)
		p.National = true
		return p
	}
	test := func(actor privilege.Principal, a privilege.Action, subject privilege.Principal, want string) {
		t.Helper()
		err := actor.MayActOn(a, subject)
		var d *privilege.Denied
		got := "allowed"
		switch {
		case errors.As(err, &d) && d.NotFound:
			got = "hidden"
		case errors.As(err, &d):
			got = "denied"
		case err != nil:
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s by rank %v on rank %v: %s (%v), want %s", a, actor.Rank(), subject.Rank(), got, err, want)
		}
	}
	test(local(1, leeds), privilege.ResetPassword, staff(2, leeds), "allowed")
	test(local(1, leeds), privilege.ResetPassword, staff(2, barts), "hidden")
	test(local(1, leeds), privilege.ResetPassword, local(2, leeds), "denied")
	test(local(1, leeds), privilege.ResetPassword, national(2, leeds), "denied")
	test(local(1, leeds), privilege.ResetPassword, local(1, leeds), "denied") // themselves
	test(local(1, leeds), privilege.ViewPerson, national(2, leeds), "allowed")
	test(local(1, leeds), privilege.UnlockPerson, local(2, leeds), "denied")
	test(national(1, barts), privilege.ResetPassword, national(2, leeds), "allowed")
	test(national(1, barts), privilege.DisablePerson, national(1, barts), "denied")
	test(staff(1, leeds), privilege.ViewPerson, staff(2, leeds), "denied")
	test(privilege.Operator("cli:root"), privilege.ResetPassword, national(2, leeds), "allowed")
}

func TestManagingLists(t *testing.T) {
	loc := privilege.Principal{PersonID: 1, Email: "loc@nhs.test", OrgID: 1, Orgs: []int64{1}}
	owner := privilege.Principal{PersonID: 2, Email: "owner@nhs.test", OrgID: 2}
	for _, c := range []struct {
		l    privilege.List
		want bool
	}{
		{privilege.List{Address: "a", OwnerOrgs: []int64{2, 1}}, true},
		{privilege.List{Address: "b", OwnerOrgs: []int64{2}}, false},
		{privilege.List{Address: "c", Dynamic: true, ScopeOrgs: []int64{1}}, true},
		{privilege.List{Address: "d", Dynamic: true, ScopeOrgs: []int64{1, 2}}, false},
		{privilege.List{Address: "e", Dynamic: true, NationalScope: true}, false},
		{privilege.List{Address: "f", Dynamic: true}, false}, // a scope naming no organisation
	} {
		if got := loc.MayManageList(c.l) == nil; got != c.want {
			t.Errorf("a local administrator managing %+v: %v, want %v", c.l, got, c.want)
		}
	}
	l := privilege.List{Address: "ward@nhs.test", Owners: []string{"Owner@nhs.test"}, OwnerOrgs: []int64{2}}
	if err := owner.MayOwn(l); err != nil {
		t.Errorf("an owner on their list: %v", err)
	}
	if err := owner.MayManageList(l); err == nil {
		t.Error("an owner passed as an administrator")
	}
	if err := loc.MayOwn(l); err == nil {
		t.Error("a local administrator of another organisation acted as the owner")
	}
}

func TestEveryActionHasARule(t *testing.T) {
	for a, r := range privilege.Rules {
		if r.Outrank && r.Verb == "" {
			t.Errorf("%s refuses by rank but has no verb for the sentence", a)
		}
		if r.NotSelf && r.Self == "" {
			t.Errorf("%s refuses oneself but has no sentence for it", a)
		}
	}
}
