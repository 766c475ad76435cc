package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

// The grouping kept up to date message by message is the grouping worked out
// from scratch, however the messages link up (late parents joining two
// conversations, replies by subject only); removals take messages out.
func TestConversationsIncrementalMatchesFresh(t *testing.T) {
	ctx := context.Background()
	be := storetest.New(t)
	s := be.Open(t, storetest.Options{})
	ids := addPeople(t, s, "ben@nhs.test")
	if err := s.EnsureMailboxes(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	box, err := s.MailboxByName(ctx, ids[0], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	shape := func(th *store.Threads) string {
		var out []string
		for _, c := range th.List {
			u := slices.Clone(c.UIDs)
			slices.Sort(u)
			out = append(out, fmt.Sprint(u))
		}
		slices.Sort(out)
		return fmt.Sprint(th.Messages, out)
	}
	fresh := func() string {
		f, err := be.OpenErr(storetest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		th, err := f.Conversations(ctx, box.ID)
		if err != nil {
			t.Fatal(err)
		}
		return shape(th)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	add := func(i int) {
		hdr := fmt.Sprintf("Message-ID: <m%d@nhs.test>\r\nSubject: Topic %d\r\n", i, i%7)
		switch rnd.IntN(4) {
		case 0: // a reply to a message that may not have arrived yet
			hdr = fmt.Sprintf("Message-ID: <m%d@nhs.test>\r\nSubject: Re: Topic %d\r\nReferences: <m%d@nhs.test>\r\n", i, i%7, rnd.IntN(i+20))
		case 1: // by subject only
			hdr = fmt.Sprintf("Message-ID: <m%d@nhs.test>\r\nSubject: Re: Topic %d\r\n", i, i%7)
		}
		body := []byte("From: a@nhs.test\r\nTo: ben@nhs.test\r\n" + hdr + "\r\nText.\r\n")
		sum, err := message.Summarize(body)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.PrepareContent(ctx, body, sum.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, box.ID, c, nil, time.Unix(1_800_000_000+int64(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 120; i++ {
		add(i)
		if i%10 == 9 {
			th, err := s.Conversations(ctx, box.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := shape(th), fresh(); got != want {
				t.Fatalf("after %d messages:\nkept  %s\nfresh %s", i+1, got, want)
			}
		}
	}
	// Removals: the message leaves its conversation, the rest stay.
	th, _ := s.Conversations(ctx, box.ID)
	victim := th.List[0].UIDs[0]
	if _, _, err := s.SetFlags(ctx, box.ID, []uint32{victim}, store.FlagsAdd, []string{store.FlagDeleted}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, box.ID, []uint32{victim}); err != nil {
		t.Fatal(err)
	}
	th, err = s.Conversations(ctx, box.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range th.List {
		n += len(c.UIDs)
		if slices.Contains(c.UIDs, victim) {
			t.Errorf("removed UID %d is still in a conversation", victim)
		}
	}
	if n != 119 || th.Messages != 119 {
		t.Errorf("after a removal: %d messages in conversations, %d counted", n, th.Messages)
	}
}
