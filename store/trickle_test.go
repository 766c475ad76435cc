package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

// The idle-time trickle takes in a backlog longer than one of its writes
// (a member behind on a list flood) in several writes: every post arrives,
// once, with UIDs in the order of the posts, a message posted to two of the
// member's lists included once, and nothing stays pending.
func TestTrickleTakesInALongBacklogInOrder(t *testing.T) {
	s := open(t, storetest.Options{})
	ctx := context.Background()
	ids := addPeople(t, s, "owner@nhs.test", "member@nhs.test")
	var lists []int64
	for _, a := range []string{"one@nhs.test", "two@nhs.test"} {
		l, err := s.CreateList(ctx, "test", store.ListSpec{Address: a, Name: a, Kind: store.ListStatic, Owners: ids[:1], Members: ids})
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, l.ID)
	}
	const posts = 150 // more than two of the trickle's writes
	var contents []int64
	for i := range posts {
		body := []byte(fmt.Sprintf("From: owner@nhs.test\r\nSubject: post %d\r\nMessage-ID: <p%d@nhs.test>\r\n\r\nbody %d\r\n", i, i, i))
		sum, err := message.Summarize(body)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.PrepareContent(ctx, body, sum.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		to := lists[:1]
		if i == 70 {
			to = lists // reaches the member by both lists
		}
		res, err := s.Submit(ctx, &store.Submission{QueueID: fmt.Sprint("Q", i), MessageID: fmt.Sprintf("<p%d@nhs.test>", i),
			ThreadID: fmt.Sprintf("<p%d@nhs.test>", i), Subject: fmt.Sprint("post ", i), Sender: "owner@nhs.test", SenderID: ids[0],
			Content: c, Date: time.Now(), Lists: to, Audience: 2})
		if err != nil {
			t.Fatal(err)
		}
		contents = append(contents, res.ContentID)
	}
	// Its share of the time spent, the trickle stops without an error and
	// without a write.
	spent, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	if n, err := s.Trickle(spent, 25); err != nil || n != 0 {
		t.Errorf("trickle past its deadline: served %d, %v; want 0, nil", n, err)
	}
	cancel()
	if n, err := s.PendingCount(ctx, ids[1]); err != nil || n != posts {
		t.Errorf("%d posts pending after a trickle past its deadline (%v), want %d", n, err, posts)
	}
	// The trickle gives way to any other write that is waiting (serving
	// nobody then), so it is run until nothing is pending, not until it
	// serves nobody.
	for range 1000 {
		if _, err := s.Trickle(ctx, 25); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PendingCount(ctx, ids[1]); err != nil || n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n, err := s.PendingCount(ctx, ids[1]); err != nil || n != 0 {
		t.Fatalf("%d posts still pending after the trickle (%v)", n, err)
	}
	inbox, err := s.MailboxByName(ctx, ids[1], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	refs, _, err := s.Snapshot(ctx, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, r := range refs {
		uids = append(uids, r.UID)
	}
	msgs, err := s.Messages(ctx, inbox.ID, uids)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != posts {
		t.Fatalf("the INBOX holds %d messages, want %d", len(msgs), posts)
	}
	for i, m := range msgs {
		if m.ContentID != contents[i] {
			t.Fatalf("UID %d holds content %d, want post %d's (%d): UIDs do not follow the posts", m.UID, m.ContentID, i, contents[i])
		}
	}
}
