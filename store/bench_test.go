package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"wardmail/auth"
	"wardmail/store"
	"wardmail/store/storetest"
)

// BenchmarkDeliverParallel delivers 2 KB messages to one person each from
// many goroutines, as concurrent SMTP sessions do: group commit at work.
// Run with -tags modernc to measure the pure-Go SQLite driver, with
// WARDMAIL_TEST_POSTGRES to measure PostgreSQL.
func BenchmarkDeliverParallel(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, storetest.Options{})
	emails := make([]string, 100)
	for i := range emails {
		emails[i] = fmt.Sprintf("p%d@nhs.test", i)
	}
	ids := addPeopleB(b, s, emails)
	body := make([]byte, 2048)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	var n atomic.Int64
	b.SetParallelism(10) // 20 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			msg := append([]byte(fmt.Sprintf("Subject: %d\r\n\r\n", i)), body...)
			c, err := s.PrepareContent(ctx, msg, []byte(`{}`))
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Deliver(ctx, c, []int64{ids[i%int64(len(ids))]}, time.Now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDeliverFirstParallel is BenchmarkDeliverParallel where every
// message is its recipient's first: the delivery also creates their
// default folders and subscriptions, as on a new server.
func BenchmarkDeliverFirstParallel(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, storetest.Options{IndexEvery: -1})
	emails := make([]string, b.N+20)
	for i := range emails {
		emails[i] = fmt.Sprintf("first%d@nhs.test", i)
	}
	ids := addPeopleB(b, s, emails)
	c, err := s.PrepareContent(ctx, []byte("Subject: first\r\n\r\nhello\r\n"), []byte(`{}`))
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(10) // 20 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Deliver(ctx, c, ids[n.Add(1)-1:][:1], time.Now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkSnapshot10k reads the state of a 10,000-message mailbox, as
// IMAP SELECT does.
func BenchmarkSnapshot10k(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, storetest.Options{})
	ids := addPeopleB(b, s, []string{"big@nhs.test"})
	for i := 0; i < 10000; i++ {
		c, _ := s.PrepareContent(ctx, []byte(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)), []byte(`{}`))
		if _, err := s.Deliver(ctx, c, ids, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	inbox, _ := s.MailboxByName(ctx, ids[0], "INBOX")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refs, _, err := s.Snapshot(ctx, inbox.ID)
		if err != nil || len(refs) != 10000 {
			b.Fatal(err, len(refs))
		}
	}
}

// BenchmarkAppPasswordOwner is the store's part of an app-password sign-in:
// one indexed lookup of 5,000 app passwords with their owners.
func BenchmarkAppPasswordOwner(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b, storetest.Options{})
	const n = 5000
	var recs []store.PersonRecord
	for j := range n {
		recs = append(recs, store.PersonRecord{Email: fmt.Sprintf("d%d@nhs.test", j), Name: "Device owner", Org: "Bench Trust"})
	}
	if _, _, err := st.UpsertPeople(ctx, recs); err != nil {
		b.Fatal(err)
	}
	hashes := make([][]byte, n)
	var aps []store.AppPasswordRecord
	for j := range n {
		p, err := st.PersonByEmail(ctx, fmt.Sprintf("d%d@nhs.test", j))
		if err != nil {
			b.Fatal(err)
		}
		_, hashes[j] = auth.NewAppPassword()
		aps = append(aps, store.AppPasswordRecord{PersonID: p.ID, Name: "phone", Hash: hashes[j], Scopes: []string{auth.ScopeIMAP}})
	}
	if err := st.AddAppPasswords(ctx, aps); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, _, _, err := st.AppPasswordOwner(ctx, hashes[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
