package web_test

import (
	"net/url"
	"testing"
)

// Mail whose From is a bare address of someone in the directory shows their
// directory name in the list, the conversations, search and the reader; a
// name the message carries is kept, and an outside address stays bare.
func TestDirectoryNameForBareAddress(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, "From: amira@nhs.test\nTo: ben@nhs.test\nSubject: Bed 12\n\nReview first.\n")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, "From: Dr A. Khan <amira@nhs.test>\nTo: Ben <ben@nhs.test>\nSubject: Bed 14\n\nAfter 12.\n")
	ts.deliver("someone@outside.example", []string{"ben@nhs.test"}, "From: someone@outside.example\nTo: ben@nhs.test\nSubject: Bed 16\n\nHello.\n")
	b := ts.signIn("ben@nhs.test")
	inbox := b.folders()["INBOX"]

	type addr struct{ Name, Email string }
	type row struct {
		UID      uint32
		Subject  string
		From, To []addr
	}
	want := map[string][2]string{ // subject: the From name and the To name shown
		"Bed 12": {"Amira Tester", "Ben Tester"},
		"Bed 14": {"Dr A. Khan", "Ben"},
		"Bed 16": {"", "Ben Tester"},
	}
	checkRow := func(where string, r row) {
		t.Helper()
		w := want[r.Subject]
		if len(r.From) != 1 || r.From[0].Name != w[0] || len(r.To) != 1 || r.To[0].Name != w[1] {
			t.Errorf("%s: %q from %+v to %+v, want names %q and %q", where, r.Subject, r.From, r.To, w[0], w[1])
		}
	}
	check := func(where string, rows []row) {
		t.Helper()
		if len(rows) != len(want) {
			t.Fatalf("%s: %d rows: %+v", where, len(rows), rows)
		}
		for _, r := range rows {
			checkRow(where, r)
		}
	}
	var list struct{ Messages []row }
	if code := b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages", nil, &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	check("message list", list.Messages)
	var convs struct{ Messages []row }
	if code := b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/conversations", nil, &convs); code != 200 {
		t.Fatalf("conversations: %d", code)
	}
	check("conversations", convs.Messages)
	var found struct{ Messages []row }
	if code := b.do("GET", "/api/v1/search?q="+url.QueryEscape("subject:bed"), nil, &found); code != 200 {
		t.Fatalf("search: %d", code)
	}
	check("search", found.Messages)

	for _, r := range list.Messages {
		var view row
		if code := b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages/"+itoa(int64(r.UID)), nil, &view); code != 200 {
			t.Fatalf("read %d: %d", r.UID, code)
		}
		checkRow("reader", view)
	}
}
