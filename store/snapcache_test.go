package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"wardmail/store"
	"wardmail/store/storetest"
)

// A large mailbox's snapshot (what SELECT shows) stays right across
// arrivals, flag changes and expunges between two opens: the second open
// shows exactly what a full read of the mailbox shows.
func TestSnapshotFollowsChanges(t *testing.T) {
	s := open(t, storetest.Options{})
	ctx := context.Background()
	ids := addPeople(t, s, "big@nhs.test", "other@nhs.test")
	for i := range 1200 {
		deliver(t, s, fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i), ids[0])
	}
	inbox, err := s.MailboxByName(ctx, ids[0], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string) []store.MessageRef {
		t.Helper()
		got, m, err := s.Snapshot(ctx, inbox.ID)
		if err != nil {
			t.Fatal(err)
		}
		all, _, m2, err := s.Changes(ctx, inbox.ID, 0) // every row, read in full
		if err != nil {
			t.Fatal(err)
		}
		if m.HighestModSeq != m2.HighestModSeq || !reflect.DeepEqual(got, all) {
			t.Fatalf("%s: the snapshot shows %d messages (HIGHESTMODSEQ %d), the mailbox holds %d (%d)", step, len(got), m.HighestModSeq, len(all), m2.HighestModSeq)
		}
		return got
	}
	first := check("first open")
	again := check("second open, nothing changed")
	// What one caller does to its copy is not another's.
	again[0].Flags = append(again[0].Flags, `\Flagged`)
	again[1].UID = 999999
	check("after a caller changed its copy")

	if _, _, err := s.SetFlags(ctx, inbox.ID, []uint32{first[3].UID, first[500].UID}, store.FlagsAdd, []string{`\Seen`, "$Work"}, 0); err != nil {
		t.Fatal(err)
	}
	check("after flag changes")
	gone := []uint32{first[0].UID, first[700].UID, first[1199].UID}
	if _, _, err := s.SetFlags(ctx, inbox.ID, gone, store.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, inbox.ID, gone); err != nil {
		t.Fatal(err)
	}
	check("after expunges")
	deliver(t, s, "Subject: late\r\n\r\nx\r\n", ids...)
	deliver(t, s, "Subject: later\r\n\r\nx\r\n", ids[0])
	if _, _, err := s.SetFlags(ctx, inbox.ID, []uint32{first[3].UID}, store.FlagsRemove, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	got := check("after arrivals and another flag change")
	if len(got) != 1200-3+2 {
		t.Errorf("%d messages, want %d", len(got), 1200-3+2)
	}
}
