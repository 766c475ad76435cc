package store_test

import (
	"context"
	"testing"
	"time"

	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

func newMessage(t *testing.T, s *store.Store, body string) store.NewMessage {
	t.Helper()
	sum, err := message.Summarize([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.PrepareContent(context.Background(), []byte(body), sum.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	return store.NewMessage{Content: c, Flags: []string{`\Seen`}, Date: time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)}
}

// TestAppendAllAndReplace: a MULTIAPPEND's messages get consecutive UIDs
// (RFC 3502 3), and REPLACE swaps a message for a new one in one step, or
// changes nothing when the old one is gone (RFC 8508 3.3).
func TestAppendAllAndReplace(t *testing.T) {
	s := open(t, storetest.Options{})
	ctx := context.Background()
	ids := addPeople(t, s, "a@nhs.test")
	if err := s.EnsureMailboxes(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	drafts, err := s.MailboxByName(ctx, ids[0], "Drafts")
	if err != nil {
		t.Fatal(err)
	}
	uids, err := s.AppendAll(ctx, drafts.ID, []store.NewMessage{newMessage(t, s, "Subject: 1\r\n\r\n1\r\n"), newMessage(t, s, "Subject: 2\r\n\r\n2\r\n")})
	if err != nil || len(uids) != 2 || uids[0] != 1 || uids[1] != 2 {
		t.Fatalf("AppendAll: %v %v", uids, err)
	}
	uid, err := s.Replace(ctx, drafts.ID, 1, drafts.ID, newMessage(t, s, "Subject: 1b\r\n\r\n1b\r\n"))
	if err != nil || uid != 3 {
		t.Fatalf("Replace: %d %v", uid, err)
	}
	if _, err := s.Replace(ctx, drafts.ID, 1, drafts.ID, newMessage(t, s, "Subject: 1c\r\n\r\n1c\r\n")); err != store.ErrNotFound {
		t.Fatalf("Replace of a gone message: %v", err)
	}
	refs, _, err := s.Snapshot(ctx, drafts.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].UID != 2 || refs[1].UID != 3 {
		t.Errorf("Drafts after the replacements: %+v", refs)
	}
}
