package store_test

import (
	"context"
	"sync"
	"testing"

	"wardmail/store"
	"wardmail/store/storetest"
)

// RFC 3501 2.3.2: one session owns a message's \Recent. Sessions claiming at
// once split the messages between them, never both owning one.
func TestClaimRecentOnce(t *testing.T) {
	s := open(t, storetest.Options{})
	ctx := context.Background()
	ids := addPeople(t, s, "a@nhs.test")
	for i := 0; i < 3; i++ {
		deliver(t, s, "Subject: x\r\n\r\nx\r\n", ids[0])
	}
	mb, err := s.MailboxByName(ctx, ids[0], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if mb.RecentUID != 0 {
		t.Fatalf("new mailbox mark %d", mb.RecentUID)
	}
	var mu sync.Mutex
	owned := map[uint32]int{}
	var wg sync.WaitGroup
	for k := 0; k < 8; k++ {
		wg.Add(1)
		go func(upTo uint32) {
			defer wg.Done()
			prev, err := s.ClaimRecent(ctx, mb.ID, upTo)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for uid := prev + 1; uid <= upTo; uid++ {
				owned[uid]++
			}
			mu.Unlock()
		}(uint32(k%3 + 1))
	}
	wg.Wait()
	for uid := uint32(1); uid <= 3; uid++ {
		if owned[uid] != 1 {
			t.Errorf("UID %d owned by %d sessions", uid, owned[uid])
		}
	}
	st, err := s.Status(ctx, mb.ID)
	if err != nil || st.Recent != 0 {
		t.Errorf("STATUS RECENT after the claims: %+v %v", st, err)
	}
	if _, err := s.ClaimRecent(ctx, 999999, 1); err != store.ErrNotFound {
		t.Errorf("claim in a missing mailbox: %v", err)
	}
}
