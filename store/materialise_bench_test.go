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

// BenchmarkMaterialise400 takes 400 pending list posts into one member's
// INBOX per iteration: a reader's first open after a list flood (bench
// outside --flood 400), the write their SELECT waits for.
func BenchmarkMaterialise400(b *testing.B) {
	const posts, members = 400, 300
	ctx := context.Background()
	s := storetest.Open(b, storetest.Options{IndexEvery: -1})
	emails := make([]string, members)
	for i := range emails {
		emails[i] = fmt.Sprintf("m%d@nhs.test", i)
	}
	ids := addPeopleB(b, s, emails)
	l, err := s.CreateList(ctx, "bench", store.ListSpec{Address: "flood@nhs.test", Name: "Flood", Kind: store.ListStatic, Owners: ids[:1], Members: ids})
	if err != nil {
		b.Fatal(err)
	}
	for i := range posts {
		body := []byte(fmt.Sprintf("From: m0@nhs.test\r\nSubject: post %d\r\nMessage-ID: <p%d@nhs.test>\r\n\r\nbody %d\r\n", i, i, i))
		sum, err := message.Summarize(body)
		if err != nil {
			b.Fatal(err)
		}
		c, err := s.PrepareContent(ctx, body, sum.Marshal())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Submit(ctx, &store.Submission{QueueID: fmt.Sprint("Q", i), MessageID: fmt.Sprintf("<p%d@nhs.test>", i),
			ThreadID: fmt.Sprintf("<p%d@nhs.test>", i), Subject: fmt.Sprint("post ", i), Sender: "m0@nhs.test", SenderID: ids[0],
			Content: c, Date: time.Now(), Lists: []int64{l.ID}, Audience: members}); err != nil {
			b.Fatal(err)
		}
	}
	// Half the members have the posts already, as after a trickle.
	for _, p := range ids[members/2:] {
		if _, err := s.Materialise(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	if b.N > members/2 {
		b.Skipf("%d iterations, only %d members with posts pending", b.N, members/2)
	}
	b.ResetTimer()
	for i := range b.N {
		n, err := s.Materialise(ctx, ids[i])
		if err != nil || n != posts {
			b.Fatalf("materialised %d, %v; want %d", n, err, posts)
		}
	}
}
