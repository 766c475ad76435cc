package web_test

import (
	"strings"
	"testing"
)

type conv struct {
	UID     uint32
	Subject string
	Count   int
	Unread  int
	Seen    bool
	UIDs    []uint32
}

func (c *client) conversations(folder int64) ([]conv, int) {
	c.ts.t.Helper()
	var out struct {
		Total    int
		Messages []conv
	}
	if code := c.do("GET", "/api/v1/folders/"+itoa(folder)+"/conversations?limit=50", nil, &out); code != 200 {
		c.ts.t.Fatalf("conversations: %d", code)
	}
	return out.Messages, out.Total
}

func summary(cs []conv) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Subject+"/"+itoa(int64(c.Count))+"/"+itoa(int64(c.Unread)))
	}
	return strings.Join(s, " | ")
}

func TestConversations(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test")
	send := func(hdrs string) {
		t.Helper()
		ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, "From: amira@nhs.test\nTo: ben@nhs.test\n"+hdrs+"\n\nText.\n")
	}
	send("Subject: Rota\nMessage-ID: <r1@nhs.test>")
	send("Subject: Weekly report\nMessage-ID: <w1@nhs.test>")
	send("Subject: Re: Rota\nMessage-ID: <r2@nhs.test>\nIn-Reply-To: <r1@nhs.test>\nReferences: <r1@nhs.test>")
	send("Subject: Weekly report\nMessage-ID: <w2@nhs.test>")                        // same subject, no prefix: its own conversation
	send("Subject: Re: Rota\nMessage-ID: <r3@nhs.test>\nIn-Reply-To: <r2@nhs.test>") // only its parent
	send("Subject: RE: rota\nMessage-ID: <r4@nhs.test>")                             // no references: by subject
	send("Subject: Re: Theatre list\nMessage-ID: <t2@nhs.test>\nReferences: <t1@elsewhere.test>")
	send("Subject: Re: Theatre list\nMessage-ID: <t3@nhs.test>\nReferences: <t1@elsewhere.test> <t2@nhs.test>")

	b := ts.signIn("ben@nhs.test")
	inbox := b.folders()["INBOX"]
	cs, total := b.conversations(inbox.ID)
	if got, want := summary(cs), "Re: Theatre list/2/2 | RE: rota/4/4 | Weekly report/1/1 | Weekly report/1/1"; got != want || total != 4 {
		t.Fatalf("conversations (%d):\n got %s\nwant %s", total, got, want)
	}
	rota := cs[1]
	if len(rota.UIDs) != 4 || rota.UIDs[0] != rota.UID || rota.UIDs[0] < rota.UIDs[3] {
		t.Errorf("rota uids newest first: %+v", rota)
	}

	// The conversation itself, newest first.
	var th struct {
		Count    int
		Messages []item
	}
	if code := b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/conversations/"+itoa(int64(rota.UIDs[2])), nil, &th); code != 200 || th.Count != 4 ||
		len(th.Messages) != 4 || th.Messages[0].UID != rota.UID || th.Messages[3].Subject != "Rota" {
		t.Fatalf("conversation: %+v", th)
	}

	// Reading one changes the unread count (flags are read live); a new
	// reply joins its conversation and moves it to the top.
	b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages/"+itoa(int64(rota.UIDs[3])), nil, nil)
	send("Subject: Re: Weekly report\nMessage-ID: <w3@nhs.test>\nReferences: <w1@nhs.test>")
	cs, _ = b.conversations(inbox.ID)
	if got, want := summary(cs), "Re: Weekly report/2/2 | Re: Theatre list/2/2 | RE: rota/4/3 | Weekly report/1/1"; got != want {
		t.Fatalf("after a read and a reply:\n got %s\nwant %s", got, want)
	}
	// Moving a message out leaves the rest of its conversation.
	b.do("POST", "/api/v1/messages/archive", map[string]any{"folder": inbox.ID, "uids": []uint32{cs[0].UIDs[0]}}, nil)
	cs, _ = b.conversations(inbox.ID)
	if got, want := summary(cs), "Re: Theatre list/2/2 | RE: rota/4/3 | Weekly report/1/1 | Weekly report/1/1"; got != want {
		t.Fatalf("after archiving:\n got %s\nwant %s", got, want)
	}

	// Bad input.
	var p problemOf
	for path, want := range map[string]int{
		"/conversations?limit=0":  400,
		"/conversations/0":        400,
		"/conversations/x":        400,
		"/conversations/99999":    404,
		"/conversations?offset=9": 200,
	} {
		if code := b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+path, nil, &p); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	a := ts.signIn("amira@nhs.test")
	if code := a.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/conversations", nil, &p); code != 404 {
		t.Errorf("amira listing ben's conversations: %d", code)
	}
}
