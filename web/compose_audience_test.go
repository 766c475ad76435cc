package web_test

import (
	"context"
	"net/url"
	"testing"

	"wardmail/store"
)

// staticList creates a list of the given people, owned by the first.
func (ts *testServer) staticList(addr, name string, members ...string) {
	ts.t.Helper()
	ctx := context.Background()
	ids, unknown, err := ts.Store.PersonIDs(ctx, members)
	if err != nil || len(unknown) > 0 {
		ts.t.Fatalf("members of %s: %v %v", addr, unknown, err)
	}
	if _, err := ts.Store.CreateList(ctx, "test", store.ListSpec{Address: addr, Name: name, Kind: store.ListStatic,
		Owners: ids[:1], Members: ids}); err != nil {
		ts.t.Fatal(err)
	}
}

// A sender typing the start of a list's address is offered the list, with
// how many people it reaches, beside the people.
func TestSuggestOffersListsWithTheirSize(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test", "pharmacy.lead@nhs.test")
	ts.staticList("pharmacists@nhs.test", "Pharmacists", "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")
	b := ts.signIn("ben@nhs.test")
	var out struct {
		People []struct{ Email string }
		Lists  []struct {
			Email, Name string
			Size        int64
		}
	}
	b.do("GET", "/api/v1/directory/suggest?q="+url.QueryEscape("pharm"), nil, &out)
	if len(out.People) != 1 || out.People[0].Email != "pharmacy.lead@nhs.test" {
		t.Errorf("people for pharm: %+v", out.People)
	}
	if len(out.Lists) != 1 || out.Lists[0].Email != "pharmacists@nhs.test" || out.Lists[0].Name != "Pharmacists" || out.Lists[0].Size != 3 {
		t.Errorf("lists for pharm: %+v", out.Lists)
	}
	b.do("GET", "/api/v1/directory/suggest?q="+url.QueryEscape("amira"), nil, &out)
	if len(out.Lists) != 0 {
		t.Errorf("lists for amira: %+v", out.Lists)
	}
}

// After sending to a list the sender is told the list and how many people
// the message reached, not "1 recipient".
func TestSendToListSaysTheListAndThePeople(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test", "dan@nhs.test", "ella@nhs.test")
	ts.staticList("mri-ward-4@nhs.test", "MRI ward 4", "amira@nhs.test", "chloe@nhs.test", "dan@nhs.test", "ella@nhs.test")
	b := ts.signIn("amira@nhs.test")
	var out struct {
		Recipients int
		People     int64
		Lists      []string
		Held       []string
	}
	if code := b.do("POST", "/api/v1/send", map[string]any{"to": []string{"mri-ward-4@nhs.test"}, "subject": "Scanner down", "text": "Use ward 5."}, &out); code != 200 {
		t.Fatalf("send: %d", code)
	}
	// The sender is a member: the list's copy reaches her too.
	if out.Recipients != 1 || out.People != 4 || len(out.Lists) != 1 || out.Lists[0] != "mri-ward-4@nhs.test" || len(out.Held) != 0 {
		t.Errorf("send to a list answered %+v", out)
	}
}
