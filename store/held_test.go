package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

// A held post expires after its time, once, and is never posted.
func TestHeldPostsExpire(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := open(t, storetest.Options{Now: clock})
	ctx := context.Background()
	ids := addPeople(t, s, "owner@nhs.test", "member@nhs.test", "poster@nhs.test")
	l, err := s.CreateList(ctx, "test", store.ListSpec{Address: "mod@nhs.test", Name: "Mod", Kind: store.ListStatic,
		Owners: ids[:1], Members: ids[:2], PostPolicy: "moderated"})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("From: poster@nhs.test\r\nSubject: wait for me\r\n\r\nhi\r\n")
	sum, err := message.Summarize(body)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.PrepareContent(ctx, body, sum.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, &store.Submission{QueueID: "Q1", MessageID: "<w@nhs.test>", ThreadID: "<w@nhs.test>", Subject: "wait for me",
		Sender: "poster@nhs.test", Content: c, Date: clock(), Held: []store.HeldPost{{ListID: l.ID, Reason: "moderated", Expires: clock().Add(7 * 24 * time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ExpireHeld(ctx); err != nil || len(got) != 0 {
		t.Fatalf("expired at once: %v %v", got, err)
	}
	mu.Lock()
	now = now.Add(7*24*time.Hour + time.Minute)
	mu.Unlock()
	got, err := s.ExpireHeld(ctx)
	if err != nil || len(got) != 1 || got[0].State != "expired" || got[0].Sender != "poster@nhs.test" || got[0].Subject != "wait for me" {
		t.Fatalf("after 7 days: %+v %v", got, err)
	}
	if again, _ := s.ExpireHeld(ctx); len(again) != 0 {
		t.Errorf("expired twice: %+v", again)
	}
	if _, err := s.DecideHeld(ctx, "owner@nhs.test", got[0].ID, true, "", ids[0]); err == nil {
		t.Error("an expired post was approved")
	}
	if n, _ := s.PendingCount(ctx, ids[1]); n != 0 {
		t.Errorf("the member has %d pending after expiry", n)
	}
}
