package web_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"wardmail/lockout"
	"wardmail/store"
)

// adminClient grants email an administrator's role, signs them in, enrols
// TOTP (which administrators must) and returns the session.
func (ts *signinServer) adminClient(t testing.TB, email, role string) *client {
	t.Helper()
	ctx := context.Background()
	p, err := ts.Store.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	org := p.OrgID
	if role == store.RoleNational {
		org = 0
	}
	if err := ts.Store.GrantAdmin(ctx, "test", p.ID, role, org); err != nil {
		t.Fatal(err)
	}
	c := ts.client()
	if code, _, _ := c.signInWith(email, "pw-"+email, ""); code != 200 {
		t.Fatalf("admin sign-in: %d", code)
	}
	enrol(t, c)
	return c
}

func TestPeopleAdministration(t *testing.T) {
	ts := startSignin(t, lockout.Policy{Threshold: 3}, map[string]string{
		"loc@nhs.test": leeds, "amira@nhs.test": leeds, "ben@nhs.test": leeds, "yara@nhs.test": york, "nat@nhs.test": york,
	})
	loc := ts.adminClient(t, "loc@nhs.test", store.RoleLocal)
	nat := ts.adminClient(t, "nat@nhs.test", store.RoleNational)

	people := func(c *client, q string) []string {
		t.Helper()
		var out struct{ People []struct{ Email string } }
		if code := c.do("GET", "/api/v1/admin/people?q="+url.QueryEscape(q), nil, &out); code != 200 {
			t.Fatalf("people: %d", code)
		}
		var emails []string
		for _, p := range out.People {
			emails = append(emails, p.Email)
		}
		return emails
	}
	if got := fmt.Sprint(people(loc, "")); got != "[amira@nhs.test ben@nhs.test loc@nhs.test]" {
		t.Errorf("a local administrator sees %s", got)
	}
	if got := fmt.Sprint(people(nat, "y")); got != "[yara@nhs.test]" {
		t.Errorf("national search y: %s", got)
	}
	if got := fmt.Sprint(people(loc, "yara")); got != "[]" {
		t.Errorf("a local administrator found someone elsewhere: %s", got)
	}

	// Add: only into one's own organisations, with the password policy.
	add := func(c *client, body map[string]string) (int, problemOf) {
		var p problemOf
		return c.do("POST", "/api/v1/admin/people", body, &p), p
	}
	if code, p := add(loc, map[string]string{"email": "new@nhs.test", "name": "New Starter", "org": york, "password": "a-long-enough-password"}); code != 422 || p.Field != "org" {
		t.Errorf("local admin adding into York: %d %+v", code, p)
	}
	if code, p := add(loc, map[string]string{"email": "new@nhs.test", "name": "New Starter", "org": leeds, "password": "password123"}); code != 422 || p.Field != "password" {
		t.Errorf("weak password: %d %+v", code, p)
	}
	if code, p := add(loc, map[string]string{"email": "amira@nhs.test", "name": "Again", "org": leeds}); code != 422 || p.Field != "email" {
		t.Errorf("an address taken: %d %+v", code, p)
	}
	if code, p := add(loc, map[string]string{"email": "New@nhs.test", "name": "New Starter", "org": leeds, "role": "Nurse", "password": "first-day-on-ward-7"}); code != 201 {
		t.Fatalf("add: %d %+v", code, p)
	}
	newbie := ts.client()
	if code, _, _ := newbie.signInWith("new@nhs.test", "first-day-on-ward-7", ""); code != 200 {
		t.Fatalf("the new person signs in: %d", code)
	}

	// Disable ends their session; enable lets them back.
	if code := loc.do("POST", "/api/v1/admin/people/yara@nhs.test/disable", struct{}{}, nil); code != 404 {
		t.Errorf("local admin disabling someone in York: %d", code)
	}
	if code := loc.do("POST", "/api/v1/admin/people/new@nhs.test/disable", struct{}{}, nil); code != 200 {
		t.Fatalf("disable: %d", code)
	}
	if code := newbie.do("GET", "/api/v1/folders", nil, nil); code != 401 {
		t.Errorf("a disabled person's session goes on: %d", code)
	}
	if code, _, _ := ts.client().signInWith("new@nhs.test", "first-day-on-ward-7", ""); code != 401 {
		t.Errorf("a disabled person signs in: %d", code)
	}
	if code := loc.do("POST", "/api/v1/admin/people/new@nhs.test/enable", struct{}{}, nil); code != 200 {
		t.Fatalf("enable: %d", code)
	}

	// Reset a password: the old one stops working, sessions end.
	if code := loc.do("POST", "/api/v1/admin/people/new@nhs.test/password", map[string]string{"password": "short"}, nil); code != 422 {
		t.Errorf("weak reset: %d", code)
	}
	if code := loc.do("POST", "/api/v1/admin/people/new@nhs.test/password", map[string]string{"password": "second-day-on-ward-7"}, nil); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	if code, _, _ := ts.client().signInWith("new@nhs.test", "second-day-on-ward-7", ""); code != 200 {
		t.Errorf("the new password: %d", code)
	}

	// Every action is in the audit trail under the administrator's name.
	var audit struct {
		Entries []struct{ Actor, Action, Target string }
	}
	if code := nat.do("GET", "/api/v1/admin/audit?action=person.&target=new@nhs.test", nil, &audit); code != 200 {
		t.Fatalf("audit: %d", code)
	}
	var got []string
	for _, e := range audit.Entries {
		got = append(got, e.Actor+" "+e.Action)
	}
	want := "[loc@nhs.test person.password loc@nhs.test person.enable loc@nhs.test person.disable loc@nhs.test person.add]"
	if fmt.Sprint(got) != want {
		t.Errorf("audit: %s\nwant %s", got, want)
	}
}

func TestLockoutsAndUnlock(t *testing.T) {
	ts := startSignin(t, lockout.Policy{Threshold: 3}, map[string]string{
		"loc@nhs.test": leeds, "amira@nhs.test": leeds, "ben@nhs.test": leeds, "yara@nhs.test": york, "nat@nhs.test": york,
	})
	loc := ts.adminClient(t, "loc@nhs.test", store.RoleLocal)
	nat := ts.adminClient(t, "nat@nhs.test", store.RoleNational)
	lockOut := func(email string) {
		t.Helper()
		c := ts.client()
		for i := range 3 {
			c.signInWith(email, fmt.Sprintf("guess-%d", i), "")
		}
		if code, _, _ := c.signInWith(email, "pw-"+email, ""); code != 423 {
			t.Fatalf("%s not locked: %d", email, code)
		}
	}
	for _, e := range []string{"amira@nhs.test", "ben@nhs.test", "yara@nhs.test", "ghost@nhs.test"} {
		lockOut(e)
	}
	accounts := func(c *client) string {
		t.Helper()
		var out struct {
			Incident bool
			Locks    []struct {
				Account, Source, Name string
				Until                 time.Time `json:"locked_until"`
			}
		}
		if code := c.do("GET", "/api/v1/admin/lockouts", nil, &out); code != 200 {
			t.Fatalf("lockouts: %d", code)
		}
		seen := map[string]bool{}
		var list []string
		for _, l := range out.Locks {
			if !seen[l.Account] {
				seen[l.Account] = true
				list = append(list, l.Account)
			}
			if l.Until.Before(time.Now()) || l.Source == "" {
				t.Errorf("lock %+v", l)
			}
		}
		return strings.Join(sorted(list), " ")
	}
	if got := accounts(loc); got != "amira@nhs.test ben@nhs.test" {
		t.Errorf("local admin sees locks of %q", got)
	}
	if got := accounts(nat); got != "amira@nhs.test ben@nhs.test ghost@nhs.test yara@nhs.test" {
		t.Errorf("national admin sees locks of %q", got)
	}
	var pr problemOf
	if code := loc.do("POST", "/api/v1/admin/unlock", map[string]any{"accounts": []string{"yara@nhs.test"}}, &pr); code != 404 {
		t.Errorf("local admin unlocking York: %d", code)
	}
	var un struct {
		Unlocked   []string
		LocksEnded int `json:"locks_ended"`
	}
	if code := loc.do("POST", "/api/v1/admin/unlock", map[string]any{"accounts": []string{"Amira@nhs.test"}}, &un); code != 200 || fmt.Sprint(un.Unlocked) != "[amira@nhs.test]" || un.LocksEnded == 0 {
		t.Fatalf("unlock amira: %d %+v", code, un)
	}
	if code, _, _ := ts.client().signInWith("amira@nhs.test", "pw-amira@nhs.test", ""); code != 200 {
		t.Errorf("amira after unlock: %d", code)
	}
	// Bulk: a local administrator's covers their organisation only.
	if code := loc.do("POST", "/api/v1/admin/unlock", map[string]any{"all_locked_since": "1h"}, &un); code != 200 || fmt.Sprint(un.Unlocked) != "[ben@nhs.test]" {
		t.Fatalf("local bulk unlock: %d %+v", code, un)
	}
	if got := accounts(nat); got != "ghost@nhs.test yara@nhs.test" {
		t.Errorf("after the local bulk unlock: %q", got)
	}
	if code := nat.do("POST", "/api/v1/admin/unlock", map[string]any{"all_locked_since": "yesterday"}, &pr); code != 400 || pr.Field != "all_locked_since" {
		t.Errorf("bad since: %d %+v", code, pr)
	}
	if code := nat.do("POST", "/api/v1/admin/unlock", map[string]any{"all_locked_since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, &un); code != 200 || fmt.Sprint(un.Unlocked) != "[ghost@nhs.test yara@nhs.test]" {
		t.Fatalf("national bulk unlock: %d %+v", code, un)
	}
	if got := accounts(nat); got != "" {
		t.Errorf("locks left: %q", got)
	}

	// Incident mode: national only, and nothing counts while it is on.
	if code := loc.do("PUT", "/api/v1/admin/incident", map[string]bool{"on": true}, nil); code != 403 {
		t.Errorf("local admin switching incident mode: %d", code)
	}
	if code := nat.do("PUT", "/api/v1/admin/incident", map[string]bool{"on": true}, nil); code != 200 {
		t.Fatalf("incident on: %d", code)
	}
	c := ts.client()
	for i := range 10 {
		c.signInWith("ben@nhs.test", fmt.Sprintf("again-%d", i), "")
	}
	if code, _, _ := c.signInWith("ben@nhs.test", "pw-ben@nhs.test", ""); code != 200 {
		t.Errorf("a failure counted in incident mode: %d", code)
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
